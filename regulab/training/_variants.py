"""``fit_variants``: several variants of one model trained together, as one stacked model.

Models of one architecture, loss and optimizer kind (the same model from different seeds, or with
different learning rates, regularizer factors, dropout rates or noise levels: the values a step
reads from its state) are stacked along a new leading axis and trained by the engine's stacked
mode (``_stacked.py``): one call per step runs every variant, each on its own shuffle of the data,
with its own dropout masks and hyper-parameters, and gives the weights each would reach trained
alone with ``fit(seed=...)``. Each has its own callbacks (early stopping with its own patience and
restored weights), validation and History. Small models are bound by per-step overhead, so V
variants cost far less than V fits; compiled (``jit_compile=True``) the stacked step is one kernel
sequence for all of them.
"""
from __future__ import annotations

import os
from typing import Callable, Sequence

from regulab._validation import check_float, check_int
from regulab.callbacks import Callback
from regulab.training import _loop
from regulab.training._batch_mix import BatchMix
from regulab.training._batches import StackedBatches
from regulab.training._engine import _without_learning_rate, structural_loss
from regulab.training._stacked import StackedEngine


def _signature(model) -> tuple:
    from regulab import losses, optimizers

    # everything the shared step bakes in must agree: layer configurations (rates, regularizer
    # factors, ...) but not names, shapes, loss, optimizer and metrics
    from regulab.models._model import Model
    from regulab.models._specs import structural_config
    from regulab.training._engine import _without_names

    # every layer of the tree by class, shape and settings but the values the step reads from its
    # state (rates, regularizer factors: each variant has its own); a nested model by its class
    # and shape alone (its layers are in the tree, and its configuration names them)
    layers = tuple((type(layer).__name__, repr(layer.output_shape),
                    "" if isinstance(layer, Model) else repr(_without_names(structural_config(layer))))
                   for layer in model._flatten_layers()[1:])
    return (layers, tuple(v.shape for v in model.weights), tuple(v.trainable for v in model.weights),
            repr(_loss_repr(model.loss, losses)), repr(_without_learning_rate(optimizers.describe(model.optimizer))),
            repr(model._metric_args), model.precision)


def _loss_repr(loss, losses):
    if isinstance(loss, (list, tuple)):
        return [_loss_repr(v, losses) for v in loss]
    if isinstance(loss, dict):
        return {k: _loss_repr(v, losses) for k, v in loss.items()}
    return None if loss is None else structural_loss(losses.get(loss))


class IncompatibleVariants(ValueError):
    """Models that cannot train as one stacked model (another architecture, loss or optimizer kind)."""


def _check_models(models) -> None:
    if len(models) < 1:
        raise ValueError("fit_variants needs at least one model.")
    owners: dict[int, int] = {}
    for i, m in enumerate(models):
        for v in m.weights:
            j = owners.setdefault(id(v), i)
            if j != i:
                raise ValueError(f"fit_variants trains each model on its own: models {j} and {i} share the "
                                 f"weight '{v.name}' (the same model twice, or a shared layer). Give each "
                                 f"variant its own layers.")
    for m in models:
        m._require_compiled("fit_variants")
        m._require_built("fit_variants")
        if m.has_custom_train_step:
            raise ValueError(f"fit_variants stacks the standard training step; model '{m.name}' has its own "
                             f"train_step. Fit it with model.fit instead.")
    first = _signature(models[0])
    for i, m in enumerate(models[1:], 1):
        if _signature(m) != first:
            raise IncompatibleVariants(f"fit_variants trains models of one configuration together (layers, regularizer "
                             f"kinds, loss, optimizer, metrics); model {i} ('{m.name}') differs from model 0 "
                             f"('{models[0].name}'). Only seeds, initial weights, learning rates, regularizer "
                             f"factors, dropout rates and noise levels may differ.")
    devices = {m.device for m in models}
    if len(devices) > 1:
        raise ValueError(f"fit_variants needs every model on one device; received {sorted(map(str, devices))}.")


def _callback_lists(callbacks, n: int) -> list[list]:
    """One list of callbacks per model: from a list of lists, or a function of the model's index."""
    if callbacks is None:
        return [[] for _ in range(n)]
    if callable(callbacks) and not isinstance(callbacks, Callback):
        lists = [list(callbacks(i) or []) for i in range(n)]
    elif isinstance(callbacks, (list, tuple)) and all(isinstance(c, (list, tuple)) for c in callbacks):
        if len(callbacks) != n:
            raise ValueError(f"Argument `callbacks` of fit_variants needs one list per model: {n} models, "
                             f"{len(callbacks)} lists.")
        lists = [list(c) for c in callbacks]
    else:
        raise ValueError("Argument `callbacks` of fit_variants takes one list of callbacks per model, or a "
                         "function of the model's index returning its list (each variant needs callbacks of "
                         f"its own: an EarlyStopping keeps state). Received: {callbacks!r}")
    seen: dict[int, int] = {}
    for i, cbs in enumerate(lists):
        for cb in cbs:
            j = seen.setdefault(id(cb), i)
            if j != i:
                raise ValueError(f"Argument `callbacks` of fit_variants: models {j} and {i} share the callback "
                                 f"{type(cb).__name__}; give each model its own instance.")
    return lists


