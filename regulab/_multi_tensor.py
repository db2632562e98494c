"""Multi-tensor operations for optimizer updates: torch's ``_foreach`` kernels where they apply (one
launch for all parameters), per-tensor ops where they do not (inside ``torch.compile``, under
``vmap``, with per-variant scalars)."""
from __future__ import annotations

import math

import torch

Tensors = list[torch.Tensor]


def _needs_single_ops(args) -> bool:
    """True when the ``_foreach`` kernels cannot take ``args``: the tensors are ``torch.func.vmap``'s
    batched views, or a scalar is a tensor of per-variant values (``(V, 1)``, the stacked step's)."""
    for a in args:
        if isinstance(a, (list, tuple)) and a and isinstance(a[0], torch.Tensor):
            if torch._C._functorch.is_batchedtensor(a[0]):
                return True
        elif isinstance(a, torch.Tensor) and a.dim() > 0:
            return True
    return False


class _MultiTensorOps:
    """Multi-tensor ops by name (``_multi.lerp(a, b, w)``): torch's ``_foreach`` kernels eagerly
    (one launch for all parameters); plain per-tensor ops inside ``torch.compile``, which fuses them
    itself (and whose CUDA lowering of ``_foreach`` updates produced NaN in torch 2.11), under
    ``vmap`` and with per-variant scalars."""

    def __getattr__(self, name: str):
        # ``lerp_``: "update the first argument where the namespace updates in place" (see
        # ``_in_place``); this namespace never does, so it is ``lerp``
        base = name[:-1] if name.endswith("_") and not name.startswith("_") else name
        foreach = getattr(torch, f"_foreach_{base}")
        single = getattr(torch, base)

        def op(*args, **kwargs):
            if not (torch.compiler.is_compiling() or _needs_single_ops(args)):
                return foreach(*args, **kwargs)
            lists = [a for a in args if isinstance(a, (list, tuple))]
            scalars = [a for a in args if not isinstance(a, (list, tuple))]
            return [single(*xs, *scalars, **kwargs) for xs in zip(*lists)]

        self.__dict__[name] = op  # later look-ups skip __getattr__
        return op


class _InPlaceOps:
    """The same ops by name, where a name ending in ``_`` updates its first argument in place
    (``_in_place.lerp_(slots, grads, w)``) and any other returns new tensors. The optimizers'
    updates are written once against a namespace: with ``_multi`` they leave their inputs as they
    were (a step is a pure function); with ``_in_place`` they overwrite the weights and slots
    they are given, which the eager stacked step owns (one packed tensor each), saving an
    allocation per operation: about half of the update's time for 16 variants of a small model."""

    def __getattr__(self, name: str):
        if name.endswith("_") and not name.startswith("_"):
            def op(first, *args, **kwargs):
                lists = [a for a in args if isinstance(a, (list, tuple))]
                scalars = [a for a in args if not isinstance(a, (list, tuple))]
                return [getattr(x, name)(*xs, *scalars, **kwargs) for x, *xs in zip(first, *lists)]
        else:
            single = getattr(torch, name)

            def op(*args, **kwargs):
                lists = [a for a in args if isinstance(a, (list, tuple))]
                scalars = [a for a in args if not isinstance(a, (list, tuple))]
                return [single(*xs, *scalars, **kwargs) for xs in zip(*lists)]

        self.__dict__[name] = op
        return op


_multi = _MultiTensorOps()
_in_place = _InPlaceOps()
Scalar = float | torch.Tensor  # Python numbers eagerly; 0-d tensors where a step is compiled


def _sqrt(x: Scalar) -> Scalar:
    return torch.sqrt(x) if isinstance(x, torch.Tensor) else math.sqrt(x)


def _sub_scaled_ratio(params: Tensors, num: Tensors, denom: Tensors, scale: Scalar, ops=_multi) -> Tensors:
    """params - scale * num / denom, fused into one kernel when ``scale`` is a Python number
    (``ops``: ``_multi``, or ``_in_place`` to overwrite ``params``)."""
    if isinstance(scale, torch.Tensor):
        return ops.sub_(params, ops.mul_(ops.div(num, denom), scale))
    return ops.addcdiv_(params, num, denom, value=-scale)
