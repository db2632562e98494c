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
    """``step(params, buffers, opt_state, x, y, w, key)``, as the eager step, via ``torch.func``."""
    # penalties are differentiated here rather than added in closed form: compiled, they fuse into
    # the backward pass for free (and Inductor mis-compiled the closed-form add over several steps
    # in one call in torch 2.13: results drifted by ~1e-3 after two steps)
    closed_form, autograd_pen = [], list(spec.penalized)

    def objective(params, buffers, x, y, w, key):
        value, (out, data_sum, updates, activity, y) = _objective(spec, autograd_pen, params, buffers, x, y, w, key)
        if activity is None:  # torch.func's auxiliary outputs must all be tensors
            activity = torch.zeros((), device=x.device)
        return value, (out, data_sum, updates, activity, y)

    grad_fn = torch.func.grad(objective, has_aux=True)

    def step(params, buffers, opt_state, x, y, w, key):
        grads, aux = grad_fn(tuple(params), tuple(buffers), x, y, w, key)
        return _apply_update(spec, closed_form, fill, params, buffers, opt_state, grads, aux, w)

    return step


def make_multi_step(spec: StepSpec, k: int, step_fn=None):
    """``run(params, buffers, opt_state, xs, ys, ws, seed, step) -> (params, buffers, opt_state, stats)``
    for ``k`` batches stacked on a leading axis; ``seed`` and ``step`` are int64 0-d tensors, so the
    random key of each step (``fold_in(seed, step + i)``, as the eager loop derives it) never makes
    the compiled code specialise on a number. ``step_fn`` replaces the functional step (stacked
    variants pass it mapped over their leading axis, with one seed per variant)."""
    step_fn = step_fn or make_functional_step(spec)

    def run(params, buffers, opt_state, xs, ys, ws, seed, step):
        total = None
        for i in range(k):
            key = _random.fold_in(seed, step + i)
            params, buffers, opt_state, stats = step_fn(params, buffers, opt_state, xs[i], ys[i],
                                                        None if ws is None else ws[i], key)
            total = stats if total is None else total + stats
        return params, buffers, opt_state, total

    return run


class StateLayout:
    """How the step's state (params, buffers, optimizer dict, step counter) maps to one flat list of
    tensors, so a compiled function can update all of it in place."""

    def __init__(self, n_params: int, n_buffers: int, opt_state: dict):
        self.n_params, self.n_buffers = n_params, n_buffers
        # optimizer entries: a tensor, or a tuple of tensors (one slot per weight)
        self.opt_keys = [(key, len(v) if isinstance(v, (tuple, list)) else None) for key, v in opt_state.items()]

    def flatten(self, params, buffers, opt_state: dict, step) -> list[torch.Tensor]:
        flat = [*params, *buffers]
        for key, n in self.opt_keys:
            value = opt_state[key]
            flat.extend(value if n is not None else (value,))
        flat.append(step)
        return flat

    def unflatten(self, flat):
        params = list(flat[:self.n_params])
        i = self.n_params + self.n_buffers
        buffers = list(flat[self.n_params:i])
        opt_state = {}
        for key, n in self.opt_keys:
            if n is None:
                opt_state[key] = flat[i]
                i += 1
            else:
                opt_state[key] = tuple(flat[i:i + n])
                i += n
        return params, buffers, opt_state, flat[i]


def make_inplace_multi_step(spec: StepSpec, k: int, layout: StateLayout, step_fn=None):
    """``run(state, xs, ys, ws, seed) -> stats``: ``k`` steps that write the new state into the
    flat ``state`` tensors (``layout``) in place, the step counter (last) included.

    Updating in place is what lets a CUDA graph be replayed with no copies in or out: the graph
    reads and writes the same addresses on every replay (and Inductor fuses the writes into the
    update kernels)."""
    multi = make_multi_step(spec, k, step_fn)

    def run(state, xs, ys, ws, seed):
        params, buffers, opt_state, step = layout.unflatten(state)
        params, buffers, opt_state, stats = multi(params, buffers, opt_state, xs, ys, ws, seed, step)
        for target, value in zip(state, layout.flatten(params, buffers, opt_state, step + k)):
            target.copy_(value)
        return stats

    return run