def _epochs_per_model(epochs, n: int) -> list[int]:
    if isinstance(epochs, (list, tuple)):
        if len(epochs) != n:
            raise ValueError(f"Argument `epochs` of fit_variants takes one number or one per model: {n} models, "
                             f"{len(epochs)} values.")
        return [check_int("epochs", e, low=0, where="fit_variants") for e in epochs]
    return [check_int("epochs", epochs, low=0, where="fit_variants")] * n


def _batch_mixes(mixup, cutmix, models) -> list:
    """Each model's ``BatchMix`` (or None for all) from ``mixup=``/``cutmix=``: one alpha, or one per
    model, where 0 leaves that model's batches unmixed."""
    if mixup is not None and cutmix is not None:
        raise ValueError("Arguments `mixup` and `cutmix` of fit_variants are exclusive: pass one. "
                         f"Received: mixup={mixup!r}, cutmix={cutmix!r}")
    kind, alphas = ("mixup", mixup) if mixup is not None else ("cutmix", cutmix)
    if alphas is None:
        return [None] * len(models)
    if isinstance(alphas, (list, tuple)):
        if len(alphas) != len(models):
            raise ValueError(f"Argument `{kind}` of fit_variants takes one alpha or one per model: "
                             f"{len(models)} models, {len(alphas)} values.")
    else:
        alphas = [alphas] * len(models)
    for m in models:
        if len(m.output_names) != 1:
            raise ValueError(f"Argument `{kind}` of fit_variants needs models with one output; "
                             f"model '{m.name}' has {len(m.output_names)}.")
    return [BatchMix(kind, check_float(kind, a, low=0.0, where="fit_variants")) for a in alphas]


def fit_variants(models: Sequence, x, y, *, seeds: Sequence[int], epochs: int | Sequence[int] = 1,
                 batch_size: int = 32, validation_data=None, shuffle: bool = True,
                 callbacks: Sequence[Sequence] | Callable | None = None, sample_weight=None,
                 mixup=None, cutmix=None, jit_compile: bool = False, steps_per_execution: int = 1) -> list:
    """Train ``models`` together; returns one ``History`` per model.

    Model ``i`` ends with the weights ``models[i].fit(x, y, seed=seeds[i], epochs=epochs[i],
    callbacks=callbacks[i], ...)`` would give it (up to float rounding), continuing from its own
    optimizer state as a fit does. If the call is interrupted (an exception, Ctrl-C), every
    model and optimizer is left as it was before the call.

    Args:
        models: compiled, built models of one architecture, loss, metrics and optimizer kind;
            they may differ in initial weights and in the values a step reads from its state
            (learning rate, regularizer factors, dropout rates, noise levels).
        seeds: one fit seed per model (its shuffles and dropout masks).
        epochs: one number for all, or one per model (a model that finishes leaves the stack).
        validation_data: ``(x_val, y_val)`` (or with sample weights) evaluated for every model
            after every epoch, in one mapped pass.
        callbacks: one list of callbacks per model, or a function of the model's index returning
            its list (``lambda i: [EarlyStopping(patience=5, restore_best_weights=True)]``).
        mixup, cutmix: mix training batches as ``fit(mixup=alpha)`` does: one alpha for all, or
            one per model, where 0 trains that model unmixed (the stack shares one step).
        jit_compile: compile the stacked step with ``torch.compile`` (on a GPU, captured as a
            CUDA graph), as ``Model.compile(jit_compile=True)`` does for one model.
        steps_per_execution: batches per compiled call; leftover batches run eagerly.

    >>> from regulab.layers import Dense
    >>> from regulab.models import Sequential
    >>> from regulab import regularizers
    >>> def model(l2):
    ...     m = Sequential([Dense(8, input_dim=4, activation="relu", kernel_regularizer=regularizers.l2(l2)),
    ...                     Dense(1, activation="sigmoid")])
    ...     m.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    ...     return m
    >>> x = np.random.default_rng(0).normal(size=(64, 4)).astype("float32"); y = (x[:, 0] > 0).astype("float32")
    >>> histories = fit_variants([model(0.0), model(0.01)], x, y, seeds=[0, 1], epochs=2)
    >>> [len(h.history["loss"]) for h in histories]
    [2, 2]
    """
    models = list(models)
    _check_models(models)
    if len(seeds) != len(models):
        raise ValueError(f"Argument `seeds` needs one seed per model: {len(models)} models, {len(seeds)} seeds.")
    seeds = [check_int("seeds", s, low=0, where="fit_variants") for s in seeds]
    per_model = _epochs_per_model(epochs, len(models))
    batch_size = check_int("batch_size", batch_size, low=1, where="fit_variants")
    k = check_int("steps_per_execution", steps_per_execution, low=1, where="fit_variants")
    cb_lists = _callback_lists(callbacks, len(models))
    lead = models[0]
    mixes = _batch_mixes(mixup, cutmix, models)
    specs = [m._step_spec() for m in models]
    for spec, mix in zip(specs, mixes):
        spec.batch_mix = mix
    xt, yt, w, _ = lead._arrays(x, y, sample_weight, specs[0])
    validation = None
    if validation_data is not None:
        from regulab.training._fit import _validation_tensors

        validation = _validation_tensors(lead, specs[0], validation_data)
    batches = StackedBatches(xt, yt, w, batch_size, bool(shuffle), seeds)
    n_epochs = max(per_model)
    # every model as it is now, to put back if the call is interrupted
    before = [_snapshot(m) for m in models]
    engine = StackedEngine(models, specs, batches, seeds=seeds, jit_compile=jit_compile, steps_per_execution=k,
                           weighted=w is not None)
    members = []
    for m, s, cbs, e in zip(models, specs, cb_lists, per_model):
        params = _loop.fit_params(s, batches, epochs=e, verbose=0, validation=validation, k=k,
                                  extra={"seed": seeds[len(members)], "stacked": len(models)})
        members.append(_loop.make_member(m, s, cbs, params, epochs=e))
    resumes = _stack_backups(members, engine, seeds, batches.steps)
    start = 0
    if any(r is not None for r in resumes):
        running = [r for m, r in zip(members, resumes) if r is not None and not _finished(m, r)]
        start = running[0].position.epoch if running else n_epochs
        engine.steps_done = running[0].position.steps_done if running else 0
    try:
        _loop.train_members(members, engine, batches, validation, n_epochs, start, k, resume=resumes)
    except BaseException:
        engine.drop()
        for m, state in zip(models, before):
            _restore(m, state)
        raise
    finally:
        engine.finish()
    return [m.history for m in members]


