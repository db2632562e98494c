"""Which weights are exactly zero, and which input features a model no longer uses.

L1's promise in the lesson is feature selection: an input feature whose every outgoing weight in
the first layer is zero has been dropped from the model. Only exact zeros count (proximal L1 makes
them; plain subgradient L1 leaves tiny non-zero values that this report does not round away).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class SparsityReport:
    """Zero fractions per layer kernel and the input features still in use."""

    per_layer: dict[str, float]     # layer name -> fraction of its kernel entries that are exactly 0
    zero_fraction: float            # over all kernels
    selected_features: np.ndarray   # input features with at least one non-zero outgoing weight
    dropped_features: np.ndarray    # input features whose outgoing weights are all zero

    def __str__(self) -> str:
        lines = [f"{name}: {frac:.1%} of kernel weights are zero" for name, frac in self.per_layer.items()]
        lines.append(f"inputs in use: {len(self.selected_features)} of "
                     f"{len(self.selected_features) + len(self.dropped_features)}")
        return "\n".join(lines)


def sparsity(model) -> SparsityReport:
    """Report exact zeros in every layer's kernel and which inputs the first kernel ignores.

    >>> from regulab.models import Sequential
    >>> from regulab.layers import Dense
    >>> m = Sequential([Dense(2, input_dim=3), Dense(1)])
    >>> w = m.get_weights(); w[0][1, :] = 0.0; m.set_weights(w)
    >>> r = sparsity(m)
    >>> r.dropped_features.tolist(), round(r.per_layer[m.layers[0].name], 3)
    ([1], 0.333)
    """
    model._require_built("sparsity")
    per_layer, zeros, total = {}, 0, 0
    first = None
    for layer in model.layers:
        kernel = getattr(layer, "kernel", None)
        if kernel is None:
            continue
        k = kernel.numpy()
        n0 = int((k == 0).sum())
        per_layer[layer.name] = n0 / k.size
        zeros += n0
        total += k.size
        if first is None:
            first = k
    if first is None:
        raise ValueError(f"Model '{model.name}' has no layer with a kernel to report on.")
    # a kernel is (..., inputs, units): an input is unused when all its outgoing weights are zero
    in_use = (first.reshape(-1, first.shape[-2], first.shape[-1]) != 0).any(axis=(0, 2))
    return SparsityReport(per_layer, zeros / max(total, 1), np.flatnonzero(in_use), np.flatnonzero(~in_use))
