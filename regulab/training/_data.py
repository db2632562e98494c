"""Turning user data into device tensors, once, with every check done before training starts.

Float data is scanned for NaN and infinite values as it is converted (``_finite``: one vectorized pass); the
error names the argument, the first bad index and how many there are:

>>> import torch
>>> x = np.zeros((20, 4), dtype="float32"); x[12, 3] = np.nan; x[15:17] = np.inf
>>> with data_source("fit"):
...     to_tensor(x, "x", torch.device("cpu"))
Traceback (most recent call last):
...
ValueError: Invalid value in `x` of fit: x contains NaN at index (12, 3) (the first of 9 non-finite values); clean or impute the data before training.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from regulab._validation import check_float

from regulab.training._finite import (check_finite_batch, check_finite_tensor, data_source,  # noqa: F401
                                      non_finite_error, several as _several)


def as_array(data, name: str) -> np.ndarray | torch.Tensor:
    """Accept NumPy arrays, torch tensors, pandas objects and nested lists."""
    if isinstance(data, torch.Tensor):
        return data.detach()
    if hasattr(data, "to_numpy"):  # pandas DataFrame/Series
        data = data.to_numpy()
    try:
        arr = np.asarray(data)
    except (ValueError, TypeError) as e:
        raise TypeError(f"Argument `{name}` must be an array-like of numbers; could not convert it: {e}") from None
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise TypeError(f"Argument `{name}` must hold numbers; received an array of dtype {arr.dtype}.")
    return arr


def to_tensor(data, name: str, device, dtype=torch.float32, check_finite: bool = True) -> torch.Tensor:
    """Convert to a tensor on ``device``, rejecting NaN and inf with the first bad position.
    A tensor that carries gradients (another model's output, in a custom ``train_step``) keeps
    them, and a tensor with ``check_finite=False`` (a model called on tensors, as a training loop
    does every step) is not scanned: both are converted to ``dtype`` and ``device`` only."""
    if isinstance(data, torch.Tensor) and (data.requires_grad or not check_finite):
        if data.dim() == 0:
            raise ValueError(f"Argument `{name}` must have a batch axis; received a scalar.")
        return data.to(device=device, dtype=dtype)
    arr = as_array(data, name)
    if isinstance(arr, np.ndarray) and not arr.flags.writeable:
        arr = arr.copy()  # torch cannot wrap read-only memory (pandas often hands out such arrays)
    t = torch.as_tensor(arr)
    if t.dim() == 0:
        raise ValueError(f"Argument `{name}` must have a batch axis; received a scalar.")
    if t.is_floating_point() and not dtype.is_floating_point:
        check_finite_tensor(t, name)
        # indices given as floats (a CSV read as float): whole numbers convert, others are a mistake
        frac = t != torch.round(t)
        if bool(frac.any()):
            bad = frac.nonzero()[0].tolist()
            raise ValueError(f"Argument `{name}` feeds an input of integer indices, but contains the "
                             f"non-integer value {t[tuple(bad)].item()} at index {tuple(bad)}.")
    source = t
    t = t.to(dtype)
    if t.is_floating_point():
        # after the cast, so float64 values beyond float32's range are caught too
        check_finite_tensor(t, name, original=source if source.dtype != t.dtype else None)
    return t.to(device)


def check_lengths(**arrays) -> int:
    lengths = {k: int(v.shape[0]) for k, v in arrays.items() if v is not None}
    if len(set(lengths.values())) > 1:
        desc = ", ".join(f"{k} has {n} samples" for k, n in lengths.items())
        raise ValueError(f"Data cardinality is ambiguous: {desc}. Make sure all arrays "
                         f"contain the same number of samples.")
    return next(iter(lengths.values()))


def align_structure(value, names: list[str], arg: str, what: str, required: list[str] | None = None) -> list:
    """``value`` (a list/tuple in order, or a dict by name) as one entry per name. Entries named in
    ``required`` must be present."""
    if isinstance(value, dict):
        unknown = [k for k in value if k not in names]
        if unknown:
            raise ValueError(f"Argument `{arg}` names {unknown[0]!r}, which is not one of the model's {what}: "
                             f"{', '.join(repr(n) for n in names)}.")
        out = [value.get(n) for n in names]
    elif isinstance(value, (list, tuple)):
        if len(value) != len(names):
            raise ValueError(f"Argument `{arg}` has {len(value)} entries but the model has {len(names)} {what} "
                             f"({', '.join(repr(n) for n in names)}); pass one per {what[:-1]}, or a dict by name.")
        out = list(value)
    elif len(names) == 1:
        out = [value]
    else:
        raise ValueError(f"Argument `{arg}` must be a list or a dict by name for a model with {len(names)} "
                         f"{what} ({', '.join(repr(n) for n in names)}). Received: {type(value).__name__}")
    for n in (required if required is not None else names):
        if out[names.index(n)] is None:
            raise ValueError(f"Argument `{arg}` has no entry for the {what[:-1]} {n!r}; the model's {what} are "
                             f"{', '.join(repr(m) for m in names)}.")
    return out


def align_target(y, y_pred: torch.Tensor, target_kind: str) -> torch.Tensor:
    """A user's targets inside a custom ``train_step``, shaped like the prediction (no checks:
    the step runs per batch)."""
    t = y if isinstance(y, torch.Tensor) else torch.as_tensor(np.asarray(y))
    t = t.to(y_pred.device)
    if target_kind == "sparse":
        return t.long().reshape(y_pred.shape[:-1])
    t = t.to(torch.float32)
    if t.shape != y_pred.shape and t.numel() == y_pred.numel():
        t = t.reshape(y_pred.shape)
    return t


def device_tensor(value, name: str, device) -> torch.Tensor:
    """``value`` on ``device``: floats as checked float32, integers as they are."""
    arr = as_array(value, name)
    floating = arr.is_floating_point() if isinstance(arr, torch.Tensor) else np.issubdtype(arr.dtype, np.floating)
    if floating:
        return to_tensor(arr, name, device)
    return torch.as_tensor(arr).to(device)


def device_tree(value, name: str, device):
    """``value`` as device tensors, keeping its structure (lists and dicts of arrays)."""
    if isinstance(value, dict):
        return {k: device_tree(v, f"{name}[{k!r}]", device) for k, v in value.items()}
    if _several(value):
        return [device_tree(v, f"{name}[{i}]", device) for i, v in enumerate(value)]
    return device_tensor(value, name, device)


def custom_batch(model, x, y, sample_weight):
    """One batch for a user's ``train_step``: device tensors in Keras's ``(x, y[, w])`` form (x
    alone when there are no targets); lists and dicts of inputs or targets keep their structure."""
    xt = device_tree(x, "x", model.device)
    if isinstance(xt, list):
        xt = tuple(xt)
    data = [xt]
    if y is not None:
        data.append(device_tree(y, "y", model.device))
    if sample_weight is not None:
        data.append(to_tensor(sample_weight, "sample_weight", model.device))
    return data[0] if len(data) == 1 else tuple(data)


def prepare_targets(y, target_kind: str, output_shape: tuple, device, name: str = "y") -> torch.Tensor:
    """Check labels against the loss and shape them like the model's output."""
    if y is None:
        raise ValueError(f"Targets `{name}` are missing; every output with a loss needs targets.")
    units = output_shape[-1]
    if target_kind == "sparse":
        arr = as_array(y, name)
        t = torch.as_tensor(arr)
        if t.is_floating_point():
            check_finite_tensor(t, name)
            if not bool((t == t.round()).all()):
                raise ValueError("sparse_categorical_crossentropy expects integer class labels; "
                                 "received non-integer values in `y`.")
        lead = tuple(output_shape[:-1])  # one label per sample, or per time step of a sequence
        if None in lead:  # sequences of any length: the labels' own axes must line up
            if t.dim() == len(lead) + 2 and t.shape[-1] == 1:
                t = t[..., 0]
            ok = t.dim() == len(lead) + 1 and all(d is None or d == n for d, n in zip(lead, t.shape[1:]))
        else:
            ok = t.numel() == t.shape[0] * math.prod(lead)
        if not ok:
            raise ValueError(f"sparse_categorical_crossentropy expects one integer class label per sample; "
                             f"received `y` of shape {tuple(t.shape)}. For one-hot labels use "
                             f"'categorical_crossentropy'.")
        t = t.reshape(t.shape[0], *(t.shape[1:] if None in lead else lead)).long()
        lo, hi = int(t.min()), int(t.max())
        if lo < 0 or hi >= units:
            raise ValueError(f"sparse_categorical_crossentropy: labels must be in [0, {units - 1}] for a "
                             f"model with {units} output units; received labels from {lo} to {hi}.")
        return t.to(device)
    t = to_tensor(y, name, device)
    if t.dim() == 1 and output_shape == (1,):
        t = t.reshape(-1, 1)
    # a None axis of the output (sequences of any length) takes the targets' size
    if t.dim() != len(output_shape) + 1 or any(d is not None and d != n for d, n in zip(output_shape, t.shape[1:])):
        hint = ""
        if target_kind == "categorical" and t.dim() == 1:
            hint = (" categorical_crossentropy expects one-hot labels; for integer labels use "
                    "'sparse_categorical_crossentropy'.")
        elif target_kind == "binary" and t.dim() == 1 and len(output_shape) == 1 and output_shape[0] > 1:
            hint = (f" binary_crossentropy expects one 0/1 label per output unit; for one integer class label "
                    f"per sample and {output_shape[0]} classes use 'sparse_categorical_crossentropy'.")
        raise ValueError(f"Targets `y` have shape {(None, *t.shape[1:])} but the model's output has shape "
                         f"{(None, *output_shape)}.{hint}")
    if target_kind == "binary":
        lo, hi = float(t.min()), float(t.max())
        if lo < 0.0 or hi > 1.0:
            raise ValueError(f"binary_crossentropy expects labels in [0, 1]; received labels from "
                             f"{lo:g} to {hi:g}.")
    return t


