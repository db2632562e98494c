"""A callback's state as data: what ``Callback.get_state`` returns and a backup stores.

A state is a tree of plain values (None, bools, numbers, strings, lists, dicts with string keys)
whose leaves may also be NumPy arrays and torch tensors. ``encode`` splits it into a JSON-able tree
and a dict of tensors (stored apart, bit for bit, in safetensors); ``decode`` puts it back.
Non-finite floats (an EarlyStopping's ``best`` starts at infinity) are tagged, as JSON has none.

>>> import numpy as np
>>> tree, tensors = encode({"best": float("inf"), "weights": [np.ones(2)]}, "cb")
>>> tree
{'best': {'__float__': 'inf'}, 'weights': [{'__array__': 'cb/weights/0'}]}
>>> decode(tree, tensors)["weights"][0]
array([1., 1.])
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

_PLAIN = (type(None), bool, int, str)


def is_data(value: Any) -> bool:
    """Whether ``value`` is a state tree ``encode`` can store."""
    if isinstance(value, _PLAIN + (float, np.ndarray, torch.Tensor, np.generic)):
        return not isinstance(value, np.ndarray) or value.dtype != object
    if isinstance(value, (list, tuple)):
        return all(is_data(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and is_data(v) for k, v in value.items())
    return False


def encode(value: Any, prefix: str) -> tuple[Any, dict[str, torch.Tensor]]:
    """(JSON-able tree, {key: tensor}) for a state tree; tensor keys start with ``prefix``."""
    tensors: dict[str, torch.Tensor] = {}

    def walk(v, key):
        if isinstance(v, torch.Tensor):
            tensors[key] = v.detach().cpu().contiguous()
            return {"__tensor__": key}
        if isinstance(v, np.ndarray):
            tensors[key] = torch.from_numpy(np.ascontiguousarray(v)).clone()
            return {"__array__": key}
        if isinstance(v, np.generic):
            v = v.item()
        if isinstance(v, float) and not math.isfinite(v):
            return {"__float__": repr(v)}
        if isinstance(v, (list, tuple)):
            return [walk(x, f"{key}/{i}") for i, x in enumerate(v)]
        if isinstance(v, dict):
            return {k: walk(x, f"{key}/{k}") for k, x in v.items()}
        return v

    return walk(value, prefix), tensors


def decode(tree: Any, tensors: dict[str, torch.Tensor]) -> Any:
    """The state tree ``encode`` split (tuples come back as lists)."""
    if isinstance(tree, list):
        return [decode(v, tensors) for v in tree]
    if isinstance(tree, dict):
        if set(tree) == {"__tensor__"}:
            return tensors[tree["__tensor__"]].clone()
        if set(tree) == {"__array__"}:
            return tensors[tree["__array__"]].numpy().copy()
        if set(tree) == {"__float__"}:
            return float(tree["__float__"])
        return {k: decode(v, tensors) for k, v in tree.items()}
    return tree
