"""ModelCheckpoint: what is saved when, and that a failing save never leaves a broken file."""
import os

import pytest

from regulab.callbacks import CallbackList, ModelCheckpoint


class HalfWritingModel:
    """A model whose save writes part of the file and then fails, as a full disk would."""

    stop_training = False

    def train_epoch(self, epoch):
        pass

    def save(self, path):
        with open(path, "w") as f:
            f.write("half a mod")
        raise OSError("No space left on device")

    save_weights = save


def _read(path):
    with open(path) as f:
        return f.read()


def test_saves_every_epoch_with_formatted_names(tmp_path, model, fakes):
    cb = ModelCheckpoint(tmp_path / "ckpt-{epoch:02d}-{val_loss:.2f}.keras")
    fakes.fit(cb, model, fakes.val_losses([0.5, 0.25, 0.125]))
    assert sorted(os.listdir(tmp_path)) == ["ckpt-01-0.50.keras", "ckpt-02-0.25.keras",
                                            "ckpt-03-0.12.keras"]
    assert _read(tmp_path / "ckpt-02-0.25.keras") == "model 1"  # the fake writes its epoch


def test_save_best_only_keeps_the_best(tmp_path, model, fakes):
    path = tmp_path / "best.keras"
    cb = ModelCheckpoint(path, save_best_only=True)
    fakes.fit(cb, model, fakes.val_losses([1.0, 0.8, 0.9, 0.7, 0.75]))
    assert len(model.saves) == 3  # epochs 0, 1 and 3
    assert _read(path) == "model 3"
    assert os.listdir(tmp_path) == ["best.keras"]
    assert cb.best == 0.7


def test_save_best_only_maximizes_accuracy(tmp_path, model, fakes):
    cb = ModelCheckpoint(tmp_path / "best.keras", monitor="val_accuracy", save_best_only=True)
    logs = [{"loss": 1.0, "val_accuracy": a} for a in [0.5, 0.7, 0.6]]
    fakes.fit(cb, model, logs)
    assert _read(tmp_path / "best.keras") == "model 1"
    assert len(model.saves) == 2


def test_initial_value_threshold_must_be_beaten(tmp_path, model, fakes):
    cb = ModelCheckpoint(tmp_path / "best.keras", save_best_only=True, initial_value_threshold=0.75)
    fakes.fit(cb, model, fakes.val_losses([1.0, 0.8, 0.7, 0.9]))
    assert len(model.saves) == 1
    assert _read(tmp_path / "best.keras") == "model 2"


def test_best_is_kept_across_fits_like_the_file(tmp_path, model, fakes):
    path = tmp_path / "best.keras"
    cb = ModelCheckpoint(path, save_best_only=True)
    fakes.fit(cb, model, fakes.val_losses([0.3]))
    fakes.fit(cb, model, fakes.val_losses([0.5, 0.4, 0.2]))
    assert len(model.saves) == 2
    assert _read(path) == "model 2"


def test_save_weights_only_calls_save_weights(tmp_path, model, fakes):
    cb = ModelCheckpoint(tmp_path / "w.safetensors", save_weights_only=True)
    fakes.fit(cb, model, fakes.val_losses([0.5]))
    assert [kind for kind, _ in model.saves] == ["weights"]
    assert _read(tmp_path / "w.safetensors") == "weights 0"


def test_failing_save_leaves_no_file_and_no_temporary(tmp_path, fakes):
    cb = ModelCheckpoint(tmp_path / "model.keras")
    with pytest.raises(OSError, match="No space left"):
        fakes.fit(cb, HalfWritingModel(), fakes.val_losses([0.5]))
    assert os.listdir(tmp_path) == []


def test_failing_save_does_not_clobber_a_good_file(tmp_path, fakes):
    path = tmp_path / "model.keras"
    path.write_text("a good model")
    cb = ModelCheckpoint(path)
    with pytest.raises(OSError):
        fakes.fit(cb, HalfWritingModel(), fakes.val_losses([0.5]))
    assert os.listdir(tmp_path) == ["model.keras"]
    assert _read(path) == "a good model"


def test_failed_best_save_does_not_raise_the_bar(tmp_path):
    cb = ModelCheckpoint(tmp_path / "best.keras", save_best_only=True)
    cb.set_model(HalfWritingModel())
    cb.on_train_begin()
    with pytest.raises(OSError):
        cb.on_epoch_end(0, {"val_loss": 0.5})
    assert cb.best == float("inf")


def test_creates_missing_directories(tmp_path, model, fakes):
    cb = ModelCheckpoint(tmp_path / "runs" / "a" / "m.keras")
    fakes.fit(cb, model, fakes.val_losses([0.5]))
    assert _read(tmp_path / "runs" / "a" / "m.keras") == "model 0"


def test_save_freq_in_batches(tmp_path, model):
    cb = ModelCheckpoint(tmp_path / "m-{epoch}-{batch}.keras", save_freq=3)
    cb.set_model(model)
    cb.set_params({"epochs": 2, "steps": 5, "metrics": ["loss"], "directions": {"loss": "min"}})
    cb.on_train_begin()
    for epoch in range(2):
        cb.on_epoch_begin(epoch)
        for batch in range(5):
            cb.on_train_batch_end(batch, {"loss": 0.5})
        cb.on_epoch_end(epoch, {"loss": 0.5})
    # batches 3, 6 and 9 of the run: epoch 1 batch 3, epoch 2 batches 1 and 4 (both from 1)
    assert sorted(os.listdir(tmp_path)) == ["m-1-3.keras", "m-2-1.keras", "m-2-4.keras"]


