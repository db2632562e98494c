"""Batch mixing in the training step (``fit(mixup=alpha)``, ``fit(cutmix=alpha)``).

The concentration ``alpha`` is training state (``TrainState.hyper[MIX_ALPHA]``), like a dropout
rate: a compiled step serves every value, and a stacked step gives each variant its own, where 0
leaves that variant's batches unmixed.
"""
from __future__ import annotations

from dataclasses import dataclass

#: where the mixing concentration lives in ``TrainState.hyper``
MIX_ALPHA = "fit/mix_alpha"


@dataclass
class BatchMix:
    """How a fit mixes its training batches: ``kind`` ``"mixup"`` or ``"cutmix"``, with ``alpha``."""

    kind: str
    alpha: float

    def __call__(self, x, y, key, alpha=None):
        """``(x, y)`` mixed with ``key``'s draws; ``alpha`` is the state's (by default ``self.alpha``)."""
        from regulab import augment

        mix = augment.mixup if self.kind == "mixup" else augment.cutmix
        return mix(x, y, source=key, alpha=self.alpha if alpha is None else alpha)
