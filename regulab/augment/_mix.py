"""Mixup (Zhang et al., 2018) and CutMix (Yun et al., 2019) on one batch.

Each sample is paired with a random partner from the same batch (a permutation) and gets its own
mixing weight ``lam ~ Beta(alpha, alpha)``; the papers draw one weight per batch, one per sample
gives the same expected loss with less variance. Labels are mixed with the same weight, so any
cross-entropy sees the right target:

- float labels (one-hot, soft, or binary 0/1 in shape (N,) or (N, 1)) come back mixed:
  ``lam * y + (1 - lam) * y[partner]``, which categorical and binary cross-entropy accept as
  soft targets;
- integer (sparse) labels come back as ``SparseMix(y_a, y_b, lam)``, because a sparse
  cross-entropy cannot take a soft target; ``SparseMix.loss(fn, y_pred)`` computes
  ``lam * fn(y_a, y_pred) + (1 - lam) * fn(y_b, y_pred)`` per sample, which equals the
  cross-entropy against the mixed one-hot target. Pass ``num_classes`` to get that mixed one-hot
  target instead.
"""
from __future__ import annotations

from typing import Callable, NamedTuple

import torch

from regulab._validation import check_float, check_int
from regulab.augment._sampling import Sampler


class SparseMix(NamedTuple):
    """Mixed sparse labels: the first label ``y_a`` with weight ``lam``, ``y_b`` with 1 - lam."""

    y_a: torch.Tensor
    y_b: torch.Tensor
    lam: torch.Tensor

    def loss(self, per_sample_loss: Callable, y_pred: torch.Tensor) -> torch.Tensor:
        """``lam * loss(y_a, y_pred) + (1 - lam) * loss(y_b, y_pred)``, one value per sample."""
        return (self.lam * per_sample_loss(self.y_a, y_pred)
                + (1 - self.lam) * per_sample_loss(self.y_b, y_pred))

    def one_hot(self, num_classes: int) -> torch.Tensor:
        """The mixed one-hot target, shape (N, num_classes)."""
        lam = self.lam.unsqueeze(-1)
        return (lam * _one_hot(self.y_a, num_classes)
                + (1 - lam) * _one_hot(self.y_b, num_classes))


def _one_hot(y: torch.Tensor, num_classes: int) -> torch.Tensor:
    return torch.nn.functional.one_hot(y.reshape(-1).long(), num_classes).to(torch.float32)


def _mixing_weights(sampler: Sampler, n: int, alpha) -> torch.Tensor:
    """One ``lam ~ Beta(alpha, alpha)`` per sample. A tensor ``alpha`` of 0 gives 1 (the batch as it
    is): a stacked step trains variants without mixing beside variants with it."""
    lam = sampler.beta((n,), alpha, alpha)
    if isinstance(alpha, torch.Tensor):
        lam = torch.where(alpha > 0, lam, torch.ones_like(lam))
    return lam


def _mix_labels(y: torch.Tensor, partner: torch.Tensor, lam: torch.Tensor, num_classes):
    if y.dtype.is_floating_point:
        w = lam.to(y.dtype).reshape(-1, *([1] * (y.dim() - 1)))
        return w * y + (1 - w) * y[partner]
    y_a = y.reshape(len(y), -1)[:, 0] if y.dim() > 1 else y
    mixed = SparseMix(y_a, y_a[partner], lam)
    return mixed if num_classes is None else mixed.one_hot(num_classes)


def _check(x, y, alpha, num_classes, where):
    if not isinstance(alpha, torch.Tensor):  # a tensor is a training step's state, checked where it was set
        alpha = check_float("alpha", alpha, low=0.0, low_open=True, where=where)
    if num_classes is not None:
        check_int("num_classes", num_classes, low=2, where=where)
    x = torch.as_tensor(x)
    y = torch.as_tensor(y, device=x.device)
    if len(x) != len(y):
        raise ValueError(f"Invalid value for argument `y` of {where}: expected {len(x)} labels, "
                         f"one per sample of `x`. Received: y with shape {tuple(y.shape)}")
    return x, y, alpha


class MixDraws(NamedTuple):
    """Everything random in mixing one batch: each sample's partner and mixing weight, and under
    CutMix the box centre on each spatial axis (``(axes, n)``; None for mixup). Drawn for many
    keys at once (``draw``), they lead with the keys' axes."""

    partner: torch.Tensor
    lam: torch.Tensor
    centres: torch.Tensor | None = None