def class_labels(y: torch.Tensor, target_kind: str) -> np.ndarray | None:
    """Integer class of each sample, for stratification and class_weight; None for regression."""
    if target_kind == "sparse":
        return y.reshape(y.shape[0], -1)[:, 0].cpu().numpy()
    if target_kind == "categorical":
        return y.reshape(y.shape[0], -1).argmax(1).cpu().numpy()
    if target_kind == "binary" and y.reshape(y.shape[0], -1).shape[1] == 1:
        return (y.reshape(-1) > 0.5).long().cpu().numpy()
    return None


def check_sample_weight(n: int, sample_weight, device) -> torch.Tensor | None:
    """The user's ``sample_weight`` as a checked device tensor, or None."""
    if sample_weight is None:
        return None
    w = to_tensor(sample_weight, "sample_weight", device).reshape(-1)
    if w.shape[0] != n:
        raise ValueError(f"Argument `sample_weight` has {w.shape[0]} entries; expected one per sample ({n}).")
    if bool((w < 0).any()):
        raise ValueError("Argument `sample_weight` must not contain negative weights.")
    return w


def apply_class_weight(w: torch.Tensor | None, labels: np.ndarray | None, class_weight, device):
    """Multiply checked per-sample weights ``w`` (or None) by each sample's class weight."""
    if class_weight is None:
        return w
    if labels is None:
        raise ValueError("Argument `class_weight` needs one class per sample: a classification loss "
                         "with single-label targets (not regression or multi-label outputs). Use "
                         "`sample_weight` instead.")
    if not isinstance(class_weight, dict):
        raise TypeError(f"Argument `class_weight` must be a dict {{class: weight}}. Received: {class_weight!r}")
    present = set(np.unique(labels).tolist())
    missing = sorted(present - set(int(k) for k in class_weight))
    if missing:
        raise ValueError(f"Argument `class_weight` has no weight for classes {missing} present in `y`.")
    table = np.zeros(max(max(present), max(int(k) for k in class_weight)) + 1, dtype=np.float32)
    for k, v in class_weight.items():
        table[int(k)] = check_float(f"class_weight[{k}]", v, low=0.0)
    cw = torch.as_tensor(table[labels], device=device)
    return cw if w is None else w * cw


