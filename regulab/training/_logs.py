"""What a train or test step returns, checked and shaped as Keras returns it."""
from __future__ import annotations

import numpy as np
import torch


def check_step_logs(model, logs, what: str) -> dict:
    """A train/test step's result must be a dict of scalars (what History and callbacks take)."""
    if not isinstance(logs, dict):
        raise TypeError(f"{type(model).__name__}.{what} must return a dict of scalars (metric name -> value); "
                        f"received {type(logs).__name__}: {logs!r}")
    out = {}
    for k, v in logs.items():
        if isinstance(v, torch.Tensor) and v.numel() == 1:
            v = float(v.detach())
        elif isinstance(v, np.ndarray) and v.size == 1:
            v = float(v)
        if isinstance(v, bool) or not isinstance(v, (int, float, np.floating, np.integer)):
            raise TypeError(f"{type(model).__name__}.{what} must return a dict of scalars (metric name -> value); "
                            f"entry {k!r} is {type(v).__name__}: {v!r}")
        out[str(k)] = float(v)
    return out


def logs_as_result(logs: dict, return_dict: bool):
    if return_dict:
        return logs
    # the list form is Keras's [loss, *metrics]; data_loss is in the dict form only
    values = [v for k, v in logs.items() if k != "data_loss"]
    return values[0] if len(values) == 1 else values
