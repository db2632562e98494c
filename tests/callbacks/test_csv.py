"""CSVLogger: the exact file it writes."""
import pytest

from regulab.callbacks import CSVLogger


def _logs():
    return [{"loss": 0.5, "accuracy": 0.75, "val_loss": 0.625, "val_accuracy": 0.5},
            {"loss": 0.25, "accuracy": 0.875, "val_loss": 0.5, "val_accuracy": 0.625}]


def test_one_row_per_epoch_epoch_first(tmp_path, model, fakes):
    path = tmp_path / "log.csv"
    fakes.fit(CSVLogger(path), model, _logs())
    assert path.read_bytes() == (b"epoch,loss,accuracy,val_loss,val_accuracy\n"
                                 b"0,0.5,0.75,0.625,0.5\n"
                                 b"1,0.25,0.875,0.5,0.625\n")


def test_no_invented_validation_columns(tmp_path, model, fakes):
    # Keras adds val_ columns filled with NA when a fit has no validation data
    path = tmp_path / "log.csv"
    fakes.fit(CSVLogger(path), model, [{"loss": 0.5}, {"loss": 0.25}])
    assert path.read_text() == "epoch,loss\n0,0.5\n1,0.25\n"


def test_separator(tmp_path, model, fakes):
    path = tmp_path / "log.csv"
    fakes.fit(CSVLogger(path, separator=";"), model, [{"loss": 0.5, "val_loss": 1.5}])
    assert path.read_text() == "epoch;loss;val_loss\n0;0.5;1.5\n"


def test_overwrites_by_default(tmp_path, model, fakes):
    path = tmp_path / "log.csv"
    path.write_text("old contents\n")
    fakes.fit(CSVLogger(path), model, [{"loss": 0.5}])
    assert path.read_text() == "epoch,loss\n0,0.5\n"


def test_append_keeps_one_header(tmp_path, model, fakes):
    path = tmp_path / "log.csv"
    fakes.fit(CSVLogger(path, append=True), model, [{"loss": 0.5, "val_loss": 0.75}])
    # the second fit logs the same names in another order: they follow the file's columns
    fakes.fit(CSVLogger(path, append=True), model, [{"val_loss": 0.5, "loss": 0.25}])
    assert path.read_text() == "epoch,loss,val_loss\n0,0.5,0.75\n0,0.25,0.5\n"


def test_append_with_other_names_is_an_error(tmp_path, model, fakes):
    path = tmp_path / "log.csv"
    fakes.fit(CSVLogger(path), model, [{"loss": 0.5}])
    with pytest.raises(ValueError) as err:
        fakes.fit(CSVLogger(path, append=True), model, [{"loss": 0.5, "val_loss": 0.75}])
    assert str(err.value) == (
        f"CSVLogger cannot append logs with the names ['loss', 'val_loss'] to '{path}', whose "
        "columns are ['epoch', 'loss']. Log to a new file, or pass append=False to overwrite it.")
    assert path.read_text() == "epoch,loss\n0,0.5\n"


def test_missing_value_is_na_and_rows_are_flushed(tmp_path):
    path = tmp_path / "log.csv"
    log = CSVLogger(path)
    log.on_train_begin()
    log.on_epoch_end(0, {"loss": 0.5, "val_loss": 0.75})
    log.on_epoch_end(1, {"loss": 0.25})
    # read before on_train_end: a crash after an epoch still leaves its row on disk
    assert path.read_text() == "epoch,loss,val_loss\n0,0.5,0.75\n1,0.25,NA\n"
    log.on_train_end()


@pytest.mark.parametrize("kwargs, message", [
    ({"separator": ", "}, "Invalid value for argument `separator` of CSVLogger: expected a single "
                          "character such as ',' or ';'. Received: separator=', '"),
    ({"append": 1}, "Invalid value for argument `append` of CSVLogger: expected True or False. "
                    "Received: append=1"),
    ({"filename": None}, "Invalid value for argument `filename` of CSVLogger: expected a file path "
                         "(a non-empty str or os.PathLike). Received: filename=None"),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError) as err:
        CSVLogger(**{"filename": "log.csv", **kwargs})
    assert str(err.value) == message


def test_get_config_round_trip():
    config = CSVLogger("log.csv", separator="\t", append=True).get_config()
    assert config == {"filename": "log.csv", "separator": "\t", "append": True}
    assert CSVLogger(**config).get_config() == config
