"""A user's own data: a CSV or NPZ file, with its target encoded and a held-out split made and stated.

A classification target (strings, booleans, or whole numbers with at most :data:`MAX_CLASSES`
distinct values) is encoded as 0..K-1, the sorted class names kept in ``classes``; any other numeric
target is a regression target, kept as floats. The held-out split is stratified for classification, so
every class keeps its proportion, and the returned description says exactly what was done.
"""
from __future__ import annotations

import csv
import math
import os
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from regulab._validation import check_choice, check_float, check_int, suggest

#: whole-number targets with more distinct values than this are regression targets
MAX_CLASSES = 50

#: cells read as a missing value
_MISSING = {"", "nan", "na", "n/a", "null", "none"}


@dataclass(repr=False)
class FileData:
    """Training and held-out arrays read from a file, and what was done to them.

    ``x_test`` and ``y_test`` are ``None`` when no held-out split was made. ``classes`` holds the
    original class names, sorted (label ``i`` is ``classes[i]``), or ``None`` for a regression target.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray | None
    y_test: np.ndarray | None
    classes: list | None
    feature_names: list[str] | None
    description: str

    @property
    def task(self) -> str:
        """``'classification'`` or ``'regression'``."""
        return "regression" if self.classes is None else "classification"

    def standardized(self) -> FileData:
        """The same data with every feature scaled by the training rows' mean and standard deviation.

        The held-out rows use the training rows' statistics, so nothing leaks from them. Constant
        features are only centred.
        """
        mean = self.x_train.mean(axis=0)
        std = self.x_train.std(axis=0)
        std = np.where(std > 0, std, 1.0)
        scale = lambda x: None if x is None else ((x - mean) / std).astype(np.float32)  # noqa: E731
        return replace(self, x_train=scale(self.x_train), x_test=scale(self.x_test),
                       description=self.description + "; features standardized with the training rows' "
                                                      "mean and standard deviation")

    def __repr__(self) -> str:
        return f"FileData({self.description})"


def from_csv(path, target: str, *, test_size: float = 0.2, seed: int = 0, delimiter: str = ",",
             task: str | None = None) -> FileData:
    """Load a CSV file with a header row: the ``target`` column is the label, every other one a feature.

    Args:
        path: the CSV file.
        target: the name of the label column.
        test_size: fraction of rows held out (default 0.2); 0 makes no split.
        seed: seed of the held-out split.
        delimiter: the column separator.
        task: ``'classification'``, ``'regression'`` or ``None`` (default: inferred from the target).

    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "data.csv")
    >>> _ = open(p, "w").write("a,b,label\\n" + "".join(f"{i},{i % 3},{'yes' if i % 2 else 'no'}\\n"
    ...                                                   for i in range(20)))
    >>> data = from_csv(p, "label")
    >>> data.description
    "data.csv: 20 rows, 2 features, target 'label' (2 classes: no, yes); held-out split: 20% stratified (4 rows), seed 0"
    >>> data.x_train.shape, data.classes
    ((16, 2), ['no', 'yes'])
    """
    _check_split_args(test_size, seed, task, "from_csv")
    path = _existing(path)
    if not isinstance(delimiter, str) or len(delimiter) != 1:
        raise ValueError(f"Invalid value for argument `delimiter` of from_csv: expected one character. "
                         f"Received: delimiter={delimiter!r}")
    header, rows, lines = _read_rows(path, delimiter)
    if target not in header:
        raise ValueError(f"{path} has no column '{target}'.{suggest(target, header)} "
                         f"Available columns: {', '.join(header)}.")
    t = header.index(target)
    features = [name for j, name in enumerate(header) if j != t]
    if not features:
        raise ValueError(f"{path} has only the target column '{target}': there are no feature columns.")
    columns = list(zip(*rows))
    x = np.empty((len(rows), len(features)), dtype=np.float32)
    for k, j in enumerate(j for j in range(len(header)) if j != t):
        x[:, k] = _numeric_column(columns[j], header[j], path, lines)
    y = _target_column(columns[t], target, path, lines)
    return from_arrays(x, y, test_size=test_size, seed=seed, task=task, name=path.name, target=target,
                       feature_names=features, where="from_csv")


def from_npz(path, x_key: str = "x", y_key: str = "y", *, test_size: float = 0.2, seed: int = 0,
             task: str | None = None) -> FileData:
    """Load features and labels from a NumPy ``.npz`` archive (as written by ``np.savez(path, x=..., y=...)``).

    ``x`` holds one row per sample, of any shape (a table or images); ``y`` one label per row.

    Args:
        path: the ``.npz`` file.
        x_key, y_key: the names of the feature and label arrays in it.
        test_size: fraction of rows held out (default 0.2); 0 makes no split.
        seed: seed of the held-out split.
        task: ``'classification'``, ``'regression'`` or ``None`` (default: inferred from ``y``).
    """
    _check_split_args(test_size, seed, task, "from_npz")
    path = _existing(path)
    if path.stat().st_size == 0:
        raise ValueError(f"{path} is empty.")
    try:
        archive = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as e:
        raise ValueError(f"{path} is not a NumPy .npz archive ({e}).") from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ValueError(f"{path} holds a single array, not an .npz archive; save the features and labels "
                         f"with np.savez(path, x=x, y=y).")
    with archive:
        arrays = {}
        for key, role in ((x_key, "x_key"), (y_key, "y_key")):
            if key not in archive.files:
                raise ValueError(f"{path} has no array '{key}' (argument `{role}`).{suggest(key, archive.files)} "
                                 f"Arrays in it: {', '.join(archive.files) or 'none'}.")
            try:
                arrays[key] = archive[key]
            except ValueError:
                raise ValueError(f"Array '{key}' of {path} holds Python objects; save numeric or string "
                                 f"arrays.") from None
    x, y = arrays[x_key], arrays[y_key]
    if x.dtype.kind not in "biuf":
        raise ValueError(f"Array '{x_key}' of {path} is not numeric (dtype {x.dtype}); only numeric features "
                         f"can be loaded.")
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(f"Array '{y_key}' of {path} must hold one label per row, shape (N,) or (N, 1). "
                         f"Received shape {y.shape}.")
    if x.ndim == 1:
        x = x[:, None]
    if len(x) != len(y):
        raise ValueError(f"Arrays of {path} disagree: '{x_key}' has {len(x)} rows but '{y_key}' has {len(y)}.")
    if len(x) == 0:
        raise ValueError(f"{path} is empty: its arrays have 0 rows.")
    bad = ~np.isfinite(x.astype(np.float64))
    if bad.any():
        where = np.argwhere(bad)
        if x.ndim == 2:
            cols = np.unique(where[:, 1])
            at = f"column{'s' if len(cols) > 1 else ''} {', '.join(str(c) for c in cols[:5])}"
        else:
            at = f"index {tuple(int(i) for i in where[0])}"
        raise ValueError(f"Array '{x_key}' of {path} has {len(where)} NaN or infinite values, in {at}; "
                         f"fill or drop them before loading.")
    if y.dtype.kind in "biuf":
        if not np.isfinite(y.astype(np.float64)).all():
            raise ValueError(f"Array '{y_key}' of {path} has NaN or infinite labels, in "
                             f"{int((~np.isfinite(y.astype(np.float64))).sum())} rows.")
    elif y.dtype.kind != "U":
        raise ValueError(f"Array '{y_key}' of {path} must hold numbers or strings (dtype {y.dtype}).")
    names = [f"{x_key}[{j}]" for j in range(x.shape[1])] if x.ndim == 2 else None
    return from_arrays(x, y, test_size=test_size, seed=seed, task=task, name=path.name, target=y_key,
                       feature_names=names, where="from_npz")


def from_arrays(x, y, *, test_size: float = 0.2, seed: int = 0, task: str | None = None, name: str = "data",
                target: str = "y", feature_names: list[str] | None = None, where: str = "from_arrays") -> FileData:
    """Encode ``y``, make the held-out split and describe it: what :func:`from_csv` and :func:`from_npz` end with.

    >>> import numpy as np
    >>> data = from_arrays(np.arange(20.0)[:, None], np.array([3, 7] * 10), test_size=0.5, name="toy")
    >>> data.description
    "toy: 20 rows, 1 feature, target 'y' (2 classes: 3, 7); held-out split: 50% stratified (10 rows), seed 0"
    >>> sorted(data.y_test.tolist())
    [0, 0, 0, 0, 0, 1, 1, 1, 1, 1]
    """
    test_size, seed = _check_split_args(test_size, seed, task, where)
    x, y = np.asarray(x, dtype=np.float32), np.asarray(y)
    if x.ndim == 0 or y.ndim != 1 or len(x) != len(y):
        raise ValueError(f"{name}: expected one label per row of the features; received features of shape "
                         f"{x.shape} and labels of shape {y.shape}.")
    n = len(x)
    if n == 0:
        raise ValueError(f"{name} has no rows.")
    y, classes = _encode(y, task, target, name)
    shape = x.shape[1:]
    what = (f"{shape[0]} feature{'s' if shape[0] != 1 else ''}" if len(shape) == 1
            else f"features of shape {'x'.join(str(s) for s in shape)}")
    if classes is None:
        kind = "regression"
    else:
        shown = ", ".join(str(c) for c in classes[:10]) + (", ..." if len(classes) > 10 else "")
        kind = f"{len(classes)} classes: {shown}"
    text = f"{name}: {n} rows, {what}, target '{target}' ({kind})"
    if test_size == 0:
        return FileData(x, y, None, None, classes, feature_names, text + "; no held-out split")
    n_test = math.ceil(test_size * n)
    if classes is not None:
        _check_stratifiable(y, classes, n, n_test, test_size, target, name)
    elif n_test >= n:
        raise ValueError(f"{name} has {n} rows: too few to hold out {test_size:g} of them and train on the rest.")
    from sklearn.model_selection import train_test_split  # imported when used: it takes a second

    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=test_size, random_state=seed,
                                              stratify=None if classes is None else y)
    how = "random" if classes is None else "stratified"
    text += f"; held-out split: {test_size * 100:g}% {how} ({len(x_te)} rows), seed {seed}"
    return FileData(x_tr, y_tr, x_te, y_te, classes, feature_names, text)


def _check_split_args(test_size, seed, task, where: str) -> tuple[float, int]:
    test_size = check_float("test_size", test_size, low=0.0, high=1.0, high_open=True, where=where)
    seed = check_int("seed", seed, low=0, where=where)
    if task is not None:
        check_choice("task", task, ["classification", "regression"], where=where)
    return test_size, seed


def _existing(path) -> Path:
    path = Path(os.fspath(path))
    if not path.exists():
        raise FileNotFoundError(f"Data file not found: {path}")
    if path.is_dir():
        raise ValueError(f"{path} is a directory, not a data file.")
    return path


def _read_rows(path: Path, delimiter: str) -> tuple[list[str], list[list[str]], list[int]]:
    """The header, the data rows (blank lines skipped) and each row's line number."""
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f, delimiter=delimiter)
        header, rows, lines = None, [], []
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            if header is None:
                header = [cell.strip() for cell in row]
                continue
            if len(row) != len(header):
                raise ValueError(f"{path} line {reader.line_num} has {len(row)} values but the header has "
                                 f"{len(header)} columns.")
            rows.append(row)
            lines.append(reader.line_num)
    if header is None:
        raise ValueError(f"{path} is empty: expected a header row with the column names, then one row per sample.")
    seen = set()
    for name in header:
        if name in seen:
            raise ValueError(f"{path} has two columns named '{name}'.")
        seen.add(name)
    if not rows:
        raise ValueError(f"{path} has a header but no data rows.")
    return header, rows, lines


