"""NaN and infinite values in user data, found before training: the error names the call, the
argument, the first bad index and how many there are (one vectorized pass per float array).

>>> import numpy as np, torch
>>> x = np.zeros((20, 4), dtype="float32"); x[12, 3] = np.nan; x[15:17] = np.inf
>>> with data_source("fit"):
...     check_finite_tensor(torch.from_numpy(x), "x")
Traceback (most recent call last):
...
ValueError: Invalid value in `x` of fit: x contains NaN at index (12, 3) (the first of 9 non-finite values); clean or impute the data before training.
"""
from __future__ import annotations

import contextlib
import math
from contextvars import ContextVar
from typing import Iterator, Sequence

import numpy as np
import torch

# The call whose data is being converted, for error messages: (method, argument), e.g.
# ("fit", None) or ("fit", "validation_data"). Set by ``data_source``.
_SOURCE: ContextVar[tuple[str | None, str | None]] = ContextVar("regulab_data_source", default=(None, None))
# names of the parts of ``validation_data=(x_val, y_val, sample_weight_val)``, as Keras's docs call them
_VALIDATION_NAMES = {"x": "x_val", "y": "y_val", "sample_weight": "sample_weight_val"}


@contextlib.contextmanager
def data_source(method: str, argument: str | None = None) -> Iterator[None]:
    """Within this block, data errors say which call and argument the data came from:
    ``data_source("fit")`` gives "Invalid value in `x` of fit: ...", and
    ``data_source("fit", "validation_data")`` gives "Invalid value in `validation_data` of fit:
    x_val contains ...". Without it the messages name the array alone."""
    token = _SOURCE.set((method, argument))
    try:
        yield
    finally:
        _SOURCE.reset(token)


def _display_name(name: str, argument: str | None) -> str:
    """``name`` as the user wrote it: inside ``validation_data``, ``x`` is ``x_val``."""
    if argument != "validation_data":
        return name
    head, sep, rest = name.partition("[")
    return _VALIDATION_NAMES.get(head, head) + sep + rest


def _first_bad(finite: torch.Tensor) -> tuple[tuple[int, ...], int]:
    """The index of the first False in ``finite`` (row-major order) and how many there are."""
    bad = ~finite.reshape(-1)
    flat = int(torch.argmax(bad.to(torch.int32)))
    return tuple(int(i) for i in np.unravel_index(flat, tuple(finite.shape))), int(bad.sum())


def non_finite_error(name: str, t: torch.Tensor, finite: torch.Tensor, original=None,
                     batch: tuple[int, str] | None = None) -> ValueError:
    """The error for a float tensor ``t`` holding NaN or ±inf (``finite`` is ``isfinite(t)``).
    ``original``: the data before its cast to ``t``'s dtype (a finite value there is one float32
    cannot hold); ``batch``: ``(batch_index, method)`` for a batch drawn from an iterator."""
    method, argument = _SOURCE.get() if batch is None else (batch[1], None)
    shown = _display_name(name, argument)
    if batch is None:
        prefix, at = f"Invalid value in `{argument or shown}`" + (f" of {method}" if method else ""), ""
    else:
        prefix, at = f"Invalid value in batch {batch[0] + 1} of the iterator passed to {method}", " of that batch"
    index, count = _first_bad(finite)
    when = "before training" if method == "fit" else "first"
    source = None if original is None else float(original[index])
    if source is not None and math.isfinite(source):
        many = "the only value" if count == 1 else f"the first of {count} values"
        return ValueError(f"{prefix}: {shown} contains {source!r} at index {index}{at}, beyond float32's "
                          f"range (±3.4e38) ({many} not finite in float32); rescale the data {when}.")
    value = float(t[index])
    kind = "NaN" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    many = "the only non-finite value" if count == 1 else f"the first of {count} non-finite values"
    return ValueError(f"{prefix}: {shown} contains {kind} at index {index}{at} ({many}); clean or "
                      f"impute the data {when}.")


def check_finite_tensor(t: torch.Tensor, name: str, original=None) -> None:
    """Raise :func:`non_finite_error` if the float tensor ``t`` holds NaN or ±inf (one pass)."""
    finite = torch.isfinite(t)
    if not bool(finite.all()):
        raise non_finite_error(name, t, finite, original)


def _named_arrays(value, name: str):
    """``(name, array)`` for every array in ``value``: an array, or a list or dict of them."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _named_arrays(v, f"{name}[{k!r}]")
    elif several(value):
        for i, v in enumerate(value):
            yield from _named_arrays(v, f"{name}[{i}]")
    elif value is not None:
        yield name, value


def check_finite_batch(tensors: Sequence, names: Sequence[str], batch_index: int, where: str) -> None:
    """Raise if a batch drawn from an iterator holds NaN or ±inf in a float array.

    Args:
        tensors: the batch's parts, e.g. ``(x, y, sample_weight)``: NumPy arrays or tensors (a
            list or dict of them for several inputs or outputs), None for a part that is absent.
        names: one name per part, e.g. ``("x", "y", "sample_weight")``.
        batch_index: the batch's position in the iterator, from 0 (shown from 1).
        where: the call, e.g. ``"fit"``.

    One vectorized pass per float array; an array on a GPU costs one wait for the device.
    """
    for part, part_name in zip(tensors, names):
        for name, value in _named_arrays(part, part_name):
            if not isinstance(value, torch.Tensor):
                value = np.asarray(value)
                if value.dtype.kind != "f" or np.isfinite(value).all():
                    continue
                value = torch.from_numpy(value.copy())  # a copy: the array may be read-only
            if value.is_floating_point():
                finite = torch.isfinite(value)
                if not bool(finite.all()):
                    raise non_finite_error(name, value, finite, batch=(batch_index, where))


def several(value) -> bool:
    """A list or tuple of arrays (several inputs or outputs), not a nested list of numbers."""
    return isinstance(value, (list, tuple)) and len(value) > 0 and all(
        isinstance(v, (np.ndarray, torch.Tensor, dict)) or hasattr(v, "to_numpy") for v in value)
