"""Saving and loading models: one zip file holding JSON configuration and safetensors weights.

Weights are keyed by their paths in the model (``encoder/dense_1/kernel``). Loading parses JSON
and safetensors only, and builds classes through the registry (regulab's own, registered ones and
``custom_objects``), so a model file can never execute code (unlike pickle-based ``torch.load``
or Keras's lambda layers). The file's bytes are read by ``_safe_zip``'s bounded readers, and every
file that cannot be loaded raises ``ModelFileError`` (a ValueError); docs/security.md has the model.
"""
from __future__ import annotations

import json
import math
import os
import zipfile

import torch
from safetensors.torch import save as st_save

from regulab import losses as _losses
from regulab import metrics as _metrics
from regulab import optimizers as _optimizers
from regulab._atomic import atomic_write
from regulab.models._safe_zip import (FOREIGN, MESSAGE_CHARS, AllocationLimit, AllocationRefused, ModelFileError,
                                      brief, file_error, foreign_kind, is_zip, looks_like_safetensors, parse_json,
                                      quote, read_file, read_members, read_safetensors)
from regulab.models._specs import class_name, layer_from_spec

FORMAT = "regulab.model"
VERSION = 2
_READABLE = (1, 2)
_CONFIG = "regulab.json"
_WEIGHTS = "model.safetensors"
_OPTIMIZER = "optimizer.safetensors"


def _weights_blob(model) -> bytes:
    tensors = {p: v.value.detach().cpu().contiguous() for v, p in model.variable_paths().items()}
    return st_save(tensors, metadata={"format": FORMAT})


def _metric_spec(m):
    if isinstance(m, str) or m is None:
        return m
    if isinstance(m, (list, tuple)):
        return [_metric_spec(v) for v in m]
    if isinstance(m, dict):
        return {k: _metric_spec(v) for k, v in m.items()}
    return {"class_name": type(m).__name__, "config": m.get_config()}


def _loss_spec(loss):
    if loss is None or isinstance(loss, str):
        return loss
    if isinstance(loss, (list, tuple)):
        return {"list": [_loss_spec(v) for v in loss]}
    if isinstance(loss, dict):
        return {"dict": {k: _loss_spec(v) for k, v in loss.items()}}
    return _losses.serialize(_losses.get(loss))


def _loss_from_spec(spec):
    if spec is None or isinstance(spec, str):
        return spec
    if "list" in spec:
        return [_loss_from_spec(v) for v in spec["list"]]
    if "dict" in spec:
        return {k: _loss_from_spec(v) for k, v in spec["dict"].items()}
    return _losses.deserialize(spec)


def _optimizer_blob(model) -> bytes | None:
    opt = model.optimizer
    if opt is None or not opt.slots:
        return None
    flat = {"iterations": torch.tensor(float(opt.iterations)).reshape(()),
            "learning_rate": torch.tensor(opt.learning_rate).reshape(())}
    for var, path in model.variable_paths().items():
        for slot, t in opt.slots.get(var, {}).items():
            flat[f"{slot}/{path}"] = t.detach().cpu().contiguous()
    return st_save(flat)


def _shape_spec(shape):
    if shape is None:
        return None
    return [list(s) for s in shape] if isinstance(shape, list) else list(shape)


def save_model(model, filepath) -> None:
    model._require_built("save")
    config = {"format": FORMAT, "version": VERSION, "class_name": class_name(model), "config": model.get_config(),
              # the weights' paths in model order: the rebuilt model keeps the saved layer names,
              # so its automatically numbered layers get other paths; the order is the same
              "weights": list(model.variable_paths().values()),
              # a subclassed model builds by running call: on inputs of this shape
              "build_input_shape": _shape_spec(model.input_shape)}
    if model.compiled:
        config["compile"] = {"optimizer": _optimizers.serialize(model.optimizer),
                             "loss": _loss_spec(model.loss), "loss_weights": model.loss_weights,
                             "metrics": _metric_spec(model._metric_args),
                             "jit_compile": model.jit_compile, "steps_per_execution": model.steps_per_execution,
                             "precision": model.precision}
    weights = _weights_blob(model)
    opt_blob = _optimizer_blob(model) if model.compiled else None

    def write(f):
        with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_DEFLATED) as z:
            z.writestr(_CONFIG, json.dumps(config, indent=2))
            # tensors stored, not deflated: they barely compress, and a stored member is never
            # mistaken for a zip bomb by the loader's expansion cap (an all-zero tensor deflates 1000:1)
            z.writestr(_WEIGHTS, weights, compress_type=zipfile.ZIP_STORED)
            if opt_blob is not None:
                z.writestr(_OPTIMIZER, opt_blob, compress_type=zipfile.ZIP_STORED)

    atomic_write(filepath, write)


