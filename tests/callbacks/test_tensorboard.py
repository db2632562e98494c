"""TensorBoard: the event files it writes, read back with TensorBoard's own EventAccumulator.

The first tests port Keras 3's ``keras/src/callbacks/tensorboard_test.py`` (the same models, data
and expected tags, less ``evaluation_loss_vs_iterations``: regulab's fit validates without test
hooks); the others check the values against History and the weights, and the arguments.
"""
import os
import sys

import numpy as np
import pytest

import regulab
from regulab.callbacks import LearningRateScheduler, ReduceLROnPlateau, TensorBoard
from regulab.layers import Conv2D, Dense, Flatten, GlobalAveragePooling2D, Input
from regulab.models import Sequential

pytest.importorskip("tensorboard")
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator  # noqa: E402

EVERYTHING = {"scalars": 0, "histograms": 0, "images": 0, "tensors": 0}


def _accumulator(folder):
    return EventAccumulator(str(folder), size_guidance=EVERYTHING).Reload()


def _summaries(logdir):
    """``{(run folder name, kind, tag)}`` of every event file under ``logdir``, as Keras's
    ``list_summaries`` collects them."""
    found = set()
    for dirpath, _, filenames in os.walk(logdir):
        if not any(f.startswith("events.out.") for f in filenames):
            continue
        tags = _accumulator(dirpath).Tags()
        for kind in ("scalars", "histograms", "images", "tensors"):
            for tag in tags[kind]:
                found.add((os.path.basename(dirpath), kind, tag))
    return found


def _scalars(logdir):
    return {(run, tag) for run, kind, tag in _summaries(logdir) if kind == "scalars"}


def _values(folder, tag):
    return [(e.step, e.value) for e in _accumulator(folder).Scalars(tag)]


def _model(compile_model=True):
    model = Sequential([Input((10, 10, 1)), Flatten(), Dense(1)])
    if compile_model:
        model.compile("sgd", "mse")
    return model


def _data():
    return np.ones((10, 10, 10, 1)), np.ones((10, 1))


BASIC = {("train", "epoch_loss"), ("validation", "epoch_loss"), ("train", "epoch_learning_rate")}


# -- ported from Keras 3


def test_basic(tmp_path):
    x, y = _data()
    _model().fit(x, y, batch_size=2, epochs=2, validation_data=(x, y), callbacks=[TensorBoard(tmp_path)], verbose=0)
    assert _scalars(tmp_path) == BASIC


def test_across_invocations(tmp_path):
    model, (x, y) = _model(), _data()
    callback = TensorBoard(tmp_path)
    histories = [model.fit(x, y, batch_size=2, epochs=2, validation_data=(x, y), callbacks=[callback], verbose=0)
                 for _ in (1, 2)]
    assert _scalars(tmp_path) == BASIC
    # each fit's steps start at 0, as Keras's; the event files hold both fits
    assert _values(tmp_path / "train", "epoch_loss") == \
        [(e, np.float32(v)) for h in histories for e, v in enumerate(h.history["loss"])]


def test_no_spurious_event_files(tmp_path):
    x, y = _data()
    _model().fit(x, y, batch_size=2, epochs=2, callbacks=[TensorBoard(tmp_path)], verbose=0)
    folders = {os.path.basename(d) for d, _, files in os.walk(tmp_path) if any(f.startswith("events.out.")
                                                                              for f in files)}
    assert folders == {"train"}
    assert not (tmp_path / "validation").exists()


def test_batch_metrics(tmp_path):
    x, y = _data()
    _model().fit(x, y, batch_size=2, epochs=2, validation_data=(x, y), callbacks=[TensorBoard(tmp_path, update_freq=1)],
                 verbose=0)
    assert _scalars(tmp_path) == BASIC | {("train", "batch_loss")}
    # five batches an epoch: the global batch count is the step
    assert [s for s, _ in _values(tmp_path / "train", "batch_loss")] == list(range(1, 11))


