"""MonitorCallback: direction, improvement and monitor-name checks shared by the monitoring callbacks."""
import math

import pytest

from regulab.callbacks import EarlyStopping, ModelCheckpoint, ReduceLROnPlateau
from regulab.callbacks._monitor import MonitorCallback, direction_from_name


def _begin(cb, metrics, directions=None):
    params = {"metrics": metrics}
    if directions is not None:
        params["directions"] = directions
    cb.set_params(params)
    cb.on_train_begin()
    return cb


@pytest.mark.parametrize("name, direction", [
    ("val_accuracy", "max"), ("sparse_categorical_accuracy", "max"), ("val_auc", "max"),
    ("precision", "max"), ("val_recall", "max"), ("loss", "min"), ("val_data_loss", "min"),
    ("mean_absolute_error", "min"), ("val_mse", "min"), ("f1_score", None), ("val_r2", None),
])
def test_direction_from_name(name, direction):
    assert direction_from_name(name) == direction


def test_loop_direction_wins_over_the_name():
    # a metric whose name looks like a loss but the loop says is maximized
    cb = _begin(EarlyStopping(monitor="val_neg_loss"), ["val_neg_loss"], {"val_neg_loss": "max"})
    assert cb.direction == "max"


def test_name_is_the_fallback_when_the_loop_gives_no_direction():
    assert _begin(EarlyStopping(monitor="val_accuracy"), ["val_accuracy"]).direction == "max"
    assert _begin(EarlyStopping(monitor="val_loss"), ["val_loss"], {}).direction == "min"


def test_unknown_direction_is_an_error_not_a_guess():
    with pytest.raises(ValueError) as err:
        _begin(ReduceLROnPlateau(monitor="val_f1"), ["val_f1"])
    assert str(err.value) == (
        "ReduceLROnPlateau cannot tell whether 'val_f1' should be minimized or maximized: the "
        "training loop gave no direction for it and its name does not say. Pass mode='min' or "
        "mode='max'.")
    assert _begin(ReduceLROnPlateau(monitor="val_f1", mode="max"), ["val_f1"]).direction == "max"


def test_improvement_needs_more_than_min_delta():
    cb = MonitorCallback(monitor="loss", mode="min", min_delta=0.5)
    assert cb.is_improvement(1.0, 2.0)
    assert not cb.is_improvement(1.75, 2.0)
    assert not cb.is_improvement(1.5, 2.0)  # a change of exactly min_delta is not enough
    assert not cb.is_improvement(math.nan, 2.0)
    up = MonitorCallback(monitor="acc", mode="max", min_delta=0.5)
    assert up.is_improvement(3.0, 2.0) and not up.is_improvement(2.25, 2.0)
    assert (cb.worst(), up.worst()) == (math.inf, -math.inf)


def test_monitor_suggestion_for_a_typo_in_another_callback():
    with pytest.raises(ValueError) as err:
        _begin(ReduceLROnPlateau(monitor="val_los"), ["loss", "val_loss"])
    assert str(err.value).endswith("Received: monitor='val_los'. Did you mean 'val_loss'?")


def test_checkpoint_checks_monitor_only_when_it_compares():
    # without save_best_only the monitored value is never used
    _begin(ModelCheckpoint("m.keras", monitor="nonsense"), ["loss"])
    with pytest.raises(ValueError, match="Received: monitor='nonsense'"):
        _begin(ModelCheckpoint("m.keras", monitor="nonsense", save_best_only=True), ["loss"])


def test_mode_error_has_a_suggestion():
    with pytest.raises(ValueError) as err:
        ReduceLROnPlateau(mode="minimum")
    assert str(err.value) == (
        "Invalid value for argument `mode` of ReduceLROnPlateau: expected one of 'auto', 'min', "
        "'max'. Received: mode='minimum'. Did you mean 'min'?")
