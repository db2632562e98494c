"""Rescaling and Normalization: fixed affine maps of the inputs, the second one fitted to data.

Their constants (a per-channel scale, a given mean) are not weights, as in Keras, so they do not
count as parameters; each is kept once per device it is used on.
"""
from __future__ import annotations

import itertools
import math

import numpy as np
import torch

from regulab._validation import check_int, invalid
from regulab.layers._base import Layer

#: Keras's ``backend.epsilon()``: the smallest standard deviation Normalization divides by
EPSILON = 1e-7


class _Constants:
    """Float32 tensors by name, copied to each device once."""

    def __init__(self):
        self._cpu: dict[str, torch.Tensor] = {}
        self._on: dict[tuple, torch.Tensor] = {}

    def set(self, name: str, value) -> None:
        self._cpu[name] = torch.as_tensor(np.asarray(value, dtype=np.float32))
        self._on = {k: v for k, v in self._on.items() if k[0] != name}
        self._on[(name, self._cpu[name].device)] = self._cpu[name]

    def get(self, name: str, device) -> torch.Tensor:
        t = self._on.get((name, device))
        if t is None:
            t = self._on[(name, device)] = self._cpu[name].to(device)
        return t


def _numbers(value, name: str, where: str):
    """A float, or a tuple of floats for per-channel values (lists and arrays as Keras takes)."""
    if isinstance(value, (bool, np.bool_)):
        raise invalid(name, "a number or a list of numbers", value, where)
    arr = np.asarray(value.detach().cpu() if isinstance(value, torch.Tensor) else value)
    if arr.dtype == object or not np.issubdtype(arr.dtype, np.number) or not np.isfinite(arr).all():
        raise invalid(name, "a finite number or a list of finite numbers", value, where)
    if arr.ndim == 0:
        return float(arr)
    if arr.ndim != 1 or arr.size == 0:
        raise invalid(name, "a number or a 1-D list of per-channel numbers", value, where)
    return tuple(float(v) for v in arr)


class Rescaling(Layer):
    """Computes ``x * scale + offset`` (e.g. ``scale=1/255`` maps pixels to [0, 1];
    ``scale=1/127.5, offset=-1`` to [-1, 1]).

    Training and inference compute the same thing. Integer inputs give float32 outputs. ``scale``
    and ``offset`` may be numbers or per-channel lists (one value per entry of the last axis,
    channels last).

    Args:
        scale: the factor (a number or a list).
        offset: added after scaling (default 0.0).

    >>> from regulab.layers import Rescaling
    >>> [round(v, 3) for v in Rescaling(1 / 127.5, offset=-1)(np.array([[0, 51, 255]]))[0].tolist()]
    [-1.0, -0.6, 1.0]
    """

    supports_masking = True

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = _numbers(scale, "scale", "Rescaling")
        self.offset = _numbers(offset, "offset", "Rescaling")
        self._constants = _Constants()
        # read by call as plain flags: torch.compile would guard on array attributes as tensors
        self._per_channel = tuple(isinstance(getattr(self, n), tuple) for n in ("scale", "offset"))
        for name, per_channel in zip(("scale", "offset"), self._per_channel):
            if per_channel:
                self._constants.set(name, getattr(self, name))

    def build(self, input_shape):
        for name in ("scale", "offset"):
            value = getattr(self, name)
            if isinstance(value, tuple) and len(value) not in (1, input_shape[-1]):
                raise ValueError(f"Layer '{self.name}' has {len(value)} per-channel values of `{name}`, but its "
                                 f"input has {input_shape[-1]} channels (shape {(None, *input_shape)}).")

    def call(self, x, ctx):
        if not x.is_floating_point():
            x = x.float()
        scale = self._constants.get("scale", x.device) if self._per_channel[0] else self.scale
        offset = self._constants.get("offset", x.device) if self._per_channel[1] else self.offset
        return x * scale + offset

    def get_config(self):
        def plain(v):
            return list(v) if isinstance(v, tuple) else v

        return {**super().get_config(), "scale": plain(self.scale), "offset": plain(self.offset)}


def _first_of(batch):
    """The inputs of a batch that may be ``(x, y)`` or ``(x, y, sample_weight)``."""
    return batch[0] if isinstance(batch, tuple) else batch


