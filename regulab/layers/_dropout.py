"""Dropout (Srivastava et al., 2014) and its spatial variants.

Inverted dropout: in training each unit is zeroed with probability ``rate`` and the survivors are
scaled by 1/(1 - rate), so the expected activation is unchanged; in inference the layer is the
identity. Masks come from the step's random key (see ``regulab._random``), so a seeded fit repeats
bit for bit.
"""
from __future__ import annotations

from regulab._validation import check_float, check_int
from regulab.layers._base import Layer

_SEEDED_STREAM = 1 << 24  # keeps streams picked by `seed` apart from those picked by position


class _RandomLayer(Layer):
    """A layer that draws randomness in training; ``seed`` fixes its stream."""

    def __init__(self, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.seed = None if seed is None else check_int("seed", seed, low=0, where=type(self).__name__)

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
    return check_float("rate", rate, low=0.0, high=1.0, high_open=True, where=where)


class Dropout(_RandomLayer):
    """Randomly sets a fraction ``rate`` of inputs to 0 in training, scaling the rest by 1/(1-rate).

    Args:
        rate: fraction of units to drop, in [0, 1).
        noise_shape: shape of the mask, with the batch axis; ``None`` entries take the input's size
            (e.g. ``(None, 1, 64)`` drops the same features at every time step).
        seed: fixes this layer's random stream (within a seeded fit).

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
        self.rate = check_rate(rate, "Dropout")
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)

    def _mask_shape(self, x):
        if self.noise_shape is None:
            return tuple(x.shape)
        if len(self.noise_shape) != x.dim():
            raise ValueError(f"Layer '{self.name}': noise_shape {self.noise_shape} must have one entry per "
                             f"input axis; received input with shape {tuple(x.shape)}.")
        return tuple(x.shape[i] if d is None else d for i, d in enumerate(self.noise_shape))

    def call(self, x, ctx):
        rate = ctx.hyper(self, "rate")
        if not ctx.stochastic or is_zero(rate):
            return x
        keep = ctx.uniform(self._mask_shape(x), self.stream(ctx), x.device) >= rate
        return x * keep * (1.0 / (1.0 - rate))

    def get_config(self):
        cfg = {**super().get_config(), "rate": self.rate}
        if self.noise_shape is not None:
            cfg["noise_shape"] = list(self.noise_shape)
        return cfg


class SpatialDropout1D(Dropout):
    """Drops whole channels of (batch, steps, channels) inputs (Tompson et al., 2015)."""

    def __init__(self, rate: float, seed: int | None = None, **kwargs):
        super().__init__(rate, seed=seed, **kwargs)

    def _mask_shape(self, x):
        return (x.shape[0], 1, x.shape[-1])

    def get_config(self):
        cfg = super().get_config()
        cfg.pop("noise_shape", None)
        return cfg


class SpatialDropout2D(SpatialDropout1D):
    """Drops whole channels of channels-last (batch, height, width, channels) inputs."""

    def _mask_shape(self, x):
        return (x.shape[0], 1, 1, x.shape[-1])
