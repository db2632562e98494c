"""Saving and loading models: one zip file holding JSON configuration and safetensors weights.

Loading parses JSON and safetensors only, and constructs layers from regulab's own registry, so a
model file can never execute code (unlike pickle-based ``torch.load`` or Keras's lambda layers).
"""
from __future__ import annotations

import io
import json
import os
import tempfile
import zipfile

import numpy as np
import torch
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

from regulab import losses as _losses
from regulab import metrics as _metrics
from regulab import optimizers as _optimizers

FORMAT = "regulab.model"
VERSION = 1
_CONFIG = "regulab.json"
_WEIGHTS = "model.safetensors"
_OPTIMIZER = "optimizer.safetensors"


def layer_spec(layer) -> dict:
    return {"class_name": type(layer).__name__, "config": layer.get_config()}


def _weight_key(i: int, var) -> str:
    return f"{i:04d}:{var.name}"


def _weights_blob(model) -> bytes:
    return st_save({_weight_key(i, v): v.value.detach().cpu().contiguous() for i, v in enumerate(model.weights)},
                   metadata={"format": FORMAT})


def _metric_spec(m):
    if isinstance(m, str):
        return m
    return {"class_name": type(m).__name__, "config": m.get_config()}


def _atomic_write(path, data_writer) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            data_writer(f)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def save_model(model, filepath) -> None:
    model._require_built("save")
    config = {"format": FORMAT, "version": VERSION, "class_name": type(model).__name__,
              "config": model.get_config()}
    if model.compiled:
        config["compile"] = {"optimizer": _optimizers.serialize(model.optimizer),
                             "loss": _losses.serialize(model.loss),
                             "metrics": [_metric_spec(m) for m in model._metric_args],
                             "jit_compile": model.jit_compile, "steps_per_execution": model.steps_per_execution,
                             "precision": model.precision}

    def write(f):
        with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_DEFLATED) as z:
            z.writestr(_CONFIG, json.dumps(config, indent=2))
            z.writestr(_WEIGHTS, _weights_blob(model))
            state = model.optimizer.state if model.compiled else None
            if state is not None:
                flat = {}
                for k, v in state.items():
                    if isinstance(v, (list, tuple)):
                        flat.update({f"{k}/{i}": t.detach().cpu().contiguous() for i, t in enumerate(v)})
                    else:
                        flat[k] = torch.as_tensor(v, dtype=torch.float32).detach().cpu().reshape(())
                z.writestr(_OPTIMIZER, st_save(flat))

    _atomic_write(os.fspath(filepath), write)


def _fail(path, why: str) -> ValueError:
    return ValueError(f"Cannot load '{path}': {why}. Expected a model file written by regulab's "
                      f"`model.save` (a zip archive holding {_CONFIG} and {_WEIGHTS}).")


def _build_layer(spec, path):
    from regulab.layers import REGISTRY

    if not isinstance(spec, dict) or not isinstance(spec.get("config"), dict):
        raise _fail(path, "a layer entry is malformed")
    cls = REGISTRY.get(spec.get("class_name"))
    if cls is None:
        raise _fail(path, f"unknown layer class {spec.get('class_name')!r}")
    try:
        return cls.from_config(spec["config"])
    except (TypeError, ValueError) as e:
        raise _fail(path, f"the configuration of layer {spec['config'].get('name')!r} is invalid ({e})") from None


def _read_weights(blob: bytes, path) -> list[torch.Tensor]:
    try:
        tensors = st_load(blob)
    except Exception as e:  # safetensors raises its own error types for corrupt headers
        raise _fail(path, f"the weights are not valid safetensors data ({e})") from None
    return [tensors[k] for k in sorted(tensors)]


def load_model(filepath, compile: bool = True):
    """Load a model written by ``model.save``. Nothing in the file is executed."""
    from regulab.models._sequential import Sequential

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
    except zipfile.BadZipFile as e:
        raise _fail(path, f"the zip archive is damaged ({e})") from None
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise _fail(path, "it is not a regulab model")
    if config.get("version") != VERSION:
        raise _fail(path, f"format version {config.get('version')!r} is not supported (this regulab reads {VERSION})")
    if config.get("class_name") != "Sequential":
        raise _fail(path, f"unknown model class {config.get('class_name')!r}")
    mc = config.get("config") or {}
    model = Sequential([_build_layer(s, path) for s in mc.get("layers", [])], name=mc.get("name"))
    if mc.get("input_shape") is not None and not model.built:
        model.build(tuple(mc["input_shape"]))
    weights = _read_weights(weights_blob, path)
    own = model.weights
    if len(weights) != len(own) or any(tuple(w.shape) != v.shape for w, v in zip(weights, own)):
        raise _fail(path, "its weights do not match its architecture")
    for var, w in zip(own, weights):
        var.value = w.to(torch.float32).clone()
    comp = config.get("compile")
    if compile and comp:
        try:
            metrics = [_metric_from_spec(m) for m in comp.get("metrics", [])]
            model.compile(optimizer=_optimizers.deserialize(comp["optimizer"]),
                          loss=_losses.deserialize(comp["loss"]), metrics=metrics,
                          jit_compile=comp.get("jit_compile", "auto"),
                          steps_per_execution=comp.get("steps_per_execution", 1),
                          precision=comp.get("precision", "float32"))
        except (KeyError, TypeError, ValueError) as e:
            raise _fail(path, f"its compile settings are invalid ({e})") from None
        if opt_blob is not None:
            _restore_optimizer(model, opt_blob, path)
    return model


def _metric_from_spec(spec):
    if isinstance(spec, str):
        return spec
    name = spec.get("class_name")
    cls = getattr(_metrics, name, None) if name in _metrics.__all__ else None
    if not (isinstance(cls, type) and issubclass(cls, _metrics.Metric)):
        raise ValueError(f"unknown metric class {name!r}")
    return cls(**spec.get("config", {}))


def _restore_optimizer(model, blob: bytes, path) -> None:
    try:
        flat = st_load(blob)
    except Exception as e:
        raise _fail(path, f"the optimizer state is not valid safetensors data ({e})") from None
    opt = model.optimizer
    trainable = [v for v in model.weights if v.trainable]
    opt.build([v.value for v in trainable])
    opt.trained_variables = tuple(id(v) for v in trainable)
    for key in list(opt.state):
        if isinstance(opt.state[key], (list, tuple)):
            opt.state[key] = [flat.get(f"{key}/{i}", t) for i, t in enumerate(opt.state[key])]
        elif key in flat:
            opt.state[key] = float(flat[key]) if key == "lr" else int(flat[key])
    model.to(model.device)


def save_weights(model, filepath) -> None:
    model._require_built("save_weights")
    blob = _weights_blob(model)
    _atomic_write(os.fspath(filepath), lambda f: f.write(blob))


def load_weights(model, filepath) -> None:
    path = os.fspath(filepath)
    with open(path, "rb") as f:
        blob = f.read()
    if zipfile.is_zipfile(io.BytesIO(blob)):
        with zipfile.ZipFile(io.BytesIO(blob)) as z:
            blob = z.read(_WEIGHTS)
    model.set_weights([np.asarray(w) for w in _read_weights(blob, path)])
