"""ReduceLROnPlateau and LearningRateScheduler: learning-rate sequences computed by hand."""
import math

import numpy as np
import pytest

from regulab.callbacks import LearningRateScheduler, ReduceLROnPlateau


def _lrs_after_each_epoch(cb, model, values, monitor="val_loss"):
    """The learning rate after each epoch, and the 'learning_rate' each epoch logged."""
    cb.set_model(model)
    cb.set_params({"metrics": ["loss", monitor],
                   "directions": {"loss": "min", monitor: "max" if "acc" in monitor else "min"}})
    cb.on_train_begin()
    after, logged = [], []
    for epoch, v in enumerate(values):
        logs = {"loss": 1.0, monitor: v}
        cb.on_epoch_begin(epoch, logs)
        cb.on_epoch_end(epoch, logs)
        after.append(model.optimizer.learning_rate)
        logged.append(logs["learning_rate"])
    cb.on_train_end()
    return after, logged


def test_reduces_after_patience_and_logs_the_rate_used(model):
    model.optimizer.learning_rate = 1.0
    cb = ReduceLROnPlateau(factor=0.5, patience=2, min_delta=0.0)
    after, logged = _lrs_after_each_epoch(cb, model, [1.0, 1.0, 1.0, 0.5, 0.6, 0.7, 0.8, 0.9])
    # epochs 1-2 do not improve on 1.0 -> halve at epoch 2; 0.5 at epoch 3 is the new best;
    # epochs 4-5 -> halve at 5; epochs 6-7 -> halve at 7
    assert after == [1.0, 1.0, 0.5, 0.5, 0.5, 0.25, 0.25, 0.125]
    assert logged == [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25, 0.25]


def test_cooldown_pauses_counting(model):
    model.optimizer.learning_rate = 1.0
    cb = ReduceLROnPlateau(factor=0.5, patience=1, cooldown=2, min_delta=0.0)
    after, _ = _lrs_after_each_epoch(cb, model, [1.0] * 7)
    # reduce at 1; Keras decrements the cooldown before counting, so epoch 2 is skipped and
    # epoch 3 already counts -> reduce at 3, then at 5
    assert after == [1.0, 0.5, 0.5, 0.25, 0.25, 0.125, 0.125]


def test_min_lr_is_a_floor(model):
    model.optimizer.learning_rate = 1.0
    cb = ReduceLROnPlateau(factor=0.1, patience=1, min_lr=0.05)
    after, _ = _lrs_after_each_epoch(cb, model, [1.0] * 5)
    assert after == pytest.approx([1.0, 0.1, 0.05, 0.05, 0.05])


def test_min_delta_default_ignores_tiny_gains(model):
    model.optimizer.learning_rate = 1.0
    cb = ReduceLROnPlateau(factor=0.5, patience=1)  # min_delta=1e-4
    after, _ = _lrs_after_each_epoch(cb, model, [1.0, 0.99995, 0.9])
    assert after == [1.0, 0.5, 0.5]


def test_max_mode_from_the_loop(model):
    model.optimizer.learning_rate = 1.0
    cb = ReduceLROnPlateau(monitor="val_accuracy", factor=0.5, patience=1)
    after, _ = _lrs_after_each_epoch(cb, model, [0.5, 0.6, 0.55, 0.7], monitor="val_accuracy")
    assert after == [1.0, 1.0, 0.5, 0.5]


def test_state_resets_between_fits(model):
    model.optimizer.learning_rate = 1.0
    cb = ReduceLROnPlateau(factor=0.5, patience=1, min_delta=0.0)
    _lrs_after_each_epoch(cb, model, [0.1, 0.2])
    assert model.optimizer.learning_rate == 0.5
    # a stale best of 0.1 would make the first epoch of this fit count as no improvement
    after, _ = _lrs_after_each_epoch(cb, model, [0.9, 0.8])
    assert after == [0.5, 0.5]