def _missing_error(name: str, path: Path, missing: list[int], lines: list[int]) -> ValueError:
    return ValueError(f"Column '{name}' of {path} has {len(missing)} missing or non-finite value"
                      f"{'s' if len(missing) > 1 else ''} (empty, NaN or inf), the first at line "
                      f"{lines[missing[0]]}; fill or drop them before loading.")


def _parse_floats(cells) -> tuple[np.ndarray | None, list[str]]:
    """The cells as floats, or ``None`` and the distinct cells that are not numbers."""
    out = np.empty(len(cells), dtype=np.float64)
    bad: list[str] = []
    for i, cell in enumerate(cells):
        cell = cell.strip()
        if cell.lower() in _MISSING:
            out[i] = np.nan
            continue
        try:
            out[i] = float(cell)
        except ValueError:
            if cell not in bad:
                bad.append(cell)
    return (None, bad) if bad else (out, bad)


def _numeric_column(cells, name: str, path: Path, lines: list[int]) -> np.ndarray:
    values, bad = _parse_floats(cells)
    if values is None:
        shown = ", ".join(repr(b) for b in bad[:3])
        raise ValueError(f"Column '{name}' of {path} is not numeric (values such as {shown}); only numeric "
                         f"features can be loaded: encode the column as numbers or drop it.")
    missing = np.flatnonzero(~np.isfinite(values)).tolist()
    if missing:
        raise _missing_error(name, path, missing, lines)
    return values


