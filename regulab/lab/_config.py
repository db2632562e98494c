"""A study described in a TOML file: the data, the model in Keras spelling, the variants, seeds and epochs.

``regulab study CONFIG.toml`` reads it with :func:`load_study_config`. Every key is checked: a
misspelled one is an error naming the key, its section and the file, never silently ignored. Paths in
the file (the data file, ``output``) are relative to the file's own folder.

    title = "The lesson's model on its task"
    seeds = 5
    epochs = 50

    [data]
    name = "seed_task"            # or csv = "data.csv" with target = "label", or npz = "data.npz"

    [model]
    layers = [
      { type = "Dense", units = 64, activation = "relu" },
      { type = "Dense", units = 1, activation = "sigmoid" },
    ]

    [variants]
    "L2 0.01" = { l2 = 0.01 }
"""
from __future__ import annotations

import difflib
import inspect
import os
try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from regulab import layers as _layers
from regulab import optimizers as _optimizers
from regulab import regularizers as _regularizers
from regulab._validation import check_choice, check_float, check_int, suggest
from regulab.datasets import load_breast_cancer, load_digits, seed_task
from regulab.datasets._files import FileData, from_arrays, from_csv, from_npz
from regulab.lab._settings import VARIANT_SETTINGS, _boolean
from regulab.models import Sequential
from regulab.preprocessing.image import ImageDataGenerator

TOP_KEYS = ("title", "seeds", "epochs", "batch_size", "output", "data", "model", "variants")
DATA_KEYS = ("csv", "npz", "name", "target", "delimiter", "x_key", "y_key", "test_size", "seed", "task",
             "standardize")
MODEL_KEYS = ("layers", "loss", "optimizer", "metrics")
BUNDLED = ("seed_task", "digits", "breast_cancer")

#: which data source each source-specific key belongs to
_SOURCE_KEYS = {"target": "csv", "delimiter": "csv", "x_key": "npz", "y_key": "npz"}
_REGULARIZER_KEYS = ("l1", "l2", "proximal")
#: ImageDataGenerator's arguments that describe a random transform (the rest are not settings of a variant)
_AUGMENTATION_KEYS = tuple(p for p in inspect.signature(ImageDataGenerator).parameters
                           if p not in ("preprocessing_function", "data_format", "validation_split", "dtype"))




def _error(path: Path, section: str, message: str) -> ValueError:
    return ValueError(f"{path}, {section}: {message}")


def _check_keys(table: dict, allowed, path: Path, section: str) -> None:
    for key in table:
        if key not in allowed:
            raise _error(path, section, f"unknown key '{key}'.{suggest(key, allowed)} "
                                        f"Allowed keys: {', '.join(allowed)}.")


def _value(table: dict, key: str, default, check: Callable, path: Path, section: str):
    if key not in table:
        return default
    try:
        return check(key, table[key])
    except ValueError as e:
        raise _error(path, section, str(e)) from None


def _string(key, v):
    if not isinstance(v, str) or not v:
        raise ValueError(f"Invalid value for argument `{key}`: expected a non-empty string. Received: {key}={v!r}")
    return v


@dataclass
class StudyConfig:
    """A loaded study file: everything :func:`regulab.lab.study` needs.

    ``build_model()`` returns a new compiled ``Sequential`` at every call, so each seed and variant
    starts from its own weights. ``data`` has ``x_train``, ``y_train``, ``x_test``, ``y_test``.
    """

    path: Path
    title: str
    seeds: int
    epochs: int
    batch_size: int
    output: Path
    data: FileData
    variants: dict[str, dict]
    layers: list[dict]
    loss: str
    optimizer: Any
    metrics: list[str]

    def build_model(self):
        """A new compiled model: the ``[model]`` layers on the data's input shape."""
        model = _sequential(self.layers, self.data.x_train.shape[1:], self.path)
        return _compile(model, self.optimizer, self.loss, self.metrics, self.path)


