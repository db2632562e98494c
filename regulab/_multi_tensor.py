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
        foreach = getattr(torch, f"_foreach_{name}")
        single = getattr(torch, name)

        def op(*args, **kwargs):
            if not (torch.compiler.is_compiling() or _needs_single_ops(args)):
                return foreach(*args, **kwargs)
            lists = [a for a in args if isinstance(a, (list, tuple))]
            scalars = [a for a in args if not isinstance(a, (list, tuple))]
            return [single(*xs, *scalars, **kwargs) for xs in zip(*lists)]

        self.__dict__[name] = op  # later look-ups skip __getattr__
        return op


_multi = _MultiTensorOps()
Scalar = float | torch.Tensor  # Python numbers eagerly; 0-d tensors where a step is compiled


def _sqrt(x: Scalar) -> Scalar:
    return torch.sqrt(x) if isinstance(x, torch.Tensor) else math.sqrt(x)


def _sub_scaled_ratio(params: Tensors, num: Tensors, denom: Tensors, scale: Scalar) -> Tensors:
    """params - scale * num / denom, fused into one kernel when ``scale`` is a Python number."""
    if isinstance(scale, torch.Tensor):
        return _multi.sub(params, _multi.mul(_multi.div(num, denom), scale))
    return _multi.addcdiv(params, num, denom, value=-scale)