_EXPECTED = (f"Expected a model file written by regulab's `model.save` (a zip archive holding {_CONFIG} and "
             f"{_WEIGHTS}).")
_WEIGHTS_EXPECTED = ("Expected a safetensors file written by `model.save_weights` or a model file written by "
                     "`model.save`.")
_SAFETENSORS_MODEL = ("It is a safetensors weights file (model.save_weights), which holds no architecture: build the "
                      "model in code and call model.load_weights(path).")
#: tensor elements that building a model may create beyond 4 per byte of its weights (the
#: weights themselves, initializers' temporaries, optimizer slots)
_BUILD_SLACK = 1 << 24


def _fail(path, why: str, fix: str = "") -> ModelFileError:
    return file_error(path, why, fix)


def _foreign_fix(data: bytes, default: str = _EXPECTED) -> str:
    kind = foreign_kind(data)
    return f"{FOREIGN[kind]}." if kind else default


def _is_size(d) -> bool:
    return d is None or (type(d) is int and d >= 0)


def _input_shape(config: dict):
    """The shape a model is built for: its own ``input_shape``, else the one saved beside it."""
    shape = config["config"].get("input_shape")
    return shape if shape is not None else config.get("build_input_shape")


def _read_config(blob: bytes, path) -> dict:
    """regulab.json, its fields checked for type before anything is built from them."""
    config = parse_json(blob, path, _CONFIG)
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise _fail(path, "it is not a regulab model", _EXPECTED)
    version = config.get("version")
    if type(version) is not int or version not in _READABLE:
        raise _fail(path, f"format version {quote(version)} is not supported (this regulab reads {_READABLE})")
    if not isinstance(config.get("config"), dict):
        raise _fail(path, "its model configuration is malformed")
    order = config.get("weights")
    if version >= 2 and not (isinstance(order, list) and all(isinstance(p, str) for p in order)):
        raise _fail(path, "its list of weights is malformed")
    if order is not None and len(set(order)) != len(order):
        raise _fail(path, "its list of weights names a weight twice")
    shape = _input_shape(config)
    if shape is not None and not (isinstance(shape, list) and (
            all(_is_size(d) for d in shape)
            or all(isinstance(s, list) and all(_is_size(d) for d in s) for s in shape))):
        raise _fail(path, f"its input shape {quote(shape)} is not a list of sizes (or of such lists)")
    if config.get("compile") is not None and not isinstance(config["compile"], dict):
        raise _fail(path, "its compile settings are malformed")
    return config


def _build(config: dict, custom_objects, path):
    from regulab.models._model import Model

    try:
        model = layer_from_spec({"class_name": config.get("class_name"), "config": config["config"]}, {},
                                custom_objects)
    except AllocationRefused:
        raise
    except ValueError as e:
        raise _fail(path, brief(str(e), MESSAGE_CHARS)) from None
    except RecursionError:  # nested within the JSON limit, yet rebuilt by recursion deeper than Python's
        raise _fail(path, "its model configuration is nested or chained too deeply to rebuild") from None
    except Exception as e:  # a crafted configuration can trip any layer's constructor
        raise _fail(path, f"its model configuration is malformed ({type(e).__name__}: {brief(str(e))})") from e
    if not isinstance(model, Model):
        raise _fail(path, f"its top-level class {quote(config.get('class_name'))} is not a model")
    shape = _input_shape(config)
    if shape is not None and not model.built:
        try:
            model.build([tuple(s) for s in shape] if shape and isinstance(shape[0], list) else tuple(shape))
        except AllocationRefused:
            raise
        except Exception as e:
            raise _fail(path, f"its input shape {quote(shape)} is invalid ({type(e).__name__}: "
                              f"{brief(str(e))})") from e
    return model


def _by_path(model, tensors: dict, version: int, order: list | None = None) -> dict[str, torch.Tensor]:
    """The file's weights keyed by the model's paths. Version 1 files keyed them by position
    (``0003:dense/kernel``); model files list the saved paths in model order (``order``)."""
    paths = list(model.variable_paths().values())
    if version >= 2:
        if order is None:
            return tensors
        if len(order) != len(paths) or any(p not in tensors for p in order):
            return {}
        return {mine: tensors[saved] for mine, saved in zip(paths, order)}
    ordered = [tensors[k] for k in sorted(tensors)]
    return dict(zip(paths, ordered)) if len(ordered) == len(paths) else {}


