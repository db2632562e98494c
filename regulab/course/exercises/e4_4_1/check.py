"""4.4.1: a one-year-ahead sunspot forecast whose test MAE is at most 90% of the naive forecast's."""
import numpy as np

WINDOW = 12
SHARE = 0.9


def data():
    """12-year windows of the scaled sunspot series and the next year: training targets before 1920, test from 1920."""
    from regulab.datasets import load_sunspots, timeseries_dataset_from_array

    series = load_sunspots()
    split = int(np.searchsorted(series.time, 1920))
    values = series.values.astype(np.float32)
    scaled = ((values - values[:split].mean()) / values[:split].std())[:, None]
    inputs, targets = scaled[:-1], scaled[WINDOW:, 0]
    x_train, y_train = timeseries_dataset_from_array(inputs, targets, WINDOW, end_index=split - 1).arrays()
    x_test, y_test = timeseries_dataset_from_array(inputs, targets, WINDOW, start_index=split - WINDOW).arrays()
    return {"X_train": x_train, "y_train": y_train, "X_test": x_test, "y_test": y_test}


def check(run):
    model = run.model
    if run.fits is not None and not run.fits_of(model):
        yield ("model.fit is never called, so the model forecasts with its random initial weights; train it, "
               "e.g. model.fit(X_train, y_train, epochs=50, batch_size=32)")
        return
    x_test, y_test = run.data["X_test"], run.data["y_test"]
    predicted = np.asarray(model.predict(x_test, verbose=0))
    if predicted.shape not in ((len(y_test), 1), (len(y_test),)):
        yield f"the model outputs shape {predicted.shape[1:]} per window; end it with Dense(1), next year's count"
        return
    model_mae = float(np.abs(predicted.reshape(-1) - y_test).mean())
    naive_mae = float(np.abs(x_test[:, -1, 0] - y_test).mean())
    if model_mae > SHARE * naive_mae:
        yield (f"your model's test MAE is {model_mae:.3f} (scaled units), {model_mae / naive_mae:.0%} of the naive "
               f"forecast's {naive_mae:.3f}; it must be at most {SHARE:.0%}: train longer (about 50 epochs), on "
               "loss='mae', with Adam(0.003)")