def _finished(member, resume) -> bool:
    return resume.position.stopped or resume.position.epoch >= member.epochs


def _stack_backups(members, engine, seeds, steps_per_epoch) -> list:
    """Each member's backup (``BackupAndRestore`` among its callbacks) bound to the stack, and the
    checkpoint it resumes from (None where there is none). The members back up one after another at
    an epoch's end, so a kill between two leaves some a step ahead: with ``double_checkpoint`` those
    resume from their previous backup, and every member continues from the same epoch."""
    from regulab.training._checkpoint import read_checkpoint

    found = []
    for i, m in enumerate(members):
        b = _loop._backup_of(m.cbs)
        if b is not None:
            if b.save_freq != "epoch":
                raise ValueError(f"fit_variants backs models up at the end of an epoch; the BackupAndRestore of "
                                 f"model {i} has save_freq={b.save_freq!r}. Pass save_freq='epoch'.")
            b.check_writable()
            m.backup = _loop._Backup(b, m.model, m.spec, engine, seeds[i], steps_per_epoch)
        found.append(b)
    resumes = [None if b is None else b.read() for b in found]
    if all(r is None for r in resumes):
        return resumes
    if any(b is not None and r is None for b, r in zip(found, resumes)):
        raise ValueError("Some models of this fit_variants call have a backup to resume from and others have "
                         "none; delete the backups to start afresh.")
    running = [(m, r) for m, r in zip(members, resumes) if r is not None and not _finished(m, r)]
    target = min((r.position.epoch for _, r in running), default=None)
    for i, (m, b, r) in enumerate(zip(members, found, resumes)):
        if r is None:
            continue
        if target is not None and not _finished(m, r) and r.position.epoch > target:
            r = read_checkpoint(b.previous_path) if b.double_checkpoint and os.path.exists(b.previous_path) else None
            if r is None or r.position.epoch != target:
                raise ValueError(f"The backups of this fit_variants call stop at different epochs (model {i} is past "
                                 f"epoch {target}); back up with double_checkpoint=True so that each can resume "
                                 "from the same epoch, or delete the backups to start afresh.")
            resumes[i] = r
        r.check(m.model, m.spec, m.cbs, steps_per_epoch)
        if r.seed != seeds[i]:
            raise ValueError(f"The backup '{r.where}' continues model {i} with seed={r.seed}; this call gives it "
                             f"seed={seeds[i]}.")
        if r.engine != ("compiled" if engine.mode == "compiled" else "eager"):
            raise ValueError(f"The backup '{r.where}' was made by the {r.engine} engine; this call runs "
                             f"{engine.mode}. Pass the jit_compile it ran with to resume it bit for bit.")
    return resumes


def _snapshot(model) -> tuple:
    """Copies of a model's variables and its optimizer's state (slots, step count, learning rate)."""
    opt = model.optimizer
    slots = {var: {k: t.clone() for k, t in own.items()} for var, own in opt.slots.items()}
    return ([(v, v.value.clone()) for v in model.weights], slots, opt._iterations, opt._learning_rate)


def _restore(model, snapshot) -> None:
    weights, slots, iterations, learning_rate = snapshot
    for v, value in weights:
        v.value = value
    opt = model.optimizer
    opt.slots, opt._iterations, opt._learning_rate = slots, iterations, learning_rate
    model.stop_training = False
