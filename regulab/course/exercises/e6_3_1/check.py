"""6.3.1: a throughput function, checked by calling it on a small model and comparing what it returns
with the samples the model trained on and the time the call took."""
import math
import time

import numpy as np

SAMPLES, EPOCHS, BATCH = 2000, 3, 50


def _model():
    import regulab
    from regulab.layers import Dense, Flatten, Input
    from regulab.models import Sequential

    regulab.set_random_seed(0)
    model = Sequential([Input((40, 1)), Flatten(), Dense(32, activation="relu"), Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return model


def check(run):
    function = run.namespace["samples_per_second"]
    if not callable(function):
        yield "`samples_per_second` is not a function; define def samples_per_second(model, x, y, epochs, batch_size):"
        return
    x = np.asarray(run.data["X_train"][:SAMPLES])
    y = np.asarray(run.data["y_train"][:SAMPLES])
    model = _model()
    model.fit(x[:BATCH], y[:BATCH], epochs=1, batch_size=BATCH, verbose=0)  # warm-up
    before = model.optimizer.iterations
    start = time.perf_counter()
    value = function(model, x, y, EPOCHS, BATCH)
    seconds = time.perf_counter() - start
    steps = model.optimizer.iterations - before
    per_epoch = math.ceil(SAMPLES / BATCH)
    call = f"samples_per_second(model, x, y, epochs={EPOCHS}, batch_size={BATCH}) on {SAMPLES} samples"
    if steps != EPOCHS * per_epoch:
        yield (f"{call} trained {steps} batches, not the {EPOCHS * per_epoch} of {EPOCHS} epochs of batches of "
               f"{BATCH}; call model.fit(x, y, epochs=epochs, batch_size=batch_size) with the function's arguments")
        return
    if value is None or isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        yield (f"{call} returned {value!r}, not a number; return the training samples processed per second: "
               "epochs * len(x) / seconds")
        return
    value = float(value)
    expected = EPOCHS * SAMPLES / seconds  # the whole call: the fit alone is a little faster
    ratio = value / expected if expected > 0 else float("inf")
    if 0.7 <= ratio <= 4.0:
        return
    said = (f"{call} returned {value:.4g}, but {EPOCHS * SAMPLES} samples in the {seconds:.2f} s the call took "
            f"make {expected:.4g}")
    # what a value of that size would mean: a common slip, by the factor it leaves
    slips = {"one epoch": 1 / EPOCHS, "steps": per_epoch / SAMPLES,
             "steps of one epoch": per_epoch / (SAMPLES * EPOCHS)}
    closest = min(slips, key=lambda k: abs(math.log(ratio / slips[k]))) if ratio > 0 else None
    if value <= 0 or value < 1.0:
        yield f"{said}: it looks like seconds per sample; divide the samples by the seconds, not the other way round"
    elif closest and abs(math.log(ratio / slips[closest])) < math.log(2):
        yield {"one epoch": f"{said}: it counts one epoch's samples; multiply by the number of epochs",
               "steps": f"{said}: it counts batches (steps), not samples; count the samples, epochs * len(x)",
               "steps of one epoch": f"{said}: it counts one epoch's batches; count the samples of every epoch, "
                                     "epochs * len(x)"}[closest]
    else:
        yield f"{said}; return epochs * len(x) / seconds, with seconds the time model.fit took"
