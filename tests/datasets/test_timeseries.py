"""timeseries_dataset_from_array against Keras's tests and hand-computed windows; load_sunspots."""
import builtins
import re
import sys
import types

import numpy as np
import pandas as pd
import pytest
import torch

import regulab
from regulab.datasets import TimeseriesDataset, load_sunspots, timeseries_dataset_from_array
from regulab.layers import Dense, Input
from regulab.models import Sequential


def collect(dataset):
    return list(dataset)


# ---- ported from keras/src/utils/timeseries_dataset_utils_test.py ----

def test_basics():
    data = np.arange(100)
    dataset = timeseries_dataset_from_array(data, data * 2, sequence_length=9, batch_size=5)
    batches = collect(dataset)
    assert len(batches) == 19 == len(dataset)
    for i, (inputs, targets) in enumerate(batches):
        assert inputs.shape == ((5, 9) if i < 18 else (2, 9))
        np.testing.assert_array_equal(targets, inputs[:, 0] * 2)
        for j in range(len(inputs)):
            np.testing.assert_array_equal(inputs[j], np.arange(i * 5 + j, i * 5 + j + 9))


def test_timeseries_regression():
    data = np.arange(10)
    offset = 3
    dataset = timeseries_dataset_from_array(data, data[offset:], sequence_length=offset, batch_size=1)
    batches = collect(dataset)
    assert len(batches) == 7
    for i, (inputs, targets) in enumerate(batches):
        assert inputs.shape == (1, 3)
        assert targets[0] == data[offset + i]
        np.testing.assert_array_equal(inputs[0], data[i:i + offset])


def test_no_targets():
    dataset = timeseries_dataset_from_array(np.arange(50), None, sequence_length=10, batch_size=5)
    batches = collect(dataset)
    assert len(batches) == 9
    for i, batch in enumerate(batches):
        assert isinstance(batch, np.ndarray)
        assert batch.shape == ((5, 10) if i < 8 else (1, 10))
        for j in range(len(batch)):
            np.testing.assert_array_equal(batch[j], np.arange(i * 5 + j, i * 5 + j + 10))


def test_shuffle():
    data = np.arange(10)
    dataset = timeseries_dataset_from_array(data, data * 2, sequence_length=5, batch_size=1, shuffle=True, seed=123)
    first_epoch = [x for x, _ in dataset]
    assert not np.array_equal(first_epoch[0], np.arange(0, 5))
    for x, y in dataset:
        np.testing.assert_array_equal(x[:, 0] * 2, y)
    second_epoch = [x for x, _ in dataset]
    assert not all(np.array_equal(a, b) for a, b in zip(first_epoch, second_epoch))
    # every epoch holds each window once
    assert sorted(int(x[0, 0]) for x in second_epoch) == list(range(6))
    again = timeseries_dataset_from_array(data, data * 2, sequence_length=5, batch_size=1, shuffle=True, seed=123)
    np.testing.assert_array_equal(np.concatenate([x for x, _ in again]), np.concatenate(first_epoch))


def test_sampling_rate():
    data = np.arange(100)
    batches = collect(timeseries_dataset_from_array(data, data * 2, sequence_length=9, batch_size=5,
                                                    sampling_rate=2))
    assert len(batches) == 17
    for i, (inputs, targets) in enumerate(batches):
        assert inputs.shape == ((5, 9) if i < 16 else (4, 9))
        np.testing.assert_array_equal(inputs[:, 0] * 2, targets)
        for j in range(len(inputs)):
            start = i * 5 + j
            np.testing.assert_array_equal(inputs[j], np.arange(start, start + 9 * 2, 2))


def test_sequence_stride():
    data = np.arange(100)
    batches = collect(timeseries_dataset_from_array(data, data * 2, sequence_length=9, batch_size=5,
                                                    sequence_stride=3))
    assert len(batches) == 7
    for i, (inputs, targets) in enumerate(batches):
        assert inputs.shape == ((5, 9) if i < 6 else (1, 9))
        np.testing.assert_array_equal(inputs[:, 0] * 2, targets)
        for j in range(len(inputs)):
            start = i * 5 * 3 + j * 3
            np.testing.assert_array_equal(inputs[j], np.arange(start, start + 9))


