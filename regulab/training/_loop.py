"""The one training loop behind ``fit`` and stacked variants, and the inference passes of
``evaluate`` and ``predict``.

One loop trains one model (``fit``) or several variants stacked in one step (``fit_variants``,
studies): each trained model is a :class:`Member` with its own callbacks, History, stopping and
epochs; the engine (``_engine.Engine`` for one, ``_stacked.StackedEngine`` for several) runs the
steps. The step's statistics are summed on the device and read once per epoch (and when a
progress bar redraws), so nothing forces a host synchronisation per step.
"""
from __future__ import annotations

import math
import sys
import warnings
from dataclasses import dataclass, field

import torch

from regulab import _random
from regulab.callbacks import CallbackList, History, ProgbarLogger
from regulab.training._batches import ArrayBatches, IteratorBatches, StackedBatches, num_samples, take  # noqa: F401
from regulab.training._engine import Engine
from regulab.training._epoch_logs import (EVAL_BATCH as _EVAL_BATCH, RunningLogs, directions, epoch_logs,  # noqa: F401
                                          evaluate_tensors)
from regulab.training._checkpoint import Position
from regulab.training._step import StepSpec


def resolve_verbose(verbose) -> int:
    if verbose == "auto":
        return 1 if sys.stdout.isatty() else 2
    if verbose not in (0, 1, 2) or isinstance(verbose, bool):
        raise ValueError(f"Invalid value for argument `verbose`: expected 'auto', 0, 1 or 2. Received: verbose={verbose!r}")
    return int(verbose)


@dataclass
class Member:
    """One model the loop trains: its callbacks (its History last), its own last epoch, and
    whether it has finished (stopped by a callback, or past its epochs)."""

    model: object
    spec: StepSpec
    cbs: CallbackList
    history: History
    epochs: int
    done: bool = False
    logs: dict = field(default_factory=dict)
    backup: object = None  # the ``_Backup`` of its BackupAndRestore, if it has one
    first_loss: float | None = None  # the first epoch's loss, against which divergence is judged
    warned_divergence: bool = False


def fit_params(spec: StepSpec, batches, *, epochs: int, verbose: int, validation, k: int, extra: dict) -> dict:
    """The ``params`` callbacks see (Keras's, plus each log's direction and how the fit ran)."""
    names = list(epoch_logs(spec, [0.0] * spec.n_stats, 1.0))
    if validation is not None:
        names += [f"val_{n}" for n in names]
    return {"epochs": epochs, "steps": batches.steps, "verbose": verbose, "metrics": names,
            "directions": directions(spec), "steps_per_execution": k, **extra}


def callback_list(model, callbacks, params: dict, verbose: int = 0) -> tuple[CallbackList, History]:
    """A fit's callbacks: the progress bar first when ``verbose``, the user's, its History last."""
    history = History()
    cbs = CallbackList(list(callbacks or []), model=model)
    if verbose:
        cbs.callbacks.insert(0, ProgbarLogger())
    cbs.append(history)
    cbs.set_model(model)
    cbs.set_params(params)
    return cbs, history


def make_member(model, spec: StepSpec, callbacks, params: dict, verbose: int = 0, epochs: int | None = None) -> Member:
    cbs, history = callback_list(model, callbacks, params, verbose)
    return Member(model, spec, cbs, history, params["epochs"] if epochs is None else epochs)


def run_epochs(model, spec: StepSpec, batches, *, epochs: int, initial_epoch: int, verbose: int,
               callbacks, validation, seed: int, extra_params: dict, jit_compile="auto",
               steps_per_execution: int = 1, seeded: bool = False, resume=None) -> History:
    """Train ``model`` and return its History. ``validation`` is (x, y, w) tensors or None;
    ``seeded``: the fit's seed was chosen by the user (``fit(seed=...)`` or ``set_random_seed``);
    ``resume``: a checkpoint (``_checkpoint.Resume``) to continue from, with the engine it ran."""
    k = steps_per_execution
    start = resume.position.epoch if resume is not None else initial_epoch
    if resume is not None:
        jit_compile = resume.engine == "compiled"
    engine = Engine(model, spec, jit_compile=jit_compile, steps_per_execution=k, seed=seed,
                    total_steps=(epochs - start) * batches.steps, batch_size=batches.batch_size,
                    seeded=seeded)
    engine.steps_done = resume.position.steps_done if resume is not None else start * batches.steps
    engine.total_steps += engine.steps_done
    params = fit_params(spec, batches, epochs=epochs, verbose=verbose, validation=validation, k=k,
                        extra=extra_params)
    member = make_member(model, spec, callbacks, params, verbose)
    backup = _backup_of(member.cbs)
    if backup is not None:
        backup.check_writable()
        member.backup = _Backup(backup, model, spec, engine, seed, batches.steps)
    if resume is not None:
        resume.check(model, spec, member.cbs, batches.steps)
    try:
        train_members([member], engine, batches, validation, epochs, start, k, resume=resume)
    finally:  # an interrupted fit leaves the model at its last step
        engine.sync()
    return member.history


def _backup_of(cbs):
    """The fit's BackupAndRestore, if any (at most one: two would race on what a rerun resumes)."""
    from regulab.callbacks._backup import BackupAndRestore

    found = [c for c in cbs if isinstance(c, BackupAndRestore)]
    if len(found) > 1:
        raise ValueError(f"A fit takes at most one BackupAndRestore callback; received {len(found)}.")
    return found[0] if found else None