def test_batch_logs_are_read_only_when_saving(tmp_path, model, fakes):
    cb = ModelCheckpoint(tmp_path / "m-{loss:.1f}.keras", save_freq=4, monitor="loss",
                         save_best_only=True)
    cb.set_model(model)
    cb.set_params({"epochs": 1, "steps": 8, "metrics": ["loss"], "directions": {"loss": "min"}})
    cb.on_train_begin()
    cb.on_epoch_begin(0)
    logs = [fakes.CountingLogs({"loss": 0.5}) for _ in range(8)]
    for batch in range(8):
        cb.on_train_batch_end(batch, logs[batch])
    assert [lg.reads > 0 for lg in logs] == [False, False, False, True] * 2
    assert os.listdir(tmp_path) == ["m-0.5.keras"]


def test_per_batch_hooks_only_when_saving_by_batch(tmp_path):
    assert not CallbackList([ModelCheckpoint(tmp_path / "m.keras")]).wants_train_batch_hooks
    assert CallbackList([ModelCheckpoint(tmp_path / "m.keras", save_freq=10)]).wants_train_batch_hooks


def test_unknown_filepath_field_fails_before_training(tmp_path, model, fakes):
    cb = ModelCheckpoint(tmp_path / "m-{val_los:.2f}.keras")
    with pytest.raises(ValueError) as err:
        fakes.fit(cb, model, fakes.val_losses([0.5]))
    assert str(err.value) == (
        "Invalid value for argument `filepath` of ModelCheckpoint: expected fields among epoch, "
        f"loss, val_loss, learning_rate. Received: filepath='{tmp_path}/m-{{val_los:.2f}}.keras'. "
        "Did you mean 'val_loss'?")
    assert os.listdir(tmp_path) == []


def test_best_only_by_batch_cannot_monitor_validation(tmp_path, model, fakes):
    cb = ModelCheckpoint(tmp_path / "m.keras", save_best_only=True, save_freq=5)
    with pytest.raises(ValueError) as err:
        fakes.fit(cb, model, fakes.val_losses([0.5]))
    assert str(err.value) == (
        "ModelCheckpoint(save_best_only=True, save_freq=5) compares batch logs, which hold no "
        "validation metrics, so monitor='val_loss' is never there. Use save_freq='epoch', or "
        "monitor a training metric.")


def test_verbose_messages(tmp_path, model, fakes, capsys):
    path = tmp_path / "b.keras"
    fakes.fit(ModelCheckpoint(path, save_best_only=True, verbose=1), model,
              fakes.val_losses([0.5, 0.6]))
    assert capsys.readouterr().out == (
        f"Epoch 1: val_loss improved from inf to 0.50000, saving model to {path}\n"
        "Epoch 2: val_loss did not improve from 0.50000\n")


@pytest.mark.parametrize("kwargs, message", [
    ({"save_freq": "batch"}, "Invalid value for argument `save_freq` of ModelCheckpoint: expected "
                             "'epoch' or a positive integer number of batches. Received: "
                             "save_freq='batch'"),
    ({"save_freq": 0}, "Invalid value for argument `save_freq` of ModelCheckpoint: expected an "
                       "integer in [1, inf). Received: save_freq=0"),
    ({"filepath": ""}, "Invalid value for argument `filepath` of ModelCheckpoint: expected a file "
                       "path (a non-empty str or os.PathLike). Received: filepath=''"),
    ({"filepath": "m-{}.keras"}, "Invalid value for argument `filepath` of ModelCheckpoint: "
                                 "expected a path with named fields only, such as {epoch:02d} or "
                                 "{val_loss:.4f}. Received: filepath='m-{}.keras'"),
    ({"mode": "best"}, "Invalid value for argument `mode` of ModelCheckpoint: expected one of "
                       "'auto', 'min', 'max'. Received: mode='best'."),
])
def test_bad_arguments(kwargs, message):
    kwargs = {"filepath": "m.keras", **kwargs}
    with pytest.raises(ValueError) as err:
        ModelCheckpoint(**kwargs)
    assert str(err.value) == message


def test_existing_directory_is_not_a_filepath(tmp_path):
    with pytest.raises(ValueError, match="expected a file path, not an existing directory"):
        ModelCheckpoint(tmp_path)


def test_get_config_round_trip(tmp_path):
    cb = ModelCheckpoint(tmp_path / "m.keras", monitor="val_accuracy", verbose=1,
                         save_best_only=True, save_weights_only=True, mode="max", save_freq=7,
                         initial_value_threshold=0.9)
    config = cb.get_config()
    assert config == {"filepath": str(tmp_path / "m.keras"), "monitor": "val_accuracy",
                      "verbose": 1, "save_best_only": True, "save_weights_only": True,
                      "mode": "max", "save_freq": 7, "initial_value_threshold": 0.9}
    assert ModelCheckpoint(**config).get_config() == config


def test_writes_to_a_temporary_file_beside_the_target(tmp_path, model, fakes):
    fakes.fit(ModelCheckpoint(tmp_path / "m.keras"), model, fakes.val_losses([0.5]))
    (_, written), = model.saves
    assert os.path.dirname(written) == str(tmp_path)
    assert os.path.basename(written) != "m.keras" and written.endswith(".keras")
    assert os.listdir(tmp_path) == ["m.keras"]
