"""Symbolic tensors and graph nodes: what calling layers on ``Input(...)`` records.

``Input(shape)`` returns a ``SymbolicTensor``: a shape and dtype with no data. Calling a layer on
symbolic tensors builds the layer for their shapes and records a ``Node`` (the layer, its inputs,
its outputs); ``Model(inputs, outputs)`` then walks the nodes from the outputs back to the inputs
(``models/_functional.py``). A layer called on several symbolic inputs has one node per call:
that is how a layer is shared.
"""
from __future__ import annotations

from typing import Any

import torch

_DTYPES = {"float32": torch.float32, "float64": torch.float32, "float16": torch.float16,
           "bfloat16": torch.bfloat16, "int32": torch.int32, "int64": torch.int64, "int8": torch.int8,
           "uint8": torch.uint8, "int16": torch.int16, "bool": torch.bool}


def resolve_dtype(dtype, where: str = "Input") -> torch.dtype:
    if dtype is None:
        return torch.float32
    if isinstance(dtype, torch.dtype):
        return dtype
    name = getattr(dtype, "name", dtype)  # numpy dtypes
    if isinstance(name, str) and name in _DTYPES:
        return _DTYPES[name]
    raise ValueError(f"Invalid value for argument `dtype` of {where}: expected one of "
                     f"{', '.join(repr(d) for d in _DTYPES)}. Received: dtype={dtype!r}")


def dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).replace("torch.", "")


class SymbolicTensor:
    """A placeholder for a batch of values: shape (batch axis first, ``None``) and dtype.

    Attributes:
        node: the node that produced it; ``index``: which of the node's outputs it is.
    """

    def __init__(self, shape: tuple, dtype: torch.dtype = torch.float32, node=None, index: int = 0,
                 name: str | None = None):
        self.shape = (None, *shape)
        self.dtype = dtype
        self.node = node
        self.index = index
        self.name = name

    @property
    def sample_shape(self) -> tuple:
        return tuple(self.shape[1:])

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __repr__(self) -> str:
        who = f" (created by layer '{self.node.layer.name}')" if self.node is not None else ""
        return f"<SymbolicTensor shape={self.shape}, dtype={dtype_name(self.dtype)}{who}>"

    def __bool__(self):
        raise TypeError("A symbolic tensor has no value: it cannot be used as a Python bool. Build a "
                        "Model from it and call the model on data.")


class Node:
    """One call of ``layer`` in a graph: ``inputs`` (a symbolic tensor or a list of them) in,
    ``outputs`` (a list of symbolic tensors) out."""

    def __init__(self, layer, inputs, output_shapes: list, output_dtypes: list):
        self.layer = layer
        self.inputs = inputs
        self.outputs = [SymbolicTensor(s, d, self, i) for i, (s, d) in enumerate(zip(output_shapes, output_dtypes))]
        self.index = len(layer._inbound_nodes)
        layer._inbound_nodes.append(self)

    @property
    def input_tensors(self) -> list[SymbolicTensor]:
        return flatten(self.inputs)

    @property
    def parents(self) -> list["Node"]:
        return [t.node for t in self.input_tensors]


def flatten(structure) -> list:
    """The leaves of a tensor, or of a list, tuple or dict of them, in order."""
    if isinstance(structure, (list, tuple)):
        return [leaf for item in structure for leaf in flatten(item)]
    if isinstance(structure, dict):
        return [leaf for key in structure for leaf in flatten(structure[key])]
    return [structure]


def map_structure(fn, structure):
    if isinstance(structure, (list, tuple)):
        return type(structure)(map_structure(fn, s) for s in structure) if isinstance(structure, tuple) \
            else [map_structure(fn, s) for s in structure]
    if isinstance(structure, dict):
        return {k: map_structure(fn, v) for k, v in structure.items()}
    return fn(structure)


def any_symbolic(structure) -> bool:
    if isinstance(structure, SymbolicTensor):
        return True
    if isinstance(structure, (list, tuple)):
        return any(any_symbolic(s) for s in structure)
    if isinstance(structure, dict):
        return any(any_symbolic(s) for s in structure.values())
    return False


def output_dtype(layer, inputs) -> torch.dtype:
    """Layers compute in float32 unless they say otherwise (``layer.output_dtype``)."""
    own = getattr(layer, "output_dtype", None)
    if own is not None:
        return own
    return torch.float32


def call_symbolic(layer, inputs) -> Any:
    """Record ``layer`` called on symbolic ``inputs``; return its symbolic output(s)."""
    if isinstance(inputs, tuple):
        inputs = list(inputs)
    leaves = flatten(inputs)
    if not all(isinstance(t, SymbolicTensor) for t in leaves):
        raise TypeError(f"Layer '{layer.name}' was called on a mix of symbolic tensors (from `Input`) and "
                        f"other values; in a functional model every input of a layer must come from `Input` "
                        f"or from another layer.")
    shapes = [t.sample_shape for t in inputs] if isinstance(inputs, list) else inputs.sample_shape
    if isinstance(inputs, dict):
        raise TypeError(f"Layer '{layer.name}' takes a tensor or a list of tensors; received a dict.")
    out = layer.build_for(shapes)
    multi = isinstance(out, list)
    out_shapes = out if multi else [out]
    dtypes = getattr(layer, "output_dtypes", None) or [output_dtype(layer, inputs)] * len(out_shapes)
    node = Node(layer, inputs, out_shapes, dtypes)
    return list(node.outputs) if multi else node.outputs[0]
