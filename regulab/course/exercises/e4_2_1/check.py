"""4.2.1: a GRU over the 40 steps of MNIST-1D, a 10-way softmax, and 70% of the held-out signals."""
import numpy as np

from regulab.course._checks import layers_of
from regulab.layers import GRU, LSTM, Dense

THRESHOLD = 0.70


def check(run):
    model = run.model
    grus = layers_of(model, GRU)
    if not grus:
        other = "an LSTM" if layers_of(model, LSTM) else "no recurrent layer"
        yield f"the model has {other}; the task asks for GRU(32) between the Input and the Dense(10) softmax"
        return
    if grus[-1].return_sequences:
        yield ("the GRU has return_sequences=True, so the classifier gets one state per step; leave "
               "return_sequences=False so that Dense(10) sees only the last state")
        return
    dense = layers_of(model, Dense)
    if not dense or dense[-1].units != 10:
        units = dense[-1].units if dense else None
        yield (f"the last layer has {units} units; ten classes need Dense(10, activation='softmax')" if dense else
               "the model has no Dense layer after the GRU; add Dense(10, activation='softmax')")
        return
    if run.fits is not None and not run.fits_of(model):
        yield "model.fit is never called; train it with model.fit(X_train, y_train, epochs=5, batch_size=100)"
        return
    predicted = np.asarray(model.predict(run.data["X_test"], verbose=0))
    accuracy = float((predicted.argmax(axis=-1) == run.data["y_test"]).mean())
    if accuracy < THRESHOLD:
        yield (f"your GRU classifies {100 * accuracy:.1f}% of the held-out signals correctly, below "
               f"{100 * THRESHOLD:.0f}%; train with Adam(0.03) for 5 epochs or more, batch_size=100 "
               "(with Adam's default rate, 0.001, five epochs are too few)")