@pytest.mark.parametrize("kwargs, message", [
    ({"factor": 1.0}, "Invalid value for argument `factor` of ReduceLROnPlateau: expected a float "
                      "in (0, 1). Received: factor=1.0"),
    ({"factor": 0}, "Invalid value for argument `factor` of ReduceLROnPlateau: expected a float "
                    "in (0, 1). Received: factor=0"),
    ({"patience": -2}, "Invalid value for argument `patience` of ReduceLROnPlateau: expected an "
                       "integer in [0, inf). Received: patience=-2"),
    ({"cooldown": -1}, "Invalid value for argument `cooldown` of ReduceLROnPlateau: expected an "
                       "integer in [0, inf). Received: cooldown=-1"),
    ({"min_lr": -1e-3}, "Invalid value for argument `min_lr` of ReduceLROnPlateau: expected a "
                        "float in [0, inf). Received: min_lr=-0.001"),
    ({"verbose": 3}, "Invalid value for argument `verbose` of ReduceLROnPlateau: expected an "
                     "integer in [0, 2]. Received: verbose=3"),
])
def test_reduce_bad_arguments(kwargs, message):
    with pytest.raises(ValueError) as err:
        ReduceLROnPlateau(**kwargs)
    assert str(err.value) == message


def test_reduce_verbose_message(model, capsys):
    model.optimizer.learning_rate = 1.0
    _lrs_after_each_epoch(ReduceLROnPlateau(factor=0.5, patience=1, verbose=1), model, [1.0, 1.0])
    assert capsys.readouterr().out == "Epoch 2: ReduceLROnPlateau reducing learning rate to 0.5.\n"


def test_reduce_get_config_round_trip():
    cb = ReduceLROnPlateau(monitor="loss", factor=0.2, patience=3, verbose=1, mode="min",
                           min_delta=0.01, cooldown=1, min_lr=1e-5)
    config = cb.get_config()
    assert config == {"monitor": "loss", "factor": 0.2, "patience": 3, "verbose": 1, "mode": "min",
                      "min_delta": 0.01, "cooldown": 1, "min_lr": 1e-5}
    assert ReduceLROnPlateau(**config).get_config() == config


def _run_schedule(cb, model, epochs):
    cb.set_model(model)
    cb.on_train_begin()
    seen, logged = [], []
    for epoch in range(epochs):
        cb.on_epoch_begin(epoch)
        seen.append(model.optimizer.learning_rate)
        logs = {"loss": 1.0}
        cb.on_epoch_end(epoch, logs)
        logged.append(logs["learning_rate"])
    return seen, logged


def test_schedule_of_epoch_and_lr(model):
    model.optimizer.learning_rate = 0.1
    cb = LearningRateScheduler(lambda epoch, lr: lr if epoch < 2 else lr * 0.5)
    seen, logged = _run_schedule(cb, model, 5)
    assert seen == logged == [0.1, 0.1, 0.05, 0.025, 0.0125]


def test_schedule_of_epoch_only(model):
    cb = LearningRateScheduler(lambda epoch: 0.01 * 0.5 ** epoch)
    seen, _ = _run_schedule(cb, model, 3)
    assert seen == [0.01, 0.005, 0.0025]


def test_numpy_float_result_is_accepted(model):
    seen, _ = _run_schedule(LearningRateScheduler(lambda epoch: np.float32(0.5)), model, 1)
    assert seen == [0.5] and type(seen[0]) is float


@pytest.mark.parametrize("result, shown", [
    (1, "1 (int)"), (None, "None (NoneType)"), (math.nan, "nan (float)"), (-0.1, "-0.1 (float)"),
])
def test_bad_schedule_result_names_the_epoch(model, result, shown):
    cb = LearningRateScheduler(lambda epoch: 0.1 if epoch < 1 else result)
    with pytest.raises(ValueError) as err:
        _run_schedule(cb, model, 2)
    assert str(err.value) == ("The `schedule` of LearningRateScheduler must return the learning "
                              f"rate as a finite float >= 0. At epoch 1 it returned {shown}.")


def test_type_error_inside_the_schedule_is_not_swallowed(model):
    # Keras retries schedule(epoch) on any TypeError, hiding this bug behind another error
    def schedule(epoch, lr):
        return lr * "half"

    with pytest.raises(TypeError, match="can't multiply sequence"):
        _run_schedule(LearningRateScheduler(schedule), model, 1)


def test_schedule_must_be_callable():
    with pytest.raises(ValueError) as err:
        LearningRateScheduler(0.1)
    assert str(err.value) == ("Invalid value for argument `schedule` of LearningRateScheduler: "
                              "expected a function schedule(epoch, lr) -> float. Received: "
                              "schedule=0.1")


def test_scheduler_verbose_and_config(model, capsys):
    def schedule(epoch):
        return 0.5

    cb = LearningRateScheduler(schedule, verbose=1)
    _run_schedule(cb, model, 1)
    assert capsys.readouterr().out == "Epoch 1: LearningRateScheduler setting learning rate to 0.5.\n"
    assert cb.get_config() == {"schedule": schedule, "verbose": 1}
