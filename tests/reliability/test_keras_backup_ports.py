"""Keras 3's own tests of BackupAndRestore (keras/src/callbacks/backup_and_restore_test.py), ported.

Keras counts forward passes with a layer that assigns to a weight; regulab's steps are pure, so
the same facts are checked through the optimizer's step count, which the backup restores.
Where regulab decides otherwise, the test says so: a backup is written once every callback has
seen the batch or epoch, so an interruption raised by a callback repeats that batch or epoch.
"""
import os
import re

import numpy as np
import pytest

from regulab import callbacks, layers
from regulab.models import Sequential


class InterruptingCallback(callbacks.Callback):
    """Keras's: raises after ``steps_int`` batches or ``epoch_int`` epochs."""

    def __init__(self, steps_int, epoch_int):
        super().__init__()
        self.batch_count, self.epoch_count = 0, 0
        self.steps_int, self.epoch_int = steps_int, epoch_int

    def on_epoch_end(self, epoch, log=None):
        self.epoch_count += 1
        if self.epoch_int is not None and self.epoch_count == self.epoch_int:
            raise RuntimeError("EpochInterruption")

    def on_train_batch_end(self, batch, logs=None):
        self.batch_count += 1
        if self.steps_int is not None and self.batch_count == self.steps_int:
            raise RuntimeError("StepsInterruption")

    def get_state(self):
        return {}


def make_model():
    model = Sequential([layers.Input((3,)), layers.Dense(1)])
    model.compile(loss="mse", optimizer="sgd", metrics=["mse"])
    return model


def _data():
    rng = np.random.default_rng(0)
    return rng.random((10, 3)).astype("float32"), rng.random((10, 1)).astype("float32")


@pytest.mark.parametrize("save_freq", ["batch", 0.15])
def test_save_freq_unknown_error(save_freq):
    with pytest.raises(ValueError, match="Invalid value"):
        callbacks.BackupAndRestore(backup_dir="backup_dir", save_freq=save_freq)


def test_best_case_step(tmp_path):
    backup_dir = tmp_path / "subdir"
    assert not backup_dir.exists()
    model = make_model()
    cbk = callbacks.BackupAndRestore(backup_dir, save_freq=1)
    x, y = _data()
    with pytest.raises(RuntimeError, match="StepsInterruption"):
        model.fit(x, y, batch_size=4, callbacks=[cbk, InterruptingCallback(steps_int=2, epoch_int=None)], epochs=2,
                  verbose=0)
    assert backup_dir.exists()
    assert model.optimizer.iterations == 2
    # the rerun (Keras reuses the callback; so may regulab) continues from the backup after batch 1
    hist = make_model().fit(x, y, batch_size=4, callbacks=[cbk, InterruptingCallback(None, None)], epochs=5,
                            verbose=0)
    assert hist.epoch[-1] == 4 and hist.epoch == [0, 1, 2, 3, 4]
    assert hist.model.optimizer.iterations == 5 * 3  # 3 batches of 4 samples per epoch, none done twice


def test_best_case_epoch(tmp_path):
    backup_dir = tmp_path / "subdir"
    model = make_model()
    cbk = callbacks.BackupAndRestore(backup_dir=backup_dir, save_freq="epoch")
    x, y = _data()
    with pytest.raises(RuntimeError, match="EpochInterruption"):
        model.fit(x, y, batch_size=4, callbacks=[cbk, InterruptingCallback(steps_int=None, epoch_int=2)], epochs=6,
                  verbose=0)
    assert backup_dir.exists()
    assert model.optimizer.iterations == 6
    resumed = make_model()
    hist = resumed.fit(x, y, batch_size=4, callbacks=[cbk, InterruptingCallback(None, None)], epochs=5, verbose=0)
    assert hist.epoch[-1] == 4
    assert resumed.optimizer.iterations == 5 * 3
    # regulab: no backup was written after the second epoch (a callback failed at its end), so the
    # rerun repeated it from the backup after the first: still no step done twice


def test_backup_corrupted(tmp_path):
    backup_dir = tmp_path / "subdir"
    model = make_model()
    cbk = callbacks.BackupAndRestore(backup_dir=backup_dir, save_freq="epoch", double_checkpoint=True)
    x, y = _data()
    with pytest.raises(RuntimeError, match="EpochInterruption"):
        model.fit(x, y, batch_size=4, callbacks=[cbk, InterruptingCallback(steps_int=None, epoch_int=3)], epochs=6,
                  verbose=0)
    assert os.path.exists(cbk.path) and os.path.exists(cbk.previous_path)
    with open(cbk.path, "w") as f:  # Keras's corruption
        f.write("0")
    resumed = make_model()
    with pytest.warns(RuntimeWarning, match=re.escape(f"Cannot load '{cbk.path}': it is not a zip archive.")):
        hist = resumed.fit(x, y, batch_size=4, callbacks=[cbk, InterruptingCallback(None, None)], epochs=5,
                           verbose=0)
    assert hist.epoch[-1] == 4
    assert resumed.optimizer.iterations == 5 * 3


def test_model_deleted_case_epoch(tmp_path):
    backup_dir = tmp_path / "subdir"
    cbk = callbacks.BackupAndRestore(backup_dir, save_freq="epoch")
    x, y = _data()
    make_model().fit(x, y, batch_size=4, callbacks=[cbk], epochs=2, verbose=0)
    assert not backup_dir.exists()


@pytest.mark.parametrize("backup_dir", ["", None])
def test_backup_dir_empty_error(backup_dir):
    # Keras: "Empty `backup_dir` argument passed"; regulab names the argument, the expected and the received
    with pytest.raises(ValueError, match=re.escape(
            "Invalid value for argument `backup_dir` of BackupAndRestore: expected a directory path (a non-empty "
            f"str or os.PathLike). Received: backup_dir={backup_dir!r}")):
        callbacks.BackupAndRestore(backup_dir=backup_dir, save_freq="epoch")
