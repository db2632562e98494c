"""Custom training in Keras 3's PyTorch spelling: train_step overrides, a GAN, and *_on_batch,
with Keras's own figures (keras/src/trainers/trainer_test.py, keras-io's custom_train_step_in_torch)."""
import re

import numpy as np
import pytest
import torch

import regulab
from examples import keras_gan
from regulab.layers import Dense, Input
from regulab.models import Model, Sequential


def _ones_model(units=3):
    model = Sequential([Input((4,)), Dense(units, use_bias=False, kernel_initializer="ones")])
    model.compile(regulab.optimizers.SGD(), "mse", metrics=["mean_squared_error"])
    return model


def test_on_batch_methods_match_keras():
    # Keras: test_on_batch_methods (x ones, y zeros: the prediction is 4, the MSE 16)
    model = _ones_model()
    x, y = np.ones((100, 4)), np.zeros((100, 3))
    logs = model.train_on_batch(x, y)
    assert isinstance(logs, list) and len(logs) == 2 and logs[0] == pytest.approx(16.0)
    logs = model.train_on_batch(x, y, return_dict=True)
    assert len(logs) == 2 and logs["loss"] == pytest.approx(15.158, abs=1e-3)
    logs = model.test_on_batch(x, y)
    assert len(logs) == 2 and logs[0] == pytest.approx(14.360, abs=1e-3)
    out = model.predict_on_batch(x)
    assert isinstance(out, np.ndarray)
    np.testing.assert_allclose(out[0], [3.789511] * 3, atol=1e-5)
    sw = np.arange(100).reshape((100,)) / 50.0
    assert model.train_on_batch(x, y, sample_weight=sw)[0] == pytest.approx(14.217, abs=1e-3)
    assert model.test_on_batch(x, y, sample_weight=sw)[0] == pytest.approx(13.476, abs=1e-3)
    np.testing.assert_allclose(model.predict_on_batch(x)[0], [3.689468] * 3, atol=1e-5)
    assert model.optimizer.iterations == 3


def test_train_on_batch_keeps_adam_state_like_fit():
    # one batch per epoch without shuffling: train_on_batch and fit take the same steps
    rng = np.random.default_rng(0)
    x, y = rng.random((16, 4)).astype("float32"), rng.random((16, 1)).astype("float32")
    weights = []
    for how in ("fit", "on_batch"):
        regulab.set_random_seed(0)
        model = Sequential([Input((4,)), Dense(3, activation="relu"), Dense(1)])
        model.compile("adam", "mse")
        if how == "fit":
            model.fit(x, y, batch_size=16, epochs=4, shuffle=False, verbose=0)
        else:
            for _ in range(4):
                model.train_on_batch(x, y)
        weights.append(model.get_weights())
        assert model.optimizer.iterations == 4
    for a, b in zip(*weights):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