def _target_column(cells, name: str, path: Path, lines: list[int]) -> np.ndarray:
    stripped = [c.strip() for c in cells]
    values, _ = _parse_floats(stripped)
    if values is not None:
        missing = np.flatnonzero(~np.isfinite(values)).tolist()
    else:
        missing = [i for i, c in enumerate(stripped) if c.lower() in _MISSING]
    if missing:
        raise _missing_error(name, path, missing, lines)
    return values if values is not None else np.array(stripped)


def _encode(y: np.ndarray, task: str | None, target: str, name: str) -> tuple[np.ndarray, list | None]:
    """Labels 0..K-1 and the sorted class names, or float values and ``None`` for regression."""
    numeric = y.dtype.kind in "biuf"
    if task == "regression" or (task is None and numeric and not _looks_categorical(y)):
        if not numeric:
            shown = ", ".join(repr(str(v)) for v in np.unique(y)[:3])
            raise ValueError(f"Target '{target}' of {name} is not numeric (values such as {shown}); a "
                             f"regression target must be numbers.")
        return y.astype(np.float32), None
    classes, codes = np.unique(y, return_inverse=True)
    if numeric and np.all(classes == np.round(classes)):
        names = [int(c) for c in classes]
    else:
        names = [c.item() if isinstance(c, np.generic) else c for c in classes]
    if len(names) < 2:
        raise ValueError(f"Target '{target}' of {name} has a single class ({names[0]!r}): there is nothing "
                         f"to classify.")
    return codes.astype(np.int64).reshape(-1), names


def _looks_categorical(y: np.ndarray) -> bool:
    if y.dtype.kind == "b":
        return True
    whole = np.all(y == np.round(y))
    return bool(whole) and len(np.unique(y)) <= MAX_CLASSES


def _check_stratifiable(y: np.ndarray, classes: list, n: int, n_test: int, test_size: float, target: str,
                        name: str) -> None:
    """Raise, naming the class, where scikit-learn's stratified split would fail with a generic message."""
    counts = np.bincount(y, minlength=len(classes))
    rare = int(np.argmin(counts))
    if counts[rare] < 2:
        raise ValueError(f"Class {classes[rare]!r} of target '{target}' in {name} has 1 row: a stratified "
                         f"held-out split needs at least 2 rows of every class. Add rows of that class, drop "
                         f"it, or make no split (test_size=0).")
    k = len(classes)
    if n_test < k or n - n_test < k:
        raise ValueError(f"A held-out split of {test_size:g} of {name}'s {n} rows leaves {n_test} held-out and "
                         f"{n - n_test} training rows, fewer than the {k} classes of target '{target}'; "
                         f"choose a test_size that leaves at least {k} rows on each side.")