def test_start_and_end_index():
    dataset = timeseries_dataset_from_array(np.arange(100), None, sequence_length=9, batch_size=5,
                                            sequence_stride=3, sampling_rate=2, start_index=10, end_index=90)
    for batch in dataset:
        assert batch.max() < 90 and batch.min() > 9
    x = dataset.arrays()
    # hand-computed: starts 10, 13, ... while start + 16 <= 89
    np.testing.assert_array_equal(x[:, 0], np.arange(10, 74, 3))
    np.testing.assert_array_equal(x[-1], np.arange(73, 90, 2))


def test_not_batched():
    dataset = timeseries_dataset_from_array(np.arange(100), None, sequence_length=9, batch_size=None, shuffle=True)
    sample = next(iter(dataset))
    assert sample.shape == (9,)
    assert len(dataset) == 92


# ---- the docstring's examples and hand-computed windows ----

def test_keras_docstring_example_1():
    x = timeseries_dataset_from_array(np.arange(99), None, sequence_length=10, sampling_rate=2,
                                      sequence_stride=3, shuffle=False).arrays()
    np.testing.assert_array_equal(x[0], [0, 2, 4, 6, 8, 10, 12, 14, 16, 18])
    np.testing.assert_array_equal(x[1], [3, 5, 7, 9, 11, 13, 15, 17, 19, 21])
    np.testing.assert_array_equal(x[2], [6, 8, 10, 12, 14, 16, 18, 20, 22, 24])
    np.testing.assert_array_equal(x[-1], [78, 80, 82, 84, 86, 88, 90, 92, 94, 96])


def test_keras_docstring_example_2_next_step_regression():
    data = np.linspace(0.0, 1.0, 50)
    x, y = timeseries_dataset_from_array(data[:-10], data[10:], sequence_length=10).arrays()
    np.testing.assert_array_equal(x[0], data[:10])
    assert y[0] == data[10]
    np.testing.assert_array_equal(y, data[10:41])


def test_multivariate_windows_and_targets_keep_their_dtypes_and_feature_axes():
    data = np.arange(24, dtype=np.float32).reshape(12, 2)
    targets = np.arange(12, dtype=np.int64) + 100
    x, y = timeseries_dataset_from_array(data, targets, sequence_length=3, sequence_stride=4).arrays()
    expected = np.array([[[0, 1], [2, 3], [4, 5]], [[8, 9], [10, 11], [12, 13]], [[16, 17], [18, 19], [20, 21]]])
    np.testing.assert_array_equal(x, expected)
    np.testing.assert_array_equal(y, [100, 104, 108])
    assert x.dtype == np.float32 and y.dtype == np.int64


def test_arrays_are_chronological_when_shuffled():
    dataset = timeseries_dataset_from_array(np.arange(20), np.arange(20), sequence_length=4, batch_size=3,
                                            shuffle=True, seed=0)
    x, y = dataset.arrays()
    np.testing.assert_array_equal(y, np.arange(17))
    assert sorted(np.concatenate([b for _, b in dataset]).tolist()) == list(range(17))


def test_lists_dataframes_and_tensors():
    from_list = timeseries_dataset_from_array(list(range(6)), None, sequence_length=2).arrays()
    np.testing.assert_array_equal(from_list, [[0, 1], [1, 2], [2, 3], [3, 4], [4, 5]])
    frame = pd.DataFrame({"a": np.arange(5.0), "b": -np.arange(5.0)})
    x = timeseries_dataset_from_array(frame, None, sequence_length=4).arrays()
    assert x.shape == (2, 4, 2) and x[1, 0].tolist() == [1.0, -1.0]
    data = torch.arange(8.0).reshape(8, 1)
    xb, yb = next(iter(timeseries_dataset_from_array(data, torch.arange(8), sequence_length=3, batch_size=2)))
    assert isinstance(xb, torch.Tensor) and xb.shape == (2, 3, 1)
    torch.testing.assert_close(yb, torch.tensor([0, 1]))
    single = next(iter(timeseries_dataset_from_array(data, None, sequence_length=3, batch_size=None)))
    torch.testing.assert_close(single, torch.tensor([[0.0], [1.0], [2.0]]))


