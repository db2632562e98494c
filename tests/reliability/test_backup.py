"""BackupAndRestore: an interrupted fit, rerun, ends bit-identical to one never interrupted."""
import io
import json
import os
import re
import zipfile

import numpy as np
import pytest

import regulab
from regulab.callbacks import (BackupAndRestore, Callback, CSVLogger, EarlyStopping, ModelCheckpoint,
                               ReduceLROnPlateau, TerminateOnNaN)
from regulab.layers import BatchNormalization, Dense, Dropout, GaussianNoise
from regulab.models import Sequential
from regulab.models._safe_zip import ModelFileError
from tests.helpers import linear_data


class Interrupt(Callback):
    """Stops the process's work after ``at`` batches, as a kill would (its own state is not kept)."""

    def __init__(self, at):
        super().__init__()
        self.at, self.count = at, 0

    def on_train_batch_end(self, batch, logs=None):
        self.count += 1
        if self.count == self.at:
            raise KeyboardInterrupt

    def get_state(self):
        return {}


def _model(jit=False, optimizer="adam", units=16):
    regulab.set_random_seed(0)
    model = Sequential([GaussianNoise(0.05, input_shape=(20,)), Dense(units, activation="relu"), BatchNormalization(),
                        Dropout(0.3), Dense(1, activation="sigmoid")])
    model.compile(optimizer, "binary_crossentropy", metrics=["accuracy"], jit_compile=jit, steps_per_execution=2 if jit else 1)
    return model


def _callbacks(folder, save_freq, interrupt_at=None):
    cbs = [EarlyStopping(patience=3, restore_best_weights=True), ReduceLROnPlateau(patience=1, factor=0.5),
           CSVLogger(os.path.join(folder, "log.csv")), ModelCheckpoint(os.path.join(folder, "best.keras"),
                                                                      save_best_only=True),
           BackupAndRestore(os.path.join(folder, "backup"), save_freq=save_freq)]
    return cbs + [Interrupt(interrupt_at or 10**9)]


def _fit(model, callbacks, epochs=6):
    x, y = linear_data(200, 20)
    return model.fit(x, y, epochs=epochs, validation_split=0.2, verbose=0, callbacks=callbacks)


@pytest.mark.parametrize("save_freq", ["epoch", 3], ids=["every epoch", "every 3 batches"])
def test_an_interrupted_fit_resumes_bit_for_bit(tmp_path, save_freq, jit=False):
    ref_dir, run_dir = tmp_path / "ref", tmp_path / "run"
    ref_dir.mkdir(), run_dir.mkdir()
    reference = _model(jit)
    expected = _fit(reference, _callbacks(ref_dir, save_freq))  # with an Interrupt that never fires
    interruptions = 0
    for at in (7, 4, 9, None):  # three interruptions, then a run to the end
        model = _model(jit)  # what a rerun of the script builds
        try:
            history = _fit(model, _callbacks(run_dir, save_freq, at))
        except KeyboardInterrupt:
            interruptions += 1
            assert os.path.exists(run_dir / "backup" / "checkpoint.regulab")
    assert interruptions == 3
    for a, b in zip(reference.get_weights(), model.get_weights()):
        assert np.array_equal(a, b)
    assert history.history == expected.history and history.epoch == expected.epoch
    assert history.params["engine"] == expected.params["engine"]
    assert (run_dir / "log.csv").read_text() == (ref_dir / "log.csv").read_text()
    assert model.optimizer.learning_rate == reference.optimizer.learning_rate
    # the fit ended normally: the backup is gone, so the next run starts afresh
    assert not os.path.exists(run_dir / "backup" / "checkpoint.regulab")


def test_an_interrupted_compiled_fit_resumes_bit_for_bit(tmp_path):
    # the compiled engine rounds differently from the eager one: the backup says which ran
    def build():
        regulab.set_random_seed(0)
        model = Sequential([Dense(8, input_dim=20, activation="relu"), Dropout(0.3), Dense(1, activation="sigmoid")])
        model.compile("adam", "binary_crossentropy", jit_compile=True, steps_per_execution=2)
        return model

    x, y = linear_data(160, 20)
    reference = build()
    expected = reference.fit(x, y, epochs=3, verbose=0, callbacks=[BackupAndRestore(tmp_path / "a", save_freq=2),
                                                                   Interrupt(10**9)])
    model = build()
    with pytest.raises(KeyboardInterrupt):
        model.fit(x, y, epochs=3, verbose=0, callbacks=[BackupAndRestore(tmp_path / "b", save_freq=2), Interrupt(5)])
    # the rerun on the same model object (its compiled step is kept: one compile less); the backup
    # puts back every weight and the optimizer's state
    history = model.fit(x, y, epochs=3, verbose=0, callbacks=[BackupAndRestore(tmp_path / "b", save_freq=2),
                                                              Interrupt(10**9)])
    assert history.params["engine"].startswith("compiled")
    for a, b in zip(reference.get_weights(), model.get_weights()):
        assert np.array_equal(a, b)
    assert history.history == expected.history