def test_learning_rate_schedules(tmp_path):
    model, (x, y) = _model(compile_model=False), _data()
    model.compile(regulab.optimizers.SGD(0.01), "mse")
    schedule = LearningRateScheduler(lambda epoch, lr: 0.01 * 0.5 ** epoch)
    model.fit(x, y, batch_size=2, epochs=2, callbacks=[schedule, TensorBoard(tmp_path)], verbose=0)
    assert _scalars(tmp_path) == {("train", "epoch_loss"), ("train", "epoch_learning_rate")}
    assert _values(tmp_path / "train", "epoch_learning_rate") == [(0, np.float32(0.01)), (1, np.float32(0.005))]


def test_global_step(tmp_path):
    model, (x, y) = _model(compile_model=False), _data()
    model.compile(regulab.optimizers.SGD(0.01), "mse")
    callback = TensorBoard(tmp_path, update_freq=1, profile_batch=0, write_steps_per_second=True)
    model.fit(x, y, batch_size=2, epochs=2, verbose=0, callbacks=[callback])
    assert _scalars(tmp_path) == {("train", "batch_loss"), ("train", "epoch_loss"), ("train", "epoch_learning_rate"),
                                  ("train", "epoch_steps_per_second"), ("train", "batch_steps_per_second")}
    assert all(v > 0 for _, v in _values(tmp_path / "train", "epoch_steps_per_second"))


def _layer_stripped(summaries, kind):
    """Keras's ``_strip_layer_names``: every tag names its weight, the last part is the kind."""
    tags = {tag for _, k, tag in summaries if k == kind}
    assert all("/" in tag for tag in tags)
    return {(run, tag.split("/")[-1]) for run, k, tag in summaries if k == kind}


def test_weight_histograms(tmp_path):
    x, y = _data()
    _model().fit(x, y, batch_size=2, epochs=2, validation_data=(x, y),
                 callbacks=[TensorBoard(tmp_path, histogram_freq=1)], verbose=0)
    summaries = _summaries(tmp_path)
    assert _scalars(tmp_path) == BASIC
    assert _layer_stripped(summaries, "histograms") == {("train", "histogram")}
    assert {tag for _, k, tag in summaries if k == "histograms"} == {"dense/kernel/histogram", "dense/bias/histogram"}


def test_weight_images(tmp_path):
    x, y = _data()
    # seeded, with a small step: SGD's default 0.01 diverged to NaN weights from some draws of
    # the initial kernel (a 10x10 kernel on an image of ones), and NaN has no histogram
    regulab.set_random_seed(0)
    model = Sequential([Input((10, 10, 1)), Conv2D(3, 10), GlobalAveragePooling2D(), Dense(1)])
    model.compile(regulab.optimizers.SGD(1e-3), "mse")
    model.fit(x, y, batch_size=2, epochs=2, validation_data=(x, y),
              callbacks=[TensorBoard(tmp_path, histogram_freq=1, write_images=True)], verbose=0)
    summaries = _summaries(tmp_path)
    assert _scalars(tmp_path) == BASIC
    assert _layer_stripped(summaries, "histograms") == {("train", "histogram")}
    assert _layer_stripped(summaries, "images") == {("train", "image")}
    image = _accumulator(tmp_path / "train").Images("conv2d/kernel/image")[-1]
    assert image.width > 0 and image.height > 0


@pytest.mark.parametrize("argument, value", [("profile_batch", 1), ("profile_batch", (10, 20)),
                                             ("embeddings_freq", 1), ("embeddings_metadata", {"emb": "m.tsv"})])
def test_unsupported_arguments_are_errors_naming_them(tmp_path, argument, value):
    # Keras on its torch backend refuses profile_batch too; the projector is not written
    with pytest.raises(ValueError, match=f"Invalid value for argument `{argument}` of TensorBoard"):
        TensorBoard(tmp_path, **{argument: value})