def load_study_config(path) -> StudyConfig:
    """Read and check a study file; see the module's docstring for its sections.

    Raises:
        FileNotFoundError: the file or its data file does not exist (the message names the path).
        ValueError: bad TOML (with line and column), an unknown key, or a wrong value; the message
            names the file, the section and the key.
    """
    path = Path(os.fspath(path))
    if not path.is_file():
        raise FileNotFoundError(f"Study file not found: {path}")
    try:
        with open(path, "rb") as f:
            doc = tomllib.load(f)
    except tomllib.TOMLDecodeError as e:
        raise ValueError(f"{path}: invalid TOML: {e}") from None
    base = path.parent
    top = "top level"
    _check_keys(doc, TOP_KEYS, path, top)
    for section in ("data", "model", "variants"):
        if section not in doc:
            raise _error(path, top, f"missing the [{section}] section.")
        if not isinstance(doc[section], dict):
            raise _error(path, top, f"`{section}` must be a [{section}] table. Received: {section}={doc[section]!r}")
    title = _value(doc, "title", path.stem, _string, path, top)
    seeds = _value(doc, "seeds", 5, lambda k, v: check_int(k, v, low=1), path, top)
    epochs = _value(doc, "epochs", 100, lambda k, v: check_int(k, v, low=1), path, top)
    batch_size = _value(doc, "batch_size", 32, lambda k, v: check_int(k, v, low=1), path, top)
    output = base / _value(doc, "output", "regulab-report", _string, path, top)
    data = _load_data(doc["data"], path, base)
    layers, loss, optimizer, metrics = _load_model(doc["model"], data, path)
    variants = _load_variants(doc["variants"], data, path)
    return StudyConfig(path, title, seeds, epochs, batch_size, output, data, variants, layers, loss, optimizer,
                       metrics)


def _load_data(table: dict, path: Path, base: Path) -> FileData:
    section = "[data]"
    _check_keys(table, DATA_KEYS, path, section)
    sources = [k for k in ("csv", "npz", "name") if k in table]
    if len(sources) != 1:
        raise _error(path, section, f"give exactly one of `csv`, `npz` or `name`. Received: "
                                    f"{', '.join(sources) if sources else 'none'}.")
    source = sources[0]
    for key, owner in _SOURCE_KEYS.items():
        if key in table and owner != source:
            raise _error(path, section, f"`{key}` applies to {owner} files only, and this data is given by "
                                        f"`{source}`.")
    test_size = _value(table, "test_size", 0.2, lambda k, v: check_float(k, v, low=0.0, high=1.0, high_open=True),
                       path, section)
    seed = _value(table, "seed", 0, lambda k, v: check_int(k, v, low=0), path, section)
    task = _value(table, "task", None, lambda k, v: check_choice(k, v, ["classification", "regression"]),
                  path, section)
    standardize = _value(table, "standardize", False, _boolean, path, section)
    if source == "name":
        name = _value(table, "name", None, lambda k, v: check_choice(k, v, BUNDLED), path, section)
        if name == "seed_task" and ("test_size" in table or "task" in table):
            raise _error(path, section, "`test_size` and `task` do not apply to name = \"seed_task\", which "
                                        "has its own held-out set.")
        data = _bundled(name, test_size, seed, task)
    else:
        file = base / _value(table, source, None, _string, path, section)
        if not file.is_file():
            raise FileNotFoundError(f"{path}, {section}: data file not found: {file}")
        try:
            if source == "csv":
                if "target" not in table:
                    raise ValueError("a CSV file needs `target`, the name of its label column.")
                data = from_csv(file, _value(table, "target", None, _string, path, section), test_size=test_size,
                                seed=seed, delimiter=table.get("delimiter", ","), task=task)
            else:
                data = from_npz(file, table.get("x_key", "x"), table.get("y_key", "y"), test_size=test_size,
                                seed=seed, task=task)
        except ValueError as e:
            raise _error(path, section, str(e)) from None
    return data.standardized() if standardize else data


def _bundled(name: str, test_size: float, seed: int, task: str | None) -> FileData:
    if name == "seed_task":
        t = seed_task(seed=seed)
        n_features = t.x_train.shape[1]
        return FileData(t.x_train, t.y_train.astype(np.int64), t.x_test, t.y_test.astype(np.int64), [0, 1], None,
                        f"seed_task: {len(t.x_train)} training rows, {n_features} features, target 'y' (2 classes: "
                        f"0, 1); held-out set: {len(t.x_test)} rows generated with the training rows, seed {seed}")
    x, y = load_digits() if name == "digits" else load_breast_cancer()
    target = "digit" if name == "digits" else "malignant"
    return from_arrays(x, y, test_size=test_size, seed=seed, task=task, name=name, target=target)


