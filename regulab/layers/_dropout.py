"""Dropout (Srivastava et al., 2014) and its spatial variants.

Inverted dropout: in training each unit is zeroed with probability ``rate`` and the survivors are
scaled by 1/(1 - rate), so the expected activation is unchanged; in inference the layer is the
identity. Masks come from the step's random key (see ``regulab._random``), so a seeded fit repeats
bit for bit.
"""
from __future__ import annotations

import numpy as np

from regulab import _random
from regulab._validation import check_float, check_int, invalid
from regulab.layers._base import Layer
from regulab.layers._conv import check_data_format

_SEEDED_STREAM = 1 << 24  # keeps streams picked by `seed` apart from those picked by position


class _RandomLayer(Layer):
    """A layer that draws randomness in training; ``seed`` fixes its stream, and makes the layer's
    own eager calls repeat run after run (each call drawing new values), as Keras's
    ``SeedGenerator(seed)`` does."""

    def __init__(self, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.seed = None if seed is None else check_int("seed", seed, low=0, where=type(self).__name__)
        self._seeded_calls = 0

    def live_context(self, training: bool = False, key=None, stochastic=None):
        # inside a model the model's key is used (a seeded fit decides it); called on its own, a
        # seeded layer derives the key from its seed and its count of calls
        if key is None and self.seed is not None and (training or stochastic):
            key = _random.fold_in(self.seed, self._seeded_calls)
            self._seeded_calls += 1
        return super().live_context(training=training, key=key, stochastic=stochastic)

    def stream(self, ctx) -> int:
        """This layer's random stream in ``ctx``: from its path in the model, or from ``seed``."""
        return ctx.stream(self) if self.seed is None else _SEEDED_STREAM + self.seed

    def get_config(self):
        cfg = super().get_config()
        if self.seed is not None:
            cfg["seed"] = self.seed
        return cfg


def is_zero(value) -> bool:
    """A hyper-parameter known to be 0 (a Python number): the layer is then the identity. A
    tensor (compiled or stacked steps) is never taken as zero: some variants may train with it."""
    return isinstance(value, (int, float)) and value == 0


def check_rate(rate, where: str) -> float:
    """A drop rate in [0, 1): Keras also takes 1, which scales the survivors by 1/0."""
    return check_float("rate", rate, low=0.0, high=1.0, high_open=True, where=where)


_NOISE_SHAPE = "None, or a tuple with one positive integer or None per input axis"


def check_noise_shape(noise_shape, where: str) -> tuple | None:
    """``noise_shape`` as a tuple of positive ints and Nones (None: the input's size), or None."""
    if noise_shape is None:
        return None
    if isinstance(noise_shape, (str, bytes)) or not hasattr(noise_shape, "__iter__"):
        raise invalid("noise_shape", _NOISE_SHAPE, noise_shape, where)
    shape = tuple(noise_shape)
    for i, d in enumerate(shape):
        if d is not None and (isinstance(d, (bool, np.bool_)) or not isinstance(d, (int, np.integer)) or d <= 0):
            raise ValueError(f"{invalid('noise_shape', _NOISE_SHAPE, noise_shape, where)} "
                             f"(entry {i} is {d!r})")
    return tuple(None if d is None else int(d) for d in shape)


def mask_shape(layer: Layer, noise_shape: tuple | None, x) -> tuple:
    """The shape of ``layer``'s random mask for the input ``x``: ``noise_shape`` with None
    entries taken from ``x``; each fixed entry must be 1 or the input's size on that axis (a
    larger one would broadcast the output to a new shape)."""
    if noise_shape is None:
        return tuple(x.shape)
    shape = tuple(x.shape)
    if len(noise_shape) != len(shape):
        raise ValueError(f"Layer '{layer.name}': noise_shape {noise_shape} must have one entry per "
                         f"input axis; received input with shape {shape}.")
    for i, (d, n) in enumerate(zip(noise_shape, shape)):
        if d is not None and d not in (1, n):
            hint = " Use None for the batch axis: the last batch may be smaller." if i == 0 else ""
            raise ValueError(f"Layer '{layer.name}': noise_shape {noise_shape} does not fit input "
                             f"with shape {shape}: entry {i} is {d}, expected 1, None or {n}.{hint}")
    return tuple(n if d is None else d for d, n in zip(noise_shape, shape))


class Dropout(_RandomLayer):
    """Randomly sets a fraction ``rate`` of inputs to 0 in training, scaling the rest by 1/(1-rate).

    Inference (``training=False``, ``predict``, ``evaluate``) leaves inputs unchanged.

    Args:
        rate: fraction of units to drop, in [0, 1).
        noise_shape: shape of the mask, with the batch axis; ``None`` entries take the input's size
            and fixed entries must be 1 or the input's size (e.g. ``(None, 1, 64)`` drops the same
            features at every time step). Default None: one draw per unit.
        seed: fixes this layer's random stream (within a seeded fit): two layers with the same
            seed draw the same masks.

    >>> from regulab.layers import Dropout
    >>> x = np.ones((1000, 10), dtype="float32")
    >>> y = Dropout(0.5)(x, training=True)
    >>> sorted(set(np.unique(y.numpy()).tolist()))
    [0.0, 2.0]
    >>> bool((Dropout(0.5)(x) == 1).all())
    True
    """

    supports_masking = True
    hyper_parameters = ("rate",)

    def __init__(self, rate: float, noise_shape=None, seed: int | None = None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        where = type(self).__name__
        self.rate = check_rate(rate, where)
        self.noise_shape = check_noise_shape(noise_shape, where)

    stacks_variants = True

    def stacks(self) -> bool:
        return super().stacks() and self.noise_shape is None

    def _mask_shape(self, x):
        return mask_shape(self, self.noise_shape, x)

    def call(self, x, ctx):
        rate = ctx.hyper(self, "rate", like=x)
        if not ctx.stochastic or is_zero(rate):
            return x
        keep = ctx.uniform(self._mask_shape(x), self.stream(ctx), x.device) >= rate
        return x * keep * (1.0 / (1.0 - rate))

    def get_config(self):
        cfg = {**super().get_config(), "rate": self.rate}
        if self.noise_shape is not None:
            cfg["noise_shape"] = list(self.noise_shape)
        return cfg


class _SpatialDropout(Dropout):
    """Drops whole channels of channels-last inputs of one rank (Tompson et al., 2015)."""

    rank = 3
    layout = "(batch, steps, channels)"

    def __init__(self, rate: float, seed: int | None = None, **kwargs):
        if "noise_shape" in kwargs:
            raise TypeError(f"{type(self).__name__} has no argument `noise_shape`: it drops whole "
                            "channels. Use Dropout(rate, noise_shape=...) for another mask shape.")
        super().__init__(rate, seed=seed, **kwargs)

    def build(self, input_shape):
        if len(input_shape) + 1 != self.rank:
            raise ValueError(f"Layer '{self.name}' ({type(self).__name__}) expects inputs of rank "
                             f"{self.rank}, {self.layout}; received inputs of shape "
                             f"{(None, *input_shape)}.")

    def _mask_shape(self, x):
        return (x.shape[0], *([1] * (x.dim() - 2)), x.shape[-1])

    def get_config(self):
        cfg = super().get_config()
        cfg.pop("noise_shape", None)
        return cfg


class SpatialDropout1D(_SpatialDropout):
    """Drops whole channels of (batch, steps, channels) inputs (Tompson et al., 2015): each
    channel is kept or zeroed for every step at once, which regularizes where neighbouring steps
    are strongly correlated (early convolutions) and plain dropout does little.

    Args:
        rate: fraction of channels to drop, in [0, 1).
        seed: fixes this layer's random stream (within a seeded fit).
    """


class SpatialDropout2D(_SpatialDropout):
    """Drops whole channels (feature maps) of channels-last (batch, height, width, channels)
    inputs (Tompson et al., 2015).

    Args:
        rate: fraction of channels to drop, in [0, 1).
        data_format: ``'channels_last'`` or None; regulab's layers are channels-last.
        seed: fixes this layer's random stream (within a seeded fit).
    """

    rank = 4
    layout = "(batch, height, width, channels)"

    def __init__(self, rate: float, data_format=None, seed: int | None = None, **kwargs):
        super().__init__(rate, seed=seed, **kwargs)
        self.data_format = check_data_format(data_format, "SpatialDropout2D")

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}
