"""Keras-style model summary, drawn with rich."""
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


def summary_text(model, width: int = 88) -> str:
    table = Table(box=box.HEAVY_HEAD, show_lines=True, width=width)
    table.add_column("Layer (type)", no_wrap=True)
    table.add_column("Output Shape", no_wrap=True)
    table.add_column("Param #", justify="right", no_wrap=True)
    for layer in model.layers:
        shape = "?" if layer.output_shape is None else str((None, *layer.output_shape))
        params = f"{layer.count_params():,}" if layer.built else "0 (unbuilt)"
        table.add_row(f"{layer.name} ({type(layer).__name__})", shape, params)
    total = sum(v.value.numel() for v in model.weights)
    trainable = sum(v.value.numel() for v in model.weights if v.trainable)
    out = io.StringIO()
    console = Console(file=out, width=width, force_terminal=False, color_system=None)
    console.print(f'Model: "{model.name}"')
    console.print(table)
    console.print(f" Total params: {total:,} ({_size(total)})")
    console.print(f" Trainable params: {trainable:,} ({_size(trainable)})")
    console.print(f" Non-trainable params: {total - trainable:,} ({_size(total - trainable)})")
    return out.getvalue().rstrip("\n")


def print_summary(model, print_fn=None) -> None:
    text = summary_text(model)
    if print_fn is None:
        print(text)
    else:
        for line in text.splitlines():
            print_fn(line)
