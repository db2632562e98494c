"""Several variants of one model trained as one stacked model.

Models of the same architecture, loss and optimizer (typically the same model from different seeds)
are stacked along a new leading axis and trained by the pure training step mapped over that axis
(``torch.func.vmap``): one call per step runs every variant, each on its own shuffle of the data,
with its own dropout masks, and gives exactly the weights each would reach trained alone with
``fit(seed=...)``. Small models are bound by per-step overhead, so V variants cost far less than V
fits; compiled (``jit_compile=True``) the stacked step is one kernel sequence for all of them.
"""
from __future__ import annotations

from typing import Sequence

import torch

from regulab import _random
from regulab._validation import check_int
from regulab.training import _loop
from regulab.training._captured import StaticStep
from regulab.training._compiled import StateLayout, compile_step, make_functional_step, make_inplace_multi_step
from regulab.training._engine import _python_scalars
from regulab.training._state import (TrainState, as_tensor_scalar, flatten_state, map_state, merge, split,
                                     unflatten_state)


def _signature(model) -> tuple:
    from regulab import losses, optimizers

    # everything the shared step bakes in must agree: layer configurations (rates, regularizer
    # factors, ...) but not names, shapes, loss, optimizer and metrics
    from regulab.models._model import Model
    from regulab.models._specs import describe
    from regulab.training._engine import _without_names

    # every layer of the tree by class, shape and settings; a nested model by its class and shape
    # alone (its layers are in the tree, and its configuration names them)
    layers = tuple((type(layer).__name__, repr(layer.output_shape),
                    "" if isinstance(layer, Model) else repr(_without_names(describe(layer))))
                   for layer in model._flatten_layers()[1:])
    return (layers, tuple(v.shape for v in model.weights), tuple(v.trainable for v in model.weights),
            repr(_loss_repr(model.loss, losses)), repr(optimizers.serialize(model.optimizer)),
            repr(model._metric_args), model.precision)


def _loss_repr(loss, losses):
    if isinstance(loss, (list, tuple)):
        return [_loss_repr(v, losses) for v in loss]
    if isinstance(loss, dict):
        return {k: _loss_repr(v, losses) for k, v in loss.items()}
    return None if loss is None else losses.serialize(losses.get(loss))


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
            raise ValueError(f"fit_variants trains models of one configuration together (layers with their "
                             f"rates and regularizers, loss, optimizer, metrics); model {i} ('{m.name}') "
                             f"differs from model 0 ('{models[0].name}'). Only seeds and initial weights may differ.")
    devices = {m.device for m in models}
    if len(devices) > 1:
        raise ValueError(f"fit_variants needs every model on one device; received {sorted(map(str, devices))}.")


def _stack_states(states: list[TrainState], device) -> TrainState:
    """One state whose every tensor has the variants on a new leading axis (by position: the
    models' paths differ by their layers' names)."""
    flats = [flatten_state(map_state(lambda t: as_tensor_scalar(t, device), s)) for s in states]
    stacked = [torch.stack([f[i] for f in flats]) for i in range(len(flats[0]))]
    return unflatten_state(states[0], stacked)


def _unstack_state(stacked: TrainState, template: TrainState, v: int) -> TrainState:
    return unflatten_state(template, [t[v].clone() for t in flatten_state(stacked)])


