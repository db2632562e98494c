"""TerminateOnNaN: stops at the batch whose loss is not finite, and says which."""
import math

import pytest

from regulab.callbacks import CallbackList, TerminateOnNaN


def _run(model, losses, fakes, epoch=0):
    cb = TerminateOnNaN()
    cb.set_model(model)
    cb.on_train_begin()
    cb.on_epoch_begin(epoch)
    for batch, loss in enumerate(losses):
        cb.on_train_batch_end(batch, fakes.CountingLogs({"loss": loss, "accuracy": 0.5}))
        if model.stop_training:
            return batch
    return None


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_stops_on_non_finite_loss(model, fakes, capsys, bad):
    assert _run(model, [0.7, 0.6, bad, 0.5], fakes, epoch=4) == 2
    assert model.stop_training
    assert capsys.readouterr().out == (f"Epoch 5, batch 3: invalid loss {bad}, terminating "
                                       "training\n")


def test_finite_losses_do_not_stop(model, fakes, capsys):
    assert _run(model, [0.7, 1e30, 0.0], fakes) is None
    assert not model.stop_training
    assert capsys.readouterr().out == ""


def test_reads_only_the_loss(model, fakes):
    cb = TerminateOnNaN()
    cb.set_model(model)
    logs = fakes.CountingLogs({"loss": 0.5, "accuracy": 0.5, "auc": 0.5})
    cb.on_train_batch_end(0, logs)
    assert logs.reads == 1


def test_asks_for_per_batch_hooks():
    assert CallbackList([TerminateOnNaN()]).wants_train_batch_hooks
    assert not CallbackList([TerminateOnNaN()]).wants_test_batch_hooks
    assert TerminateOnNaN().get_config() == {"raise_error": False}