def _assign(model, tensors: dict, config: dict, path) -> None:
    """Set the model's weights from the file's, after checking that they match its architecture."""
    version, order = config["version"], config.get("weights")
    paths = model.variable_paths()
    mismatch = "its weights do not match its architecture"
    if order is not None and len(order) != len(paths):
        raise _fail(path, f"{mismatch}: it lists {len(order)} weights, the architecture has {len(paths)}")
    missing = [p for p in (order or []) if p not in tensors]
    if missing:
        raise _fail(path, f"{mismatch}: {_WEIGHTS} lacks {quote(missing[0])}")
    weights = _by_path(model, tensors, version, order)
    for var, p in paths.items():
        if p not in weights:
            raise _fail(path, f"{mismatch}: {_WEIGHTS} has no weight for {quote(p)}")
        if tuple(weights[p].shape) != var.shape:
            raise _fail(path, f"{mismatch}: weight {quote(p)} has shape {var.shape} in the architecture but "
                              f"{tuple(weights[p].shape)} in {_WEIGHTS}")
    for var, p in paths.items():
        var.value = weights[p].to(torch.float32).clone()


def _compile(model, config: dict, opt_blob: bytes | None, path) -> None:
    comp = config["compile"]
    try:
        model.compile(optimizer=_optimizers.deserialize(comp["optimizer"]),
                      loss=_loss_from_spec(comp.get("loss")), loss_weights=comp.get("loss_weights"),
                      metrics=_metric_from_spec(comp.get("metrics")), jit_compile=comp.get("jit_compile", "auto"),
                      steps_per_execution=comp.get("steps_per_execution", 1),
                      precision=comp.get("precision", "float32"))
    except AllocationRefused:
        raise
    except Exception as e:  # any constructor a crafted setting reaches
        raise _fail(path, f"its compile settings are invalid ({type(e).__name__}: {brief(str(e))})") from e
    if opt_blob is not None:
        order, paths = config.get("weights"), model.variable_paths()
        rename = dict(zip(order, paths.values())) if config["version"] >= 2 else {}
        _restore_optimizer(model, read_safetensors(opt_blob, path, "the optimizer weights"), path,
                           config["version"], rename)


def load_model(filepath, custom_objects: dict | None = None, compile: bool = True):
    """Load a model written by ``model.save``. Nothing in the file is executed; classes are
    regulab's own, registered ones (``regulab.saving.register_serializable``) or those given in
    ``custom_objects`` (``{"MyLayer": MyLayer}``). Any file that cannot be loaded, whatever its
    bytes, raises a ValueError naming the file and what is wrong (see docs/security.md)."""
    path = os.fspath(filepath)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No model file at '{path}'.")
    data = read_file(path)
    if not is_zip(data):
        raise _fail(path, "it is not a zip archive",
                    _SAFETENSORS_MODEL if looks_like_safetensors(data) else _foreign_fix(data))
    members = read_members(data, (_CONFIG, _WEIGHTS, _OPTIMIZER), path)
    if _CONFIG not in members or _WEIGHTS not in members:
        raise _fail(path, f"it lacks {_CONFIG} or {_WEIGHTS}", _foreign_fix(data))
    config = _read_config(members[_CONFIG], path)
    tensors = read_safetensors(members[_WEIGHTS], path)
    # building allocates what the configuration asks for; honest weights fill all of it
    limit = AllocationLimit(4 * (len(members[_WEIGHTS]) + len(members.get(_OPTIMIZER, b""))) + _BUILD_SLACK)
    try:
        with limit:
            model = _build(config, custom_objects, path)
            _assign(model, tensors, config, path)
            if compile and config.get("compile"):
                _compile(model, config, members.get(_OPTIMIZER), path)
    except AllocationRefused as e:
        raise _fail(path, str(e)) from None
    return model


def _metric_from_spec(spec):
    if spec is None or isinstance(spec, str):
        return spec
    if isinstance(spec, list):
        return [_metric_from_spec(v) for v in spec]
    if isinstance(spec, dict) and "class_name" not in spec:
        return {k: _metric_from_spec(v) for k, v in spec.items()}
    name = spec.get("class_name")
    cls = getattr(_metrics, name, None) if name in _metrics.__all__ else None
    if not (isinstance(cls, type) and issubclass(cls, _metrics.Metric)):
        raise ValueError(f"unknown metric class {name!r}")
    return cls(**spec.get("config", {}))


def _scalar(flat: dict, key: str, default: float, path) -> float:
    """A non-negative finite number the optimizer state holds as a one-element tensor."""
    if key not in flat:
        return default
    t = flat[key]
    value = float(t.reshape(-1)[0]) if t.numel() == 1 else math.nan
    if not (math.isfinite(value) and value >= 0):
        raise _fail(path, f"its optimizer state {key!r} holds {tuple(t.shape)}-shaped {t.dtype} data, not one "
                          f"non-negative number")
    return value


