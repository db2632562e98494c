"""History: every epoch's logs, one fit per History."""
from regulab.callbacks import History


def test_records_logs_epochs_params_and_model(model, fakes):
    h = History()
    logs = [{"loss": 0.5, "val_loss": 0.75}, {"loss": 0.25, "val_loss": 0.5}]
    fakes.fit(h, model, logs, epochs=10)
    assert h.history == {"loss": [0.5, 0.25], "val_loss": [0.75, 0.5]}
    assert h.epoch == [0, 1]
    assert h.params["epochs"] == 10 and h.params["metrics"] == ["loss", "val_loss"]
    assert h.model is model


def test_resets_at_train_begin(model, fakes):
    h = History()
    fakes.fit(h, model, [{"loss": 0.5}, {"loss": 0.4}])
    fakes.fit(h, model, [{"loss": 0.3}])
    assert (h.history, h.epoch) == ({"loss": [0.3]}, [0])


def test_keeps_names_added_by_earlier_callbacks(model):
    h = History()
    h.on_train_begin()
    h.on_epoch_end(0, {"loss": 0.5, "learning_rate": 0.01})
    assert h.history == {"loss": [0.5], "learning_rate": [0.01]}
    assert h.get_config() == {}
