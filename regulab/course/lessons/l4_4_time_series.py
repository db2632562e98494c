# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 4.4 Sequences and time series: forecasting against a naive baseline
#
# Forecasting a time series means predicting its next values from its past ones. It looks like
# any other regression, with two rules that matter more than the model:
#
# 1. **Split by time.** The test period must come *after* the training period. A random split
#    would let the model train on 1950 and 1952 and be tested on 1951: interpolation, not
#    forecasting.
# 2. **Beat a naive baseline.** "Next year will be like this year" (the last value) is hard to
#    beat on many series; a model that does not beat it is useless, however good its loss looks.
#
# The series is the yearly count of sunspots, 1700-2008, whose activity rises and falls in a
# cycle of about 11 years of uneven height.

# %%
import matplotlib.pyplot as plt
import numpy as np

import regulab
from regulab import course
from regulab.callbacks import EarlyStopping
from regulab.datasets import load_sunspots, timeseries_dataset_from_array
from regulab.layers import GRU, Dense, Flatten, Input
from regulab.models import Sequential

QUICK = course.quick()
EPOCHS = 20 if QUICK else 200
WINDOW = 12                      # years the model reads
regulab.set_random_seed(0)
series = load_sunspots()
values, years = series.values, series.time
print(f"{len(values)} years, {years[0]}-{years[-1]}, source: {series.source}")

# %% [markdown]
# (Without statsmodels, `load_sunspots` gives a synthetic series of the same shape; the lesson
# runs the same on it.)
#
# ## A split in time, and scaling from the training years only
#
# The years from 1920 on are the test period. Before them, 1700-1889 train the models and
# 1890-1919 validate them (to decide when to stop training). The mean and standard deviation
# used to scale the series come from the years before 1920 only: the test period must not leak
# into anything the model uses.

# %%
SPLIT = int(np.searchsorted(years, 1920))
mean, std = values[:SPLIT].mean(), values[:SPLIT].std()
scaled = ((values - mean) / std)[:, None]           # (steps, 1 feature)

fig, ax = plt.subplots(figsize=(10, 2.6))
ax.plot(years[:SPLIT], values[:SPLIT], label="training years")
ax.plot(years[SPLIT:], values[SPLIT:], label="test years")
ax.set_ylabel("sunspots")
ax.legend(fontsize=8)
course.save_figure(fig, "sunspots")

# %% [markdown]
# ## Windows with `timeseries_dataset_from_array`
#
# Each input is a window of 12 consecutive years and its target the year right after. With
# `targets = scaled[WINDOW:]`, the window that starts at year $s$ gets `scaled[s + WINDOW]` as
# target. `end_index` keeps a period's windows (and their targets) before its end; `start_index`
# starts them so that the first target is the period's first year (1890 for validation, 1920
# for the test).

# %%
VALIDATION = int(np.searchsorted(years, 1890))
inputs, targets = scaled[:-1], scaled[WINDOW:, 0]


def training_windows():
    """The training windows, in batches of 32 drawn in a new order every epoch (seeded)."""
    return timeseries_dataset_from_array(inputs, targets, sequence_length=WINDOW, batch_size=32,
                                         shuffle=True, seed=0, end_index=VALIDATION - 1)


train_ds = training_windows()
validation_ds = timeseries_dataset_from_array(inputs, targets, sequence_length=WINDOW,
                                              start_index=VALIDATION - WINDOW, end_index=SPLIT - 1)
test_ds = timeseries_dataset_from_array(inputs, targets, sequence_length=WINDOW, start_index=SPLIT - WINDOW)
x_train, y_train = train_ds.arrays()
x_validation, y_validation = validation_ds.arrays()
x_test, y_test = test_ds.arrays()
print(train_ds, "\n", test_ds)
print("train windows", x_train.shape, "validation windows", x_validation.shape, "test windows", x_test.shape)
target_years = years[SPLIT:SPLIT + len(y_test)]
print("test targets:", target_years[0], "to", target_years[-1])


def mae(prediction):
    """Mean absolute error on the test years, in sunspots (not in scaled units)."""
    return float(np.abs(np.asarray(prediction).ravel() - y_test).mean() * std)


