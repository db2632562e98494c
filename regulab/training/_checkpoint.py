"""A fit's whole training state in one file, written atomically, read back bit for bit.

``BackupAndRestore`` writes it; a rerun of the same script reads it and continues as if the fit had
never stopped. It holds everything the rest of the fit depends on:

- every variable of the model (weights and buffers such as BatchNorm's moving statistics) and the
  optimizer's state (slots by variable path, step count, learning rate);
- where the loop is: the epoch, the batches done in it with the epoch's running sums so far, the
  step counter (every step's random key is a function of the fit's seed and this counter), and
  the seed itself (each epoch's order is a function of seed and epoch);
- which engine ran (eager or compiled: they round differently);
- the History and every callback's ``get_state()``, and Python's, NumPy's and torch's generators.

The file is a zip of ``checkpoint.json`` and ``state.safetensors``, read with the model loader's
hardened readers: damaged, foreign or crafted bytes end in ``ModelFileError``. A checkpoint of
another model (weights, optimizer, callbacks, batches per epoch) is refused before anything is
applied, with the difference named.
"""
from __future__ import annotations

import io
import json
import random
import zipfile
from dataclasses import dataclass

import numpy as np
import torch
from safetensors.torch import save as st_save

from regulab.callbacks._state import decode, encode
from regulab.models._safe_zip import ModelFileError, file_error, parse_json, read_members, read_safetensors

FORMAT = 1
_META, _TENSORS = "checkpoint.json", "state.safetensors"


@dataclass
class Position:
    """Where a fit stands: ``batch`` batches of ``epoch`` are done (0: at the epoch's start), with
    the epoch's running sums ``acc`` over ``seen`` samples; ``steps_done`` steps in all."""

    epoch: int
    batch: int
    steps_done: int
    seen: int = 0
    acc: torch.Tensor | None = None
    stopped: bool = False  # a callback set ``model.stop_training`` at this epoch's end


def _version() -> str:
    from regulab import __version__

    return __version__


def _saved_callbacks(cbs) -> list:
    """The callbacks whose state a checkpoint holds: all but the progress bar (``verbose`` may differ
    between the run and its rerun)."""
    from regulab.callbacks import ProgbarLogger

    return [c for c in cbs if not isinstance(c, ProgbarLogger)]


def _optimizer_entry(model) -> dict:
    from regulab import optimizers

    opt = model.optimizer
    config = {k: v for k, v in optimizers.describe(opt)["config"].items() if k != "learning_rate"}
    return {"class_name": optimizers.describe(opt)["class_name"], "config": config}