def fit_variants(models: Sequence, x, y, *, seeds: Sequence[int], epochs: int = 1, batch_size: int = 32,
                 validation_data=None, shuffle: bool = True, jit_compile: bool = False,
                 steps_per_execution: int = 1) -> list[dict]:
    """Train ``models`` together; returns one history dict (name -> list per epoch) per model.

    Model ``i`` ends with the weights ``models[i].fit(x, y, seed=seeds[i], ...)`` would give it
    (up to float rounding), continuing from its own optimizer state as a fit does, and its
    optimizer holds its own state afterwards. The models' optimizers are only written once
    training ends, so an interrupted call leaves them as they were.

    Args:
        models: compiled models of one architecture, loss, metrics and optimizer configuration.
        seeds: one fit seed per model (its shuffles and dropout masks).
        validation_data: ``(x_val, y_val)`` evaluated for every model after every epoch.
        jit_compile: compile the stacked step with ``torch.compile`` (on a GPU, captured as a
            CUDA graph), as ``Model.compile(jit_compile=True)`` does for one model.
        steps_per_execution: batches per compiled call; leftover batches run eagerly.
    """
    models = list(models)
    _check_models(models)
    if len(seeds) != len(models):
        raise ValueError(f"Argument `seeds` needs one seed per model: {len(models)} models, {len(seeds)} seeds.")
    epochs = check_int("epochs", epochs, low=0, where="fit_variants")
    batch_size = check_int("batch_size", batch_size, low=1, where="fit_variants")
    k = check_int("steps_per_execution", steps_per_execution, low=1, where="fit_variants")
    lead = models[0]
    device = lead.device
    specs = [m._step_spec() for m in models]
    spec = specs[0]
    xt, yt, w, _ = lead._arrays(x, y, None, spec)
    if validation_data is not None:
        from regulab.training._fit import _validation_tensors

        validation = _validation_tensors(lead, spec, validation_data)
    else:
        validation = None
    n_var, n = len(models), _loop.num_samples(xt)

    # each model's own state (its optimizer's slots, step count and learning rate), stacked
    own = [split(s.structure, m.optimizer) for m, s in zip(models, specs)]
    state = _stack_states(own, device)
    step = torch.func.vmap(make_functional_step(spec), in_dims=(0, (0, 0, None if w is None else 0), 0),
                           out_dims=(0, 0))
    captured = None
    if jit_compile:
        # kept by the first model (its compile() clears it), so a study that calls this again on
        # the same models compiles once; which weights train is part of the step's layout
        cache_key = ("variants", tuple(id(m) for m in models), k, batch_size, w is None,
                     tuple(s.structure.layout_key for s in specs))
        captured = lead._compiled_steps.get(cache_key)
        if captured is None:
            layout = StateLayout(state)
            captured = StaticStep(compile_step(make_inplace_multi_step(spec, k, layout, step_fn=step)), layout,
                                  capture=device.type == "cuda")
            lead._compiled_steps[cache_key] = captured
    seeds_t = torch.tensor([s & 0xFFFFFFFF for s in seeds], dtype=torch.int64, device=device)
    step_t = torch.zeros((), dtype=torch.int64, device=device)  # counted on the device: no syncs
    generators = [torch.Generator().manual_seed(int(s)) for s in seeds]
    histories: list[dict] = [{} for _ in models]
    full = n // batch_size

    def stacked_take(tree, perm):
        if tree is None:
            return None
        if isinstance(tree, tuple):
            return tuple(t[perm] for t in tree)
        return tree[perm]

    def window(tree, lo, hi):
        # (variants, k * batch, ...) -> (k, variants, batch, ...): one slice per step
        if tree is None:
            return None
        if isinstance(tree, tuple):
            return tuple(window(t, lo, hi) for t in tree)
        return tree[:, lo:hi].unflatten(1, (k, batch_size)).transpose(0, 1)

    def columns(tree, i):
        if tree is None:
            return None
        if isinstance(tree, tuple):
            return tuple(t[:, i:i + batch_size] for t in tree)
        return tree[:, i:i + batch_size]

    for _epoch in range(epochs):
        if shuffle:  # each variant its own permutation, drawn as fit(seed=...) draws it
            perm = torch.stack([torch.randperm(n, generator=g) for g in generators]).to(device)
        else:
            perm = torch.arange(n, device=device).expand(n_var, n)
        xs, ys, ws = stacked_take(xt, perm), stacked_take(yt, perm), stacked_take(w, perm)
        acc = torch.zeros(n_var, spec.n_stats, device=device)
        start = 0
        if captured is not None:
            for lo in range(0, (full - k + 1) * batch_size, k * batch_size):
                hi = lo + k * batch_size
                state, step_t, stats = captured(state, step_t, window(xs, lo, hi), window(ys, lo, hi),
                                                window(ws, lo, hi), seeds_t)
                acc += stats
                start = hi
        for i in range(start, n, batch_size):  # eagerly: everything, or the batches left over
            state, stats = step(state, (columns(xs, i), columns(ys, i), columns(ws, i)),
                                _random.fold_in(seeds_t, step_t))
            acc += stats
            step_t = step_t + 1
        totals = acc.tolist()
        for v, s in enumerate(specs):
            values = flatten_state(state)
            params = unflatten_state(own[v], [t[v] for t in values])
            for p, var in s.structure.trainable:
                var.value = params.params[p].clone()
            for p, var in s.structure.buffers:
                var.value = params.buffers[p].clone()
            logs = _loop.epoch_logs(s, totals[v], n)
            if validation is not None:
                logs.update(_loop.evaluate_tensors(s, *validation, prefix="val_"))
            for key, value in logs.items():
                histories[v].setdefault(key, []).append(value)
    for v, (m, s) in enumerate(zip(models, specs)):
        mine = _unstack_state(state, own[v], v)
        merge(s.structure, mine, m.optimizer)
        _python_scalars(m.optimizer)
    return histories
