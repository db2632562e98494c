"""Save the model, or its weights, during training; each file appears whole or not at all.

A checkpoint is written to a temporary file in the target's directory and then renamed onto the
target (``os.replace``, atomic on POSIX and Windows), so an interrupted or failing save never leaves
a truncated checkpoint, nor destroys the previous good one.

>>> import os, tempfile
>>> from regulab.callbacks import ModelCheckpoint
>>> class Model:
...     def save(self, path):
...         with open(path, "w") as f:
...             f.write("model")
>>> folder = tempfile.mkdtemp()
>>> ckpt = ModelCheckpoint(os.path.join(folder, "model-{epoch:02d}-{val_loss:.2f}.keras"))
>>> ckpt.set_model(Model())
>>> ckpt.on_epoch_end(2, {"loss": 0.41, "val_loss": 0.5})
>>> os.listdir(folder)
['model-03-0.50.keras']
"""
from __future__ import annotations

import os
import re
import string
from collections import ChainMap

from regulab._atomic import atomic_save
from regulab._validation import check_float, check_int, invalid, suggest
from regulab.callbacks._base import BATCH_HOOKS, check_flag, check_path, check_verbose, overrides, print_message
from regulab.callbacks._monitor import MonitorCallback


def _field_names(filepath: str, where: str) -> list[str]:
    """The names of the ``{...}`` fields in ``filepath`` ('val_loss' for ``{val_loss:.2f}``)."""
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(filepath) if f is not None]
    except ValueError as e:
        raise invalid("filepath", f"a path whose {{...}} fields are well formed ({e})", filepath,
                      where) from None
    names = [re.split(r"[.\[]", f)[0] for f in fields]
    if any(not n or n.isdigit() for n in names):
        raise invalid("filepath", "a path with named fields only, such as {epoch:02d} or "
                      "{val_loss:.4f}", filepath, where)
    return names