@dataclass
class Split:
    """Which samples fit trains and validates on, and how the split was made."""

    train: np.ndarray
    val: np.ndarray
    stratified: bool
    seed: int

    def describe(self) -> str:
        n = len(self.train) + len(self.val)
        how = "stratified by class" if self.stratified else "random"
        return (f"validation_split: {len(self.val)} of {n} samples held out for validation "
                f"({how}, seed {self.seed}); training on {len(self.train)}.")


def validation_split(n: int, fraction, labels: np.ndarray | None, seed: int) -> Split:
    """A random (seeded) split, stratified when ``labels`` are given.

    Unlike Keras, which holds out the *last* samples unshuffled, this never yields a validation set
    of one class because the data happened to be sorted.
    """
    fraction = check_float("validation_split", fraction, low=0.0, high=1.0, high_open=True)
    n_val = int(round(n * fraction))
    if n_val < 1 or n_val >= n:
        raise ValueError(f"Invalid value for argument `validation_split`: {fraction} of {n} samples leaves "
                         f"{n_val} for validation and {n - n_val} for training; both need at least one.")
    rng = np.random.default_rng(seed)
    if labels is None:
        perm = rng.permutation(n)
        return Split(np.sort(perm[n_val:]), np.sort(perm[:n_val]), False, seed)
    classes, counts = np.unique(labels, return_counts=True)
    if n_val < len(classes) or (counts < 2).any():
        raise ValueError(
            f"Invalid value for argument `validation_split`: a stratified split needs every class in both "
            f"sets, but {fraction} of {n} samples gives {n_val} validation samples for {len(classes)} "
            f"classes (smallest class: {int(counts.min())} samples). Use a larger validation_split or "
            f"pass validation_data.")
    # allocate validation places per class proportionally (largest remainders), at least one each
    # and leaving at least one for training
    exact = counts * (n_val / n)
    take = np.clip(np.floor(exact).astype(int), 1, counts - 1)
    order = np.argsort(-(exact - np.floor(exact)))
    i = 0
    while take.sum() < n_val and i < 10 * len(classes):
        c = order[i % len(classes)]
        if take[c] < counts[c] - 1:
            take[c] += 1
        i += 1
    val_idx = []
    for c, k in zip(classes, take):
        members = np.flatnonzero(labels == c)
        val_idx.append(rng.choice(members, size=int(k), replace=False))
    val = np.sort(np.concatenate(val_idx))
    mask = np.ones(n, dtype=bool)
    mask[val] = False
    return Split(np.flatnonzero(mask), val, True, seed)


def num_batches(n: int, batch_size: int) -> int:
    return math.ceil(n / batch_size)