class _Backup:
    """Writes a fit's checkpoints for its BackupAndRestore, once every callback has seen the epoch or batch."""

    def __init__(self, callback, model, spec, engine, seed: int, steps_per_epoch: int):
        self.callback, self.model, self.spec, self.engine = callback, model, spec, engine
        self.seed, self.steps_per_epoch = seed, steps_per_epoch

    def save(self, cbs, position) -> None:
        from regulab.training._checkpoint import checkpoint_bytes

        mode = "compiled" if self.engine.mode == "compiled" else "eager"
        self.callback.write(checkpoint_bytes(self.model, self.spec, cbs, position, seed=self.seed, engine=mode,
                                             steps_per_epoch=self.steps_per_epoch))


def train_members(members: list[Member], engine, batches, validation, epochs: int, initial_epoch: int,
                  k: int, resume=None) -> None:
    """The epoch loop: callbacks, steps, validation, stopping, for every member at once.
    ``resume`` (one member) puts a checkpoint's state back once the callbacks have begun."""
    for m in members:
        m.model.stop_training = False
    batch_hooks = any(m.cbs.wants_train_batch_hooks for m in members)
    for m in members:
        m.cbs.on_train_begin()
    resumes = resume if isinstance(resume, list) else [resume] * (resume is not None)
    for m, r in zip(members, resumes):
        if r is not None:
            r.apply(m.model, m.spec, m.cbs)
            # a callback had stopped it, or it had run all its epochs: only on_train_end is left
            m.done = r.position.stopped or r.position.epoch >= m.epochs
    # a single fit may resume within an epoch; stacked backups are at epoch ends
    position = resumes[0].position if len(resumes) == 1 and resumes[0] is not None else None
    _epochs(members, engine, batches, validation, epochs, initial_epoch, k, batch_hooks, position)
    engine.sync()
    for m in members:
        m.history.params["engine"] = engine.decision
        m.history.params["compile_seconds"] = engine.compile_seconds
        m.cbs.on_train_end(m.logs)


def _epochs(members, engine, batches, validation, epochs, initial_epoch, k, batch_hooks, position=None) -> None:
    for epoch in range(initial_epoch, epochs):
        active = [m for m in members if not m.done]
        if not active:
            return
        engine.select(active)
        acc = engine.zeros()
        seen, b, skip = 0, -1, 0
        if position is not None and position.batch:  # resumed within this epoch: its first batches are done
            acc, seen, b, skip = position.acc.to(acc.device).clone(), position.seen, position.batch - 1, position.batch
        else:
            for m in active:
                m.cbs.on_epoch_begin(epoch)
        position = None
        for xs, ys, ws, stacked in batches.groups(k, stack=engine.mode != "eager", epoch=epoch):
            if skip:
                skip -= engine.count(xs, stacked)[0]
                continue
            if batch_hooks:
                for m in active:
                    m.cbs.on_train_batch_begin(b + 1)
            acc += engine.run_group(xs, ys, ws, stacked)
            n_batches, samples = engine.count(xs, stacked)
            seen += samples
            b += n_batches
            if batch_hooks:
                engine.sync()
                # once per execution, as Keras does with steps_per_execution
                for i, m in enumerate(active):
                    m.cbs.on_train_batch_end(b, RunningLogs(m.spec, engine.row(acc, i), seen))
                    if m.backup is not None and m.backup.callback.due(n_batches):
                        m.backup.save(m.cbs, Position(epoch, b + 1, engine.steps_done, seen, engine.row(acc, i)))
                stopped = [m for m in active if m.model.stop_training]
                if stopped and engine.stop_mid_epoch(stopped):
                    break
        engine.sync()
        all_logs = engine.epoch_logs(acc, seen)
        if validation is not None:
            for logs, val in zip(all_logs, engine.validate(validation)):
                logs.update(val)
        for m, logs in zip(active, all_logs):
            if m.done:  # stopped during the epoch: its weights are those it stopped with
                continue
            m.logs = logs
            _check_divergence(m, epoch, logs)
            m.cbs.on_epoch_end(epoch, logs)
            if m.model.stop_training or epoch + 1 >= m.epochs:
                m.done = True
            if m.backup is not None and m.backup.callback.due():
                m.backup.save(m.cbs, Position(epoch + 1, 0, engine.steps_done, stopped=m.model.stop_training))


#: a loss this many times its first epoch's value means the fit diverges
DIVERGENCE = 1e6


def _check_divergence(member: Member, epoch: int, logs: dict) -> None:
    """Warn once when the training loss has grown a million-fold since the first epoch: the usual
    cause is a learning rate too large for the model, and the epochs left are wasted."""
    loss = logs.get("loss")
    if loss is None or member.warned_divergence:
        return
    if member.first_loss is None:
        member.first_loss = loss if math.isfinite(loss) and loss > 0 else None
        return
    if loss > DIVERGENCE * member.first_loss:
        member.warned_divergence = True
        lr = float(member.model.optimizer.learning_rate)
        warnings.warn(f"The training loss of model '{member.model.name}' grew from {member.first_loss:.4g} to "
                      f"{loss:.4g} by epoch {epoch + 1} (more than a million-fold): the fit is diverging. "
                      f"Lower the learning rate (it is {lr:g}).", RuntimeWarning,
                      stacklevel=2)


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
