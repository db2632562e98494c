"""6.1.1: a tf.data pipeline ported to fit's own arguments (arrays, batch_size=32, shuffle=True), and
the ported model's held-out accuracy."""
import numpy as np

MIN_ACCURACY = 0.9


def check(run):
    model = run.model
    if not getattr(model, "compiled", False):
        yield "the model is not compiled; keep the starting point's model.compile(...)"
        return
    if run.fits is not None:
        calls = run.fits_of(model)
        if not calls:
            yield "model.fit is never called; train with model.fit(X_train, y_train, batch_size=32, epochs=20)"
            return
        arguments = calls[-1].arguments
        if not isinstance(arguments.get("x"), np.ndarray):
            yield ("fit is not given the arrays; pass them directly: model.fit(X_train, y_train, batch_size=32, "
                   "shuffle=True, epochs=20)")
            return
        if arguments.get("batch_size") not in (None, 32):
            yield (f"fit uses batch_size={arguments['batch_size']}; the pipeline made batches of 32: pass "
                   "batch_size=32")
        if not arguments.get("shuffle", True):
            yield "fit has shuffle=False; the pipeline shuffled the samples every epoch: keep shuffle=True"
        if arguments.get("epochs", 1) < 20:
            yield f"fit runs {arguments.get('epochs', 1)} epochs; the script trained for 20: pass epochs=20"
    accuracy = model.evaluate(run.data["X_test"], run.data["y_test"], verbose=0, return_dict=True).get("accuracy")
    if accuracy is not None and accuracy < MIN_ACCURACY:
        yield f"the model gets {accuracy:.0%} of the held-out digits; the ported script should reach {MIN_ACCURACY:.0%}"