def _as_float64(data, where: str) -> torch.Tensor:
    if hasattr(data, "to_numpy"):  # pandas
        data = data.to_numpy()
    if isinstance(data, torch.Tensor):
        return data.detach().to("cpu", torch.float64)
    arr = np.asarray(data)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise TypeError(f"{where} expects numbers; received an array of dtype {arr.dtype}.")
    return torch.as_tensor(arr.astype(np.float64, copy=False))


def _statistic(value, name: str) -> np.ndarray:
    try:
        arr = np.asarray(value.detach().cpu() if isinstance(value, torch.Tensor) else value, dtype=np.float64)
    except (TypeError, ValueError):
        arr = None
    if arr is None or not np.isfinite(arr).all():
        raise invalid(name, "finite numbers", value, "Normalization")
    return arr


class Normalization(Layer):
    """Shifts and scales each feature to mean 0 and variance 1 with statistics computed once from
    data: ``(x - mean) / max(sqrt(variance), 1e-7)``, or the inverse with ``invert=True``.

    Training and inference compute the same thing; the statistics never change during ``fit``.
    Get them from the training data with ``adapt(x_train)`` before training, or pass ``mean`` and
    ``variance``. Calling the layer without either is an error (Keras would silently use mean 0 and
    variance 1).

    Weights, as Keras 3 stores them: after ``adapt`` (no ``mean``/``variance`` given) three
    non-trainable weights, ``mean`` and ``variance`` (one value per kept index) and ``count``,
    which here holds how many values each statistic was computed from (Keras 3 keeps it at 0); so
    ``count_params`` is ``2 * features + 1`` as in Keras. With ``mean`` and ``variance`` given the
    layer holds no weights. The small constant guards only against zero variance (Keras's
    ``epsilon()``, 1e-7, on the standard deviation).

    Args:
        axis: the axis (or tuple of axes) that keeps one mean and variance per index; the rest,
            the batch axis included, are averaged over. Default -1 (per feature). ``None``: one
            mean and variance for all values. Axes count the batch axis, as in Keras.
        mean, variance: the statistics, broadcast to the kept axes; give both or neither.
        invert: compute ``mean + x * sqrt(variance)``, turning normalized values back.

    >>> from regulab.layers import Normalization
    >>> norm = Normalization()
    >>> norm.adapt(np.array([[0.0, 7.0], [2.0, 9.0]]))
    >>> norm(np.array([[0.0, 7.0]])).tolist()
    [[-1.0, -1.0]]
    >>> norm.count_params()
    5
    """

    supports_masking = True

    def __init__(self, axis=-1, mean=None, variance=None, invert: bool = False, **kwargs):
        super().__init__(**kwargs)
        if axis is None:
            axes = ()
        elif isinstance(axis, (list, tuple)):
            axes = tuple(check_int("axis", a, where="Normalization") for a in axis)
        else:
            axes = (check_int("axis", axis, where="Normalization"),)
        self.axis = axes
        self.invert = bool(invert)
        if (mean is None) != (variance is None):
            raise ValueError("When setting values directly, both `mean` and `variance` must be set. "
                             f"Received: mean={mean} and variance={variance}")
        self.input_mean = self.input_variance = None
        if mean is not None:
            self.input_mean = _statistic(mean, "mean")
            self.input_variance = _statistic(variance, "variance")
            if self.input_mean.shape != self.input_variance.shape:
                raise ValueError("When setting values directly, `mean` and `variance` must have the same shape. "
                                 f"Received: mean shape {self.input_mean.shape} and variance shape "
                                 f"{self.input_variance.shape}")
            if self.input_mean.ndim > len(self.axis):
                raise ValueError(f"The rank of `mean` must be less than or equal to the number of axes "
                                 f"({len(self.axis)}). Received: mean shape {self.input_mean.shape} for axis "
                                 f"{self.axis}")
            if (self.input_variance < 0).any():
                raise invalid("variance", "finite values >= 0", variance, "Normalization")
        self.adapt_mean = self.adapt_variance = self.count = None
        self._adapted = self.input_mean is not None
        self._constants = _Constants()

    # -- shapes
    def build(self, input_shape):
        ndim = len(input_shape) + 1
        if any(a < -ndim or a >= ndim for a in self.axis):
            raise ValueError(f"All `axis` values must be in the range [-ndim, ndim). Received inputs with "
                             f"ndim={ndim}, while axis={self.axis}")
        keep = tuple(sorted(a % ndim for a in self.axis))
        if 0 in keep:
            raise ValueError(f"Layer '{self.name}' cannot keep statistics along the batch axis (axis={self.axis} "
                             f"on inputs of shape {(None, *input_shape)}). Use axis=None for one mean and "
                             f"variance over all values.")
        shape = (None, *input_shape)
        for d in keep:
            if shape[d] is None:
                raise ValueError(f"All `axis` values to be kept must have a known shape. Received axis={self.axis}, "
                                 f"inputs.shape={shape}, with unknown axis at index {d}")
        self._keep_axis = keep
        self._reduce_axis = tuple(d for d in range(ndim) if d not in keep)
        self._broadcast_shape = tuple(shape[d] if d in keep else 1 for d in range(ndim))
        self._stats_shape = tuple(shape[d] for d in keep)
        if self.input_mean is None:
            self.adapt_mean = self.add_weight("mean", self._stats_shape, "zeros", trainable=False)
            self.adapt_variance = self.add_weight("variance", self._stats_shape, "ones", trainable=False)
            self.count = self.add_weight("count", (), "zeros", trainable=False)
        else:
            self._constants.set("mean", self._broadcast_given(self.input_mean))
            self._constants.set("std", np.maximum(np.sqrt(self._broadcast_given(self.input_variance)), EPSILON))

    def _broadcast_given(self, value: np.ndarray) -> np.ndarray:
        """A given mean or variance laid along the kept axes, right-aligned, as Keras does."""
        expanded = [1] * len(self._broadcast_shape)
        for i in range(1, value.ndim + 1):
            expanded[self._keep_axis[-i]] = value.shape[-i]
        try:
            return np.broadcast_to(value.reshape(expanded), self._broadcast_shape)
        except ValueError:
            raise ValueError(f"Layer '{self.name}': `mean` and `variance` of shape {value.shape} do not broadcast "
                             f"to the kept axes {self._keep_axis} of inputs of shape "
                             f"{(None, *self._broadcast_shape[1:])}.") from None

    @property
    def mean(self) -> torch.Tensor | None:
        """The mean in the shape it broadcasts with (batch axis first), or None before build."""
        if not self.built:
            return None
        if self.adapt_mean is not None:
            return self.adapt_mean.value.reshape(self._broadcast_shape)
        return self._constants.get("mean", torch.device("cpu"))

    @property
    def variance(self) -> torch.Tensor | None:
        if not self.built:
            return None
        if self.adapt_variance is not None:
            return self.adapt_variance.value.reshape(self._broadcast_shape)
        return torch.as_tensor(self._broadcast_given(self.input_variance), dtype=torch.float32)

    # -- adapting
    def adapt(self, data, batch_size: int | None = None, steps: int | None = None) -> None:
        """Compute the mean and variance of ``data`` over every axis but ``axis``, and store them.

        Args:
            data: a NumPy array, tensor or DataFrame; or an iterable of batches (a list of arrays,
                a generator, ``datagen.flow(x)``), batches of ``(x, y)`` counting only ``x``.
            batch_size: reduce an array in chunks of this many samples (saves memory; the result
                is the same).
            steps: use only the first ``steps`` batches (needed for an endless iterator).
        """
        if self.input_mean is not None:
            raise ValueError(f"Layer '{self.name}' was given `mean` and `variance`; it cannot be adapted.")
        if batch_size is not None:
            batch_size = check_int("batch_size", batch_size, low=1, where="Normalization.adapt")
        if steps is not None:
            steps = check_int("steps", steps, low=1, where="Normalization.adapt")
        batches = self._batches(data, batch_size, steps)
        first = next(batches, None)
        if first is None:
            raise ValueError("adapt() received an empty iterable (no batches). Expected at least one batch.")
        if first.dim() < 1:
            raise ValueError(f"Layer '{self.name}': adapt() needs data with a batch axis; received a scalar.")
        sample = tuple(first.shape[1:])
        if not self.built:
            self.build_for(sample)
        else:
            self._check_kept(sample, "adapt() is being called with data with an incompatible shape")
        n, mean, m2 = 0, None, None
        for batch in itertools.chain([first], batches):
            self._check_kept(tuple(batch.shape[1:]), "adapt() yielded a batch with incompatible shape")
            count = math.prod(batch.shape[d] for d in self._reduce_axis)
            if count == 0:
                continue
            if not bool(torch.isfinite(batch).all()):
                raise ValueError(f"Layer '{self.name}': adapt() received NaN or inf; remove or impute "
                                 f"non-finite values first.")
            var, mu = torch.var_mean(batch, dim=self._reduce_axis, correction=0)
            if n == 0:
                n, mean, m2 = count, mu, var * count
                continue
            total = n + count
            delta = mu - mean  # Chan et al.'s pairwise update: stable over many batches
            mean = mean + delta * (count / total)
            m2 = m2 + var * count + delta.square() * (n * count / total)
            n = total
        if n == 0:
            raise ValueError(f"Layer '{self.name}': adapt() received no samples.")
        self.adapt_mean.assign(mean.to(torch.float32))
        self.adapt_variance.assign((m2 / n).to(torch.float32))
        self.count.assign(torch.tensor(float(n)))
        self._adapted = True

    def _batches(self, data, batch_size, steps):
        where = f"Layer '{self.name}'.adapt()"
        single = (isinstance(data, (np.ndarray, torch.Tensor)) or hasattr(data, "to_numpy")
                  or (isinstance(data, (list, tuple)) and not any(
                      isinstance(b, (np.ndarray, torch.Tensor, tuple)) or hasattr(b, "to_numpy") for b in data)))
        if single:
            arr = _as_float64(data, where)
            if batch_size is None and steps is not None:
                batch_size = 32  # Keras 2's default when steps split an array
            if batch_size is None:
                yield arr
                return
            chunks = range(0, max(len(arr), 1), batch_size)
            for i in itertools.islice(chunks, steps):
                yield arr[i:i + batch_size]
            return
        if not hasattr(data, "__iter__"):
            raise TypeError(f"{where} expects an array, a tensor or an iterable of batches; received "
                            f"{type(data).__name__}.")
        if steps is None and hasattr(data, "__len__") and not isinstance(data, (list, tuple)):
            steps = len(data)  # a Keras-style Sequence (datagen.flow) repeats forever
        for batch in itertools.islice(iter(data), steps):
            yield _as_float64(_first_of(batch), where)

    def _check_kept(self, sample: tuple, what: str) -> None:
        built = (None, *self.input_shape)
        shape = (None, *sample)
        if len(shape) != len(built) or any(shape[d] != built[d] for d in self._keep_axis):
            raise ValueError(f"The layer was built with input_shape={built}, but {what}, data.shape={shape}")

    def _require_adapted(self) -> None:
        if self._adapted or torch.compiler.is_compiling():
            return
        if float(self.count.value) > 0:  # restored by load_model or set_weights
            self._adapted = True
            return
        raise ValueError(f"Layer '{self.name}' (Normalization) has no statistics: call "
                         f"`{self.name}.adapt(x_train)` on the training data before using it, or pass "
                         f"`mean=` and `variance=`.")

    # -- computing
    def call(self, x, ctx):
        self._require_adapted()
        if not x.is_floating_point():
            x = x.float()
        if self.adapt_mean is not None:
            mean = ctx[self.adapt_mean].reshape(self._broadcast_shape)
            std = torch.sqrt(ctx[self.adapt_variance]).clamp_min(EPSILON).reshape(self._broadcast_shape)
        else:
            mean, std = self._constants.get("mean", x.device), self._constants.get("std", x.device)
        if self.invert:
            return mean + x * std
        return (x - mean) / std

    def get_config(self):
        def plain(v):
            return None if v is None else v.tolist()

        axis = None if not self.axis else (self.axis[0] if len(self.axis) == 1 else list(self.axis))
        return {**super().get_config(), "axis": axis, "mean": plain(self.input_mean),
                "variance": plain(self.input_variance), "invert": self.invert}