def test_window_as_long_as_the_series_and_end_index_at_the_end():
    x = timeseries_dataset_from_array(np.arange(5), None, sequence_length=5, end_index=5).arrays()
    np.testing.assert_array_equal(x, [[0, 1, 2, 3, 4]])


def test_fit_takes_the_dataset_and_restarts_it_every_epoch(monkeypatch):
    rng = np.random.default_rng(0)
    series = np.sin(np.arange(300) / 5.0).astype(np.float32) + 0.01 * rng.standard_normal(300).astype(np.float32)
    train = timeseries_dataset_from_array(series[:-1], series[5:], sequence_length=5, batch_size=32,
                                          shuffle=True, seed=0)
    seen = []
    original_iter = TimeseriesDataset.__iter__

    def counting_iter(self):
        for batch in original_iter(self):
            seen.append(len(batch[0]))
            yield batch

    monkeypatch.setattr(TimeseriesDataset, "__iter__", counting_iter)
    regulab.set_random_seed(0)
    model = Sequential([Input((5,)), Dense(16, activation="tanh"), Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    history = model.fit(train, epochs=3, verbose=0)
    assert train.num_windows == 295 and history.params["steps"] == len(train) == 10
    assert seen == ([32] * 9 + [7]) * 3
    assert history.history["loss"][-1] < history.history["loss"][0]
    x_all, y_all = train.arrays()
    assert np.isfinite(model.evaluate(x_all, y_all, verbose=0))


# ---- bad input ----

WHERE = "timeseries_dataset_from_array"


@pytest.mark.parametrize("name", ["sequence_length", "sequence_stride", "sampling_rate", "batch_size"])
def test_counts_below_one_are_rejected(name):
    kwargs = {"sequence_length": 3, name: 0}
    msg = (f"Invalid value for argument `{name}` of {WHERE}: expected an integer in [1, inf). "
           f"Received: {name}=0")
    with pytest.raises(ValueError, match=re.escape(msg)):
        timeseries_dataset_from_array(np.arange(10), None, **kwargs)


def test_window_longer_than_the_series():
    msg = (f"The window of {WHERE} is longer than the series: sequence_length=6 at sampling_rate=2 spans 11 "
           "steps, but the series has 10 steps. Pass a shorter sequence_length or sampling_rate, or a longer "
           "series.")
    with pytest.raises(ValueError, match=re.escape(msg)):
        timeseries_dataset_from_array(np.arange(10), None, sequence_length=6, sampling_rate=2)
    msg = (f"The window of {WHERE} is longer than the series: sequence_length=5 at sampling_rate=1 spans 5 "
           "steps, but the series has 4 steps between start_index=2 and end_index=6.")
    with pytest.raises(ValueError, match=re.escape(msg)):
        timeseries_dataset_from_array(np.arange(10), None, sequence_length=5, start_index=2, end_index=6)


def test_start_and_end_index_errors():
    with pytest.raises(ValueError, match=re.escape(
            f"Invalid value for argument `start_index` of {WHERE}: expected an integer in [0, 9]. "
            "Received: start_index=-1")):
        timeseries_dataset_from_array(np.arange(10), None, 3, start_index=-1)
    with pytest.raises(ValueError, match=re.escape("expected an integer in [0, 9]. Received: start_index=11")):
        timeseries_dataset_from_array(np.arange(10), None, 3, start_index=11)
    with pytest.raises(ValueError, match=re.escape(
            f"Invalid value for argument `end_index` of {WHERE}: expected an integer in [1, 10]. "
            "Received: end_index=-1")):
        timeseries_dataset_from_array(np.arange(10), None, 3, end_index=-1)
    with pytest.raises(ValueError, match=re.escape("expected an integer in [1, 10]. Received: end_index=11")):
        timeseries_dataset_from_array(np.arange(10), None, 3, end_index=11)
    with pytest.raises(ValueError, match=re.escape("expected an integer in [5, 10]. Received: end_index=4")):
        timeseries_dataset_from_array(np.arange(10), None, 3, start_index=4, end_index=4)


def test_targets_that_cannot_cover_the_windows():
    msg = (f"Argument `targets` of {WHERE} has 4 entries, and the window at data[5] has no targets[5]: "
           "targets[i] is the target of the window that starts at data[i], so pass targets aligned with data.")
    with pytest.raises(ValueError, match=re.escape(msg)):
        timeseries_dataset_from_array(np.arange(10), np.arange(4), sequence_length=2, start_index=5)
    with pytest.raises(ValueError, match=re.escape(f"Argument `targets` of {WHERE} has 0 entries, and it is empty")):
        timeseries_dataset_from_array(np.arange(10), np.arange(0), sequence_length=2)


def test_scalar_data_is_rejected():
    with pytest.raises(ValueError, match=re.escape(
            f"Argument `data` of {WHERE} must be an array with time on axis 0; received a scalar: data=3")):
        timeseries_dataset_from_array(3, None, sequence_length=1)


# ---- load_sunspots ----

def fake_statsmodels(monkeypatch):
    frame = pd.DataFrame({"YEAR": np.arange(1700.0, 1710.0), "SUNACTIVITY": np.arange(10.0) * 1.5})
    sunspots = types.SimpleNamespace(load_pandas=lambda: types.SimpleNamespace(data=frame))
    datasets = types.ModuleType("statsmodels.datasets")
    datasets.sunspots = sunspots
    package = types.ModuleType("statsmodels")
    package.datasets = datasets
    monkeypatch.setitem(sys.modules, "statsmodels", package)
    monkeypatch.setitem(sys.modules, "statsmodels.datasets", datasets)
    return frame


def hide_statsmodels(monkeypatch):
    real_import = builtins.__import__

    def failing_import(name, *args, **kwargs):
        if name.split(".")[0] == "statsmodels":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", failing_import)


def test_sunspots_come_from_statsmodels_when_installed(monkeypatch):
    frame = fake_statsmodels(monkeypatch)
    series = load_sunspots()
    assert series.source == "statsmodels"
    assert series.values.dtype == np.float32 and series.time.dtype == np.int64
    np.testing.assert_array_equal(series.values, frame["SUNACTIVITY"].to_numpy(np.float32))
    np.testing.assert_array_equal(series.time, np.arange(1700, 1710))


def test_real_statsmodels_sunspots():
    pytest.importorskip("statsmodels")
    series = load_sunspots(source="statsmodels")
    assert series.values.shape == (309,) and series.time[0] == 1700 and series.time[-1] == 2008
    assert series.source == "statsmodels"


def test_sunspots_fall_back_to_a_seeded_synthetic_series(monkeypatch):
    hide_statsmodels(monkeypatch)
    series = load_sunspots()
    assert series.source == "synthetic"
    assert series.values.shape == (309,) and series.values.dtype == np.float32
    np.testing.assert_array_equal(series.time, np.arange(1700, 2009))
    assert series.values.min() >= 0.0
    np.testing.assert_array_equal(series.values, load_sunspots(source="synthetic").values)
    assert not np.array_equal(series.values, load_sunspots(source="synthetic", seed=1).values)
    # the ~11-step cycle is the strongest period after the mean
    spectrum = np.abs(np.fft.rfft(series.values - series.values.mean()))
    period = len(series.values) / np.argmax(spectrum)
    assert 10.0 < period < 12.0
    with pytest.raises(ImportError, match=re.escape("load_sunspots(source='statsmodels') needs statsmodels")):
        load_sunspots(source="statsmodels")


def test_sunspots_source_is_checked():
    with pytest.raises(ValueError, match=re.escape(
            "Invalid value for argument `source` of load_sunspots: expected one of 'auto', 'statsmodels', "
            "'synthetic'. Received: source='synthtic'. Did you mean 'synthetic'?")):
        load_sunspots(source="synthtic")
