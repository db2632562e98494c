"""The inference steps behind validation, ``evaluate`` and ``predict``, compiled when asked.

Keras's ``jit_compile`` compiles the test and predict steps as well as the training step; so does
``jit_compile=True`` here (and ``"auto"`` for validation once it has compiled the training step).
They are compiled with a dynamic batch dimension: the last, smaller batch of a pass reuses the
code compiled for the full ones instead of compiling again.
"""
from __future__ import annotations


from regulab.layers import CallContext
from regulab.training._compiled import compile_step, fill
from regulab.training._engine import compiler_available
from regulab.training._state import Structure
from regulab.training._step import StepSpec, make_eval_step


def _compiled(model, key, make):
    # kept with the model's compiled training steps, which compile() clears
    cache = model._compiled_steps
    if key not in cache:
        cache[key] = compile_step(make(), dynamic=True)
    return cache[key]


def eval_step(model, spec: StepSpec, compiled: bool):
    """``step(params, buffers, x, y, w) -> stats`` (``make_eval_step``), compiled if ``compiled``."""
    if not (compiled and compiler_available(model.device)):
        return make_eval_step(spec)
    key = ("eval", spec.structure.layout_key, tuple(name for name, _ in spec.log_names()),
           tuple(h.loss_logits for h in spec.heads))
    return _compiled(model, key, lambda: make_eval_step(spec, fill=fill))


def predict_step(model, structure: Structure, stochastic: bool, compiled: bool):
    """``step(values, x, key) -> outputs`` in inference mode (``values``: ``{path: tensor}``);
    ``stochastic`` keeps dropout-like noise on (Monte-Carlo dropout) while BatchNorm stays in
    inference mode, and runs eagerly."""

    def make():
        def step(values, x, key):
            ctx = CallContext(values, structure.paths, structure.streams, training=False, key=key,
                              stochastic=stochastic, checked_inputs=structure.checked_inputs)
            return model._run(x, ctx, False)
        return step

    # Monte-Carlo passes stay eager: Inductor (torch 2.13) mis-types the counter-based random bits
    # when the batch size is symbolic, and compiling each batch size separately would not pay
    if stochastic or not (compiled and compiler_available(model.device)):
        return make()
    return _compiled(model, ("predict", structure.layout_key), make)
