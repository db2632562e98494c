"""The one training loop behind ``fit``, ``evaluate`` and ``predict``.

Data lives on the model's device for the whole fit; each epoch permutes it once and takes batches
as contiguous slices; the step's statistics are summed on the device and read once per epoch (and
when a progress bar redraws), so nothing forces a host synchronisation per step.
"""
from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Iterator

import numpy as np
import torch

from regulab import _random
from regulab.callbacks import CallbackList, History, ProgbarLogger
from regulab.training import _data
from regulab.training._step import StepSpec, make_eval_step, make_train_step, penalty_value

_EVAL_BATCH = 4096  # inference batches: results do not depend on it, speed does
_GATHER_LIMIT = 1 << 30  # bytes above which batches are gathered per step instead of per epoch


def resolve_verbose(verbose) -> int:
    if verbose == "auto":
        return 1 if sys.stdout.isatty() else 2
    if verbose not in (0, 1, 2) or isinstance(verbose, bool):
        raise ValueError(f"Invalid value for argument `verbose`: expected 'auto', 0, 1 or 2. Received: verbose={verbose!r}")
    return int(verbose)


def _directions(spec: StepSpec) -> dict[str, str]:
    d = {"loss": "min", "data_loss": "min"}
    for m in spec.metrics:
        d[m.name] = m.direction
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
    for m in spec.metrics:
        logs[prefix + m.name] = float(m.result_from(totals[i:i + m.n_stats], totals[2]))
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


class ArrayBatches:
    """Batches of in-memory tensors by index, reshuffled every epoch from a seeded generator."""

    def __init__(self, x, y, w, batch_size: int, shuffle: bool, seed: int):
        self.x, self.y, self.w = x, y, w
        self.n = x.shape[0]
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.generator = torch.Generator().manual_seed(seed)
        self.steps = _data.num_batches(self.n, batch_size)

    def epoch(self) -> Iterator[tuple]:
        x, y, w = self.x, self.y, self.w
        bs = self.batch_size
        if self.shuffle:
            perm = torch.randperm(self.n, generator=self.generator).to(x.device)
            if x.element_size() * x.numel() <= _GATHER_LIMIT:
                # one gather per epoch, then every batch is a free contiguous view
                x, y = x.index_select(0, perm), y.index_select(0, perm)
                w = None if w is None else w.index_select(0, perm)
            else:
                for i in range(0, self.n, bs):
                    idx = perm[i:i + bs]
                    yield x[idx], y[idx], None if w is None else w[idx]
                return
        for i in range(0, self.n, bs):
            yield x[i:i + bs], y[i:i + bs], None if w is None else w[i:i + bs]


class IteratorBatches:
    """Batches pulled from a generator or iterator such as ``datagen.flow(...)``."""

    def __init__(self, iterator, steps: int, convert):
        self.iterator = iterator
        self.steps = steps
        self.convert = convert

    def epoch(self) -> Iterator[tuple]:
        for _ in range(self.steps):
            try:
                item = next(self.iterator)
            except StopIteration:
                return
            yield self.convert(item)


def run_epochs(model, spec: StepSpec, batches, *, epochs: int, initial_epoch: int, verbose: int,
               callbacks, validation, seed: int, extra_params: dict) -> History:
    """Train ``model`` and return its History. ``validation`` is (x, y, w) tensors or None."""
    device = model.device
    opt = spec.optimizer
    trainable, buffer_vars = spec.trainable, spec.buffers
    if opt.state is None:
        opt.build([v.value for v in trainable])
    train_step = make_train_step(spec)
    history = History()
    cbs = CallbackList(list(callbacks or []), model=model)
    if verbose:
        cbs.callbacks.insert(0, ProgbarLogger())
    cbs.append(history)
    names = list(epoch_logs(spec, [0.0] * spec.n_stats, 1.0))
    if validation is not None:
        names += [f"val_{n}" for n in names]
    params = {"epochs": epochs, "steps": batches.steps, "verbose": verbose, "metrics": names,
              "directions": _directions(spec), **extra_params}
    cbs.set_model(model)
    cbs.set_params(params)
    model.stop_training = False
    batch_hooks = cbs.wants_train_batch_hooks
    key32 = seed & 0xFFFFFFFF
    step_count = initial_epoch * batches.steps
    cbs.on_train_begin()
    logs: dict = {}
    for epoch in range(initial_epoch, epochs):
        cbs.on_epoch_begin(epoch)
        acc = torch.zeros(spec.n_stats, device=device)
        seen = 0
        for b, (xb, yb, wb) in enumerate(batches.epoch()):
            if batch_hooks:
                cbs.on_train_batch_begin(b)
            key = _random.fold_in(key32, step_count)
            new_p, new_b, opt.state, stats = train_step(
                [v.value for v in trainable], [v.value for v in buffer_vars], opt.state, xb, yb, wb, key)
            for var, value in zip(trainable, new_p):
                var.value = value
            for var, value in zip(buffer_vars, new_b):
                var.value = value
            acc += stats
            seen += xb.shape[0]
            step_count += 1
            if batch_hooks:
                cbs.on_train_batch_end(b, RunningLogs(spec, acc, seen))
                if model.stop_training:
                    break
        logs = epoch_logs(spec, acc.tolist(), seen)
        if validation is not None:
            logs.update(evaluate_tensors(spec, *validation, prefix="val_"))
        cbs.on_epoch_end(epoch, logs)
        if model.stop_training:
            break
    cbs.on_train_end(logs)
    return history


def evaluate_tensors(spec: StepSpec, x, y, w, prefix: str = "", batch_size: int = _EVAL_BATCH) -> dict:
    """Loss and metrics of the current weights on in-memory tensors, as a logs dict."""
    eval_step = make_eval_step(spec)
    params = [v.value for v in spec.trainable]
    buffers = [v.value for v in spec.buffers]
    acc = torch.zeros(spec.n_stats, device=x.device)
    for i in range(0, x.shape[0], batch_size):
        acc += eval_step(params, buffers, x[i:i + batch_size], y[i:i + batch_size],
                         None if w is None else w[i:i + batch_size])
    penalty = float(penalty_value(spec, params, buffers))
    return epoch_logs(spec, acc.tolist(), x.shape[0], prefix=prefix, penalty=penalty)


def predict_tensor(forward, x: torch.Tensor, batch_size: int, *, stochastic: bool = False,
                   key: int = 0) -> torch.Tensor:
    """Inference in batches. ``stochastic`` keeps dropout-like noise on (Monte-Carlo dropout)
    while BatchNorm stays in inference mode."""
    from regulab.layers import CallContext

    outs = []
    with torch.no_grad():
        for j, i in enumerate(range(0, x.shape[0], batch_size)):
            ctx = CallContext(None, training=False, key=_random.fold_in(key, j), stochastic=stochastic)
            outs.append(forward(x[i:i + batch_size], ctx, False))
    return torch.cat(outs) if outs else torch.empty(0)


def to_numpy(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().numpy()
