"""2.4.1: a cross-entropy loss and an optimizer that reach 95% on the digits in 5 epochs."""
import numpy as np

from regulab import losses, optimizers

TARGET, EPOCHS = 0.95, 5


def check(run):
    model = run.model
    if not hasattr(model, "layers") or not hasattr(model, "predict"):
        yield f"`model` is a {type(model).__name__}, not a model; keep the starting point's Sequential([...])"
        return
    if not model.compiled:
        yield "the model is not compiled; call model.compile(optimizer=..., loss=...)"
        return
    loss = losses.get(model.loss)
    if not isinstance(loss, (losses.SparseCategoricalCrossentropy, losses.CategoricalCrossentropy)):
        name = getattr(loss, "name", type(loss).__name__)
        yield (f"the loss is {name}, a loss for predicting numbers whose gradient vanishes when a softmax output is "
               "confidently wrong; for ten classes use loss='sparse_categorical_crossentropy' and fit on the "
               "integer labels y_train")
        return
    if run.fits is not None:
        calls = run.fits_of(model)
        if not calls:
            yield "model.fit is never called; train with model.fit(X_train, y_train, epochs=5)"
            return
        ran = sum(len(call.history.history.get("loss", [])) for call in calls if call.history is not None)
        if ran > EPOCHS:
            yield (f"the model trained for {ran} epochs; the task's budget is {EPOCHS}: reach the accuracy with a "
                   "better optimizer, not more epochs")
            return
    accuracy = float((np.asarray(model.predict(run.data["X_test"], verbose=0)).argmax(axis=1)
                      == run.data["y_test"]).mean())
    if accuracy >= TARGET:
        return
    optimizer = model.optimizer
    rate = float(getattr(optimizer, "learning_rate", 0.0))
    if type(optimizer) is optimizers.SGD and not optimizer.momentum:
        yield (f"the held-out accuracy is {accuracy:.3f} after {EPOCHS} epochs, below {TARGET}: plain SGD with "
               f"learning rate {rate:g} moves too little; use Adam(learning_rate=0.01), or SGD with momentum=0.9 "
               "and a larger learning rate")
    else:
        yield (f"the held-out accuracy is {accuracy:.3f} after {EPOCHS} epochs with {type(optimizer).__name__} at "
               f"learning rate {rate:g}, below {TARGET}; a larger step fits the budget, e.g. "
               f"{type(optimizer).__name__}(learning_rate=0.01)")
