"""Keras 3's Sequential tests (keras/src/models/sequential_test.py), ported."""
import re

import numpy as np
import pytest

from regulab.layers import Dense, Input, InputLayer
from regulab.models import Sequential


def test_basic_flow_with_input():
    model = Sequential(name="seq")
    model.add(Input(shape=(2,), batch_size=3))
    model.add(Dense(4))
    model.add(Dense(5))
    model.summary(print_fn=lambda line: None)
    assert len(model.layers) == 2 and model.built and len(model.weights) == 4
    assert model(np.random.random((3, 2))).shape == (3, 5)
    same = Sequential([Input(shape=(2,), batch_size=3), Dense(4), Dense(5)])
    assert len(same.layers) == 2 and len(same.weights) == 4
    model.pop()
    assert len(model.layers) == 1 and model.built and len(model.weights) == 2
    assert model(np.random.random((3, 2))).shape == (3, 4)


def test_legacy_flow_with_input_shape():
    for first in (Dense(4, input_shape=(2,)), Dense(4, input_dim=2)):
        model = Sequential([first, Dense(5)])
        assert len(model.layers) == 2 and model.built and len(model.weights) == 4


def test_basic_flow_deferred():
    model = Sequential([Dense(4), Dense(5)])
    model.summary(print_fn=lambda line: None)  # before building: no crash
    assert not model.built
    assert model(np.random.random((3, 2))).shape == (3, 5)
    assert model.built and len(model.weights) == 4
    model.pop()
    assert model(np.random.random((3, 2))).shape == (3, 4) and len(model.weights) == 2


def test_nested_sequential():
    inner = Sequential([Input((2,)), Dense(3)])
    outer = Sequential([inner, Dense(1)])
    assert outer.count_params() == (2 * 3 + 3) + (3 + 1)
    assert outer(np.ones((4, 2))).shape == (4, 1)


def test_errors():
    model = Sequential([Input((2,)), Dense(2, name="dense")])
    with pytest.raises(ValueError, match=re.escape("An Input can only be the first element of a Sequential model.")):
        model.add(Input((2,)))
    with pytest.raises(ValueError, match=re.escape(
            "All layers added to a Sequential model should have unique names. Name 'dense' is already the name of "
            "a layer in this model. Update the `name` argument to pass a unique name.")):
        model.add(Dense(2, name="dense"))
    empty = Sequential(name="empty")
    with pytest.raises(ValueError, match=re.escape("Model 'empty' has no layers; add some before training.")):
        empty.predict(np.zeros((2, 2)), verbose=0)


def test_bad_layer():
    with pytest.raises(TypeError, match=re.escape("Sequential.add expects a Layer; received dict: {}")):
        Sequential().add({})


def test_input_layer_is_not_listed():
    model = Sequential([InputLayer(shape=(3,)), Dense(1)])
    assert [type(layer).__name__ for layer in model.layers] == ["Dense"] and model.input_shape == (3,)
