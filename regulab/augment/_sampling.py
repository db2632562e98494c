"""Random draws for augmentation from either a counter-based key or a ``torch.Generator``.

A key (a 32-bit int, or an int64 tensor inside a compiled step) gives the same numbers on every
device (see ``regulab._random``); a generator gives PyTorch's own stream. Every draw is a pure
tensor computation without host synchronisation, so a batch is transformed where it lives.
"""
from __future__ import annotations

import numpy as np
import torch

from regulab import _random

# Marsaglia & Tsang's gamma sampler accepts more than 95% of candidates for shape >= 1, so a few
# vectorised rounds leave a failure probability far below 1e-9 without a data-dependent loop.
_GAMMA_ROUNDS = 8


def fresh_key() -> int:
    """A new 32-bit key from NumPy's global generator: ``np.random.seed`` repeats it, as in
    Keras."""
    return int(np.random.randint(0, 2**32, dtype=np.uint64))


class Sampler:
    """Draws uniform, normal, integer, gamma and beta variates for one batch.

    Args:
        source: a 32-bit int key, an int64 tensor key, a ``torch.Generator``, or ``None`` (a fresh
            key from NumPy's global generator).
        device: where the draws are returned.
    """

    def __init__(self, source=None, device=None):
        if source is None:
            source = fresh_key()
        if isinstance(source, torch.Generator):
            self.generator, self.key = source, None
        elif isinstance(source, torch.Tensor) or (isinstance(source, (int, np.integer))
                                                   and not isinstance(source, bool)):
            self.generator, self.key = None, source
        else:
            raise TypeError("Expected a random source: an int key, an int64 tensor key or a "
                            f"torch.Generator. Received: {source!r}")
        if isinstance(self.key, (int, np.integer)):
            self.key = int(self.key) & 0xFFFFFFFF
        self.device = torch.device("cpu") if device is None else torch.device(device)
        self._count = 0

    def uniform(self, shape, low=0.0, high=1.0, dtype=torch.float32) -> torch.Tensor:
        """Uniform floats in [low, high)."""
        shape = tuple(shape)
        if self.key is None:
            u = torch.rand(shape, generator=self.generator, device=self.generator.device,
                           dtype=dtype).to(self.device)
        else:
            u = _random.uniform(_random.fold_in(self.key, self._count), shape, self.device, dtype)
            self._count += 1
        if low == 0.0 and high == 1.0:
            return u
        return low + (high - low) * u

    def normal(self, shape, dtype=torch.float32) -> torch.Tensor:
        shape = tuple(shape)
        if self.key is None:
            return torch.randn(shape, generator=self.generator, device=self.generator.device,
                               dtype=dtype).to(self.device)
        out = _random.normal(_random.fold_in(self.key, self._count), shape, self.device, dtype)
        self._count += 1
        return out

    def integers(self, shape, low: int, high: int) -> torch.Tensor:
        """Integers in [low, high), as int64."""
        u = self.uniform(shape, dtype=torch.float64)
        return (low + torch.floor(u * (high - low))).clamp(low, high - 1).to(torch.int64)

    def coin(self, shape, p: float = 0.5) -> torch.Tensor:
        """Booleans that are True with probability ``p``."""
        return self.uniform(shape) < p

    def permutation(self, n: int) -> torch.Tensor:
        return torch.argsort(self.uniform((n,)))

    def gamma(self, shape, alpha) -> torch.Tensor:
        """Gamma(alpha, 1) variates (Marsaglia & Tsang, 2000), boosted for alpha < 1. ``alpha`` is a
        positive number or a tensor (a training step's state: no Python branch on its value)."""
        shape = tuple(shape)
        if not isinstance(alpha, torch.Tensor):
            return self._gamma(shape, alpha + 1.0 if alpha < 1.0 else alpha, 1.0 / alpha if alpha < 1.0 else 0.0)
        small = alpha < 1.0
        # alpha 0 (a state that switches mixing off) gets a finite boost; its draws go unused
        boost = torch.where(small, 1.0 / alpha.clamp_min(1e-12), torch.zeros_like(alpha))
        return self._gamma(shape, torch.where(small, alpha + 1.0, alpha), boost)

    def _gamma(self, shape, a, boost) -> torch.Tensor:
        """Gamma(a, 1) for a >= 1, times U ** boost (1/alpha: a Gamma(alpha) variate from a
        Gamma(alpha + 1) one; 0: none). The boost's uniforms are drawn whatever its value, so every
        alpha takes the same draws from the stream and a number and a tensor give the same variates."""
        d = a - 1.0 / 3.0
        c = 1.0 / (9.0 * d) ** 0.5
        out = torch.full(shape, float("nan"), device=self.device)
        for _ in range(_GAMMA_ROUNDS):
            z = self.normal(shape)
            u = self.uniform(shape)
            v = (1.0 + c * z) ** 3
            ok = (v > 0) & (torch.log(u.clamp_min(1e-30)) < 0.5 * z * z + d - d * v
                            + d * torch.log(v.clamp_min(1e-30)))
            out = torch.where(torch.isnan(out) & ok, d * v, out)
        # unreachable in practice; keeps the draw finite
        out = torch.nan_to_num(out, nan=d) if not isinstance(d, torch.Tensor) else torch.where(torch.isnan(out), d, out)
        u = self.uniform(shape).clamp_min(1e-30)
        if isinstance(boost, torch.Tensor) or boost != 0.0:
            out = out * u ** boost
        return out

    def beta(self, shape, a, b) -> torch.Tensor:
        x = self.gamma(shape, a)
        y = self.gamma(shape, b)
        return x / (x + y).clamp_min(1e-30)
