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


def _signature(model) -> tuple:
    from regulab import losses, optimizers

    # everything the shared step bakes in must agree: layer configurations (rates, regularizer
    # factors, ...) but not names, shapes, loss, optimizer and metrics
    layers = tuple((type(layer).__name__, layer.output_shape,
                    repr(sorted((k, v) for k, v in layer.get_config().items() if k != "name")))
                   for layer in model.layers)
    return (layers, tuple(v.shape for v in model.weights), repr(losses.serialize(model.loss)),
            repr(optimizers.serialize(model.optimizer)), tuple(str(m) for m in model._metric_args),
            model.precision)


def _check_models(models) -> None:
    if len(models) < 1:
        raise ValueError("fit_variants needs at least one model.")
    for m in models:
        m._require_compiled("fit_variants")
        m._require_built("fit_variants")
    first = _signature(models[0])
    for i, m in enumerate(models[1:], 1):
        if _signature(m) != first:
            raise ValueError(f"fit_variants trains models of one configuration together (layers with their "
                             f"rates and regularizers, loss, optimizer, metrics); model {i} ('{m.name}') "
                             f"differs from model 0 ('{models[0].name}'). Only seeds and initial weights may differ.")
    devices = {m.device for m in models}
    if len(devices) > 1:
        raise ValueError(f"fit_variants needs every model on one device; received {sorted(map(str, devices))}.")


def fit_variants(models: Sequence, x, y, *, seeds: Sequence[int], epochs: int = 1, batch_size: int = 32,
                 validation_data=None, shuffle: bool = True, jit_compile: bool = False,
                 steps_per_execution: int = 1) -> list[dict]:
    """Train ``models`` together; returns one history dict (name -> list per epoch) per model.

    Model ``i`` ends with the weights ``models[i].fit(x, y, seed=seeds[i], ...)`` would give it
    (up to float rounding) from a fresh optimizer state, and its optimizer holds its own state
    afterwards. Each call starts the optimizers afresh: train in one call rather than an epoch at
    a time.

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
    xt, yt, w, _ = lead._arrays(x, y)
    validation = None if validation_data is None else lead._arrays(*validation_data)[:3]
    specs = [m._step_spec() for m in models]
    spec = specs[0]
    n_var, n = len(models), xt.shape[0]

    params = [torch.stack([s.trainable[i].value for s in specs]) for i in range(len(spec.trainable))]
    buffers = [torch.stack([s.buffers[i].value for s in specs]) for i in range(len(spec.buffers))]
    opt = spec.optimizer
    opt.build(params, scalar_tensors=True)
    state = opt.state
    dims = {key: (0 if isinstance(v, tuple) else None) for key, v in state.items()}
    step = torch.func.vmap(make_functional_step(spec), in_dims=(0, 0, dims, 0, 0, 0 if w is not None else None, 0),
                           out_dims=(0, 0, dims, 0))
    captured = None
    if jit_compile:
        # kept by the first model (its compile() clears it), so a study that calls this again on
        # the same models compiles once; which weights train is part of the step's layout
        cache_key = ("variants", tuple(id(m) for m in models), k, batch_size, w is None,
                     tuple(id(v) for s in specs for v in s.trainable), tuple(id(v) for s in specs for v in s.buffers))
        captured = lead._compiled_steps.get(cache_key)
        if captured is None:
            layout = StateLayout(len(params), len(buffers), state)
            captured = StaticStep(compile_step(make_inplace_multi_step(spec, k, layout, step_fn=step)), layout,
                                  capture=device.type == "cuda")
            lead._compiled_steps[cache_key] = captured
    seeds_t = torch.tensor([s & 0xFFFFFFFF for s in seeds], dtype=torch.int64, device=device)
    step_t = torch.zeros((), dtype=torch.int64, device=device)  # counted on the device: no syncs
    generators = [torch.Generator().manual_seed(int(s)) for s in seeds]
    histories: list[dict] = [{} for _ in models]
    full = n // batch_size
    for _epoch in range(epochs):
        if shuffle:  # each variant its own permutation, drawn as fit(seed=...) draws it
            perm = torch.stack([torch.randperm(n, generator=g) for g in generators]).to(device)
        else:
            perm = torch.arange(n, device=device).expand(n_var, n)
        xs, ys = xt[perm], yt[perm]
        ws = None if w is None else w[perm]
        acc = torch.zeros(n_var, spec.n_stats, device=device)
        start = 0
        if captured is not None:
            for lo in range(0, (full - k + 1) * batch_size, k * batch_size):
                hi = lo + k * batch_size
                # (variants, k * batch, ...) -> (k, variants, batch, ...): one slice per step
                group = [None if t is None else t[:, lo:hi].unflatten(1, (k, batch_size)).transpose(0, 1)
                         for t in (xs, ys, ws)]
                params, buffers, state, step_t, stats = captured(params, buffers, state, step_t, *group, seeds_t)
                acc += stats
                start = hi
        for i in range(start, n, batch_size):  # eagerly: everything, or the batches left over
            wb = None if ws is None else ws[:, i:i + batch_size]
            params, buffers, state, stats = step(params, buffers, state, xs[:, i:i + batch_size],
                                                 ys[:, i:i + batch_size], wb, _random.fold_in(seeds_t, step_t))
            acc += stats
            step_t = step_t + 1
        totals = acc.tolist()
        for v, s in enumerate(specs):
            for var, value in zip(s.trainable, params):
                var.value = value[v].clone()
            for var, value in zip(s.buffers, buffers):
                var.value = value[v].clone()
            logs = _loop.epoch_logs(s, totals[v], n)
            if validation is not None:
                logs.update(_loop.evaluate_tensors(s, *validation, prefix="val_"))
            for key, value in logs.items():
                histories[v].setdefault(key, []).append(value)
    for v, (m, s) in enumerate(zip(models, specs)):
        m.optimizer.state = {key: (tuple(t[v].clone() for t in val) if isinstance(val, tuple) else val.clone())
                             for key, val in state.items()}
        m.optimizer.trained_variables = tuple(id(var) for var in s.trainable)
    return histories
