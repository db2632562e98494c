"""The default device models train on."""
from __future__ import annotations

import torch

_default = torch.device("cpu")


def set_device(device) -> None:
    """Make ``device`` (``'cpu'``, ``'cuda'``, ``'cuda:1'``...) the default for models compiled afterwards."""
    global _default
    _default = resolve_device(device)


def get_device() -> torch.device:
    return _default


def resolve_device(device) -> torch.device:
    if device is None:
        return _default
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(f"Invalid value for argument `device`: expected 'cpu', 'cuda' or a torch.device. "
                         f"Received: device={device!r}") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"Invalid value for argument `device`: CUDA is not available on this machine "
                         f"(torch {torch.__version__}). Received: device={device!r}")
    return dev