def test_the_checkpoint_holds_the_whole_state(tmp_path):
    model = _model()
    backup = BackupAndRestore(tmp_path, delete_checkpoint=False)
    _fit(model, [EarlyStopping(patience=2), backup], epochs=2)
    with zipfile.ZipFile(backup.path) as z:
        assert sorted(z.namelist()) == ["checkpoint.json", "state.safetensors"]
        meta = json.loads(z.read("checkpoint.json"))
    assert meta["position"] == {"epoch": 2, "batch": 0, "steps_done": 10, "seen": 0, "stopped": False}
    assert meta["engine"] == "eager" and meta["steps_per_epoch"] == 5
    assert [c["class_name"] for c in meta["callbacks"]] == ["EarlyStopping", "BackupAndRestore", "History"]
    assert len(meta["weights"]) == len(model.weights) == 8  # 2 of Dense, 4 of BatchNorm, 2 of Dense
    assert meta["seed"] >= 0 and meta["iterations"] == 10 and set(meta["rng"]) == {"numpy", "python"}


class Crash(Exception):
    pass


class _Boom(Callback):
    """Crashes the fit at its 7th batch (after the backups at batches 2, 4 and 6)."""

    def __init__(self):
        super().__init__()
        self.count = 0

    def on_train_batch_end(self, batch, logs=None):
        self.count += 1
        if self.count == 7:
            raise Crash

    def get_state(self):
        return {}


def _interrupted_backup(folder, model=None, **fit):
    model = model or _model()
    with pytest.raises(Crash):
        x, y = linear_data(200, 20)
        model.fit(x, y, epochs=3, verbose=0, callbacks=[BackupAndRestore(folder, save_freq=2), _Boom()], **fit)
    return os.path.join(folder, "checkpoint.regulab")


def test_a_backup_of_another_model_is_refused_naming_the_difference(tmp_path):
    path = _interrupted_backup(tmp_path)
    x, y = linear_data(200, 20)
    other = _model(units=8)
    with pytest.raises(ValueError, match=re.escape(
            f"The backup '{path}' does not match this fit: weight 'batch_normalization/beta' has shape (16,) in the "
            "backup and (8,) in this model. Use another backup_dir for another model, or delete the backup to start "
            "afresh.")):
        other.fit(x, y, epochs=3, verbose=0, callbacks=[BackupAndRestore(tmp_path, save_freq=2), _Boom()])
    assert np.array_equal(other.get_weights()[0], _model(units=8).get_weights()[0])  # nothing half-applied
    sgd = _model(optimizer="sgd")
    with pytest.raises(ValueError, match=re.escape("does not match this fit: the backup's optimizer is Adam")):
        sgd.fit(x, y, epochs=3, verbose=0, callbacks=[BackupAndRestore(tmp_path, save_freq=2), _Boom()])
    with pytest.raises(ValueError, match=re.escape("does not match this fit: the backup was made with the callbacks "
                                                   "['BackupAndRestore', '_Boom', 'History'], this fit has "
                                                   "['BackupAndRestore', 'History']")):
        _model().fit(x, y, epochs=3, verbose=0, callbacks=[BackupAndRestore(tmp_path, save_freq=2)])
    with pytest.raises(ValueError, match=re.escape(f"The backup '{path}' continues a fit with seed=")):
        _model().fit(x, y, epochs=3, verbose=0, seed=123456, callbacks=[BackupAndRestore(tmp_path, save_freq=2), _Boom()])


