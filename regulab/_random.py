"""Counter-based random numbers: pure functions of (key, position).

Every random draw inside a training step (dropout masks, Gaussian noise) is a hash of the element's
index mixed with a 32-bit key, so a step is a pure function of its inputs: the same key gives the same
mask on CPU and GPU, eagerly or compiled, and a study can give each variant its own key without any
global generator. The mixer is the 32-bit integer finaliser popularised by T. Mueller (two rounds of
xor-shift-multiply); all products stay below 2**63, so int64 arithmetic never overflows.
"""
from __future__ import annotations

import torch

_M32 = 0xFFFFFFFF
_MUL = 0x45D9F3B
_SPREAD = 0x27D4EB2F  # odd and below 2**31, so a 32-bit value times it stays below 2**63


def mix32(x):
    """Mix a 32-bit value (a Python int or an int64 tensor holding values below 2**32)."""
    x = (((x >> 16) ^ x) * _MUL) & _M32
    x = (((x >> 16) ^ x) * _MUL) & _M32
    return (x >> 16) ^ x


def fold_in(key, data: int):
    """Derive a new 32-bit key from ``key`` (an int or an int64 tensor) and an integer."""
    return mix32((mix32(key & _M32) ^ ((data * _SPREAD) & _M32)) & _M32)


def random_bits(key, shape, device=None) -> torch.Tensor:
    """Uniform 32-bit integers (as int64) of ``shape`` determined by ``key`` alone.

    ``key`` is a Python int or a 0-d int64 tensor (what a compiled step receives), or a 1-D
    tensor of V keys: the result is then ``(V, *shape)``, row ``v`` what ``key[v]`` alone gives
    (the draws of V stacked variants in one call).
    """
    n = 1
    for s in shape:
        n *= int(s)
    idx = torch.arange(n, dtype=torch.int64, device=device)
    rows = ()
    if isinstance(key, torch.Tensor):
        key = key.to(device=idx.device)
        if key.dim() == 1:
            rows = (key.shape[0],)
            key = key.reshape(-1, 1)
    key = key & _M32
    return mix32(mix32(idx ^ key) ^ ((key * _SPREAD) & _M32)).reshape(*rows, *shape)


def uniform(key, shape, device=None, dtype=torch.float32) -> torch.Tensor:
    """Uniform floats in [0, 1) with 24 bits of resolution (``key`` as in ``random_bits``)."""
    # scale in float32 (exact for 24-bit integers); a narrower dtype would round values near 1 up to
    # 1.0, so clamp to its largest value below 1
    u = (random_bits(key, shape, device) >> 8).to(torch.float32) * (1.0 / (1 << 24))
    if dtype in (torch.float32, torch.float64):
        return u.to(dtype)
    return u.to(dtype).clamp(max=1.0 - torch.finfo(dtype).eps / 2)


def normal(key, shape, device=None, dtype=torch.float32) -> torch.Tensor:
    """Standard normal samples by the Box-Muller transform of two independent uniforms (``key``
    as in ``random_bits``)."""
    # both uniforms from one stream of twice the size: two separately keyed hash chains fused into
    # one kernel made Inductor's C++ code generation take ~40 s longer (torch 2.13)
    u1, u2 = uniform(key, (2, *shape), device, dtype).unbind(-len(shape) - 1)
    r = torch.sqrt(-2.0 * torch.log1p(-u1))  # log1p(-u) keeps u=0 finite
    return r * torch.cos((2.0 * torch.pi) * u2)

