"""EarlyStopping: the epoch it stops at and the weights it restores, checked against Keras 3's
counting done by hand (wait += 1 each monitored epoch, reset on improvement, stop when
wait >= patience and epoch > 0)."""
import math

import numpy as np
import pytest

from regulab.callbacks import EarlyStopping


def test_stops_after_patience_epochs_without_improvement(model, fakes):
    es = EarlyStopping(patience=2)
    # best at epoch 1; epochs 2 and 3 do not improve -> wait reaches 2 at epoch 3
    run = fakes.fit(es, model, fakes.val_losses([1.0, 0.8, 0.9, 0.85, 0.7]))
    assert (run, es.stopped_epoch, es.best_epoch, es.best) == (4, 3, 1, 0.8)
    assert model.stop_training


def test_patience_zero_stops_at_the_first_epoch_without_improvement(model, fakes):
    es = EarlyStopping(patience=0)
    assert fakes.fit(es, model, fakes.val_losses([1.0, 0.9, 0.95, 0.5])) == 3
    assert es.stopped_epoch == 2


def test_never_stops_at_epoch_zero(model, fakes):
    # a NaN is no improvement, but Keras never stops on the first epoch
    es = EarlyStopping(patience=0)
    assert fakes.fit(es, model, fakes.val_losses([math.nan, 1.0, 1.2, 0.5])) == 3
    assert (es.stopped_epoch, es.best_epoch) == (2, 1)


def test_min_delta_makes_small_gains_count_as_no_improvement(model, fakes):
    values = [1.0, 0.95, 0.92, 0.85, 0.5]
    es = EarlyStopping(patience=2, min_delta=0.1)
    assert fakes.fit(es, model, fakes.val_losses(values)) == 3
    assert (es.stopped_epoch, es.best_epoch) == (2, 0)
    plain = EarlyStopping(patience=2)
    assert fakes.fit(plain, model, fakes.val_losses(values)) == 5
    assert plain.stopped_epoch == 0


def test_baseline_not_beaten_stops_after_patience(model, fakes):
    # epoch 0 improves on +inf but not on the baseline: wait stays 1; epoch 1 makes it 2
    es = EarlyStopping(patience=2, baseline=0.5)
    assert fakes.fit(es, model, fakes.val_losses([0.9, 0.95, 0.97, 0.4])) == 2
    assert es.stopped_epoch == 1
    no_baseline = EarlyStopping(patience=2)
    assert fakes.fit(no_baseline, model, fakes.val_losses([0.9, 0.95, 0.97, 0.4])) == 3


def test_baseline_beaten_resets_wait(model, fakes):
    es = EarlyStopping(patience=2, baseline=0.5)
    assert fakes.fit(es, model, fakes.val_losses([0.9, 0.4, 0.45, 0.42, 0.3])) == 4
    assert (es.stopped_epoch, es.best_epoch) == (3, 1)


def test_baseline_keras_parity_improving_epochs_never_stop(model, fakes):
    # Keras returns before the patience check on every improving epoch, even below the baseline
    es = EarlyStopping(patience=1, baseline=0.1)
    assert fakes.fit(es, model, fakes.val_losses([0.9, 0.8, 0.7, 0.6])) == 4
    assert es.wait == 4


def test_start_from_epoch_ignores_warm_up_epochs(model, fakes):
    values = [0.5, 0.9, 1.0, 1.1, 1.2]
    es = EarlyStopping(patience=1, start_from_epoch=2)
    assert fakes.fit(es, model, fakes.val_losses(values)) == 4
    assert (es.stopped_epoch, es.best_epoch, es.best) == (3, 2, 1.0)
    eager = EarlyStopping(patience=1)
    assert fakes.fit(eager, model, fakes.val_losses(values)) == 2


def test_auto_mode_maximizes_accuracy(model, fakes):
    es = EarlyStopping(monitor="val_accuracy", patience=2)
    logs = [{"loss": 1.0, "val_accuracy": a} for a in [0.5, 0.6, 0.55, 0.58, 0.9]]
    assert fakes.fit(es, model, logs) == 4
    assert (es.best_epoch, es.best) == (1, 0.6)


def test_auto_mode_takes_the_direction_from_the_loop_not_the_name(model, fakes):
    # R^2: higher is better, and nothing in its name says so (Keras 2 would have minimized it)
    es = EarlyStopping(monitor="val_r2", patience=1)
    logs = [{"loss": 1.0, "val_r2": v} for v in [0.1, 0.5, 0.4]]
    assert fakes.fit(es, model, logs) == 3
    assert (es.direction, es.best_epoch) == ("max", 1)


def test_explicit_mode_overrides_the_loop(model, fakes):
    es = EarlyStopping(monitor="val_loss", mode="max", patience=0)
    assert fakes.fit(es, model, fakes.val_losses([0.1, 0.5, 0.4])) == 3
    assert es.best == 0.5


def test_restores_best_weights_after_an_early_stop(model, fakes):
    es = EarlyStopping(patience=2, restore_best_weights=True)
    fakes.fit(es, model, fakes.val_losses([1.0, 0.8, 0.9, 0.85, 0.7]))
    assert es.stopped_epoch == 3
    # the fake model's weights equal the epoch index; epoch 1 was best
    assert all(np.all(w == 1) for w in model.get_weights())