def test_a_checkpoint_from_a_newer_regulab_or_damaged_is_refused(tmp_path):
    path = _interrupted_backup(tmp_path)
    data = open(path, "rb").read()
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        meta, tensors = json.loads(z.read("checkpoint.json")), z.read("state.safetensors")
    meta["format"], meta["regulab"] = 99, "9.0"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("checkpoint.json", json.dumps(meta))
        z.writestr("state.safetensors", tensors)
    open(path, "wb").write(out.getvalue())
    x, y = linear_data(200, 20)
    with pytest.raises(ModelFileError, match=re.escape(
            f"Cannot load '{path}': it was written by a newer regulab ('9.0', checkpoint format 99); this regulab "
            f"({regulab.__version__}) reads format 1. Upgrade regulab to resume from it, or delete the backup to "
            "start afresh.")):
        _model().fit(x, y, epochs=3, verbose=0, callbacks=[BackupAndRestore(tmp_path, save_freq=2), _Boom()])
    open(path, "wb").write(data[: len(data) // 2])
    with pytest.raises(ModelFileError, match=re.escape(f"Cannot load '{path}'")):
        _model().fit(x, y, epochs=3, verbose=0, callbacks=[BackupAndRestore(tmp_path, save_freq=2), _Boom()])


def test_bad_arguments_are_named(tmp_path):
    afile = tmp_path / "file"
    afile.write_text("")
    with pytest.raises(ValueError, match=re.escape(
            "Invalid value for argument `backup_dir` of BackupAndRestore: expected a directory. "
            f"Received: backup_dir={str(afile)!r}, which is a file.")):
        BackupAndRestore(afile)
    with pytest.raises(ValueError, match=re.escape(
            "Invalid value for argument `save_freq` of BackupAndRestore: expected 'epoch' or a positive number "
            "of batches. Received: save_freq=0")):
        BackupAndRestore(tmp_path, save_freq=0)
    with pytest.raises(ValueError, match=re.escape("A fit takes at most one BackupAndRestore callback; received 2.")):
        _fit(_model(), [BackupAndRestore(tmp_path / "a"), BackupAndRestore(tmp_path / "b")])


def _read_only_dir(tmp_path):
    """A directory nothing can be written to: a read-only tmpfs as root (permissions do not stop
    root), else one without write permission."""
    folder = tmp_path / "ro"
    folder.mkdir()
    if os.geteuid() != 0:
        folder.chmod(0o555)
        return folder, lambda: folder.chmod(0o755)
    if os.system(f"mount -t tmpfs -o ro,size=64k tmpfs {folder} 2>/dev/null") != 0:
        pytest.skip("running as root without permission to mount a read-only tmpfs")
    return folder, lambda: os.system(f"umount {folder}")


def test_a_read_only_backup_directory_fails_before_training(tmp_path):
    folder, undo = _read_only_dir(tmp_path)
    model = _model()
    before = model.get_weights()
    try:
        with pytest.raises(OSError, match=re.escape(f"BackupAndRestore cannot write to its backup directory "
                                                    f"{str(folder)!r} (")):
            _fit(model, [BackupAndRestore(folder)])
    finally:
        undo()
    for a, b in zip(before, model.get_weights()):  # no step was taken
        assert np.array_equal(a, b)


def test_terminate_on_nan_and_a_custom_callback_resume_with_their_state(tmp_path):
    class Counter(Callback):
        def __init__(self):
            super().__init__()
            self.batches, self.losses = 0, []

        def on_train_batch_end(self, batch, logs=None):
            self.batches += 1

        def on_epoch_end(self, epoch, logs=None):
            self.losses.append(logs["loss"])

    ref = Counter()
    _fit(_model(), [TerminateOnNaN(), ref, BackupAndRestore(tmp_path / "a", save_freq=2), Interrupt(10**9)], epochs=3)
    for at in (6, None):
        counter = Counter()
        try:
            _fit(_model(), [TerminateOnNaN(), counter, BackupAndRestore(tmp_path / "b", save_freq=2),
                            Interrupt(at or 10**9)], epochs=3)
        except KeyboardInterrupt:
            pass
    assert (counter.batches, counter.losses) == (ref.batches, ref.losses) == (15, ref.losses)


def test_a_fit_killed_with_sigkill_at_random_moments_resumes_bit_for_bit(tmp_path):
    # a real process, killed for real (no handler runs), three times at random moments; the whole run
    # and its figures: benchmarks/kill_resume.py
    from benchmarks.kill_resume import run

    figures = run(kills=3, seed=1, folder=tmp_path)
    assert figures["kills"] == 3 and figures["runs"] >= 4
    assert figures["identical"]
