"""The eager stacked step as one physical batch: the forward pass mapped over the variants, the
backward pass and the update run once on the stacked tensors.

Mapping the whole step (``torch.func.vmap`` over ``torch.func.grad`` and the update) costs, for
the seed model's 16 variants on a 2-core CPU, about 6 ms a step, nearly all of it the mapping's
own per-call and per-operation work rather than arithmetic: a hand-written stack of batched
matmuls runs the same step in under 1 ms (anchors/README.md). So only the part that must know
about the variants, the forward pass and loss (each variant's own batch, random key and
hyper-parameters), is per variant: run on the stacked tensors directly where every layer can
(``_stacked_forward``), else mapped. Every variant's objective depends on its own slice of the
stacked weights alone, so one ``autograd.grad`` of their sum gives each variant its own gradient.
The update (closed-form penalty gradients, the optimizer, proximal L1) is elementwise; run in
place on all weights packed into one ``(V, N)`` tensor with every hyper-parameter shaped
``(V, 1)``, it broadcasts to each variant's own learning rate, factors and step count without
being mapped at all. Hyper-parameters with one value in every variant come as that number, so
layers skip what is 0 and the optimizer fuses its scaled update, as in a single model's step.

For 16 variants of the seed model (2-core CPU) the step went from about 6 ms mapped whole to
about 1.5 ms, as fast as the same study written by hand (``benchmarks/study_speed.py``).

Only the built-in optimizers are known to be elementwise; a model with another optimizer runs
the fully mapped step (``StackedEngine`` chooses).
"""
from __future__ import annotations

import itertools
import math

import torch

from regulab import optimizers
from regulab.training._stacked_forward import runs_natively, variant_pass
from regulab.training._state import OPTIMIZER, LEARNING_RATE, TrainState
from regulab.training._step import (Constants, StepSpec, _new_buffers, _new_state, _objective, _step_stats,
                                    split_penalties)

#: optimizers whose update is elementwise in every weight and hyper-parameter
ELEMENTWISE_OPTIMIZERS = (optimizers.SGD, optimizers.Adam, optimizers.AdamW, optimizers.RMSprop,
                          optimizers.Adagrad)


def supports_batched_step(spec: StepSpec) -> bool:
    """Whether ``make_batched_step`` can run ``spec``: its optimizer's update is one of the built-in
    elementwise ones (a subclass may override ``_update`` with anything)."""
    return type(spec.optimizer) in ELEMENTWISE_OPTIMIZERS


class Packing:
    """Where each trainable weight lies in one ``(V, N)`` tensor holding all of them flattened, so
    the update runs each of its operations once for every weight of every variant. The views it
    hands out remember their flat tensor: packing them again costs nothing."""

    def __init__(self, shapes):
        self.shapes = [tuple(s) for s in shapes]
        sizes = [math.prod(s) for s in self.shapes]
        self.slices = [slice(a, a + n) for a, n in zip(itertools.accumulate([0] + sizes), sizes)]
        self._last: tuple | None = None  # (views, flat) of the latest unpack

    def pack(self, tensors) -> torch.Tensor:
        """``(V, N)`` from ``(V, *shape)`` tensors (no copy where they are views ``unpack`` made)."""
        last = self._last
        if last is not None and len(last[0]) == len(tensors) and all(a is b for a, b in zip(last[0], tensors)):
            return last[1]
        n = tensors[0].shape[0]
        return torch.cat([t.reshape(n, -1) for t in tensors], dim=1)

    def columns(self, flat: torch.Tensor, i: int) -> torch.Tensor:
        """Weight ``i``'s columns of ``flat``, ``(V, n_i)`` (a view)."""
        return flat[:, self.slices[i]]

    def unpack(self, flat: torch.Tensor, remember: bool = False) -> list[torch.Tensor]:
        last = self._last
        if last is not None and last[1] is flat:  # updated in place: its views are still its views
            return last[0]
        n = flat.shape[0]
        views = [flat[:, sl].view(n, *shape) for sl, shape in zip(self.slices, self.shapes)]
        if remember:
            self._last = (views, flat)
        return views


