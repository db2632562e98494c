"""Saving and loading models: one zip file holding JSON configuration and safetensors weights.

Weights are keyed by their paths in the model (``encoder/dense_1/kernel``). Loading parses JSON
and safetensors only, and builds classes through the registry (regulab's own, registered ones and
``custom_objects``), so a model file can never execute code (unlike pickle-based ``torch.load``
or Keras's lambda layers).
"""
from __future__ import annotations

import io
import json
import os
import zipfile

import torch
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

from regulab import losses as _losses
from regulab import metrics as _metrics
from regulab import optimizers as _optimizers
from regulab._atomic import atomic_write
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
            z.writestr(_WEIGHTS, weights)
            if opt_blob is not None:
                z.writestr(_OPTIMIZER, opt_blob)

    atomic_write(filepath, write)


def _fail(path, why: str) -> ValueError:
    return ValueError(f"Cannot load '{path}': {why}. Expected a model file written by regulab's "
                      f"`model.save` (a zip archive holding {_CONFIG} and {_WEIGHTS}).")


def _read_weights(blob: bytes, path) -> dict[str, torch.Tensor]:
    try:
        return st_load(blob)
    except Exception as e:  # safetensors raises its own error types for corrupt headers
        raise _fail(path, f"the weights are not valid safetensors data ({e})") from None


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


def load_model(filepath, custom_objects: dict | None = None, compile: bool = True):
    """Load a model written by ``model.save``. Nothing in the file is executed; classes are
    regulab's own, registered ones (``regulab.saving.register_serializable``) or those given in
    ``custom_objects`` (``{"MyLayer": MyLayer}``)."""
    path = os.fspath(filepath)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No model file at '{path}'.")
    if not zipfile.is_zipfile(path):
        raise _fail(path, "it is not a zip archive")
    try:
        with zipfile.ZipFile(path) as z:
            names = set(z.namelist())
            if _CONFIG not in names or _WEIGHTS not in names:
                raise _fail(path, f"it lacks {_CONFIG} or {_WEIGHTS}")
            try:
                config = json.loads(z.read(_CONFIG).decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError) as e:
                raise _fail(path, f"{_CONFIG} is not valid JSON ({e})") from None
            weights_blob = z.read(_WEIGHTS)
            opt_blob = z.read(_OPTIMIZER) if _OPTIMIZER in names else None
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, NotImplementedError) as e:
        raise _fail(path, f"the zip archive is damaged ({e})") from None
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise _fail(path, "it is not a regulab model")
    version = config.get("version")
    if version not in _READABLE:
        raise _fail(path, f"format version {version!r} is not supported (this regulab reads {_READABLE})")
    if not isinstance(config.get("config"), dict):
        raise _fail(path, "its model configuration is malformed")
    try:
        model = layer_from_spec({"class_name": config.get("class_name"), "config": config["config"]}, {},
                                custom_objects)
    except ValueError as e:
        raise _fail(path, str(e)) from None
    except (TypeError, KeyError, AttributeError, IndexError) as e:  # a malformed configuration
        raise _fail(path, f"its model configuration is malformed ({type(e).__name__}: {e})") from None
    from regulab.models._model import Model

    if not isinstance(model, Model):
        raise _fail(path, f"its top-level class {config.get('class_name')!r} is not a model")
    mc = config["config"]
    shape = mc.get("input_shape") if mc.get("input_shape") is not None else config.get("build_input_shape")
    if shape is not None and not model.built:
        try:
            model.build([tuple(s) for s in shape] if shape and isinstance(shape[0], list) else tuple(shape))
        except (TypeError, ValueError) as e:
            raise _fail(path, f"its input shape is invalid ({e})") from None
    order = config.get("weights")
    if version >= 2 and not (isinstance(order, list) and all(isinstance(p, str) for p in order)):
        raise _fail(path, "its list of weights is malformed")
    weights = _by_path(model, _read_weights(weights_blob, path), version, order)
    paths = model.variable_paths()
    if (order is not None and len(order) != len(paths)) or set(weights) != set(paths.values()) or any(
            tuple(weights[p].shape) != v.shape for v, p in paths.items()):
        raise _fail(path, "its weights do not match its architecture")
    for var, p in paths.items():
        var.value = weights[p].to(torch.float32).clone()
    comp = config.get("compile")
    if comp is not None and not isinstance(comp, dict):
        raise _fail(path, "its compile settings are malformed")
    if compile and comp:
        try:
            metrics = _metric_from_spec(comp.get("metrics"))
            model.compile(optimizer=_optimizers.deserialize(comp["optimizer"]),
                          loss=_loss_from_spec(comp.get("loss")), loss_weights=comp.get("loss_weights"),
                          metrics=metrics, jit_compile=comp.get("jit_compile", "auto"),
                          steps_per_execution=comp.get("steps_per_execution", 1),
                          precision=comp.get("precision", "float32"))
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as e:
            raise _fail(path, f"its compile settings are invalid ({e})") from None
        if opt_blob is not None:
            rename = dict(zip(order, paths.values())) if version >= 2 else {}
            _restore_optimizer(model, opt_blob, path, version, rename)
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


