"""1.1.1: a hidden layer with a non-linear activation, and at least 95% held-out accuracy on the moons."""
import numpy as np

from regulab import activations
from regulab.layers import ELU, Activation, Dense, LeakyReLU, ReLU

TARGET = 0.95


def _nonlinear(layer) -> bool:
    if isinstance(layer, (ReLU, LeakyReLU, ELU)):
        return True
    if isinstance(layer, (Dense, Activation)):
        return getattr(layer, "activation", activations.linear) is not activations.linear
    return False


def _accuracy(model, x, y) -> float:
    p = np.asarray(model.predict(x, verbose=0))
    if p.ndim == 2 and p.shape[1] > 1:
        predicted = p.argmax(axis=1)
    else:
        last = [layer for layer in model.layers if isinstance(layer, Dense)][-1]
        threshold = 0.0 if last.activation is activations.linear else 0.5
        predicted = (p.reshape(len(x), -1)[:, 0] > threshold).astype(int)
    return float((predicted == np.asarray(y).astype(int)).mean())


def check(run):
    model = run.model
    if not hasattr(model, "layers") or not hasattr(model, "predict"):
        yield f"`model` is a {type(model).__name__}, not a model; build it with Sequential([...])"
        return
    dense = [layer for layer in model.layers if isinstance(layer, Dense)]
    if not dense:
        yield "the model has no Dense layer; end it with Dense(1, activation='sigmoid') as the starting point does"
        return
    hidden = model.layers[:model.layers.index(dense[-1])]
    if not any(isinstance(layer, Dense) for layer in hidden):
        yield ("the model has a single Dense layer, so it is still logistic regression and its boundary is a "
               "straight line, which cannot follow the moons; add a hidden layer before the output, e.g. "
               "Dense(16, activation='relu')")
        return
    if not any(_nonlinear(layer) for layer in hidden):
        yield ("the hidden Dense layers have no activation, so the model is still linear (linear layers in a row "
               "make one linear map) and its boundary a straight line; give them activation='relu'")
        return
    if not model.compiled:
        yield "the model is not compiled; call model.compile(optimizer=..., loss='binary_crossentropy', ...)"
        return
    if run.fits is not None and not run.fits_of(model):
        yield "model.fit is never called, so the network keeps its random weights; train it with model.fit(X_train, y_train, ...)"
        return
    accuracy = _accuracy(model, run.data["X_test"], run.data["y_test"])
    if accuracy < TARGET:
        yield (f"the network's held-out accuracy is {accuracy:.3f}, below {TARGET}: it has the capacity but is not "
               "trained enough; train for more epochs or with a larger learning rate, e.g. "
               "tf.keras.optimizers.Adam(learning_rate=0.01)")
