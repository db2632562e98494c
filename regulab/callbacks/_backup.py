"""Survive a killed fit: back the whole training state up as it runs, resume from it on a rerun.

``BackupAndRestore`` has Keras's name and arguments. Unlike Keras's, the backup holds the whole
state (``regulab.training._checkpoint``): weights, buffers, optimizer state, the loop's position
down to the batch, the seed and step counter behind every shuffle and dropout mask, the engine that
ran, the History and every callback's state. A rerun of the same script therefore ends with
weights and history bit-identical, on CPU, to a run that was never interrupted. Each backup is
written atomically (a kill mid-write leaves the previous one), after every callback has seen the
epoch or batch.

>>> import numpy as np, tempfile
>>> import regulab
>>> from regulab.callbacks import BackupAndRestore
>>> from regulab.layers import Dense
>>> from regulab.models import Sequential
>>> model = Sequential([Dense(1, input_dim=3, activation="sigmoid")])
>>> model.compile("adam", "binary_crossentropy")
>>> x, y = np.ones((8, 3), "float32"), np.ones(8, "float32")
>>> backup = BackupAndRestore(tempfile.mkdtemp())
>>> len(model.fit(x, y, epochs=2, verbose=0, callbacks=[backup]).history["loss"])
2
"""
from __future__ import annotations

import contextlib
import os
import warnings

from regulab._atomic import atomic_write
from regulab.callbacks._base import Callback, check_flag, check_path
from regulab._validation import invalid

CHECKPOINT = "checkpoint.regulab"
PREVIOUS = "checkpoint.previous.regulab"


class BackupAndRestore(Callback):
    """Back the training state up to ``backup_dir``; a fit that finds a backup there resumes from it.

    Args:
        backup_dir: the directory of the backup (created if missing). Use one per fit: a backup of
            another model, optimizer or callback list is refused with the difference named.
        save_freq: ``"epoch"`` (after every epoch) or a number of batches (after every that many).
        delete_checkpoint: delete the backup when the fit ends normally (the next run starts
            afresh); an interrupted fit always keeps it.
        double_checkpoint: keep the previous backup too, and resume from it when the latest is
            damaged (each write is atomic, so this guards against a disk's damage, not a kill).

    Keras 3 differs in two ways: a backup is written once every callback has seen the epoch or
    batch (a callback that crashes at an epoch's end makes the rerun repeat that epoch), and
    ending normally deletes regulab's files in ``backup_dir`` and the directory only if it is
    then empty (Keras removes the whole directory).

    What resumes bit for bit: fits on arrays (each epoch's order is a function of the seed and the
    epoch). A fit on a generator resumes at its position, drawing the skipped batches again from
    the generator. The fit's seed is the backup's: ``fit(seed=s)`` with another seed is refused.
    """

    def __init__(self, backup_dir, save_freq="epoch", delete_checkpoint: bool = True,
                 double_checkpoint: bool = False):
        super().__init__()
        where = "BackupAndRestore"
        path = check_path("backup_dir", backup_dir, "a directory path", where)
        if os.path.exists(path) and not os.path.isdir(path):
            raise ValueError(f"Invalid value for argument `backup_dir` of BackupAndRestore: expected a directory. "
                             f"Received: backup_dir={path!r}, which is a file.")
        if save_freq != "epoch" and (not isinstance(save_freq, int) or isinstance(save_freq, bool) or save_freq < 1):
            raise invalid("save_freq", "'epoch' or a positive number of batches", save_freq, where)
        self.backup_dir = path
        self.save_freq = save_freq
        self.delete_checkpoint = check_flag("delete_checkpoint", delete_checkpoint, where)
        self.double_checkpoint = check_flag("double_checkpoint", double_checkpoint, where)
        self._since = 0  # batches since the last backup

    _not_state = Callback._not_state + ("_since",)

    @property
    def path(self) -> str:
        """The backup file."""
        return os.path.join(self.backup_dir, CHECKPOINT)

    @property
    def previous_path(self) -> str:
        """The backup before the latest (kept with ``double_checkpoint``)."""
        return os.path.join(self.backup_dir, PREVIOUS)

    def read(self):
        """The latest backup as a ``Resume`` (the previous one where the latest is damaged and
        ``double_checkpoint`` kept it), or None when there is none."""
        from regulab.models._safe_zip import ModelFileError
        from regulab.training._checkpoint import read_checkpoint

        has_previous = self.double_checkpoint and os.path.exists(self.previous_path)
        if not os.path.exists(self.path):
            return read_checkpoint(self.previous_path) if has_previous else None
        try:
            return read_checkpoint(self.path)
        except ModelFileError as err:
            if not has_previous:
                raise
            warnings.warn(f"{err} Resuming from the previous backup, {self.previous_path!r}.", RuntimeWarning,
                          stacklevel=3)
            return read_checkpoint(self.previous_path)

    def check_writable(self) -> None:
        """Fail before training when the backup cannot be written (not after an epoch's work)."""
        try:
            os.makedirs(self.backup_dir, exist_ok=True)
            probe = os.path.join(self.backup_dir, ".regulab-write-test")
            with open(probe, "wb"):
                pass
            os.remove(probe)
        except OSError as e:
            raise OSError(f"BackupAndRestore cannot write to its backup directory {self.backup_dir!r} "
                          f"({e.strerror or e}); pass a writable backup_dir.") from None

    def uses_batch_hooks(self, mode: str) -> bool:
        return mode == "train" and self.save_freq != "epoch"

    def due(self, batches: int = 0) -> bool:
        """After ``batches`` more batches (0: at an epoch's end), whether a backup is due now."""
        if self.save_freq == "epoch":
            return batches == 0
        if batches == 0:
            return False
        self._since += batches
        if self._since >= self.save_freq:
            self._since = 0
            return True
        return False

    def write(self, data: bytes) -> None:
        if self.double_checkpoint and os.path.exists(self.path):
            os.replace(self.path, self.previous_path)
        atomic_write(self.path, data)

    def on_train_end(self, logs=None):
        if not self.delete_checkpoint:
            return
        for path in (self.path, self.previous_path):
            if os.path.exists(path):
                os.remove(path)
        with contextlib.suppress(OSError):  # only when nothing else is in it
            os.rmdir(self.backup_dir)

    def get_config(self) -> dict:
        return {"backup_dir": self.backup_dir, "save_freq": self.save_freq,
                "delete_checkpoint": self.delete_checkpoint, "double_checkpoint": self.double_checkpoint}