def make_batched_step(spec: StepSpec, weighted: bool):
    """``step(state, (x, y, w), keys) -> (state, stats)`` for a state stacked on a leading axis of V
    variants, batches ``(V, B, ...)`` and one random key per variant; ``stats`` is ``(V, n_stats)``.
    The result equals the mapped eager step's (each variant's own ``fit`` step) up to rounding."""
    const = Constants()
    closed_form, autograd_pen = split_penalties(spec)
    optimizer = spec.optimizer
    paths = spec.structure.trainable_paths
    packings: dict[str, Packing] = {}  # the weights' and each slot's, made at the first step
    n_params = len(paths)
    unused = {} if spec.trains_every_output else {"allow_unused": True, "materialize_grads": True}

    def forward(*args):
        # one flat tuple of tensors in and out of the mapping: its per-call work grows with the
        # number of containers it walks
        params, rest = args[:n_params], args[n_params:]
        buffers = dict(zip(buffer_paths, rest[:len(buffer_paths)]))
        rest = rest[len(buffer_paths):]
        hyper = dict(zip(hyper_paths, rest[:len(hyper_paths)]))
        x, y, key, *w = rest[len(hyper_paths):]
        w = w[0] if w else None
        objective, aux = _objective(spec, autograd_pen, list(params), buffers, x, y, w, key, hyper)
        updates = aux[3]
        state = TrainState({}, buffers, {}, hyper)
        stats = _step_stats(spec, const, state, [p.detach() for p in params], aux, w)
        return objective, stats, updates

    mapped = torch.func.vmap(forward)
    native = runs_natively(spec)  # no mapping at all: every layer runs on the stacked tensors
    buffer_paths: list = []
    hyper_paths: list = []

    def step(state: TrainState, batch, keys, constants=None, iterations=None):
        """``constants``: ``{hyper path: number}`` for those with one value in every variant,
        used as that number; ``iterations``: the optimizer's step count, if every variant's is
        this one."""
        x, y, w = batch
        hyper = state.hyper if not constants else {k: constants.get(k, v) for k, v in state.hyper.items()}
        entry = state.opt[OPTIMIZER]
        if not packings:
            buffer_paths.extend(state.buffers)
            hyper_paths.extend(state.hyper)
            packings["params"] = Packing([state.params[p].shape[1:] for p in paths])
            for slot in entry["slots"]:
                packings[slot] = Packing([state.params[p].shape[1:] for p in paths])
        params = [state.params[p] for p in paths]
        weights = packings["params"]
        flat = weights.pack(params)
        # one leaf per weight: a leaf sliced into views would cost a full-size zero gradient per view
        leaves = [p.detach().requires_grad_() for p in params]
        with torch.enable_grad():
            if native:
                objective, stats, updates = variant_pass(spec, leaves, state.buffers, x, y, w, keys, hyper)
            else:
                args = [*leaves, *state.buffers.values(), *state.hyper.values(), x, y, keys]
                objective, stats, updates = mapped(*args, *([w] if w is not None else []))
            grads = torch.autograd.grad(objective.sum(), leaves, **unused) if leaves else ()
        grad = torch.cat([g.reshape(g.shape[0], -1) for g in grads], dim=1)
        with torch.no_grad():
            new_params, new_opt = _packed_update(spec, closed_form, optimizer, packings, state, hyper, flat, grad,
                                                 iterations)
            buffers = _new_buffers(state.buffers, updates)
            new_state = _new_state(spec, state, new_params, buffers, new_opt)
        return new_state, stats

    return step


def _packed_update(spec: StepSpec, closed_form, optimizer, packings: dict, state: TrainState, hyper: dict,
                   flat: torch.Tensor, grad: torch.Tensor, iterations: int | None = None):
    """(new weights by position, new optimizer state) from the packed weights and gradient:
    closed-form penalty gradients, the optimizer's update and proximal L1, as ``_step`` applies
    them to one model, with every hyper-parameter shaped ``(V, 1)``."""
    n = flat.shape[0]
    weights = packings["params"]
    hyper = {k: v.reshape(n, 1) if isinstance(v, torch.Tensor) else v for k, v in hyper.items()}
    for i, reg in closed_form:  # the gradient is this step's own: written in place
        reg.add_gradient_(weights.columns(grad, i), weights.columns(flat, i), **spec.factors(i, hyper))
    entry = state.opt[OPTIMIZER]
    paths = spec.structure.trainable_paths
    t = entry["iterations"].reshape(n, 1) if iterations is None else iterations
    view = {"lr": hyper[LEARNING_RATE], "t": t}
    for slot, values in entry["slots"].items():
        view[slot] = [packings[slot].pack([values[p] for p in paths])]
    # in place: the packed weights and slots are the stack's own (``StackedEngine`` copies
    # them out to the models and in again), and an update that allocates nothing is about
    # twice as fast on them
    (new_flat,), new_opt = optimizer.update([flat], [grad], view, in_place=True)
    for i, lam_path in spec.proximal:
        # soft-thresholding with each weight's own step size (see _step._updated_weights)
        p = weights.columns(new_flat, i)
        step = optimizer.step_size(new_opt, 0)  # per element, or the learning rate (SGD's)
        if isinstance(step, torch.Tensor) and step.shape[-1] == new_flat.shape[-1]:
            step = weights.columns(step, i)
        thresh = hyper[lam_path] * step
        p.copy_(torch.sign(p) * torch.clamp(p.abs() - thresh, min=0.0))
    slots = {slot: packings[slot].unpack(new_opt[slot][0], remember=True) for slot in entry["slots"]}
    counts = new_opt["t"].reshape(n) if iterations is None else entry["iterations"] + 1
    return weights.unpack(new_flat, remember=True), {"t": counts, **slots}