def checkpoint_bytes(model, spec, cbs, position: Position, *, seed: int, engine: str, steps_per_epoch: int) -> bytes:
    """The checkpoint file's bytes for ``model`` trained with ``spec``, callbacks ``cbs``, at ``position``."""
    structure = spec.structure
    tensors: dict[str, torch.Tensor] = {}
    for var, path in structure.paths.items():
        tensors[f"variables/{path}"] = var.value.detach().cpu().contiguous()
    opt = model.optimizer
    slots = {}
    for var, own in opt.slots.items():
        path = structure.paths.get(var)
        if path is None:  # a variable of another model this optimizer also trained
            continue
        slots[path] = sorted(own)
        for slot, value in own.items():
            tensors[f"slots/{path}/{slot}"] = value.detach().cpu().contiguous()
    if position.acc is not None:
        tensors["loop/acc"] = position.acc.detach().cpu().contiguous()
    tensors["rng/torch"] = torch.get_rng_state()
    np_state = np.random.get_state()
    tensors["rng/numpy"] = torch.from_numpy(np_state[1].astype(np.int64))
    callbacks = []
    for i, cb in enumerate(_saved_callbacks(cbs)):
        tree, own = encode(cb.get_state(), f"callbacks/{i}")
        tensors.update(own)
        callbacks.append({"class_name": type(cb).__name__, "state": tree})
    py_state = random.getstate()
    meta = {
        "format": FORMAT, "regulab": _version(),
        "weights": {path: list(var.value.shape) for var, path in structure.paths.items()},
        "optimizer": _optimizer_entry(model),
        "iterations": int(opt._iterations), "learning_rate": float(opt._learning_rate), "slots": slots,
        "position": {"epoch": position.epoch, "batch": position.batch, "steps_done": position.steps_done,
                     "seen": position.seen, "stopped": bool(position.stopped)},
        "seed": seed, "engine": engine, "steps_per_epoch": steps_per_epoch,
        "callbacks": callbacks,
        "rng": {"numpy": [np_state[0], int(np_state[2]), int(np_state[3]), float(np_state[4])],
                "python": [py_state[0], list(py_state[1]), py_state[2]]},
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr(_META, json.dumps(meta))
        z.writestr(_TENSORS, st_save(tensors))
    return out.getvalue()


def _require(condition: bool, where, why: str) -> None:
    if not condition:
        raise file_error(where, f"its {_META} is not a checkpoint regulab wrote ({why})")


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _check_meta(meta, where) -> None:
    """The checkpoint's fields have the types this module writes (a damaged file says so)."""
    _require(isinstance(meta, dict), where, "not an object")
    fmt = meta.get("format")
    _require(_is_int(fmt), where, "no format number")
    if fmt > FORMAT:
        raise file_error(where, f"it was written by a newer regulab ({meta.get('regulab')!r}, checkpoint format "
                                f"{fmt}); this regulab ({_version()}) reads format {FORMAT}",
                         "Upgrade regulab to resume from it, or delete the backup to start afresh.")
    pos = meta.get("position")
    _require(isinstance(pos, dict) and all(_is_int(pos.get(k)) and pos.get(k) >= 0
                                           for k in ("epoch", "batch", "steps_done", "seen"))
             and isinstance(pos.get("stopped"), bool), where, "position")
    _require(isinstance(meta.get("weights"), dict) and all(
        isinstance(s, list) and all(_is_int(d) and d >= 0 for d in s) for s in meta["weights"].values()),
        where, "weights")
    _require(isinstance(meta.get("optimizer"), dict) and isinstance(meta["optimizer"].get("class_name"), str),
             where, "optimizer")
    _require(_is_int(meta.get("iterations")) and isinstance(meta.get("learning_rate"), (int, float))
             and isinstance(meta.get("slots"), dict)
             and all(isinstance(v, list) and all(isinstance(s, str) for s in v) for v in meta["slots"].values()),
             where, "optimizer state")
    _require(_is_int(meta.get("seed")) and meta["seed"] >= 0 and meta.get("engine") in ("eager", "compiled")
             and _is_int(meta.get("steps_per_epoch")), where, "seed, engine or steps")
    _require(isinstance(meta.get("callbacks"), list) and all(
        isinstance(c, dict) and isinstance(c.get("class_name"), str) and isinstance(c.get("state"), dict)
        for c in meta["callbacks"]), where, "callbacks")
    rng = meta.get("rng")
    _require(isinstance(rng, dict) and isinstance(rng.get("numpy"), list) and len(rng["numpy"]) == 4
             and isinstance(rng.get("python"), list) and len(rng["python"]) == 3, where, "random generators")
    name, pos, has_gauss, cached = rng["numpy"]
    version, state, gauss = rng["python"]
    _require(name == "MT19937" and _is_int(pos) and 0 <= pos <= 624 and _is_int(has_gauss) and has_gauss in (0, 1)
             and isinstance(cached, (int, float)) and not isinstance(cached, bool), where, "NumPy's generator")
    _require(_is_int(version) and isinstance(state, list) and len(state) == 625
             and all(_is_int(v) and 0 <= v < 2**32 for v in state[:-1]) and _is_int(state[-1])
             and 0 <= state[-1] <= 624 and (gauss is None or isinstance(gauss, float)), where, "Python's generator")


class Resume:
    """A checkpoint read and checked against the model and fit that will continue from it; nothing
    is applied until ``apply``."""

    def __init__(self, meta: dict, tensors: dict, where):
        self.meta, self.tensors, self.where = meta, tensors, where
        pos = meta["position"]
        acc = tensors.get("loop/acc")
        self.position = Position(pos["epoch"], pos["batch"], pos["steps_done"], pos["seen"], acc, pos["stopped"])
        self.seed = meta["seed"]
        self.engine = meta["engine"]

    def check(self, model, spec, cbs, steps_per_epoch: int) -> None:
        """Refuse a checkpoint of another model, optimizer, callback list or epoch size."""
        where = self.where
        here = {path: list(var.value.shape) for var, path in spec.structure.paths.items()}
        saved = self.meta["weights"]
        for path in sorted(set(here) | set(saved)):
            if path not in saved:
                raise _mismatch(where, f"this model has a weight '{path}' the backup does not")
            if path not in here:
                raise _mismatch(where, f"the backup has a weight '{path}' this model does not")
            if saved[path] != here[path]:
                raise _mismatch(where, f"weight '{path}' has shape {tuple(saved[path])} in the backup and "
                                       f"{tuple(here[path])} in this model")
        mine = _optimizer_entry(model)
        if self.meta["optimizer"] != mine:
            raise _mismatch(where, f"the backup's optimizer is {self.meta['optimizer']['class_name']} "
                                   f"{self.meta['optimizer'].get('config')}, this model's is {mine['class_name']} "
                                   f"{mine['config']}")
        names = [c["class_name"] for c in self.meta["callbacks"]]
        ours = [type(c).__name__ for c in _saved_callbacks(cbs)]
        if names != ours:
            raise _mismatch(where, f"the backup was made with the callbacks {names}, this fit has {ours}")
        if self.meta["steps_per_epoch"] != steps_per_epoch:
            raise _mismatch(where, f"the backup's fit ran {self.meta['steps_per_epoch']} batches per epoch, this "
                                   f"one runs {steps_per_epoch} (another batch size or data set)")
        for path, slots in self.meta["slots"].items():
            if path not in here:
                raise _mismatch(where, f"the backup has optimizer state for '{path}', which this model lacks")
        # every tensor the apply step reads is there, with the shape it needs
        for path, shape in here.items():
            _tensor(self.tensors, f"variables/{path}", where, shape)
        for path, slots in self.meta["slots"].items():
            for slot in slots:
                _tensor(self.tensors, f"slots/{path}/{slot}", where, here[path])
        if self.position.batch:
            _tensor(self.tensors, "loop/acc", where, [spec.n_stats])
        _tensor(self.tensors, "rng/torch", where, None)
        _tensor(self.tensors, "rng/numpy", where, [624])
        try:
            self._states = [decode(c["state"], self.tensors) for c in self.meta["callbacks"]]
        except (KeyError, TypeError, ValueError) as e:
            raise file_error(where, f"a callback's state is damaged ({type(e).__name__}: {e})") from None
        for cb, state in zip(_saved_callbacks(cbs), self._states):
            own = cb.get_state()
            for key in state:  # what set_state sets: only what this callback itself keeps
                if key not in own:
                    raise file_error(where, f"the state of its {type(cb).__name__} has an attribute {key!r} that "
                                            f"callback does not keep")

    def apply(self, model, spec, cbs) -> None:
        """Put the checkpoint's state into the model, its optimizer, the callbacks and the generators."""
        device = model.device
        for var, path in spec.structure.paths.items():
            var.value = self.tensors[f"variables/{path}"].to(device=device, dtype=var.value.dtype)
        by_path = {path: var for var, path in spec.structure.paths.items()}
        opt = model.optimizer
        opt.slots = {by_path[path]: {slot: self.tensors[f"slots/{path}/{slot}"].to(device) for slot in slots}
                     for path, slots in self.meta["slots"].items()}
        opt._iterations, opt._learning_rate = self.meta["iterations"], float(self.meta["learning_rate"])
        for cb, state in zip(_saved_callbacks(cbs), self._states):
            cb.set_state(state)
        torch.set_rng_state(self.tensors["rng/torch"])
        name, pos, has_gauss, cached = self.meta["rng"]["numpy"]
        np.random.set_state((name, self.tensors["rng/numpy"].numpy().astype(np.uint32), pos, has_gauss, cached))
        version, state, gauss = self.meta["rng"]["python"]
        random.setstate((version, tuple(state), gauss))


def _mismatch(where, why: str) -> ValueError:
    return ValueError(f"The backup '{where}' does not match this fit: {why}. Use another backup_dir for "
                      f"another model, or delete the backup to start afresh.")


def _tensor(tensors: dict, key: str, where, shape) -> torch.Tensor:
    t = tensors.get(key)
    if t is None or (shape is not None and list(t.shape) != list(shape)):
        got = "missing" if t is None else f"of shape {tuple(t.shape)}"
        raise file_error(where, f"its tensor '{key}' is {got}" + ("" if shape is None else
                                                                  f", expected shape {tuple(shape)}"))
    return t


def read_checkpoint(path) -> Resume:
    """The checkpoint at ``path``, its structure checked (``Resume.check`` then compares it with the fit)."""
    members = read_members(path, {_META, _TENSORS}, path)
    for name in (_META, _TENSORS):
        if name not in members:
            raise file_error(path, f"it has no '{name}' member, so it is not a regulab checkpoint")
    meta = parse_json(members[_META], path, _META)
    _check_meta(meta, path)
    tensors = read_safetensors(members[_TENSORS], path, "the checkpoint's tensors")
    return Resume(meta, tensors, path)


__all__ = ["Position", "Resume", "checkpoint_bytes", "read_checkpoint", "ModelFileError"]
