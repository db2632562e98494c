"""Keras-style logs from the step's summed statistics: per epoch, per batch (read lazily), and for
a pass over in-memory validation or test tensors."""
from __future__ import annotations

from collections.abc import Mapping

import torch

from regulab.training._batches import num_samples, take
from regulab.training._step import StepSpec, make_eval_step, penalty_value

EVAL_BATCH = 4096  # inference batches: results do not depend on it, speed does


def directions(spec: StepSpec) -> dict[str, str]:
    d = {"loss": "min", "data_loss": "min"}
    for name, m in spec.log_names():
        d[name] = "min" if m is None else m.direction
    d.update({f"val_{k}": v for k, v in list(d.items())})
    return d


def epoch_logs(spec: StepSpec, totals: list[float], seen: float, prefix: str = "",
               penalty: float = 0.0) -> dict[str, float]:
    """Turn summed statistics into Keras-style logs."""
    seen = max(seen, 1.0)
    logs = {f"{prefix}loss": (totals[0] + totals[1]) / seen + penalty}
    if spec.has_penalties:
        logs[f"{prefix}data_loss"] = totals[0] / seen
    i = 3
    for name, m in spec.log_names():
        if m is None:  # one output's loss
            logs[prefix + name] = totals[i] / seen
            i += 1
        else:
            logs[prefix + name] = float(m.result_from(totals[i:i + m.n_stats], totals[2]))
            i += m.n_stats
    return logs


class RunningLogs(Mapping):
    """Batch logs: running means over the epoch so far, read from the device only on access."""

    def __init__(self, spec: StepSpec, acc: torch.Tensor, seen: int):
        self._spec, self._acc, self._seen, self._logs = spec, acc, seen, None

    def _materialize(self) -> dict:
        if self._logs is None:
            self._logs = epoch_logs(self._spec, self._acc.tolist(), self._seen)
        return self._logs

    def __getitem__(self, key):
        return self._materialize()[key]

    def __iter__(self):
        return iter(self._materialize())

    def __len__(self):
        return len(self._materialize())


def evaluate_tensors(spec: StepSpec, x, y, w, prefix: str = "", batch_size: int = EVAL_BATCH,
                     step=None) -> dict:
    """Loss and metrics of the current weights on in-memory tensors, as a logs dict. ``step`` is
    the evaluation step (``_inference.eval_step``; eager by default)."""
    eval_step = step or make_eval_step(spec)
    params = {p: v.value for p, v in spec.structure.trainable}
    buffers = {p: v.value for p, v in spec.structure.buffers}
    acc = torch.zeros(spec.n_stats, device=(x[0] if isinstance(x, tuple) else x).device)
    n = num_samples(x)
    for i in range(0, n, batch_size):
        sl = slice(i, i + batch_size)
        acc += eval_step(params, buffers, take(x, sl), take(y, sl), take(w, sl))
    penalty = float(penalty_value(spec, params, buffers))
    return epoch_logs(spec, acc.tolist(), n, prefix=prefix, penalty=penalty)


