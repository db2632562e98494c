"""The statistics vector of one batch, ``[Σ w·loss, B·penalty, Σ w, *per-output sums, *metric stats]``,
summed on the device over an epoch and read once (``_epoch_logs``)."""
from __future__ import annotations

import torch

class Constants:
    """Cached 0-d tensors for the statistics vector (no allocation per step)."""

    def __init__(self):
        self._cache: dict = {}

    def __call__(self, value: float, device) -> torch.Tensor:
        key = (value, device)
        t = self._cache.get(key)
        if t is None:
            t = self._cache[key] = torch.tensor(float(value), device=device)
        return t


def _batch_size(out) -> int:
    return (out if isinstance(out, torch.Tensor) else out[0]).shape[0]


def _batch_stats(spec, const, out, y, w, data_sum, head_sums, penalty) -> torch.Tensor:
    """[Σ w·loss, B·penalty, Σ w, *per-output sums, *metric stats] for one batch."""
    b = _batch_size(out)
    device = data_sum.device
    pen = const(0.0, device) if penalty is None else penalty * b
    wsum = const(b, device) if w is None else w.sum()
    parts = [data_sum, pen, wsum]
    if len(spec.heads) > 1:
        parts.extend(head_sums)
    head = torch.stack(parts)
    if not spec.has_metrics:
        return head
    stats = [head]
    if spec.single:
        h = spec.heads[0]
        pred = h.metric_activation(out)
        stats.extend(m.batch_stats(y, pred, w) for m in h.metrics)
    else:
        for h, o, t in _outputs_and_targets(spec, out, y):
            if h.metrics:
                pred = h.metric_activation(o)
                stats.extend(m.batch_stats(t, pred, w) for m in h.metrics)
    return torch.cat(stats)


def _outputs_and_targets(spec, out, y):
    """``[(head, output, target)]``: each trained output with its targets."""
    if spec.single:
        return [(spec.heads[0], out, y)]
    return [(h, out[h.index], y[i]) for i, h in enumerate(spec.heads)]
