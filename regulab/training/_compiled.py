"""The training step compiled: the same objective and update as the eager step, differentiated with
``torch.func`` (which ``torch.compile`` traces whole) and run K steps per call.

Measured on the seed model (anchors/README.md), compiling the usual ``loss.backward(); opt.step()``
gains nothing, while this pure-function form compiled runs several times faster than eager on CPU,
and captured as a CUDA graph (``_captured.py``) tens of times faster on a GPU.
"""
from __future__ import annotations

import types

import torch

from regulab import _random
from regulab.training._batch_mix import MIX_ALPHA
from regulab.training._state import TrainState, flatten_state, unflatten_state
from regulab.training._step import StepSpec, _apply_update, _objective


def compile_step(fn, dynamic: bool = False):
    """``torch.compile(fn)`` with a code object of its own.

    Dynamo keeps its compiled entries on the function's code object, at most
    ``torch._dynamo.config.recompile_limit`` (8) of them, and runs a function eagerly once that is
    reached. Every model's step is a closure over the same code, so the ninth model compiled in one
    process would silently train eagerly; a copy of the code gives each step its own entries.
    ``dynamic=True`` compiles the batch size as a symbol (inference passes end with a short batch).
    ``fn``'s code must be regulab's: torch.compile runs functions defined inside torch (decorator
    wrappers, ``vmap``'s) through one shared wrapper frame, which defeats the copy.
    """
    own = types.FunctionType(fn.__code__.replace(), fn.__globals__, fn.__name__, fn.__defaults__,
                             fn.__closure__)
    return torch.compile(own, dynamic=dynamic)


def fill(value, device) -> torch.Tensor:
    """A 0-d float32 constant made inside the compiled graph (``value`` may be a symbolic size)."""
    return torch.full((), value, dtype=torch.float32, device=device)


def make_functional_step(spec: StepSpec):
    """``step(state, (x, y, w[, draws]), key) -> (state, stats)``, as the eager step, via
    ``torch.func``; ``draws``: the batch's mixup/cutmix draws, made outside."""
    # penalties are differentiated here rather than added in closed form: compiled, they fuse into
    # the backward pass for free (and Inductor mis-compiled the closed-form add over several steps
    # in one call in torch 2.13: results drifted by ~1e-3 after two steps)
    closed_form, autograd_pen = [], list(spec.penalized)
    take = spec.take_traced

    def objective(params, buffers, x, y, w, key, hyper, draws):
        value, (out, data_sum, head_sums, updates, activity, y) = _objective(
            spec, autograd_pen, params, buffers, x, y, w, key, hyper, draws)
        if activity is None:  # torch.func's auxiliary outputs must all be tensors
            activity = torch.zeros((), device=data_sum.device)
        return value, (out, data_sum, head_sums, updates, activity, y)

    grad_fn = torch.func.grad(objective, has_aux=True)

    def step(state, batch, key):
        x, y, w, *draws = batch  # a fourth entry: the batch's mixup/cutmix draws, made already
        params = take(state.params)
        grads, aux = grad_fn(params, state.buffers, x, y, w, key, state.hyper, draws[0] if draws else None)
        return _apply_update(spec, closed_form, fill, state, params, grads, aux, w, take)

    return step


def index_batch(tree, i):
    """Batch ``i`` of a tensor (or tuple of tensors) holding several batches on a leading axis."""
    if tree is None:
        return None
    if isinstance(tree, (tuple, list)):
        return tuple(t[i] for t in tree)
    return tree[i]


def make_multi_step(spec: StepSpec, k: int, step_fn=None):
    """``run(state, xs, ys, ws, seed, step) -> (state, stats)`` for ``k`` batches stacked on a
    leading axis; ``seed`` and ``step`` are int64 0-d tensors, so the random key of each step
    (``fold_in(seed, step + i)``, as the eager loop derives it) never makes the compiled code
    specialise on a number. ``step_fn`` replaces the functional step (stacked variants pass it
    mapped over their leading axis, with one seed per variant). ``mix``: the mixing weights of
    the ``k`` batches under mixup/cutmix, drawn outside (``mix_draws``)."""
    step_fn = step_fn or make_functional_step(spec)

    def run(state, xs, ys, ws, seed, step, mix=None):
        total = None
        for i in range(k):
            key = _random.fold_in(seed, step + i)
            batch = (index_batch(xs, i), index_batch(ys, i), index_batch(ws, i))
            if mix is not None:
                batch = (*batch, tuple(t[i] for t in mix))
            state, stats = step_fn(state, batch, key)
            total = stats if total is None else total + stats
        return state, total

    return run


class StateLayout:
    """How a ``TrainState`` plus the step counter map to one flat list of tensors, so a compiled
    function can update all of it in place (``template`` fixes the keys and their order)."""

    def __init__(self, template: TrainState):
        self.template = template
        self.size = len(flatten_state(template)) + 1

    def flatten(self, state: TrainState, step) -> list[torch.Tensor]:
        return [*flatten_state(state), step]

    def unflatten(self, flat):
        return unflatten_state(self.template, flat[:-1]), flat[-1]


def mix_draws(spec: StepSpec, state, seed, step, k: int, xs, stacked: bool = False):
    """The random draws of mixup/cutmix for the next ``k`` batches ``xs`` (None without mixing),
    made eagerly for all of them at once, each what its step would draw from its key
    (``fold_in(seed, step + i)``); ``stacked``: one seed per variant, batches ``(K, V, B, ...)``.
    Drawn in the compiled graph, the hashing behind them kept Inductor compiling for minutes."""
    if spec.batch_mix is None:
        return None
    steps = step + torch.arange(k, dtype=torch.int64, device=step.device)
    keys = _random.fold_in(seed, steps.reshape(k, *([1] * seed.dim())))
    lead = xs[0] if isinstance(xs, tuple) else xs
    return spec.batch_mix.draws(keys, tuple(lead.shape[2 if stacked else 1:]), state.hyper[MIX_ALPHA])


def make_inplace_multi_step(spec: StepSpec, k: int, layout: StateLayout, step_fn=None):
    """``run(flat, xs, ys, ws, seed[, mix]) -> stats``: ``k`` steps that write the new state into the
    flat tensors (``layout``) in place, the step counter (last) included.

    Updating in place is what lets a CUDA graph be replayed with no copies in or out: the graph
    reads and writes the same addresses on every replay (and Inductor fuses the writes into the
    update kernels)."""
    multi = make_multi_step(spec, k, step_fn)

    def run(flat, xs, ys, ws, seed, mix=None):
        state, step = layout.unflatten(flat)
        state, stats = multi(state, xs, ys, ws, seed, step, mix)
        for target, value in zip(flat, layout.flatten(state, step + k)):
            if value is not target:
                target.copy_(value)
        return stats

    return run
