"""4.1.1: a recurrent layer on noisy sine windows, trained to predict the next sample well."""
import numpy as np

from regulab.course._checks import layers_of
from regulab.layers import GRU, LSTM, SimpleRNN

THRESHOLD = 0.05


def _windows(rng, n, steps=20):
    frequency = rng.uniform(0.15, 0.6, size=(n, 1))
    phase = rng.uniform(0, 2 * np.pi, size=(n, 1))
    wave = np.sin(frequency * np.arange(steps + 1)[None, :] + phase) + rng.normal(0, 0.05, size=(n, steps + 1))
    return wave[:, :steps, None].astype(np.float32), wave[:, steps].astype(np.float32)


def data():
    """1,000 training and 300 held-out windows of 20 noisy sine samples, and the sample after each."""
    rng = np.random.default_rng(0)
    x_train, y_train = _windows(rng, 1000)
    x_test, y_test = _windows(rng, 300)
    return {"X_train": x_train, "y_train": y_train, "X_test": x_test, "y_test": y_test}


def check(run):
    model = run.model
    recurrent = layers_of(model, (SimpleRNN, LSTM, GRU))
    if not recurrent:
        yield ("the model has no recurrent layer, so it cannot use the order of the steps; put SimpleRNN(32) "
               "between the Input and the Dense(1)")
        return
    if recurrent[-1].return_sequences:
        yield ("the last recurrent layer has return_sequences=True, so the Dense layer predicts one value per step; "
               "leave return_sequences=False so that it sees only the last state")
        return
    if run.fits is not None and not run.fits_of(model):
        yield "model.fit is never called; train it, e.g. model.fit(X_train, y_train, epochs=10, batch_size=32)"
        return
    x_test, y_test = run.data["X_test"], run.data["y_test"]
    predicted = np.asarray(model.predict(x_test, verbose=0))
    if predicted.shape not in ((len(y_test), 1), (len(y_test),)):
        yield f"the model outputs shape {predicted.shape[1:]} per window; end it with Dense(1), one next value"
        return
    mse = float(np.mean((predicted.reshape(-1) - y_test) ** 2))
    if mse >= THRESHOLD:
        yield (f"your model's held-out mean squared error is {mse:.3f}, not below {THRESHOLD} (predicting the mean "
               f"scores {float(y_test.var()):.2f}); train for more epochs (10-20), with Adam(0.003) and loss='mse'")
