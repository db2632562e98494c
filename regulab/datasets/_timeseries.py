"""Sliding windows over a time series (Keras's ``timeseries_dataset_from_array``) and a real series.

:func:`timeseries_dataset_from_array` cuts a series into windows with Keras's rules and returns a
:class:`TimeseriesDataset`: batches of NumPy arrays (torch tensors for a tensor series) that
``model.fit`` takes like a ``tf.data.Dataset``. :func:`load_sunspots` gives the yearly sunspot
numbers bundled with statsmodels, or a seeded synthetic stand-in where statsmodels is missing.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from regulab._validation import check_choice, check_int

_WHERE = "timeseries_dataset_from_array"


def _take(array, index: np.ndarray):
    if isinstance(array, torch.Tensor):
        return array[torch.as_tensor(index, device=array.device)]
    return array[index]


class TimeseriesDataset:
    """Windows of a series in batches, as made by :func:`timeseries_dataset_from_array`.

    Iterating gives ``(x_batch, y_batch)`` pairs, or ``x_batch`` alone when there are no targets
    (single windows when ``batch_size`` is None). Every iteration starts again from the first
    batch; with ``shuffle=True`` each one draws a new order, so ``model.fit(dataset, epochs=n)``
    sees every window once per epoch in a fresh order. ``len(dataset)`` is the number of batches
    (the steps of one epoch). :meth:`arrays` gives all windows at once, for ``evaluate``,
    ``predict`` or ``validation_data``.
    """

    def __init__(self, data, targets, starts: np.ndarray, offsets: np.ndarray, batch_size: int | None,
                 shuffle: bool, seed: int | None):
        self._data, self._targets = data, targets
        self._starts, self._offsets = starts, offsets
        self.batch_size = batch_size
        self.shuffle = shuffle
        self._rng = np.random.default_rng(seed)

    @property
    def num_windows(self) -> int:
        """How many windows the series gives."""
        return len(self._starts)

    def __len__(self) -> int:
        if self.batch_size is None:
            return self.num_windows
        return math.ceil(self.num_windows / self.batch_size)

    def _windows(self, starts: np.ndarray):
        x = _take(self._data, starts[:, None] + self._offsets)
        return x if self._targets is None else (x, _take(self._targets, starts))

    def __iter__(self):
        starts = self._rng.permutation(self._starts) if self.shuffle else self._starts
        if self.batch_size is None:
            for start in starts:
                yield self._single(start)
            return
        for i in range(0, len(starts), self.batch_size):
            yield self._windows(starts[i:i + self.batch_size])

    def _single(self, start):
        x = _take(self._data, start + self._offsets)
        return x if self._targets is None else (x, self._targets[start])

    def arrays(self):
        """All windows in chronological order (whatever ``shuffle`` says): ``(x, y)``, or ``x``
        without targets; ``x`` has shape ``(num_windows, sequence_length, *data.shape[1:])``."""
        return self._windows(self._starts)

    def __repr__(self) -> str:
        return (f"TimeseriesDataset(num_windows={self.num_windows}, sequence_length={len(self._offsets)}, "
                f"batch_size={self.batch_size}, shuffle={self.shuffle}, targets={self._targets is not None})")


def _as_series(name: str, values):
    series = values if isinstance(values, torch.Tensor) else np.asarray(values)
    if series.ndim == 0:
        raise ValueError(f"Argument `{name}` of {_WHERE} must be an array with time on axis 0; "
                         f"received a scalar: {name}={values!r}")
    return series


def timeseries_dataset_from_array(data, targets, sequence_length, sequence_stride=1, sampling_rate=1,
                                  batch_size=128, shuffle=False, seed=None, start_index=None,
                                  end_index=None) -> TimeseriesDataset:
    """Windows of ``sequence_length`` steps cut from ``data``, in batches (Keras's function).

    Window ``k`` starts at ``data[s]`` with ``s = start_index + k * sequence_stride`` and holds
    ``data[s], data[s + sampling_rate], ...`` (``sequence_length`` steps); its target is
    ``targets[s]``. Windows run while they fit in ``data[start_index:end_index]`` and, with
    targets, while ``k * sequence_stride < len(targets)`` (Keras's rule). To predict the value
    ``delay`` steps after each window, pass ``data[:-delay]`` and ``targets=data[delay:]``.

    Args:
        data: array or tensor of consecutive steps, time on axis 0, e.g. ``(steps,)`` or
            ``(steps, features)``. Batches are NumPy arrays, or tensors for a tensor ``data``.
        targets: ``targets[i]`` is the target of the window starting at ``data[i]``; None for
            windows alone (then iterating gives input batches only).
        sequence_length: steps in a window.
        sequence_stride: steps between the starts of consecutive windows (default 1).
        sampling_rate: steps between consecutive entries of a window (default 1).
        batch_size: windows per batch (the last batch may be smaller); None gives single windows.
        shuffle: draw the windows in a new random order at every iteration (default False:
            chronological order).
        seed: seeds the shuffling; None draws one from NumPy's global generator, as Keras does.
        start_index: first step of ``data`` that windows may use (default 0).
        end_index: steps from this one on are not used (default ``len(data)``).

    Returns:
        A :class:`TimeseriesDataset`: iterate over it, pass it to ``model.fit``, take
        ``len(dataset)`` batches an epoch, or get every window with ``dataset.arrays()``.

    >>> ds = timeseries_dataset_from_array(np.arange(10), np.arange(10) * 10, sequence_length=3,
    ...                                    batch_size=4)
    >>> len(ds), ds.num_windows
    (2, 8)
    >>> x, y = next(iter(ds))
    >>> x.tolist(), y.tolist()
    ([[0, 1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 5]], [0, 10, 20, 30])
    >>> x_all, y_all = ds.arrays()  # every window, e.g. for model.evaluate(x_all, y_all)
    >>> x_all.shape, int(y_all[-1])
    ((8, 3), 70)
    """
    data = _as_series("data", data)
    n = len(data)
    sequence_length = check_int("sequence_length", sequence_length, low=1, where=_WHERE)
    sequence_stride = check_int("sequence_stride", sequence_stride, low=1, where=_WHERE)
    sampling_rate = check_int("sampling_rate", sampling_rate, low=1, where=_WHERE)
    if batch_size is not None:
        batch_size = check_int("batch_size", batch_size, low=1, where=_WHERE)
    if seed is not None:
        seed = check_int("seed", seed, low=0, where=_WHERE)
    elif shuffle:
        seed = int(np.random.randint(1_000_000))
    start = 0 if start_index is None else check_int("start_index", start_index, low=0, high=max(n - 1, 0),
                                                     where=_WHERE)
    end = n if end_index is None else check_int("end_index", end_index, low=start + 1, high=n, where=_WHERE)
    span = (sequence_length - 1) * sampling_rate + 1
    if span > end - start:
        where = f" between start_index={start} and end_index={end}" if (start, end) != (0, n) else ""
        raise ValueError(
            f"The window of {_WHERE} is longer than the series: sequence_length={sequence_length} at "
            f"sampling_rate={sampling_rate} spans {span} steps, but the series has {end - start} steps{where}. "
            "Pass a shorter sequence_length or sampling_rate, or a longer series.")
    num_starts = end - start - span + 1
    if targets is not None:
        targets = _as_series("targets", targets)
        num_starts = min(num_starts, len(targets))
    starts = np.arange(start, start + num_starts, sequence_stride)
    if targets is not None and (len(starts) == 0 or starts[-1] >= len(targets)):
        missing = starts[starts >= len(targets)]
        problem = f"the window at data[{missing[0]}] has no targets[{missing[0]}]" if len(missing) else "it is empty"
        raise ValueError(
            f"Argument `targets` of {_WHERE} has {len(targets)} entries, and {problem}: targets[i] is the "
            "target of the window that starts at data[i], so pass targets aligned with data.")
    offsets = np.arange(sequence_length) * sampling_rate
    return TimeseriesDataset(data, targets, starts, offsets, batch_size, bool(shuffle), seed)


@dataclass
class TimeSeries:
    """A univariate series with its time axis and where it came from."""

    values: np.ndarray  # float32, shape (steps,)
    time: np.ndarray  # int64, e.g. years
    source: str  # "statsmodels" or "synthetic"


def _synthetic_sunspots(seed: int) -> TimeSeries:
    years = np.arange(1700, 2009)
    t = (years - years[0]).astype(np.float64)
    # a slowly rising level, modulated over ~88 years (the Gleissberg cycle), times an 11-year
    # cycle that falls to zero at every minimum, as sunspot counts do
    level = (40.0 + 0.1 * t) * (1.0 + 0.35 * np.sin(2 * np.pi * t / 88.0))
    cycle = 1.0 - np.cos(2 * np.pi * t / 11.0)
    noise = np.random.default_rng(seed).normal(0.0, 6.0, size=t.shape)
    values = np.clip(level * cycle + noise, 0.0, None)
    return TimeSeries(values.astype(np.float32), years.astype(np.int64), "synthetic")


def load_sunspots(source: str = "auto", seed: int = 0) -> TimeSeries:
    """Yearly sunspot numbers, 1700-2008 (309 values), from the copy bundled with statsmodels.

    Nothing is downloaded. Without statsmodels (``pip install statsmodels``), ``source="auto"``
    falls back to a synthetic stand-in of the same length: a slowly rising level modulated over
    ~88 years, times an 11-year cycle that reaches zero at every minimum, plus Gaussian noise
    (standard deviation 6), clipped at 0. The returned ``source`` attribute says which was used.

    Args:
        source: ``"auto"`` (statsmodels if installed, else synthetic), ``"statsmodels"`` (raise
            ImportError without it) or ``"synthetic"`` (the same series on every machine).
        seed: seeds the synthetic series' noise.

    Returns:
        A :class:`TimeSeries` with ``values`` (float32, shape ``(309,)``), ``time`` (the years) and
        ``source`` (``"statsmodels"`` or ``"synthetic"``).

    >>> series = load_sunspots(source="synthetic")
    >>> series.values.shape, series.values.dtype, int(series.time[0]), series.source
    ((309,), dtype('float32'), 1700, 'synthetic')
    """
    source = check_choice("source", source, ["auto", "statsmodels", "synthetic"], where="load_sunspots")
    seed = check_int("seed", seed, low=0, where="load_sunspots")
    if source == "synthetic":
        return _synthetic_sunspots(seed)
    try:
        from statsmodels.datasets import sunspots
    except ImportError as e:
        if source == "auto":
            return _synthetic_sunspots(seed)
        raise ImportError("load_sunspots(source='statsmodels') needs statsmodels, which bundles the data: "
                          "pip install statsmodels (or pass source='auto' to fall back to a synthetic "
                          "series).") from e
    frame = sunspots.load_pandas().data
    return TimeSeries(frame["SUNACTIVITY"].to_numpy(np.float32), frame["YEAR"].to_numpy().astype(np.int64),
                      "statsmodels")
