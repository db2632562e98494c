"""Callback and CallbackList: hooks, order, and which per-batch hooks the loop must call."""
import pytest

from regulab.callbacks import (Callback, CallbackList, CSVLogger, EarlyStopping, History,
                               ProgbarLogger, ReduceLROnPlateau)

HOOKS_NO_INDEX = ["on_train_begin", "on_train_end", "on_test_begin", "on_test_end",
                  "on_predict_begin", "on_predict_end"]
HOOKS_WITH_INDEX = ["on_epoch_begin", "on_epoch_end", "on_train_batch_begin", "on_train_batch_end",
                    "on_test_batch_begin", "on_test_batch_end", "on_predict_batch_begin",
                    "on_predict_batch_end"]


class Recorder(Callback):
    """Records every hook call; the name tells recorders apart."""

    def __init__(self, name, calls):
        super().__init__()
        self.name, self.calls = name, calls


for _hook in HOOKS_NO_INDEX:
    setattr(Recorder, _hook, lambda self, logs=None, _h=_hook: self.calls.append((self.name, _h, logs)))
for _hook in HOOKS_WITH_INDEX:
    setattr(Recorder, _hook,
            lambda self, i, logs=None, _h=_hook: self.calls.append((self.name, _h, i, logs)))


def test_base_hooks_exist_and_do_nothing():
    cb = Callback()
    assert (cb.model, cb.params) == (None, {})
    for hook in HOOKS_NO_INDEX:
        assert getattr(cb, hook)() is None
        assert getattr(cb, hook)(logs={"loss": 1.0}) is None
    for hook in HOOKS_WITH_INDEX:
        assert getattr(cb, hook)(3) is None
        assert getattr(cb, hook)(3, logs={"loss": 1.0}) is None


def test_list_calls_every_hook_on_every_callback_in_order():
    calls = []
    cbs = CallbackList([Recorder("a", calls), Recorder("b", calls)])
    logs = {"loss": 0.5}
    for hook in HOOKS_NO_INDEX:
        getattr(cbs, hook)(logs)
    for hook in HOOKS_WITH_INDEX:
        getattr(cbs, hook)(7, logs)
    expected = []
    for hook in HOOKS_NO_INDEX:
        expected += [("a", hook, logs), ("b", hook, logs)]
    for hook in HOOKS_WITH_INDEX:
        expected += [("a", hook, 7, logs), ("b", hook, 7, logs)]
    assert calls == expected


def test_model_and_params_reach_every_callback_including_appended_ones(model):
    first, later = History(), History()
    params = {"epochs": 3}
    cbs = CallbackList([first], model=model, params=params)
    cbs.append(later)
    assert first.model is later.model is model
    assert first.params is later.params is params
    assert len(cbs) == 2 and list(cbs) == [first, later]
    other = object()
    cbs.set_model(other)
    assert first.model is later.model is other


def test_train_batch_hooks_wanted_only_when_overridden():
    class OnBegin(Callback):
        def on_train_batch_begin(self, batch, logs=None):
            pass

    class OnTestEnd(Callback):
        def on_test_batch_end(self, batch, logs=None):
            pass

    class OnEpoch(Callback):
        def on_epoch_end(self, epoch, logs=None):
            pass

    assert not CallbackList().wants_train_batch_hooks
    assert not CallbackList([OnEpoch(), History(), EarlyStopping(), ReduceLROnPlateau(),
                             CSVLogger("log.csv")]).wants_train_batch_hooks
    assert CallbackList([History(), OnBegin()]).wants_train_batch_hooks
    assert not CallbackList([OnBegin()]).wants_test_batch_hooks
    assert CallbackList([OnTestEnd()]).wants_test_batch_hooks
    assert not CallbackList([OnTestEnd()]).wants_train_batch_hooks


def test_wants_reflects_callbacks_appended_later():
    class OnEnd(Callback):
        def on_train_batch_end(self, batch, logs=None):
            pass

    cbs = CallbackList([History()])
    assert not cbs.wants_train_batch_hooks
    cbs.append(OnEnd())
    assert cbs.wants_train_batch_hooks


def test_subclass_of_a_builtin_callback_that_adds_batch_work_gets_its_hooks():
    class Bar(ProgbarLogger):
        def on_train_batch_begin(self, batch, logs=None):
            pass

    bar = Bar()
    bar.set_params({"epochs": 1, "steps": 3, "verbose": 2})
    assert CallbackList([bar]).wants_train_batch_hooks


def test_a_class_instead_of_an_instance_is_a_clear_error():
    with pytest.raises(TypeError) as err:
        CallbackList([EarlyStopping])
    assert str(err.value) == "Pass a callback instance, not the class: EarlyStopping() instead of EarlyStopping."
    with pytest.raises(TypeError, match="must be an instance of regulab.callbacks.Callback"):
        CallbackList([History()]).append(print)
