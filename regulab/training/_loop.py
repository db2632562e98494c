"""The one training loop behind ``fit``, ``evaluate`` and ``predict``.

Data lives on the model's device for the whole fit; each epoch permutes it once and takes batches
as contiguous slices; the step's statistics are summed on the device and read once per epoch (and
when a progress bar redraws), so nothing forces a host synchronisation per step.
"""
from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Iterator

import torch

from regulab import _random
from regulab.callbacks import CallbackList, History, ProgbarLogger
from regulab.training import _data, _inference
from regulab.training._engine import Engine
from regulab.training._step import StepSpec, make_eval_step, penalty_value

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


def num_samples(tree) -> int:
    return (tree[0] if isinstance(tree, tuple) else tree).shape[0]


class ArrayBatches:
    """Batches of in-memory tensors by index, reshuffled every epoch from a seeded generator.
    ``x`` and ``y`` are tensors, or tuples of tensors for several inputs or outputs."""

    def __init__(self, x, y, w, batch_size: int, shuffle: bool, seed: int):
        self.x, self.y, self.w = x, y, w
        self.n = num_samples(x)
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.generator = torch.Generator().manual_seed(seed)
        self.steps = _data.num_batches(self.n, batch_size)
        self.device = (x[0] if isinstance(x, tuple) else x).device

    def groups(self, k: int, stack: bool = True) -> Iterator[tuple]:
        """One epoch as ``(xs, ys, ws, stacked)``: runs of ``k`` full batches stacked on a leading
        axis (free views of the epoch's permuted copy), then the leftover batches one at a time;
        ``stack=False`` (an eager engine) gives every batch on its own."""
        x, y, w = self.x, self.y, self.w
        bs = self.batch_size
        if self.shuffle:
            perm = torch.randperm(self.n, generator=self.generator).to(self.device)
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

    def groups(self, k: int, stack: bool = True) -> Iterator[tuple]:
        iterator = self.source if hasattr(self.source, "__next__") else iter(self.source)
        for _ in range(self.steps):
            try:
                item = next(iterator)
            except StopIteration:
                return
            yield (*self.convert(item), False)


def run_epochs(model, spec: StepSpec, batches, *, epochs: int, initial_epoch: int, verbose: int,
               callbacks, validation, seed: int, extra_params: dict, jit_compile="auto",
               steps_per_execution: int = 1) -> History:
    """Train ``model`` and return its History. ``validation`` is (x, y, w) tensors or None."""
    k = steps_per_execution
    engine = Engine(model, spec, jit_compile=jit_compile, steps_per_execution=k, seed=seed,
                    total_steps=(epochs - initial_epoch) * batches.steps, batch_size=batches.batch_size)
    engine.steps_done = initial_epoch * batches.steps
    engine.total_steps += engine.steps_done
    history = History()
    cbs = CallbackList(list(callbacks or []), model=model)
    if verbose:
        cbs.callbacks.insert(0, ProgbarLogger())
    cbs.append(history)
    names = list(epoch_logs(spec, [0.0] * spec.n_stats, 1.0))
    if validation is not None:
        names += [f"val_{n}" for n in names]
    params = {"epochs": epochs, "steps": batches.steps, "verbose": verbose, "metrics": names,
              "directions": _directions(spec), "steps_per_execution": k, **extra_params}
    cbs.set_model(model)
    cbs.set_params(params)
    model.stop_training = False
    batch_hooks = cbs.wants_train_batch_hooks
    cbs.on_train_begin()
    try:
        logs = _epochs(model, spec, batches, engine, cbs, validation, epochs, initial_epoch, k, batch_hooks)
    finally:  # an interrupted fit leaves the model at its last step
        engine.sync()
    cbs.on_train_end(logs)
    history.params["engine"] = engine.decision
    history.params["compile_seconds"] = engine.compile_seconds
    return history


def _epochs(model, spec, batches, engine, cbs, validation, epochs, initial_epoch, k, batch_hooks) -> dict:
    device = model.device
    logs: dict = {}
    for epoch in range(initial_epoch, epochs):
        cbs.on_epoch_begin(epoch)
        acc = torch.zeros(spec.n_stats, device=device)
        seen, b = 0, -1
        for xs, ys, ws, stacked in batches.groups(k, stack=engine.mode != "eager"):
            if batch_hooks:
                cbs.on_train_batch_begin(b + 1)
            acc += engine.run_group(xs, ys, ws, stacked)
            lead = xs[0] if isinstance(xs, tuple) else xs
            n_batches = lead.shape[0] if stacked else 1
            seen += n_batches * lead.shape[1] if stacked else lead.shape[0]
            b += n_batches
            if batch_hooks:
                engine.sync()
                # once per execution, as Keras does with steps_per_execution
                cbs.on_train_batch_end(b, RunningLogs(spec, acc, seen))
                if model.stop_training:
                    break
        engine.sync()
        logs = epoch_logs(spec, acc.tolist(), seen)
        if validation is not None:
            # compiled with the training step (Keras's jit_compile covers the test step too)
            step = _inference.eval_step(model, spec, compiled=engine.mode == "compiled")
            logs.update(evaluate_tensors(spec, *validation, prefix="val_", step=step))
        cbs.on_epoch_end(epoch, logs)
        if model.stop_training:
            break
    return logs


def evaluate_tensors(spec: StepSpec, x, y, w, prefix: str = "", batch_size: int = _EVAL_BATCH,
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


def predict_tensor(step, values: dict, x, batch_size: int, key: int | None = None):
    """Inference in batches with ``step(values, x, key)`` (``_inference.predict_step``); ``key``
    seeds the noise of a stochastic step (one key per batch, derived on the device). Returns a
    tensor, or a list of tensors for several outputs."""
    outs = []
    n = num_samples(x)
    device = (x[0] if isinstance(x, tuple) else x).device
    key_t = None if key is None else torch.tensor(key, dtype=torch.int64, device=device)
    with torch.no_grad():
        for j, i in enumerate(range(0, n, batch_size)):
            outs.append(step(values, take(x, slice(i, i + batch_size)),
                             0 if key_t is None else _random.fold_in(key_t, j)))
    if not outs:
        return torch.empty(0)
    if isinstance(outs[0], (list, tuple)):
        return [torch.cat([o[i] for o in outs]) for i in range(len(outs[0]))]
    return torch.cat(outs)


def to_numpy(t):
    if isinstance(t, (list, tuple)):
        return [to_numpy(v) for v in t]
    return t.detach().cpu().numpy()
