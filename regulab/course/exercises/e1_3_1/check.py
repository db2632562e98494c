"""1.3.1: a ten-way softmax output, the sparse cross-entropy for integer labels, and 50% on MNIST-1D."""
import numpy as np

from regulab import activations, losses
from regulab.layers import Activation, Dense, Softmax

TARGET = 0.50
OUTPUT = "Dense(10, activation='softmax')"


def _final_activation(model):
    """The activation applied last: a trailing Activation/Softmax layer's, else the last Dense layer's."""
    for layer in reversed(model.layers):
        if isinstance(layer, Softmax):
            return activations.softmax
        if isinstance(layer, (Activation, Dense)):
            return layer.activation
    return activations.linear


def check(run):
    model = run.model
    if not hasattr(model, "layers") or not hasattr(model, "predict"):
        yield f"`model` is a {type(model).__name__}, not a model; build it with Sequential([...])"
        return
    dense = [layer for layer in model.layers if isinstance(layer, Dense)]
    if not dense:
        yield f"the model has no Dense layer; end it with {OUTPUT}"
        return
    units = dense[-1].units
    if units != 10:
        yield (f"the last Dense layer has {units} unit{'s' if units != 1 else ''}, but MNIST-1D has 10 classes: "
               f"end the model with {OUTPUT}, one unit per digit")
        return
    final = _final_activation(model)
    if not model.compiled:
        yield ("the model is not compiled; call model.compile(optimizer='adam', "
               "loss='sparse_categorical_crossentropy', metrics=['accuracy'])")
        return
    loss = losses.get(model.loss)
    logits = getattr(loss, "from_logits", False)
    if final is not activations.softmax and not (final is activations.linear and logits):
        name = getattr(final, "__name__", str(final))
        yield (f"the output layer's activation is {name}; the ten classes are exclusive, so use softmax, which "
               f"turns the ten scores into probabilities that sum to 1: {OUTPUT}")
        return
    if isinstance(loss, losses.BinaryCrossentropy):
        yield ("the loss is binary_crossentropy, which treats each of the ten outputs as a separate yes/no "
               "question; for one label out of ten use loss='sparse_categorical_crossentropy'")
        return
    if isinstance(loss, losses.CategoricalCrossentropy):
        yield ("the loss is categorical_crossentropy, which expects one-hot label vectors, but y_train holds "
               "integers 0-9; use loss='sparse_categorical_crossentropy'")
        return
    if not isinstance(loss, losses.SparseCategoricalCrossentropy):
        yield (f"the loss is {type(loss).__name__}, a loss for predicting numbers; for class labels 0-9 use "
               "loss='sparse_categorical_crossentropy'")
        return
    if run.fits is not None and not run.fits_of(model):
        yield "model.fit is never called, so the model keeps its random weights; train it with model.fit(X_train, y_train, ...)"
        return
    p = np.asarray(model.predict(run.data["X_test"], verbose=0))
    if p.ndim != 2:
        yield (f"the model's output has shape {p.shape[1:]} per sample instead of (10,); keep the Flatten layer "
               "first so that the Dense layers see 40 numbers per signal")
        return
    accuracy = float((p.argmax(axis=1) == run.data["y_test"]).mean())
    if accuracy < TARGET:
        yield (f"the held-out accuracy is {accuracy:.3f}, below {TARGET:.2f}; train longer (e.g. 10 epochs with "
               "batch_size=128) or with a larger learning rate, e.g. tf.keras.optimizers.Adam(learning_rate=0.003)")
