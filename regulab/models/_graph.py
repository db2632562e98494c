"""The graph of a functional model: collecting its nodes from outputs back to inputs, and the
small helpers its forward pass and configuration use to move through nested inputs."""
from __future__ import annotations

from regulab.layers._core import InputLayer
from regulab.layers._symbolic import SymbolicTensor


def as_list(structure, what: str) -> tuple[list, str, list | None]:
    """(flat tensors, kind 'single'|'list'|'dict', dict keys)."""
    if isinstance(structure, dict):
        keys = list(structure)
        return [structure[k] for k in keys], "dict", keys
    if isinstance(structure, (list, tuple)):
        return list(structure), "list", None
    return [structure], "single", None


def check_symbolic(tensors, what: str) -> None:
    for t in tensors:
        if not isinstance(t, SymbolicTensor):
            raise TypeError(f"All {what} of a functional Model must be symbolic tensors (from `Input` or "
                            f"from layers called on them). Received: {t!r}")


def walk(outputs: list[SymbolicTensor], inputs: list[SymbolicTensor]) -> list:
    """The nodes between ``inputs`` and ``outputs`` in topological order (inputs' nodes excluded)."""
    input_ids = {id(t) for t in inputs}
    order, done, active = [], set(), set()

    def visit(tensor: SymbolicTensor, path: list):
        if id(tensor) in input_ids:
            return
        node = tensor.node
        if isinstance(node.layer, InputLayer):
            raise ValueError(_disconnected(tensor, path, inputs))
        if id(node) in done:
            return
        if id(node) in active:
            raise ValueError(f"The graph has a cycle through layer '{node.layer.name}'.")
        active.add(id(node))
        for t in node.input_tensors:
            visit(t, path + [node.layer.name])
        active.discard(id(node))
        done.add(id(node))
        order.append(node)

    for t in outputs:
        visit(t, [])
    return order


def _disconnected(tensor, path, inputs) -> str:
    names = ", ".join(f"'{t.node.layer.name}'" for t in inputs)
    where = f" (needed by layer '{path[-1]}')" if path else " (an output itself)"
    return (f"Graph disconnected: the model's outputs depend on the input '{tensor.node.layer.name}'{where}, "
            f"which is not among the model's inputs ({names}). Pass every Input the outputs depend on "
            f"as `inputs`.")


def gather(values: list, slots):
    if isinstance(slots, int):
        return values[slots]
    return [gather(values, s) for s in slots]


def map_refs(fn, structure):
    if isinstance(structure, list) and len(structure) == 3 and isinstance(structure[0], str):
        return fn(structure)
    if isinstance(structure, list):
        return [map_refs(fn, s) for s in structure]
    raise ValueError(f"a node's inputs are malformed: {structure!r}")