def _load_model(table: dict, data: FileData, path: Path) -> tuple[list[dict], str, Any, list[str]]:
    section = "[model]"
    _check_keys(table, MODEL_KEYS, path, section)
    specs = table.get("layers")
    if not isinstance(specs, list) or not specs or not all(isinstance(s, dict) for s in specs):
        raise _error(path, section, "`layers` must be a non-empty list of tables, e.g. "
                                    "layers = [{ type = \"Dense\", units = 1, activation = \"sigmoid\" }].")
    loss = _value(table, "loss", None, _string, path, section)
    metrics = table.get("metrics", ["accuracy"] if data.task == "classification" else [])
    if not isinstance(metrics, list) or not all(isinstance(m, str) for m in metrics):
        raise _error(path, section, f"`metrics` must be a list of names, e.g. [\"accuracy\"]. Received: "
                                    f"metrics={metrics!r}")
    optimizer = table.get("optimizer", "adam")
    if not isinstance(optimizer, (str, dict)):
        raise _error(path, section, f"`optimizer` must be a name (\"adam\") or a table such as "
                                    f"{{ type = \"Adam\", learning_rate = 0.001 }}. Received: optimizer={optimizer!r}")
    model = _sequential(specs, data.x_train.shape[1:], path)
    loss = _check_output(model.output_shape, loss, data, path)
    _compile(model, optimizer, loss, metrics, path)
    return specs, loss, optimizer, metrics