class GuideModel(Model):
    """keras-io custom_train_step_in_torch: the first CustomModel, with only the import changed."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.dense = Dense(1)

    def call(self, inputs, training=None):
        return self.dense(inputs)

    def train_step(self, data):
        x, y = data
        self.zero_grad()
        y_pred = self(x, training=True)
        loss = self.compute_loss(y=y, y_pred=y_pred)
        loss.backward()
        trainable_weights = [v for v in self.trainable_weights]
        gradients = [v.value.grad for v in trainable_weights]
        with torch.no_grad():
            self.optimizer.apply(gradients, trainable_weights)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}


def test_the_keras_guide_custom_train_step_trains_like_the_standard_step():
    rng = np.random.default_rng(0)
    x = rng.random((64, 3)).astype("float32")
    y = (x @ np.array([[1.0], [-2.0], [0.5]], dtype="float32")).astype("float32")
    custom = GuideModel()
    custom.compile(optimizer="adam", loss="mse", metrics=["mae"])
    custom(x[:1])  # builds its Dense
    start = custom.get_weights()
    h = custom.fit(x, y, epochs=3, batch_size=64, shuffle=False, verbose=0)
    assert set(h.history) == {"loss", "mae"} and len(h.history["loss"]) == 3
    # the same steps through the pure standard step
    standard = Sequential([Input((3,)), Dense(1)])
    standard.set_weights(start)
    standard.compile(optimizer="adam", loss="mse", metrics=["mae"])
    h2 = standard.fit(x, y, epochs=3, batch_size=64, shuffle=False, verbose=0)
    np.testing.assert_allclose(h.history["loss"], h2.history["loss"], rtol=1e-5)
    np.testing.assert_allclose(h.history["mae"], h2.history["mae"], rtol=1e-5)
    for a, b in zip(custom.get_weights(), standard.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


class ExtraMetric(Sequential):
    def train_step(self, data):
        logs = super().train_step(data)
        logs["my_custom_metric"] = 10.0
        return logs

    def test_step(self, data):
        logs = super().test_step(data)
        logs["my_custom_metric"] = 5.0
        return logs


def test_overrides_that_call_the_default_step():
    # Keras: test_fit_with_custom_train_step / test_evaluate_with_custom_test_step
    model = ExtraMetric([Input((4,)), Dense(3, use_bias=False, kernel_initializer="ones")])
    model.compile(regulab.optimizers.SGD(), "mse", metrics=["mean_squared_error"])
    x, y = np.ones((100, 4)), np.zeros((100, 3))
    h = model.fit(x, y, batch_size=20, epochs=3, verbose=0)
    assert h.history["my_custom_metric"] == [10.0] * 3 and "mean_squared_error" in h.history
    out = model.evaluate(x, y, return_dict=True, verbose=0)
    assert out["my_custom_metric"] == 5.0
    assert model.evaluate(x, y, verbose=0)[-1] == 5.0


class BadStep(Sequential):
    def train_step(self, data):
        return 1.0


class BadEntry(Sequential):
    def train_step(self, data):
        return {"loss": torch.ones(3)}


def test_a_train_step_must_return_a_dict_of_scalars():
    for cls, message in [(BadStep, "BadStep.train_step must return a dict of scalars (metric name -> value); "
                                   "received float: 1.0"),
                         (BadEntry, "BadEntry.train_step must return a dict of scalars (metric name -> value); "
                                    "entry 'loss' is Tensor")]:
        model = cls([Input((2,)), Dense(1)])
        model.compile("sgd", "mse")
        with pytest.raises(TypeError, match=re.escape(message)):
            model.fit(np.zeros((4, 2)), np.zeros(4), verbose=0)


# -- Keras's GAN, ported with only the imports changed: examples/keras_gan.py ----------------------
def test_the_keras_gan_example_moves_the_generator_to_the_data():
    regulab.set_random_seed(0)
    real = keras_gan.points()
    gan = keras_gan.build()
    before = keras_gan.distance(gan, real)
    dataset = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.tensor(real), torch.tensor(real)),
                                          batch_size=64, shuffle=True)
    h = gan.fit(dataset, epochs=30, verbose=0)
    assert set(h.history) == {"d_loss", "g_loss"} and len(h.history["d_loss"]) == 30
    assert keras_gan.distance(gan, real) < 0.35 * before  # 3.31 -> 0.71 here
    assert gan.d_optimizer.iterations == gan.g_optimizer.iterations == 30 * 8
    # each optimizer holds the moments of its own model's weights only
    assert set(gan.d_optimizer.slots) == set(gan.discriminator.trainable_weights)
    assert set(gan.g_optimizer.slots) == set(gan.generator.trainable_weights)


def test_a_hand_written_loop_in_keras_torch_style():
    # keras-io writing_a_custom_training_loop_in_torch: zero_grad, call, loss, backward, apply
    regulab.set_random_seed(0)
    model = Sequential([Input((3,)), Dense(8, activation="relu"), Dense(1)])
    optimizer = regulab.optimizers.Adam(learning_rate=0.01)
    loss_fn = regulab.losses.MeanSquaredError()
    x = torch.rand(64, 3)
    y = x.sum(1, keepdim=True)
    first = None
    for step in range(100):
        model.zero_grad()
        loss = loss_fn(y, model(x))
        loss.backward()
        grads = [v.value.grad for v in model.trainable_weights]
        with torch.no_grad():
            optimizer.apply(grads, model.trainable_weights)
        first = float(loss) if first is None else first
    assert float(loss) < 0.05 * first and optimizer.iterations == 100