def draw(kind: str, key, n: int, alpha, spatial=(), device=None) -> MixDraws:
    """The draws ``mixup(x, y, source=key, alpha=alpha)`` (``kind="mixup"``) or ``cutmix`` (with
    the sizes ``spatial`` of x's spatial axes) makes for a batch of ``n``, from the same stream.
    ``key``: an int, a 0-d key, a ``torch.Generator`` or None (as ``source``), or a 1-D tensor
    of keys, each row then what its key alone draws (``alpha`` broadcasts against
    ``(len(key), n)``). A compiled training step takes these as an input: drawn in its graph, the
    hashing behind the partner permutation and the Beta sampler's rounds kept Inductor compiling
    for minutes."""
    if device is None:
        device = key.device if isinstance(key, torch.Tensor) else None
    sampler = Sampler(key, device)
    partner = sampler.permutation(n)
    lam = _mixing_weights(sampler, n, alpha)
    if kind != "cutmix":
        return MixDraws(partner, lam)
    centres = [sampler.integers((n,), 0, size) for size in spatial]
    return MixDraws(partner, lam, torch.stack(centres, -2))


def mixup(x, y, source=None, alpha: float = 0.2, num_classes: int | None = None, draws: MixDraws | None = None):
    """Mixup: convex combinations of random pairs of samples and of their labels.

    Args:
        x: a batch of any shape (N, ...).
        y: its labels (see the module docstring for the kinds and what comes back).
        source: randomness: an int or int64-tensor key, a ``torch.Generator``, or None.
        alpha: Beta(alpha, alpha) concentration; 0.2 is the paper's ImageNet setting. A 0-d
            tensor (a training step's state) may be 0, which leaves the batch as it is.
        num_classes: return mixed one-hot targets for integer labels.
        draws: what ``draw("mixup", ...)`` drew already for this batch (then ``source`` is unused).

    Returns:
        ``(x_mixed, y_mixed)``.

    >>> import torch
    >>> x = torch.stack([torch.zeros(3), torch.ones(3)])
    >>> y = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    >>> xm, ym = mixup(x, y, source=0, alpha=1.0)
    >>> bool(torch.allclose(xm[:, 0], ym[:, 1]))  # pixels and labels mixed by the same weight
    True
    """
    x, y, alpha = _check(x, y, alpha, num_classes, "mixup")
    if draws is None:
        sampler = Sampler(source, x.device)
        partner = sampler.permutation(len(x))
        lam = _mixing_weights(sampler, len(x), alpha)
    else:
        partner, lam = draws.partner, draws.lam
    w = lam.to(x.dtype).reshape(-1, *([1] * (x.dim() - 1)))
    return w * x + (1 - w) * x[partner], _mix_labels(y, partner, lam, num_classes)


def cutmix(x, y, source=None, alpha: float = 1.0, num_classes: int | None = None, draws: MixDraws | None = None):
    """CutMix: paste a random box of a partner image; labels mixed by the area kept.

    Images are channels-last (N, H, W, C); signals (N, L) or (N, L, C) get a random segment.
    The box has area fraction about 1 - lam with lam ~ Beta(alpha, alpha), a uniform centre, and
    is clipped at the border, after which lam is recomputed from the pasted area (Yun et al.).

    Args:
        x: the batch; y: its labels; source: randomness (see ``mixup``).
        alpha: Beta(alpha, alpha) concentration; 1.0 (uniform) is the paper's setting (a tensor
            may be 0, as for ``mixup``).
        num_classes: return mixed one-hot targets for integer labels.
        draws: what ``draw("cutmix", ...)`` drew already for this batch (see ``mixup``).

    Returns:
        ``(x_mixed, y_mixed)``.
    """
    x, y, alpha = _check(x, y, alpha, num_classes, "cutmix")
    if x.dim() not in (2, 3, 4):
        raise ValueError("Invalid value for argument `x` of cutmix: expected images (N, H, W, C) "
                         f"or signals (N, L) / (N, L, C). Received: x with shape {tuple(x.shape)}")
    n = len(x)
    spatial = (x.shape[1], x.shape[2]) if x.dim() == 4 else (x.shape[1],)
    if draws is None:
        draws = draw("cutmix", source, n, alpha, spatial, device=x.device)
    partner, lam = draws.partner, draws.lam
    # a box's side is sqrt(1 - lam) of the image's side; a segment's length is 1 - lam
    cut = (1 - lam) ** (1.0 / len(spatial))
    inside = torch.ones((n,) + spatial, dtype=torch.bool, device=x.device)
    kept = torch.ones(n, device=x.device)
    for axis, size in enumerate(spatial):
        half = torch.floor(size * cut) // 2
        center = draws.centres[axis].to(half.dtype)
        lo, hi = (center - half).clamp(0, size), (center + half).clamp(0, size)
        pos = torch.arange(size, device=x.device, dtype=half.dtype)
        view = [1] * len(spatial)
        view[axis] = size
        pos = pos.view(1, *view)
        shape = (n,) + (1,) * len(spatial)
        inside = inside & (pos >= lo.view(shape)) & (pos < hi.view(shape))
        kept = kept * (hi - lo) / size
    mask = inside.unsqueeze(-1) if x.dim() != 2 else inside
    x_mixed = torch.where(mask, x[partner], x)
    return x_mixed, _mix_labels(y, partner, 1 - kept, num_classes)