# -- the values


def _classifier():
    regulab.set_random_seed(0)
    model = Sequential([Input((4,)), Dense(8, activation="relu"), Dense(3, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    rng = np.random.default_rng(0)
    x = rng.standard_normal((96, 4)).astype("float32")
    return model, x, (x[:, 0] > 0).astype("int64") + (x[:, 1] > 0)


def test_epoch_scalars_equal_history(tmp_path):
    model, x, y = _classifier()
    history = model.fit(x, y, epochs=4, batch_size=16, validation_split=0.25, seed=0,
                        callbacks=[TensorBoard(tmp_path)], verbose=0)
    for name, values in history.history.items():
        run, tag = ("validation", name[4:]) if name.startswith("val_") else ("train", name)
        assert _values(tmp_path / run, f"epoch_{tag}") == [(e, np.float32(v)) for e, v in enumerate(values)], name
    assert _values(tmp_path / "train", "epoch_learning_rate") == [(e, np.float32(0.001)) for e in range(4)]


def test_learning_rate_from_the_logs_of_a_plateau_callback(tmp_path):
    # ReduceLROnPlateau logs the rate of the epoch just finished, then lowers it: that logged rate is written
    model, x, y = _classifier()
    plateau = ReduceLROnPlateau(monitor="loss", factor=0.5, patience=0, min_delta=10.0)
    history = model.fit(x, y, epochs=3, batch_size=16, callbacks=[plateau, TensorBoard(tmp_path)], verbose=0)
    assert [v for _, v in _values(tmp_path / "train", "epoch_learning_rate")] == \
        [np.float32(v) for v in history.history["learning_rate"]]


def test_histograms_every_n_epochs_hold_the_weights(tmp_path):
    model, x, y = _classifier()
    model.fit(x, y, epochs=5, batch_size=16, callbacks=[TensorBoard(tmp_path, histogram_freq=2)], verbose=0)
    histograms = _accumulator(tmp_path / "train").Histograms("dense/kernel/histogram")
    assert [h.step for h in histograms] == [0, 2, 4]
    kernel = model.get_layer(index=0).get_weights()[0]
    last = histograms[-1].histogram_value  # epoch 4 is the last: the weights the model ends with
    assert last.num == kernel.size
    assert last.min == pytest.approx(kernel.min()) and last.max == pytest.approx(kernel.max())
    assert last.sum == pytest.approx(kernel.sum(), abs=1e-5)


def test_batch_scalars_every_n_batches(tmp_path):
    model, x, y = _classifier()  # 96 samples in batches of 16: 6 batches an epoch
    model.fit(x, y, epochs=2, batch_size=16, callbacks=[TensorBoard(tmp_path, update_freq=4)], verbose=0)
    assert [s for s, _ in _values(tmp_path / "train", "batch_loss")] == [4, 8, 12]
    # the batch logs are running means of the epoch: its last batch's equals the epoch's
    assert _values(tmp_path / "train", "batch_accuracy")[-1][1] == _values(tmp_path / "train", "epoch_accuracy")[-1][1]


def test_model_summary_as_text(tmp_path):
    model, x, y = _classifier()
    model.fit(x, y, epochs=1, callbacks=[TensorBoard(tmp_path)], verbose=0)
    text = _accumulator(tmp_path / "train").Tensors("model/summary/text_summary")[0]
    assert "(Dense)" in text.tensor_proto.string_val[0].decode()
    model.fit(x, y, epochs=1, callbacks=[TensorBoard(tmp_path / "no_graph", write_graph=False)], verbose=0)
    assert not _accumulator(tmp_path / "no_graph" / "train").Tags()["tensors"]


def test_epoch_only_logging_asks_for_no_batch_hooks(tmp_path):
    assert not TensorBoard(tmp_path).uses_batch_hooks("train")
    assert TensorBoard(tmp_path, update_freq="batch").uses_batch_hooks("train")
    assert not TensorBoard(tmp_path, update_freq="batch").uses_batch_hooks("test")


def test_custom_train_step_model_without_optimizer(tmp_path):
    # a GAN-style model logs its own names (compile() without arguments gives it Keras's default optimizer)
    import torch

    class Halves(regulab.models.Model):
        def __init__(self):
            super().__init__()
            self.inner = Sequential([Input((2,)), Dense(1)])
            self.tracker = regulab.metrics.Mean(name="half")

        @property
        def metrics(self):
            return [self.tracker]

        def train_step(self, data):
            x = data[0] if isinstance(data, (tuple, list)) else data
            self.tracker.update_state(torch.as_tensor(x).mean() / 2)
            return {"half": self.tracker.result()}

    model = Halves()
    model.compile()
    model.fit(np.ones((8, 2), dtype="float32"), epochs=2, batch_size=4, verbose=0,
              callbacks=[TensorBoard(tmp_path, histogram_freq=1)])
    assert _scalars(tmp_path) == {("train", "epoch_half"), ("train", "epoch_learning_rate")}
    assert _values(tmp_path / "train", "epoch_half") == [(0, 0.5), (1, 0.5)]


def test_hooks_driven_without_a_regulab_model(tmp_path, model, fakes):
    logs = [{"loss": 0.5, "val_loss": 0.75}, {"loss": 0.25, "val_loss": 0.5}]
    fakes.fit(TensorBoard(tmp_path, histogram_freq=1), model, logs)
    assert _values(tmp_path / "validation", "epoch_loss") == [(0, 0.75), (1, 0.5)]
    assert _values(tmp_path / "train", "epoch_learning_rate") == [(0, np.float32(0.1)), (1, np.float32(0.1))]
    tags = _accumulator(tmp_path / "train").Tags()["histograms"]
    assert tags == ["weight_0/histogram", "weight_1/histogram"]


# -- arguments, config, state


@pytest.mark.parametrize("argument, value, expected", [
    ("log_dir", "", "a directory path"),
    ("histogram_freq", -1, "an integer in [0, inf)"),
    ("histogram_freq", 1.5, "an integer in [0, inf)"),
    ("write_graph", "False", "True or False"),
    ("write_images", 1, "True or False"),
    ("update_freq", "minute", "'epoch', 'batch' or an integer >= 1"),
    ("update_freq", 0, "'epoch', 'batch' or an integer >= 1"),
    ("update_freq", True, "'epoch', 'batch' or an integer >= 1"),
])
def test_bad_arguments_name_themselves(tmp_path, argument, value, expected):
    kwargs = {"log_dir": tmp_path, argument: value}
    with pytest.raises(ValueError) as error:
        TensorBoard(**kwargs)
    assert str(error.value).startswith(f"Invalid value for argument `{argument}` of TensorBoard: expected {expected}")


def test_config_round_trip(tmp_path):
    callback = TensorBoard(tmp_path, histogram_freq=2, write_graph=False, write_images=True,
                           write_steps_per_second=True, update_freq=5)
    config = callback.get_config()
    assert config["log_dir"] == str(tmp_path) and config["update_freq"] == 5
    assert TensorBoard(**config).get_config() == config
    import inspect

    assert set(config) == set(inspect.signature(TensorBoard).parameters)


def test_state_is_the_batch_count_only(tmp_path):
    model, x, y = _classifier()
    callback = TensorBoard(tmp_path, update_freq="batch")
    model.fit(x, y, epochs=1, batch_size=32, callbacks=[callback], verbose=0)
    assert callback.get_state() == {"_global_train_batch": 3, "_last_batch_written": 3}


def test_missing_tensorboard_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorboard", None)  # `import tensorboard` raises ImportError
    with pytest.raises(ImportError, match="pip install tensorboard"):
        TensorBoard(tmp_path)