# %% [markdown]
# ## Baselines
#
# - **Last value**: the prediction for next year is this year's count.
# - **Seasonal naive**: the count of 11 years ago, one solar cycle back.

# %%
results = {"last value (naive)": mae(x_test[:, -1, 0]), "11 years ago (seasonal naive)": mae(x_test[:, -11, 0])}
for name, value in results.items():
    course.result(f"{name}: test MAE", value, "sunspots")

# %% [markdown]
# ## Two learned models
#
# A **linear** model on the 12 years (a classical autoregressive model, AR(12), fitted by
# gradient descent) and a **GRU** that reads them in order. Both are trained on the mean
# absolute error, the figure we report. `model.fit` takes the dataset of windows directly; its
# shuffle draws a new order every epoch (each model gets a fresh copy of the dataset, so both see
# the same orders). Early stopping on the validation years keeps the
# weights of the epoch that forecast them best.

# %%
def train(model, learning_rate):
    model.compile(optimizer=regulab.optimizers.Adam(learning_rate), loss="mae")
    stop = EarlyStopping(monitor="val_loss", patience=40, restore_best_weights=True)
    model.fit(training_windows(), epochs=EPOCHS, verbose=0, seed=0, validation_data=(x_validation, y_validation),
              callbacks=[stop])
    course.result(f"{model.name}: best epoch", stop.best_epoch + 1)
    return model


regulab.set_random_seed(0)
linear = train(Sequential([Input((WINDOW, 1)), Flatten(), Dense(1)], name="linear"), 1e-2)
regulab.set_random_seed(0)
gru = train(Sequential([Input((WINDOW, 1)), GRU(32), Dense(1)], name="gru"), 3e-3)

predictions = {"linear AR(12)": linear.predict(x_test, verbose=0)[:, 0], "GRU": gru.predict(x_test, verbose=0)[:, 0]}
for name, prediction in predictions.items():
    results[name] = mae(prediction)
    course.result(f"{name}: test MAE", results[name], "sunspots")
naive = results["last value (naive)"]
course.result("GRU's MAE as a share of the naive baseline's", results["GRU"] / naive)

# %% [markdown]
# Both learned models clearly beat the last value, and the seasonal naive does not: real cycles
# vary in length (9 to 14 years), so "one cycle back" is often out of phase (on the synthetic
# stand-in, whose cycle is exactly 11 years, it does much better). The GRU beats the linear
# model, but not by much: on 178 training windows a linear model is a strong competitor, and a
# fair comparison always includes one.

# %%
fig, axes = plt.subplots(1, 2, figsize=(14, 3), gridspec_kw={"width_ratios": [3, 1], "wspace": 0.45})
axes[0].plot(target_years, y_test * std + mean, "k-", lw=2, label="actual")
axes[0].plot(target_years, x_test[:, -1, 0] * std + mean, "--", color="tab:gray", label="last value")
for (name, prediction), color in zip(predictions.items(), ["tab:orange", "tab:blue"]):
    axes[0].plot(target_years, prediction * std + mean, color=color, label=name)
axes[0].set_ylabel("sunspots")
axes[0].set_title("one-year-ahead forecasts over the test years", fontsize=9)
axes[0].legend(fontsize=8)
axes[1].barh(list(results), list(results.values()), color=["tab:gray", "tab:gray", "tab:orange", "tab:blue"])
axes[1].invert_yaxis()
axes[1].set_xlabel("test MAE (sunspots)")
course.save_figure(fig, "forecasts")

# %% [markdown]
# The last-value forecast is the actual curve shifted one year right: it is always late. The
# learned models anticipate the turns of the cycle, which is where the naive forecast loses.
#
# ## What to take away
#
# - Split a series by time and scale with the training period's statistics only.
# - `timeseries_dataset_from_array(data, targets, sequence_length, ...)` cuts windows; the
#   target of the window starting at $s$ is `targets[s]`, so `targets = data[WINDOW:]` predicts
#   the step right after each window; `start_index`/`end_index` confine windows to a period.
# - Report an error in the series' units against the naive baselines, and include a linear
#   model: a recurrent network has to beat both to be worth it.
# - Exercise 4.4.1 asks you to beat the naive baseline yourself: `regulab exercise start 4.4.1`.