class ModelCheckpoint(MonitorCallback):
    """Save the model (``model.save``) or its weights (``model.save_weights``) as it trains.

    Args:
        filepath: where to save (str or path). It may hold ``{epoch:02d}`` (counted from 1),
            ``{batch}`` (with an integer ``save_freq``) and any logged name, e.g.
            ``'ckpt-{epoch:02d}-{val_loss:.4f}.keras'``; without fields, each save replaces the file.
        monitor: the quantity compared when ``save_best_only`` (default ``'val_loss'``).
        verbose: 1 prints a line per save decision (default 0).
        save_best_only: save only when ``monitor`` improves on the best value saved so far
            (default False: save every time).
        save_weights_only: save with ``model.save_weights`` instead of ``model.save``
            (default False).
        mode: ``'auto'`` (the metric's direction), ``'min'`` or ``'max'`` (default ``'auto'``).
        save_freq: ``'epoch'`` (default) or a positive number of training batches between saves
            (counted across epochs; with ``steps_per_execution=K`` checked every K batches, as
            in Keras).
        initial_value_threshold: with ``save_best_only``, a value the monitored quantity must
            beat before the first save, e.g. the score of a checkpoint already on disk
            (default None).

    The best value is kept across fits, since the file on disk keeps the best model too: a second
    ``fit`` saves only when it beats it.
    """

    def __init__(self, filepath, monitor: str = "val_loss", verbose: int = 0,
                 save_best_only: bool = False, save_weights_only: bool = False, mode: str = "auto",
                 save_freq="epoch", initial_value_threshold: float | None = None):
        super().__init__(monitor, mode)
        where = type(self).__name__
        path = check_path("filepath", filepath, "a file path", where)
        if os.path.isdir(path):
            raise invalid("filepath", "a file path, not an existing directory", filepath, where)
        self.filepath = path
        self._fields = _field_names(path, where)
        self.verbose = check_verbose(verbose, where)
        self.save_best_only = check_flag("save_best_only", save_best_only, where)
        self.save_weights_only = check_flag("save_weights_only", save_weights_only, where)
        if save_freq != "epoch":
            if isinstance(save_freq, str):
                raise invalid("save_freq", "'epoch' or a positive integer number of batches",
                              save_freq, where)
            save_freq = check_int("save_freq", save_freq, low=1, where=where)
        self.save_freq = save_freq
        self.initial_value_threshold = (None if initial_value_threshold is None else
                                        check_float("initial_value_threshold",
                                                    initial_value_threshold, where=where))
        self.best: float | None = self.initial_value_threshold
        self._epoch = 0
        self._batches_since_save = 0
        self._last_batch: int | None = None

    @property
    def _per_batch(self) -> bool:
        return self.save_freq != "epoch"

    def uses_batch_hooks(self, mode: str) -> bool:
        # with save_freq='epoch' the per-batch hook has nothing to do, so the loop may skip it
        if mode == "train" and self._per_batch:
            return True
        return overrides(self, BATCH_HOOKS[mode], ModelCheckpoint)

    def on_train_begin(self, logs=None):
        self._batches_since_save = 0
        self._last_batch = None
        names = self.params.get("metrics")
        if names is not None and self._per_batch:
            # batch logs carry only training metrics
            names = [n for n in names if not n.startswith("val_")]
        if self.save_best_only:
            if self._per_batch and self.monitor.startswith("val_"):
                raise ValueError(
                    f"ModelCheckpoint(save_best_only=True, save_freq={self.save_freq}) compares "
                    f"batch logs, which hold no validation metrics, so monitor={self.monitor!r} "
                    "is never there. Use save_freq='epoch', or monitor a training metric.")
            self.check_monitor(names)
            self.direction = self._resolve_direction()
            if self.best is None:
                self.best = self.worst()
        if names is not None:
            self._check_fields(names)

    def _check_fields(self, names: list[str]) -> None:
        if self._per_batch:
            known = ["epoch", "batch", *names]
        else:
            # ReduceLROnPlateau and LearningRateScheduler add 'learning_rate' to the epoch logs
            known = ["epoch", *names, "learning_rate"]
        for name in self._fields:
            if name not in known:
                error = invalid("filepath", "fields among " + ", ".join(known), self.filepath,
                                "ModelCheckpoint")
                raise ValueError(f"{error}.{suggest(name, known)}")

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        self._last_batch = None

    def on_train_batch_end(self, batch, logs=None):
        if not self._per_batch:
            return
        # batches, not calls, as Keras counts: with steps_per_execution=K the loop calls this
        # hook once per K batches, with the index of the last of them
        if self._last_batch is None or batch <= self._last_batch:  # the epoch's first call
            self._batches_since_save += batch + 1
        else:
            self._batches_since_save += batch - self._last_batch
        self._last_batch = batch
        if self._batches_since_save >= self.save_freq:
            self._batches_since_save = 0
            self._save(self._epoch, batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        if not self._per_batch:
            self._save(epoch, None, logs)

    def _path(self, epoch: int, batch: int | None, logs) -> str:
        if not self._fields:
            return self.filepath
        own = {"epoch": epoch + 1} if batch is None else {"epoch": epoch + 1, "batch": batch + 1}
        try:
            # vformat looks up only the fields used, so batch logs are read only for those
            return string.Formatter().vformat(self.filepath, (), ChainMap(own, logs or {}))
        except KeyError as e:
            available = ", ".join(repr(k) for k in [*own, *(logs or {})])
            raise ValueError(f"Cannot fill the field {e} of the ModelCheckpoint filepath "
                             f"{self.filepath!r}: the logs hold {available}.") from None

    def _save(self, epoch: int, batch: int | None, logs) -> None:
        path = self._path(epoch, batch, logs)
        if self.save_best_only:
            current = self.current(logs)
            if self.best is None:
                self.best = self.worst()
            if not self.is_improvement(current, self.best):
                if self.verbose:
                    print_message(f"Epoch {epoch + 1}: {self.monitor} did not improve from "
                                  f"{self.best:.5f}")
                return
            if self.verbose:
                print_message(f"Epoch {epoch + 1}: {self.monitor} improved from {self.best:.5f} "
                              f"to {current:.5f}, saving model to {path}")
        elif self.verbose:
            print_message(f"Epoch {epoch + 1}: saving model to {path}")
        atomic_save(path, self.model.save_weights if self.save_weights_only else self.model.save)
        if self.save_best_only:
            # only once the file is there: a failed save must not raise the bar for the next one
            self.best = current

    def get_config(self) -> dict:
        return {"filepath": self.filepath, "monitor": self.monitor, "verbose": self.verbose,
                "save_best_only": self.save_best_only, "save_weights_only": self.save_weights_only,
                "mode": self.mode, "save_freq": self.save_freq,
                "initial_value_threshold": self.initial_value_threshold}
