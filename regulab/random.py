"""Random tensors for your own training code, as ``keras.random`` (a GAN's latent vectors).

``seed`` is an int (the same numbers every call), a :class:`SeedGenerator` (a new draw every call,
repeatable from its seed), or None (torch's global generator, so ``regulab.set_random_seed``
repeats it).

>>> from regulab import random
>>> gen = random.SeedGenerator(1337)
>>> random.normal((2, 3), seed=gen).shape
torch.Size([2, 3])
>>> bool((random.uniform((4,), seed=7) == random.uniform((4,), seed=7)).all())
True
"""
from __future__ import annotations

import torch

from regulab._device import get_device
from regulab._validation import check_int

__all__ = ["SeedGenerator", "normal", "uniform"]


class SeedGenerator:
    """A stream of random draws that repeats from ``seed`` (Keras's ``keras.random.SeedGenerator``)."""

    def __init__(self, seed: int | None = None):
        self.seed = int(torch.randint(0, 2**31 - 1, ())) if seed is None else check_int("seed", seed, low=0,
                                                                                           where="SeedGenerator")
        self.generator = torch.Generator().manual_seed(self.seed)


def _generator(seed, where: str):
    if seed is None:
        return None
    if isinstance(seed, SeedGenerator):
        return seed.generator
    return torch.Generator().manual_seed(check_int("seed", seed, low=0, where=where))


def _draw(shape, dtype, seed, where, fn):
    gen = _generator(seed, where)
    # drawn on the CPU from the generator, then moved: the numbers do not depend on the device
    values = fn(tuple(shape), generator=gen, dtype=dtype or torch.float32)
    return values.to(get_device())


def normal(shape, mean: float = 0.0, stddev: float = 1.0, dtype=None, seed=None) -> torch.Tensor:
    """Samples of a normal distribution N(mean, stddev²) of ``shape``."""
    return _draw(shape, dtype, seed, "normal", torch.randn) * stddev + mean


def uniform(shape, minval: float = 0.0, maxval: float = 1.0, dtype=None, seed=None) -> torch.Tensor:
    """Samples of a uniform distribution on [minval, maxval) of ``shape``."""
    return _draw(shape, dtype, seed, "uniform", torch.rand) * (maxval - minval) + minval
