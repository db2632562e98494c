"""The package's public names, and one config round trip for every callback."""
import inspect

import regulab.callbacks as callbacks

EXPECTED = ["Callback", "CallbackList", "History", "EarlyStopping", "ModelCheckpoint",
            "ReduceLROnPlateau", "LearningRateScheduler", "TerminateOnNaN", "CSVLogger",
            "ProgbarLogger", "BackupAndRestore", "TensorBoard"]


def test_all_is_exactly_the_public_names():
    assert sorted(callbacks.__all__) == sorted(EXPECTED)
    for name in callbacks.__all__:
        assert inspect.isclass(getattr(callbacks, name))


def _examples():
    return [callbacks.History(), callbacks.EarlyStopping(patience=4, restore_best_weights=True),
            callbacks.ModelCheckpoint("m-{epoch}.keras", save_best_only=True),
            callbacks.ReduceLROnPlateau(factor=0.5), callbacks.LearningRateScheduler(abs),
            callbacks.TerminateOnNaN(), callbacks.CSVLogger("log.csv", append=True),
            callbacks.ProgbarLogger(), callbacks.BackupAndRestore("backup", save_freq=5),
            callbacks.TensorBoard("logs", histogram_freq=2)]


def test_every_callback_rebuilds_from_its_config():
    examples = _examples()
    covered = {type(c).__name__ for c in examples}
    assert covered == set(EXPECTED) - {"Callback", "CallbackList"}
    for cb in examples:
        config = cb.get_config()
        params = inspect.signature(type(cb)).parameters
        assert set(config) == set(params), type(cb).__name__
        assert type(cb)(**config).get_config() == config
