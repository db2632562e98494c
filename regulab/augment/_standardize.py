"""Normalization of image batches: statistics fitted on training data, and their application.

Formulas are Keras's ImageDataGenerator's: per-channel mean and standard deviation over
(samples, rows, columns); ``x / (std + 1e-6)``; ZCA whitening (Krizhevsky, 2009, appendix A)
from the SVD of the centred data, ``W = U diag(sqrt(n) / (s + zca_epsilon)) U^T``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

_EPS = 1e-6


@dataclass
class Statistics:
    """Fitted featurewise statistics, as NumPy arrays with Keras's shapes.

    Attributes:
        mean: per-channel mean, shaped to broadcast over one image ((1, 1, C) channels-last,
            (C, 1, 1) channels-first), or None.
        std: per-channel standard deviation of the centred data, shaped as ``mean``, or None.
        zca_whitening_matrix: (H*W*C, H*W*C) on images flattened in their own layout, or None.
    """

    mean: np.ndarray | None = None
    std: np.ndarray | None = None
    zca_whitening_matrix: np.ndarray | None = None


def fit_statistics(x: np.ndarray, channel_axis: int, center: bool, std_normalization: bool,
                   zca: bool, zca_epsilon: float) -> Statistics:
    """Fit on a batch of training images ``x`` (rank 4, channels on ``channel_axis``), in
    float64."""
    x = np.array(x, dtype=np.float64)
    stats = Statistics()
    axes = tuple(a for a in range(4) if a != channel_axis)
    shape = [1, 1, 1]
    shape[channel_axis - 1] = x.shape[channel_axis]
    if center:
        stats.mean = x.mean(axis=axes).reshape(shape)
        x -= stats.mean
    if std_normalization:
        stats.std = x.std(axis=axes).reshape(shape)
        x /= stats.std + _EPS
    if zca:
        n = len(x)
        u, s, _ = np.linalg.svd(x.reshape(n, -1).T, full_matrices=False)
        stats.zca_whitening_matrix = (u * (np.sqrt(n) / (s + zca_epsilon))) @ u.T
    return stats


class Normalizer:
    """Applies rescaling, samplewise and featurewise normalization to batches on any device."""

    def __init__(self, rescale=None, samplewise_center=False, samplewise_std_normalization=False,
                 stats: Statistics | None = None):
        self.rescale = rescale
        self.samplewise_center = samplewise_center
        self.samplewise_std_normalization = samplewise_std_normalization
        self.stats = stats or Statistics()
        self._cache: dict = {}

    def _tensor(self, name: str, like: torch.Tensor) -> torch.Tensor | None:
        """The statistic as a tensor on ``like``'s device, converted once per fit and device."""
        value = getattr(self.stats, name)
        if value is None:
            return None
        cached = self._cache.get(name)
        if cached is None or cached[0] is not value or cached[1].device != like.device \
                or cached[1].dtype != like.dtype:
            cached = (value, torch.as_tensor(value, dtype=like.dtype, device=like.device))
            self._cache[name] = cached
        return cached[1]

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """Normalize a batch (N, ...) laid out as the fitted statistics, in Keras's order."""
        if self.rescale is not None:
            x = x * self.rescale
        dims = tuple(range(1, x.dim()))
        if self.samplewise_center:
            x = x - x.mean(dim=dims, keepdim=True)
        if self.samplewise_std_normalization:
            x = x / (x.std(dim=dims, keepdim=True, unbiased=False) + _EPS)
        mean, std = self._tensor("mean", x), self._tensor("std", x)
        if mean is not None:
            x = x - mean
        if std is not None:
            x = x / (std + _EPS)
        zca = self._tensor("zca_whitening_matrix", x)
        if zca is not None:
            x = (x.reshape(x.shape[0], -1) @ zca).reshape(x.shape)
        return x