def _restore_optimizer(model, blob: bytes, path, version: int, rename: dict) -> None:
    try:
        flat = st_load(blob)
    except Exception as e:
        raise _fail(path, f"the optimizer state is not valid safetensors data ({e})") from None
    opt = model.optimizer
    trainable = model.trainable_weights
    slots = opt.slots_for(trainable)
    paths = model.variable_paths()
    if version == 1:  # positional: "m/0", "lr", "t"
        for slot, values in slots.items():
            for i, t in enumerate(values):
                values[i] = flat.get(f"{slot}/{i}", t)
        iterations = int(flat["t"]) if "t" in flat else 0
        lr = float(flat["lr"]) if "lr" in flat else opt.learning_rate
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
        iterations = int(flat["iterations"]) if "iterations" in flat else 0
        lr = float(flat["learning_rate"]) if "learning_rate" in flat else opt.learning_rate
    for slot, values in slots.items():
        for i, (var, t) in enumerate(zip(trainable, values)):
            if tuple(t.shape) != var.shape:
                raise _fail(path, f"its optimizer slot {slot!r} of '{paths[var]}' has shape {tuple(t.shape)}, "
                                  f"expected {var.shape}")
            values[i] = t.to(var.value.device)
    opt.store(trainable, slots, iterations, lr)


def save_weights(model, filepath) -> None:
    model._require_built("save_weights")
    atomic_write(filepath, _weights_blob(model))


def load_weights(model, filepath, skip_mismatch: bool = False) -> None:
    """Set the model's weights from a file, matched by path; every weight is checked before any
    changes."""
    path = os.fspath(filepath)
    with open(path, "rb") as f:
        blob = f.read()
    version = VERSION
    if zipfile.is_zipfile(io.BytesIO(blob)):
        try:
            with zipfile.ZipFile(io.BytesIO(blob)) as z:
                blob = z.read(_WEIGHTS)
                version = json.loads(z.read(_CONFIG).decode("utf-8")).get("version", VERSION)
        except (KeyError, zipfile.BadZipFile, ValueError) as e:
            raise _fail(path, f"it holds no readable weights ({e})") from None
    tensors = _read_weights(blob, path)
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
            raise ValueError(f"Cannot load weights from '{path}' into model '{model.name}': the file has no "
                             f"weight '{p}' (it holds {sorted(tensors)}). Pass skip_mismatch=True to keep the "
                             f"model's own value for weights the file lacks.")
        if tuple(t.shape) != var.shape:
            if skip_mismatch:
                continue
            raise ValueError(f"Cannot load weights from '{path}' into model '{model.name}': weight '{p}' has shape "
                             f"{var.shape} in the model but {tuple(t.shape)} in the file. Pass "
                             f"skip_mismatch=True to skip weights whose shape differs.")
        updates.append((var, t))
    extra = sorted(set(tensors) - set(paths.values()))
    if extra and not skip_mismatch:
        raise ValueError(f"Cannot load weights from '{path}' into model '{model.name}': the file has weights the "
                         f"model lacks: {extra}. Pass skip_mismatch=True to load the others.")
    for var, t in updates:
        var.value = t.to(dtype=torch.float32, device=var.value.device).clone()
