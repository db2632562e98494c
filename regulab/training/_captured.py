"""The compiled K-step function run on fixed tensors, and on a GPU captured once as a CUDA graph.

A CUDA graph replays kernels on the addresses it was recorded with, so everything the step reads or
writes lives in tensors allocated once: the state (weights, buffers, optimizer slots and scalars,
step counter), which the compiled function updates in place, and the input batches, copied in per
call. A replay is one launch for all K steps: no per-kernel launch cost, no copies of the outputs,
no host synchronisation.

The model's variables and the optimizer's state *are* these tensors between calls. Anything that
replaces one from outside (an eager step on a leftover batch, ``set_weights``, a callback changing
the learning rate, a new fit) is noticed by identity and copied in before the next replay.
"""
from __future__ import annotations

import warnings

import torch

from regulab.training._compiled import StateLayout


def _leaves(tree) -> list:
    if tree is None:
        return []
    if isinstance(tree, (tuple, list)):
        return list(tree)
    return [tree]


def _rebuild(like, leaves):
    if like is None:
        return None
    if isinstance(like, (tuple, list)):
        return tuple(leaves)
    return leaves[0]


class StaticStep:
    """``step(state, step, xs, ys, ws, seed, mix)`` for a compiled in-place
    ``fn(flat, xs, ys, ws, seed, mix) -> stats`` (see ``make_inplace_multi_step``).

    Returns ``(state, step, stats)``, the state and step counter being the fixed tensors
    (updated), ``stats`` valid until the next call. ``capture=False`` runs ``fn`` directly on the
    fixed tensors, which is what a replay does (used on CPU, and where capturing fails).
    """

    def __init__(self, fn, layout: StateLayout, capture: bool):
        self.fn, self.layout, self.capture = fn, layout, capture
        self.state: list[torch.Tensor] | None = None
        self.inputs: list | None = None  # xs, ys, ws, seed, mix
        self._fixed = self._fixed_step = None  # the fixed tensors as (TrainState, step counter)
        self.graph = None
        self.stats = None

    def __call__(self, state, step, xs, ys, ws, seed, mix=None):
        given = (xs, ys, ws, seed, mix)
        if state is self._fixed and step is self._fixed_step and (ws is None) == (self.inputs[2] is None):
            # the state this step returned last time, untouched since: nothing to bring in
            self._copy_inputs(given)
            return self._run()
        flat = self.layout.flatten(state, step)
        if self.state is None or (ws is None) != (self.inputs[2] is None):
            self._setup(flat, given)
        else:
            if len(flat) != len(self.state):
                raise RuntimeError(f"internal error: a compiled step for {len(self.state)} state tensors "
                                   f"was reused for {len(flat)}; its cache key misses what changed.")
            for fixed, current in zip(self.state, flat):
                if current is not fixed:  # replaced since the last call: bring the new value in
                    if current.shape != fixed.shape or current.device != fixed.device:
                        raise RuntimeError(f"internal error: a compiled step's state tensor of shape "
                                           f"{tuple(fixed.shape)} on {fixed.device} was given one of shape "
                                           f"{tuple(current.shape)} on {current.device}.")
                    with torch.no_grad():
                        fixed.copy_(current)
            self._copy_inputs(given)
        return self._run()

    def _copy_inputs(self, given) -> None:
        for fixed, current in zip(self.inputs, given):
            if isinstance(fixed, torch.Tensor):
                if current is not fixed:
                    fixed.copy_(current)
            else:
                for f, c in zip(_leaves(fixed), _leaves(current)):
                    if c is not f:
                        f.copy_(c)

    def _run(self):
        # in-place writes into weights that a user's eager call made autograd leaves are fine
        # here: nothing differentiates through them
        with torch.no_grad():
            if self.graph is not None:
                self.graph.replay()
                stats = self.stats
            else:
                stats = self.fn(self.state, *self.inputs)
        return self._fixed, self._fixed_step, stats

    def _setup(self, flat, given) -> None:
        self.state = [t.detach().clone() for t in flat]
        self._fixed, self._fixed_step = self.layout.unflatten(self.state)
        self.inputs = [_rebuild(g, [t.clone() for t in _leaves(g)]) for g in given]
        self.graph = None
        if self.capture:
            try:
                self._capture()
            except Exception as err:  # noqa: BLE001 - any capture failure leaves a correct uncaptured step
                self.graph = None
                warnings.warn(f"jit_compile: the compiled training step could not be captured as a CUDA graph "
                              f"({type(err).__name__}: {err}); it runs compiled without one.", RuntimeWarning,
                              stacklevel=5)

    def _capture(self) -> None:
        # compile (and autotune) outside the capture, on scratch copies so no real step is taken
        scratch = [t.clone() for t in self.state]
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side), torch.no_grad():
            for _ in range(2):
                self.fn(scratch, *self.inputs)
        torch.cuda.current_stream().wait_stream(side)
        del scratch
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph), torch.no_grad():
            self.stats = self.fn(self.state, *self.inputs)  # recorded, not run
        self.graph = graph
