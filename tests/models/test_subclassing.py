"""Subclassed models (Keras 3's model_test.py cases): layers as attributes, call(inputs, training)."""
import numpy as np
import pytest
import torch

import regulab
from regulab.layers import Dense, Dropout, Input, Layer, concatenate
from regulab.models import Model, Sequential


class TrainingSwitch(Layer):
    """``x`` in inference, ``x * 0`` in training (Keras's CustomLayer of test_training_arg)."""

    def call(self, x, ctx):
        return x * 0.0 if ctx.training else x


class TupleInput(Model):
    def __init__(self):
        super().__init__()
        self.dense4 = Dense(4)

    def call(self, inputs, training=None):
        a, b = inputs
        return concatenate([self.dense4(a), b])


def test_tuple_input_model_subclass():
    # Keras: test_tuple_input_model_subclass
    model = TupleInput()
    out = model([np.random.rand(3, 3), np.random.rand(3, 2)])
    assert tuple(out.shape) == (3, 6)


class Wrapper(Model):
    def __init__(self):
        super().__init__()
        self.switch = TrainingSwitch()

    def call(self, x):  # does not pass `training` on: the call context carries it
        return self.switch(x)


@pytest.mark.parametrize("make", [
    lambda: Wrapper(),
    lambda: Sequential([Input((1,)), TrainingSwitch()]),
    lambda: (lambda x: Model(x, TrainingSwitch()(x)))(Input((1,))),
], ids=["subclassed", "sequential", "functional"])
def test_training_argument_reaches_inner_layers(make):
    # Keras: test_training_arg / test_subclass_model_training_arg (1.0, 1.0 and 0.0)
    model = make()
    x = np.ones((4, 1), dtype="float32")
    assert float(model(x).mean()) == 1.0
    assert float(model(x, training=False).mean()) == 1.0
    assert float(model(x, training=True).mean()) == 0.0


def test_training_mode_in_fit_evaluate_and_predict():
    # Keras: trainer_test test_training_arg: fit loss 1.0, evaluate 0.0, predict zeros... with the
    # layer the other way round: x in training, 0 in inference
    class Opposite(Layer):
        def call(self, x, ctx):
            return x if ctx.training else x * 0.0

    model = Sequential([Input((1,)), Opposite()])
    model.compile("rmsprop", "mse")
    x, y = np.ones((128, 1)), np.zeros((128, 1))
    assert model.fit(x, y, verbose=0).history["loss"] == [1.0]
    assert model.evaluate(x, y, verbose=0) == 0.0
    np.testing.assert_array_equal(model.predict(x, verbose=0), np.zeros((128, 1)))


class Residual(Model):
    def __init__(self):
        super().__init__()
        self.blocks = [Dense(4, activation="relu"), Dropout(0.5), Dense(4)]

    def call(self, x, training=None):
        h = x
        for block in self.blocks:
            h = block(h)
        return x + h


def test_a_subclassed_model_trains_compiles_and_counts_its_layers():
    regulab.set_random_seed(0)
    model = Residual()
    x = np.random.rand(64, 4).astype("float32")
    model(x)
    assert model.count_params() == 2 * (4 * 4 + 4) and len(model.layers) == 3
    model.compile("adam", "mse")
    h = model.fit(x, x * 2, epochs=5, verbose=0, seed=0)
    assert h.history["loss"][-1] < h.history["loss"][0]
    # the dropout inside is in training mode during fit and off in predict
    np.testing.assert_array_equal(model.predict(x, verbose=0), model.predict(x, verbose=0))


def test_layers_must_be_set_after_super_init():
    class Early(Model):
        def __init__(self):
            self.dense = Dense(2)
            super().__init__()

    with pytest.raises(RuntimeError, match="was set to a layer before the layer's own __init__ ran: call "
                                           "super\\(\\).__init__\\(\\) first in Early.__init__."):
        Early()


def test_a_model_without_call_says_so():
    class NoCall(Model):
        pass

    with pytest.raises(TypeError, match="has no forward pass: define `call\\(self, inputs, training=None\\)`"):
        NoCall()(torch.zeros(2, 3))
