"""Batch mixing in the training step (``fit(mixup=alpha)``, ``fit(cutmix=alpha)``).

The concentration ``alpha`` is training state (``TrainState.hyper[MIX_ALPHA]``), like a dropout
rate: a compiled step serves every value, and a stacked step gives each variant its own, where 0
leaves that variant's batches unmixed.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

#: where the mixing concentration lives in ``TrainState.hyper``
MIX_ALPHA = "fit/mix_alpha"
#: the random stream of batch mixing, apart from every layer's
MIX_STREAM = (1 << 24) - 1


@dataclass
class BatchMix:
    """How a fit mixes its training batches: ``kind`` ``"mixup"`` or ``"cutmix"``, with ``alpha``."""

    kind: str
    alpha: float

    def __call__(self, x, y, key, alpha=None, draws=None):
        """``(x, y)`` mixed with ``key``'s draws; ``alpha`` is the state's (by default ``self.alpha``);
        ``draws``: the batch's draws made already (``draws``), as a tuple of tensors."""
        from regulab import augment
        from regulab.augment._mix import MixDraws

        mix = augment.mixup if self.kind == "mixup" else augment.cutmix
        if draws is not None:
            draws = MixDraws(*draws)
        return mix(x, y, source=key, alpha=self.alpha if alpha is None else alpha, draws=draws)

    def draws(self, keys, x_shape, alpha) -> tuple:
        """The random draws of the steps with keys ``keys`` (any shape) for batches shaped
        ``x_shape`` (one step's), as a tuple of tensors leading with ``keys.shape``; ``alpha``
        broadcasts against ``keys``. What a compiled step takes as an input instead of drawing
        them in its graph."""
        from regulab import _random
        from regulab.augment._mix import draw

        flat = _random.fold_in(keys.reshape(-1), MIX_STREAM)
        alpha = alpha.expand(keys.shape).reshape(-1, 1) if isinstance(alpha, torch.Tensor) else alpha
        n = x_shape[0]
        spatial = tuple(x_shape[1:3]) if len(x_shape) == 4 else tuple(x_shape[1:2])
        made = draw(self.kind, flat, n, alpha, spatial)
        return tuple(t.reshape(*keys.shape, *t.shape[1:]) for t in made if t is not None)