def _restore_optimizer(model, flat: dict, path, version: int, rename: dict) -> None:
    opt = model.optimizer
    trainable = model.trainable_weights
    slots = opt.slots_for(trainable)
    paths = model.variable_paths()
    if version == 1:  # positional: "m/0", "lr", "t"
        for slot, values in slots.items():
            for i, t in enumerate(values):
                values[i] = flat.get(f"{slot}/{i}", t)
        iterations, lr = _scalar(flat, "t", 0, path), _scalar(flat, "lr", opt.learning_rate, path)
    else:
        # saved paths -> this model's paths, into a new dict (renames may chain: dense -> dense_1 -> ...)
        renamed = {}
        for key, value in flat.items():
            slot, sep, saved = key.partition("/")
            renamed[f"{slot}/{rename[saved]}" if sep and saved in rename else key] = value
        flat = renamed
        for slot, values in slots.items():
            for i, var in enumerate(trainable):
                values[i] = flat.get(f"{slot}/{paths[var]}", values[i])
        iterations = _scalar(flat, "iterations", 0, path)
        lr = _scalar(flat, "learning_rate", opt.learning_rate, path)
    for slot, values in slots.items():
        for i, (var, t) in enumerate(zip(trainable, values)):
            if tuple(t.shape) != var.shape:
                raise _fail(path, f"its optimizer slot {quote(slot)} of {quote(paths[var])} has shape "
                                  f"{tuple(t.shape)}, expected {var.shape}")
            values[i] = t.to(dtype=var.value.dtype, device=var.value.device)
    opt.store(trainable, slots, int(iterations), lr)


def save_weights(model, filepath) -> None:
    model._require_built("save_weights")
    atomic_write(filepath, _weights_blob(model))


def _weights_of(data: bytes, path) -> tuple[dict[str, torch.Tensor], int]:
    """The tensors of a weights file (safetensors, or a model file's) and its format version."""
    if not is_zip(data):
        kind = foreign_kind(data)
        if kind is not None:
            raise _fail(path, "it is neither a safetensors file nor a regulab model file", f"{FOREIGN[kind]}.")
        return read_safetensors(data, path), VERSION
    members = read_members(data, (_CONFIG, _WEIGHTS), path)
    if _CONFIG not in members or _WEIGHTS not in members:
        raise _fail(path, f"it lacks {_CONFIG} or {_WEIGHTS}", _foreign_fix(data, _WEIGHTS_EXPECTED))
    config = parse_json(members[_CONFIG], path, _CONFIG)
    version = config.get("version", VERSION) if isinstance(config, dict) else None
    if type(version) is not int or version not in _READABLE:
        raise _fail(path, f"format version {quote(version)} is not supported (this regulab reads {_READABLE})")
    return read_safetensors(members[_WEIGHTS], path), version


def load_weights(model, filepath, skip_mismatch: bool = False) -> None:
    """Set the model's weights from a file, matched by path; every weight is checked before any
    changes. A file that cannot be read, or whose weights do not fit, raises a ValueError naming it."""
    path = os.fspath(filepath)
    tensors, version = _weights_of(read_file(path), path)
    if version == 1 or (tensors and all(":" in k for k in tensors)):
        tensors = _by_path(model, tensors, 1)
    model._require_built("load_weights")
    paths = model.variable_paths()
    updates = []
    for var, p in paths.items():
        t = tensors.get(p)
        if t is None:
            if skip_mismatch:
                continue
            raise ModelFileError(f"Cannot load weights from '{path}' into model '{model.name}': the file has no "
                                 f"weight '{p}' (it holds {brief(str(sorted(tensors)), MESSAGE_CHARS)}). Pass "
                                 f"skip_mismatch=True to keep the model's own value for weights the file lacks.")
        if tuple(t.shape) != var.shape:
            if skip_mismatch:
                continue
            raise ModelFileError(f"Cannot load weights from '{path}' into model '{model.name}': weight '{p}' has "
                                 f"shape {var.shape} in the model but {tuple(t.shape)} in the file. Pass "
                                 f"skip_mismatch=True to skip weights whose shape differs.")
        updates.append((var, t))
    extra = sorted(set(tensors) - set(paths.values()))
    if extra and not skip_mismatch:
        raise ModelFileError(f"Cannot load weights from '{path}' into model '{model.name}': the file has weights "
                             f"the model lacks: {brief(str(extra), MESSAGE_CHARS)}. Pass skip_mismatch=True to "
                             f"load the others.")
    for var, t in updates:
        var.value = t.to(dtype=torch.float32, device=var.value.device).clone()
