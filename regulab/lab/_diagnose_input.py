"""Reading learning curves for the diagnosis: a History, a dict, or a CSVLogger file; and the
reference levels of a set of labels (chance accuracy, the loss of predicting the class prior).
"""
from __future__ import annotations

import csv
import os
from dataclasses import dataclass

import numpy as np

from regulab._validation import invalid

_WHERE = "diagnose"


@dataclass
class Log:
    """One history's columns (name -> float array, NaN where missing) and what else it tells."""

    columns: dict[str, np.ndarray]
    present: dict[str, np.ndarray]     # name -> which epochs have a value
    directions: dict[str, str]
    learning_rate: float | None
    where: str


def read_csv_log(path) -> dict[str, list]:
    """Read a CSVLogger file into ``{name: [value or None per epoch]}`` (``NA`` and empty cells are
    None; the ``epoch`` column is dropped). The separator is found from the header line."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No history file at {path!r}: expected a CSV file written by CSVLogger.")
    with open(path, newline="", encoding="utf-8") as f:
        text = f.read()
    first = text.splitlines()[0] if text.strip() else ""
    sep = max(",;\t", key=first.count) if first else ","
    rows = [r for r in csv.reader(text.splitlines(), delimiter=sep) if r]
    if not rows:
        raise ValueError(f"Cannot diagnose an empty history: {path!r} has no header and no epochs.")
    header, body = rows[0], rows[1:]
    out: dict[str, list] = {name: [] for name in header if name != "epoch"}
    for line, row in enumerate(body, start=2):
        if len(row) != len(header):
            raise ValueError(f"{path!r}, line {line}: {len(row)} fields where the header has {len(header)}.")
        for name, cell in zip(header, row):
            if name == "epoch":
                continue
            cell = cell.strip()
            if cell in ("", "NA"):
                out[name].append(None)
                continue
            try:
                out[name].append(float(cell))
            except ValueError:
                raise ValueError(f"{path!r}, line {line}: column {name!r} holds {cell!r}, which is not a number "
                                 "or NA.") from None
    return out


def _column(name: str, values, where: str) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(values, (str, bytes)) or not hasattr(values, "__len__"):
        raise invalid(f"{where}[{name!r}]", "a list with one value per epoch", values, _WHERE)
    out = np.full(len(values), np.nan)
    present = np.zeros(len(values), dtype=bool)
    for i, v in enumerate(values):
        if v is None:
            continue
        try:
            out[i] = float(v)
        except (TypeError, ValueError):
            raise ValueError(f"Invalid value for argument `{where}` of diagnose: {name!r} must hold numbers "
                             f"(or None where missing). Received at epoch {i}: {v!r}") from None
        present[i] = True
    return out, present


def load_history(item, where: str) -> Log:
    """Read one history (``where`` names it in errors): its columns, the metric directions and the
    learning rate where the History's model or a ``learning_rate``/``lr`` column gives them."""
    directions: dict[str, str] = {}
    learning_rate = None
    if isinstance(item, (str, os.PathLike)):
        raw = read_csv_log(item)
        where = f"{where} ({os.fspath(item)!r})"
    elif isinstance(item, dict):
        raw = item
    elif hasattr(item, "history") and isinstance(item.history, dict):
        raw = item.history
        directions = dict((getattr(item, "params", None) or {}).get("directions") or {})
        optimizer = getattr(getattr(item, "model", None), "optimizer", None)
        if optimizer is not None:
            try:
                learning_rate = float(optimizer.learning_rate)
            except (TypeError, ValueError, AttributeError):
                learning_rate = None
    else:
        raise invalid(where, "a History, a dict of per-epoch lists, a CSVLogger file path, or a list of "
                      "those", item, _WHERE)
    columns, present = {}, {}
    for name, values in raw.items():
        columns[name], present[name] = _column(str(name), values, where)
    lengths = {name: len(v) for name, v in columns.items()}
    if not columns or max(lengths.values()) == 0:
        raise ValueError(f"Cannot diagnose an empty history: {where} has no epochs. Pass the History that "
                         "fit returns (or its .history dict, or a CSVLogger file) after at least one epoch.")
    if len(set(lengths.values())) > 1:
        raise ValueError(f"Invalid value for argument `{where}` of diagnose: every quantity needs one value per "
                         f"epoch, but the lengths differ: {lengths}.")
    for key in ("learning_rate", "lr"):
        if key in columns and present[key].any():
            learning_rate = float(columns[key][present[key]][-1])
    return Log(columns, present, directions, learning_rate, where)


def reference_levels(y_train) -> dict:
    """The levels a model that ignores its inputs reaches on labels ``y_train``.

    For class labels (integers, strings, or one-hot rows): ``chance_accuracy``, the frequency of the
    majority class, and ``prior_loss``, the cross-entropy of always predicting the class
    frequencies, which is their entropy in nats. For continuous targets: ``prior_loss``, the mean
    squared error of predicting their mean (their variance).

    >>> levels = reference_levels([0, 0, 0, 1])
    >>> round(levels["chance_accuracy"], 2), round(levels["prior_loss"], 4)
    (0.75, 0.5623)
    """
    y = np.asarray(y_train)
    if y.size == 0:
        raise invalid("y_train", "a non-empty array of labels", y_train, _WHERE)
    if y.ndim == 2 and y.shape[1] > 1:
        freq = y.astype(float).sum(0)
    else:
        y = y.reshape(len(y), -1)[:, 0] if y.ndim > 1 else y
        if y.dtype.kind in "OUSb" or np.all(np.asarray(y, dtype=float) == np.round(np.asarray(y, dtype=float))):
            _, counts = np.unique(y, return_counts=True)
            freq = counts.astype(float)
        else:
            v = np.asarray(y, dtype=float)
            if not np.all(np.isfinite(v)):
                raise invalid("y_train", "finite targets", "an array with NaN or infinite values", _WHERE)
            return {"prior_loss": float(v.var()), "prior_loss_of": "the mean squared error of predicting the "
                    "mean of y_train"}
    p = freq / freq.sum()
    nz = p[p > 0]
    return {"chance_accuracy": float(p.max()), "prior_loss": float(-(nz * np.log(nz)).sum()),
            "classes": int(len(p)),
            "prior_loss_of": "the cross-entropy of predicting the class frequencies of y_train, in nats"}