def _arguments(cls) -> list[str]:
    """The keyword arguments ``cls`` accepts, following ``**kwargs`` up to the Layer base."""
    names: list[str] = []
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        params = inspect.signature(init).parameters.values()
        names += [p.name for p in params if p.name != "self" and p.name not in names
                  and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
        if klass is _layers.Layer or not any(p.kind == p.VAR_KEYWORD for p in params):
            break
    return names


def _layer(spec: dict, i: int, input_shape: tuple, path: Path):
    """Construct layer ``i`` of ``[model] layers``; the first one gets the data's input shape."""
    kind = spec.get("type")
    section = f"[model] layer {i + 1}"
    if not isinstance(kind, str):
        raise _error(path, section, "missing `type`, the layer's class name, e.g. type = \"Dense\".")
    known = [n for n in _layers.REGISTRY if n != "InputLayer"]
    if kind not in known:
        close = _close(kind, known)
        hint = f" Close matches: {', '.join(close)}." if close else " The layers are the classes of regulab.layers."
        if kind in ("Input", "InputLayer"):
            hint = " The input shape comes from the data: remove this layer."
        raise _error(path, section, f"unknown layer type '{kind}'.{hint}")
    cls = _layers.REGISTRY[kind]
    section += f" ({kind})"
    allowed = _arguments(cls)
    kwargs = {k: v for k, v in spec.items() if k != "type"}
    for key in kwargs:
        if key not in allowed:
            raise _error(path, section, f"{kind} has no argument '{key}'.{suggest(key, allowed)} "
                                        f"Its arguments: {', '.join(allowed)}.")
    if i == 0:
        given = kwargs.pop("input_shape", None)
        dim = kwargs.pop("input_dim", None)
        if dim is not None:
            given = [dim]
        if given is not None and tuple(given) != tuple(input_shape):
            raise _error(path, section, f"the layer says input shape {tuple(given)}, but the data's rows have "
                                        f"shape {tuple(input_shape)}; remove the input shape, it comes from the "
                                        f"data.")
        kwargs["input_shape"] = tuple(input_shape)
    try:
        kwargs = {k: _argument(k, v) for k, v in kwargs.items()}
        return cls(**kwargs)
    except (TypeError, ValueError) as e:
        raise _error(path, section, str(e)) from None


def _close(name: str, options: list[str]) -> list[str]:
    lower = {o.lower(): o for o in options}
    return [lower[m] for m in difflib.get_close_matches(name.lower(), list(lower), n=3, cutoff=0.6)]


def _argument(key: str, value):
    """TOML to Python: arrays become tuples (shapes, kernel sizes), regularizer tables regularizers."""
    if key.endswith("_regularizer") and isinstance(value, dict):
        for k in value:
            if k not in _REGULARIZER_KEYS:
                raise ValueError(f"Unknown key '{k}' in `{key}`.{suggest(k, _REGULARIZER_KEYS)} Allowed keys: "
                                 f"{', '.join(_REGULARIZER_KEYS)}, e.g. {key} = {{ l2 = 0.01 }}.")
        proximal = value.get("proximal", False)
        if "l1" in value and "l2" in value:
            return _regularizers.l1_l2(value["l1"], value["l2"], proximal=proximal)
        if "l1" in value:
            return _regularizers.l1(value["l1"], proximal=proximal)
        if "l2" in value and not proximal:
            return _regularizers.l2(value["l2"])
        raise ValueError(f"`{key}` needs `l1`, `l2` or both (`proximal` applies to l1). Received: {value!r}")
    if isinstance(value, list):
        return tuple(_argument(key, v) for v in value)
    return value


def _check_output(shape: tuple, loss: str | None, data: FileData, path: Path) -> str:
    """The loss to use, inferred from the target and the last layer when the file gives none."""
    section = "[model]"
    if len(shape) != 1:
        raise _error(path, section, f"the model's output has shape {shape} per row, but the target is one value "
                                    f"per row; add a Flatten layer before the last Dense layer.")
    units = shape[0]
    if data.task == "regression":
        if units != 1 and loss in (None, "mse", "mean_squared_error", "mae", "mean_absolute_error", "huber"):
            raise _error(path, section, f"the last layer has {units} units, but the target is one number per "
                                        f"row: give it 1 unit.")
        return loss or "mse"
    k = len(data.classes)
    binary = "1 unit with activation = \"sigmoid\" (loss binary_crossentropy) or " if k == 2 else ""
    fix = f"use {binary}{k} units with activation = \"softmax\" (loss sparse_categorical_crossentropy)."
    if loss == "categorical_crossentropy":
        raise _error(path, section, "loss 'categorical_crossentropy' needs one-hot labels, but the target's "
                                    "classes are integers 0..K-1: use 'sparse_categorical_crossentropy'.")
    if loss == "binary_crossentropy" and (k != 2 or units != 1):
        raise _error(path, section, f"loss 'binary_crossentropy' needs 2 classes and 1 output unit; the target "
                                    f"has {k} classes and the last layer {units} units: {fix}")
    if loss == "sparse_categorical_crossentropy" and units != k:
        raise _error(path, section, f"the last layer has {units} units but the target has {k} classes: {fix}")
    if loss is None:
        if units == 1 and k == 2:
            return "binary_crossentropy"
        if units == k:
            return "sparse_categorical_crossentropy"
        raise _error(path, section, f"the last layer has {units} units but the target has {k} classes: {fix}")
    return loss


def _sequential(specs: list[dict], input_shape: tuple, path: Path) -> Sequential:
    return Sequential([_layer(spec, i, input_shape, path) for i, spec in enumerate(specs)])


def _compile(model, optimizer, loss: str, metrics: list[str], path: Path):
    """Compile with a new optimizer: one built from a table is never shared between models."""
    try:
        if isinstance(optimizer, dict):
            kind = optimizer.get("type")
            classes = [n for n in _optimizers.__all__ if n[0].isupper() and n != "Optimizer"]
            if kind not in classes:
                raise ValueError(f"unknown optimizer type {kind!r}.{suggest(str(kind), classes)} "
                                 f"Known types: {', '.join(classes)}.")
            optimizer = getattr(_optimizers, kind)(**{k: v for k, v in optimizer.items() if k != "type"})
        model.compile(optimizer=optimizer, loss=loss, metrics=list(metrics))
    except (TypeError, ValueError) as e:
        raise _error(path, "[model]", str(e)) from None
    return model


def _load_variants(table: dict, data: FileData, path: Path) -> dict[str, dict]:
    if not table:
        raise _error(path, "[variants]", "no variants: add at least one, e.g. \"L2 0.01\" = { l2 = 0.01 }.")
    variants = {}
    allowed = list(VARIANT_SETTINGS)
    for name, settings in table.items():
        section = f"[variants] '{name}'"
        if not isinstance(settings, dict):
            raise _error(path, section, f"a variant is a table of settings, e.g. \"{name}\" = {{ dropout = 0.5 }}. "
                                        f"Received: {settings!r}")
        _check_keys(settings, allowed, path, section)
        checked = {key: _value(settings, key, None, VARIANT_SETTINGS[key], path, section) for key in settings}
        if "augmentation" in checked:
            _check_keys(checked["augmentation"], _AUGMENTATION_KEYS, path, f"{section} augmentation")
            if data.x_train.ndim != 4:
                raise _error(path, section, f"augmentation applies to images, rows of shape (height, width, "
                                            f"channels); the data's rows have shape {data.x_train.shape[1:]}.")
        variants[name] = checked
    return variants