def test_restores_best_weights_without_an_early_stop(model, fakes, capsys):
    es = EarlyStopping(patience=10, restore_best_weights=True, verbose=1)
    assert fakes.fit(es, model, fakes.val_losses([1.0, 0.7, 0.5, 0.6, 0.9])) == 5
    assert es.stopped_epoch == 0
    assert all(np.all(w == 2) for w in model.get_weights())
    assert capsys.readouterr().out == (
        "Restoring model weights from the end of the best epoch: 3 (training ran to its end "
        "without an early stop).\n")


def test_verbose_messages_after_an_early_stop(model, fakes, capsys):
    es = EarlyStopping(patience=1, restore_best_weights=True, verbose=1)
    fakes.fit(es, model, fakes.val_losses([1.0, 0.8, 0.9, 0.7]))
    assert capsys.readouterr().out == (
        "Epoch 3: early stopping\nRestoring model weights from the end of the best epoch: 2.\n")


def test_keeps_last_weights_without_restore(model, fakes):
    es = EarlyStopping(patience=2)
    fakes.fit(es, model, fakes.val_losses([1.0, 0.8, 0.9, 0.85, 0.7]))
    assert es.best_weights is None
    assert all(np.all(w == 3) for w in model.get_weights())


def test_state_resets_between_fits(model, fakes):
    es = EarlyStopping(patience=1, restore_best_weights=True)
    fakes.fit(es, model, fakes.val_losses([0.1, 0.2, 0.3]))
    assert (es.stopped_epoch, es.best_epoch, es.best) == (1, 0, 0.1)
    # a second fit worse than the first one's best: with stale state it would stop at once
    # and restore the first fit's weights
    run = fakes.fit(es, model, fakes.val_losses([0.5, 0.4, 0.3, 0.35, 0.36]))
    assert run == 4
    assert (es.stopped_epoch, es.best_epoch, es.best, es.wait) == (3, 2, 0.3, 1)
    assert all(np.all(w == 2) for w in model.get_weights())


def test_unknown_monitor_fails_before_training(model, fakes):
    es = EarlyStopping(monitor="val_acc")
    logs = [{"loss": 1.0, "accuracy": 0.5, "val_loss": 1.0, "val_accuracy": 0.5}]
    with pytest.raises(ValueError) as err:
        fakes.fit(es, model, logs)
    assert str(err.value) == (
        "Invalid value for argument `monitor` of EarlyStopping: expected one of the metrics this "
        "fit logs ('loss', 'accuracy', 'val_loss', 'val_accuracy'). Received: monitor='val_acc'. "
        "Did you mean 'val_accuracy'?")


def test_val_monitor_without_validation_data_says_so(model, fakes):
    es = EarlyStopping()
    with pytest.raises(ValueError) as err:
        fakes.fit(es, model, [{"loss": 1.0, "accuracy": 0.5}])
    assert str(err.value) == (
        "Invalid value for argument `monitor` of EarlyStopping: expected one of the metrics this "
        "fit logs ('loss', 'accuracy'). Received: monitor='val_loss'. This fit has no validation "
        "data, so no 'val_' metric exists: pass validation_split or validation_data to fit(), or "
        "monitor 'loss'.")


def test_monitor_missing_from_epoch_logs_is_an_error(model):
    es = EarlyStopping(monitor="val_loss")
    es.set_model(model)
    es.on_train_begin()  # no params: the loop did not list its metrics
    with pytest.raises(ValueError, match=r"fit logs \('loss'\). Received: monitor='val_loss'"):
        es.on_epoch_end(0, {"loss": 0.3})


@pytest.mark.parametrize("kwargs, message", [
    ({"patience": -1}, "Invalid value for argument `patience` of EarlyStopping: expected an integer "
                       "in [0, inf). Received: patience=-1"),
    ({"mode": "mx"}, "Invalid value for argument `mode` of EarlyStopping: expected one of 'auto', "
                     "'min', 'max'. Received: mode='mx'. Did you mean 'max'?"),
    ({"min_delta": -0.1}, "Invalid value for argument `min_delta` of EarlyStopping: expected a "
                          "float in [0, inf). Received: min_delta=-0.1"),
    ({"start_from_epoch": 1.5}, "Invalid value for argument `start_from_epoch` of EarlyStopping: "
                                "expected an integer in [0, inf). Received: start_from_epoch=1.5"),
    ({"restore_best_weights": "yes"}, "Invalid value for argument `restore_best_weights` of "
                                      "EarlyStopping: expected True or False. Received: "
                                      "restore_best_weights='yes'"),
    ({"baseline": "low"}, "Invalid value for argument `baseline` of EarlyStopping: expected a "
                          "float in (-inf, inf). Received: baseline='low'"),
    ({"monitor": ""}, "Invalid value for argument `monitor` of EarlyStopping: expected the name of "
                      "a logged metric, such as 'val_loss'. Received: monitor=''"),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError) as err:
        EarlyStopping(**kwargs)
    assert str(err.value) == message


def test_get_config_round_trip():
    es = EarlyStopping(monitor="val_accuracy", min_delta=0.01, patience=3, verbose=1, mode="max",
                       baseline=0.8, restore_best_weights=True, start_from_epoch=2)
    config = es.get_config()
    assert config == {"monitor": "val_accuracy", "min_delta": 0.01, "patience": 3, "verbose": 1,
                      "mode": "max", "baseline": 0.8, "restore_best_weights": True,
                      "start_from_epoch": 2}
    assert EarlyStopping(**config).get_config() == config
