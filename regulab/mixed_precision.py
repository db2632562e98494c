"""Mixed precision with Keras's policy names.

``"mixed_bfloat16"`` computes layers in bfloat16 (matrix products on tensor cores) while weights,
optimizer state, losses and metrics stay float32, so no loss scaling is needed. ``"float32"`` is the
default. Keras's ``"mixed_float16"`` needs loss scaling and is not offered.

>>> from regulab import mixed_precision
>>> mixed_precision.set_global_policy("mixed_bfloat16")
>>> mixed_precision.global_policy()
'mixed_bfloat16'
>>> mixed_precision.set_global_policy("float32")
"""
from __future__ import annotations

import torch

from regulab._validation import check_choice

POLICIES = ("float32", "mixed_bfloat16")
_ALIASES = {"bf16": "mixed_bfloat16", "bfloat16": "mixed_bfloat16", "fp32": "float32"}
_global = "float32"


def resolve(name, where: str = "set_global_policy") -> str:
    """A policy name, or its alias ('bf16'), checked; ``mixed_float16`` gets its own explanation."""
    if name == "mixed_float16":
        raise ValueError("Invalid value for argument `precision`: 'mixed_float16' needs loss scaling, which "
                         "regulab does not do; use 'mixed_bfloat16' (same speed on GPUs that have it, "
                         "no scaling needed). Received: precision='mixed_float16'")
    name = _ALIASES.get(name, name)
    return check_choice("precision", name, POLICIES + tuple(_ALIASES), where=where)


def set_global_policy(policy: str) -> None:
    """Set the precision of models compiled afterwards without an explicit ``precision``."""
    global _global
    _global = resolve(policy)


def global_policy() -> str:
    return _global


def check_device(policy: str, device: torch.device) -> None:
    if policy == "mixed_bfloat16" and device.type == "cuda" and not torch.cuda.is_bf16_supported():
        raise ValueError(f"Invalid value for argument `precision`: this GPU ({torch.cuda.get_device_name(device)}) "
                         "has no bfloat16 support. Received: precision='mixed_bfloat16'")
