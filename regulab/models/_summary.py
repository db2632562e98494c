"""Keras-style model summary, drawn with rich: layers, output shapes, parameter counts, and for
graphs the "Connected to" column (``layer[node][tensor]``, Keras's notation)."""
from __future__ import annotations

import io

from rich import box
from rich.console import Console
from rich.table import Table


def _size(n_params: int) -> str:
    n_bytes = 4.0 * n_params  # float32
    for unit in ("B", "KB", "MB", "GB"):
        if n_bytes < 1024 or unit == "GB":
            return f"{n_bytes:.2f} {unit}"
        n_bytes /= 1024
    return ""


def _shape(layer) -> str:
    shape = layer.output_shape
    if shape is None:
        return "?"
    if isinstance(shape, list):
        return ", ".join(str((None, *s)) for s in shape)
    return str((None, *shape))


def _connections(model) -> dict[int, str] | None:
    """For a functional model: ``{id(layer): "dense[0][0], b[0][0]"}`` from its nodes."""
    from regulab.models._functional import Functional

    if not isinstance(model, Functional):
        return None
    node_index: dict[int, int] = {}
    counts: dict[int, int] = {}
    for layer in model._input_layers:
        node_index[id(layer.output.node)] = 0
    for node in model._nodes:
        node_index[id(node)] = counts.get(id(node.layer), 0)
        counts[id(node.layer)] = node_index[id(node)] + 1
    out: dict[int, list[str]] = {}
    for node in model._nodes:
        refs = [f"{t.node.layer.name}[{node_index[id(t.node)]}][{t.index}]" for t in node.input_tensors]
        out.setdefault(id(node.layer), []).extend(refs)
    return {k: ", ".join(v) for k, v in out.items()}


def _rows(model, depth: int, expand_nested: bool, connected: bool):
    from regulab.models._model import Model

    links = _connections(model)
    for layer in model.layers:
        prefix = "  " * depth + ("└ " if depth else "")
        params = f"{layer.count_params():,}" if layer.built else "0 (unbuilt)"
        row = [f"{prefix}{layer.name} ({type(layer).__name__})", _shape(layer), params]
        if connected:
            row.append((links or {}).get(id(layer), "-"))
        yield row
        if expand_nested and isinstance(layer, Model):
            yield from _rows(layer, depth + 1, expand_nested, connected)


def summary_text(model, width: int = 88, expand_nested: bool = False) -> str:
    connected = _connections(model) is not None
    width = max(width, 110) if connected else width
    table = Table(box=box.HEAVY_HEAD, show_lines=True, width=width)
    table.add_column("Layer (type)", no_wrap=True)
    table.add_column("Output Shape", no_wrap=True)
    table.add_column("Param #", justify="right", no_wrap=True)
    if connected:
        table.add_column("Connected to")
    for row in _rows(model, 0, expand_nested, connected):
        table.add_row(*row)
    weights = model.weights
    total = sum(v.value.numel() for v in weights)
    trainable = sum(v.value.numel() for v in model.trainable_weights)
    out = io.StringIO()
    console = Console(file=out, width=width, force_terminal=False, color_system=None)
    console.print(f'Model: "{model.name}"')
    console.print(table)
    console.print(f" Total params: {total:,} ({_size(total)})")
    console.print(f" Trainable params: {trainable:,} ({_size(trainable)})")
    console.print(f" Non-trainable params: {total - trainable:,} ({_size(total - trainable)})")
    return out.getvalue().rstrip("\n")


def print_summary(model, print_fn=None, expand_nested: bool = False, line_length: int | None = None) -> None:
    text = summary_text(model, width=line_length or 88, expand_nested=expand_nested)
    if print_fn is None:
        print(text)
    else:
        for line in text.splitlines():
            print_fn(line)
