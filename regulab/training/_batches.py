"""Where a fit's batches come from: in-memory tensors by index (one model, or stacked variants
each with its own shuffle), or a user's iterator.

Data lives on the model's device for the whole fit; each epoch permutes it once and takes batches
as contiguous slices (free views), so drawing a batch costs no copy and no host synchronisation.

Each epoch's permutation is a pure function of (seed, epoch) (``epoch_permutation``): a fit split
into several calls (``initial_epoch``), or resumed from a backup, sees the batches the
uninterrupted fit sees.
"""
from __future__ import annotations

from typing import Iterator, Sequence

import torch

from regulab import _random
from regulab.training import _data

_GATHER_LIMIT = 1 << 30  # bytes above which batches are gathered per step instead of per epoch


def take(tree, index):
    """``tree[index]`` for a tensor or a tuple of tensors (several inputs or outputs)."""
    if tree is None:
        return None
    if isinstance(tree, tuple):
        return tuple(t.index_select(0, index) if isinstance(index, torch.Tensor) else t[index] for t in tree)
    return tree.index_select(0, index) if isinstance(index, torch.Tensor) else tree[index]


def _stack_view(tree, lo, hi, k, bs):
    if tree is None:
        return None
    if isinstance(tree, tuple):
        return tuple(t[lo:hi].view(k, bs, *t.shape[1:]) for t in tree)
    return tree[lo:hi].view(k, bs, *tree.shape[1:])


def _nbytes(tree) -> int:
    if isinstance(tree, tuple):
        return sum(t.element_size() * t.numel() for t in tree)
    return tree.element_size() * tree.numel()


def epoch_permutation(seed: int, epoch: int, n: int) -> torch.Tensor:
    """The order of ``n`` samples in ``epoch`` of a fit seeded with ``seed`` (on the CPU)."""
    generator = torch.Generator().manual_seed(((seed & 0xFFFFFFFF) << 32) | _random.fold_in(seed, epoch))
    return torch.randperm(n, generator=generator)


def num_samples(tree) -> int:
    return (tree[0] if isinstance(tree, tuple) else tree).shape[0]


class ArrayBatches:
    """Batches of in-memory tensors by index, reshuffled every epoch (``epoch_permutation``).
    ``x`` and ``y`` are tensors, or tuples of tensors for several inputs or outputs."""

    def __init__(self, x, y, w, batch_size: int, shuffle: bool, seed: int):
        self.x, self.y, self.w = x, y, w
        self.n = num_samples(x)
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.seed = seed
        self.steps = _data.num_batches(self.n, batch_size)
        self.device = (x[0] if isinstance(x, tuple) else x).device

    def groups(self, k: int, stack: bool = True, epoch: int = 0) -> Iterator[tuple]:
        """Epoch ``epoch`` as ``(xs, ys, ws, stacked)``: runs of ``k`` full batches stacked on a leading
        axis (free views of the epoch's permuted copy), then the leftover batches one at a time;
        ``stack=False`` (an eager engine) gives every batch on its own."""
        x, y, w = self.x, self.y, self.w
        bs = self.batch_size
        if self.shuffle:
            perm = epoch_permutation(self.seed, epoch, self.n).to(self.device)
            if _nbytes(x) > _GATHER_LIMIT:
                for i in range(0, self.n, bs):
                    idx = perm[i:i + bs]
                    yield take(x, idx), take(y, idx), take(w, idx), False
                return
            # one gather per epoch, then every batch is a free contiguous view
            x, y, w = take(x, perm), take(y, perm), take(w, perm)
        if not stack and not isinstance(x, tuple) and not isinstance(y, tuple):  # eager: lean batches
            for i in range(0, self.n, bs):
                yield x[i:i + bs], y[i:i + bs], None if w is None else w[i:i + bs], False
            return
        full = self.n // bs
        start = 0
        for g in range(0, full - k + 1, k):
            lo, hi = g * bs, (g + k) * bs
            yield _stack_view(x, lo, hi, k, bs), _stack_view(y, lo, hi, k, bs), _stack_view(w, lo, hi, k, bs), True
            start = hi
        for i in range(start, self.n, bs):
            sl = slice(i, i + bs)
            yield take(x, sl), take(y, sl), take(w, sl), False


class IteratorBatches:
    """Batches pulled from a generator or iterator such as ``datagen.flow(...)``, or from an
    iterable such as a ``torch.utils.data.DataLoader`` (iterated afresh every epoch)."""

    def __init__(self, source, steps: int, convert):
        self.source = source
        self.steps = steps
        self.convert = convert

    batch_size = None  # batches may differ in size: never compiled

    def groups(self, k: int, stack: bool = True, epoch: int = 0) -> Iterator[tuple]:
        iterator = self.source if hasattr(self.source, "__next__") else iter(self.source)
        for _ in range(self.steps):
            try:
                item = next(iterator)
            except StopIteration:
                return
            yield (*self.convert(item), False)


class StackedBatches:
    """Batches for stacked variants: variant ``v`` takes its epoch's permutation from its own seed
    ``seeds[v]``, exactly as ``ArrayBatches`` does for ``fit(seed=...)``, so each variant sees the
    batches its own fit would. Batches have the variants on a leading axis
    (``(V, B, ...)``; ``(K, V, B, ...)`` when ``k`` are stacked for a compiled call).

    ``rows`` (set by the engine) are the variants still training: a stopped variant draws
    nothing more.
    """

    def __init__(self, x, y, w, batch_size: int, shuffle: bool, seeds: Sequence[int]):
        self.x, self.y, self.w = x, y, w
        self.n = num_samples(x)
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.seeds = [int(s) for s in seeds]
        self.steps = _data.num_batches(self.n, batch_size)
        self.device = (x[0] if isinstance(x, tuple) else x).device
        self.rows: list[int] = list(range(len(seeds)))

    def groups(self, k: int, stack: bool = True, epoch: int = 0) -> Iterator[tuple]:
        rows, n, bs = self.rows, self.n, self.batch_size
        if self.shuffle:
            perm = torch.stack([epoch_permutation(self.seeds[r], epoch, n) for r in rows]).to(self.device)
        else:
            perm = torch.arange(n, device=self.device).expand(len(rows), n)
        full = n // bs
        start = 0
        if not stack or full < k:  # eager steps only: each gathers its own batch (cache-sized copies)
            for i in range(0, n, bs):
                cols = perm[:, i:i + bs]
                yield _gather(self.x, cols), _gather(self.y, cols), _gather(self.w, cols), False
            return
        x, y, w = _gather(self.x, perm), _gather(self.y, perm), _gather(self.w, perm)
        if stack:
            for lo in range(0, (full - k + 1) * bs, k * bs):
                hi = lo + k * bs
                yield _window(x, lo, hi, k, bs), _window(y, lo, hi, k, bs), _window(w, lo, hi, k, bs), True
                start = hi
        for i in range(start, n, bs):
            yield _columns(x, i, bs), _columns(y, i, bs), _columns(w, i, bs), False


def _gather(tree, perm):
    """``tree`` taken along ``perm``'s rows: (V, n) indices -> (V, n, ...) per tensor."""
    if tree is None:
        return None
    if isinstance(tree, tuple):
        return tuple(t[perm] for t in tree)
    return tree[perm]


def _window(tree, lo, hi, k, bs):
    # (V, k * bs, ...) -> (k, V, bs, ...): one slice per step
    if tree is None:
        return None
    if isinstance(tree, tuple):
        return tuple(_window(t, lo, hi, k, bs) for t in tree)
    return tree[:, lo:hi].unflatten(1, (k, bs)).transpose(0, 1)


def _columns(tree, i, bs):
    if tree is None:
        return None
    if isinstance(tree, tuple):
        return tuple(t[:, i:i + bs] for t in tree)
    return tree[:, i:i + bs]
