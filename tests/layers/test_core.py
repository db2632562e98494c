import re

import numpy as np
import pytest
import torch

from regulab import regularizers
from regulab.layers import Activation, Dense, Flatten, Input, Reshape
from regulab.models import Sequential


def test_dense_matches_torch_linear():
    layer = Dense(5, input_dim=3, activation="tanh")
    x = torch.randn(4, 3)
    layer(x)  # builds
    ref = torch.tanh(x @ layer.kernel.value + layer.bias.value)
    torch.testing.assert_close(layer(x), ref)
    lin = torch.nn.Linear(3, 5)
    with torch.no_grad():
        lin.weight.copy_(layer.kernel.value.T)
        lin.bias.copy_(layer.bias.value)
    torch.testing.assert_close(layer(x), torch.tanh(lin(x)))


def test_dense_glorot_uniform_kernel_and_zero_bias():
    torch.manual_seed(0)
    layer = Dense(400, input_dim=600)
    layer(np.zeros((1, 600)))
    k = layer.kernel.numpy()
    limit = np.sqrt(6 / (600 + 400))
    assert np.abs(k).max() <= limit
    assert abs(k.var() - limit**2 / 3) < 0.05 * limit**2 / 3
    assert (layer.bias.numpy() == 0).all()


def test_dense_applies_to_last_axis_of_3d_input():
    layer = Dense(2)
    y = layer(torch.ones(3, 4, 5))
    assert y.shape == (3, 4, 2)


def test_dense_param_count_and_shape_inference():
    model = Sequential([Dense(64, input_dim=100, activation="relu"), Dense(1, activation="sigmoid")])
    assert model.layers[0].count_params() == 6464
    assert model.layers[1].count_params() == 65
    assert model.output_shape == (1,)


def test_input_layer_sets_shape():
    model = Sequential([Input((100,)), Dense(64), Dense(1)])
    assert model.built and model.count_params() == 6529
    with pytest.raises(ValueError, match="An Input can only be the first element"):
        Sequential([Dense(3, input_dim=2), Input((3,))])


def test_wrong_input_width_names_layer_and_shapes():
    model = Sequential([Dense(64, input_dim=100, activation="relu", name="hidden"), Dense(1)])
    with pytest.raises(ValueError, match=re.escape(
            "Input 0 of layer 'hidden' is incompatible with the layer: expected shape (None, 100), "
            "but received input with shape (None, 50).")):
        model.predict(np.zeros((4, 50), dtype="float32"), verbose=0)


def test_activity_regularizer_adds_penalty_divided_by_batch_size():
    layer = Dense(3, input_dim=2, activity_regularizer=regularizers.l2(0.5))
    layer(np.zeros((1, 2)))
    ctx = layer.live_context(training=True)
    x = torch.randn(4, 2)
    out = layer.call(x, ctx)
    torch.testing.assert_close(ctx.penalties[0], 0.5 * (out ** 2).sum() / 4)


@pytest.mark.parametrize("name", ["relu", "sigmoid", "tanh", "softmax", "elu", "selu", "gelu", "swish",
                                  "silu", "leaky_relu", "linear"])
def test_activation_layer_names(name):
    x = torch.randn(3, 4)
    ref = {"relu": torch.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh,
           "softmax": lambda t: torch.softmax(t, -1), "elu": torch.nn.functional.elu,
           "selu": torch.nn.functional.selu, "gelu": torch.nn.functional.gelu,
           "swish": torch.nn.functional.silu, "silu": torch.nn.functional.silu,
           "leaky_relu": lambda t: torch.nn.functional.leaky_relu(t, 0.2), "linear": lambda t: t}[name]
    torch.testing.assert_close(Activation(name)(x), ref(x))


def test_unknown_activation_suggests():
    with pytest.raises(ValueError, match=re.escape("Unknown activation 'rellu'. Did you mean 'relu'?")):
        Dense(3, activation="rellu")


def test_flatten_and_reshape():
    x = torch.arange(24.0).reshape(2, 3, 4)
    assert Flatten()(x).shape == (2, 12)
    r = Reshape((4, -1))
    assert r(x).shape == (2, 4, 3)
    assert r.compute_output_shape((3, 4)) == (4, 3)
    with pytest.raises(ValueError, match="cannot reshape input of shape"):
        Reshape((5, 5)).build_for((3, 4))


def test_unknown_keyword_is_an_error():
    with pytest.raises(TypeError, match="Dense got an unexpected keyword argument 'unit'"):
        Dense(3, unit=4)


def test_units_must_be_positive():
    with pytest.raises(ValueError, match=re.escape(
            "Invalid value for argument `units` of Dense: expected an integer in [1, inf). Received: units=0")):
        Dense(0)


def test_set_weights_checks_count_and_every_shape_before_changing_anything():
    model = Sequential([Dense(3, input_dim=2, name="d"), Dense(1)], name="net")
    before = model.get_weights()
    with pytest.raises(ValueError, match=re.escape("Model 'net' has 4 weight arrays; received 3.")):
        model.set_weights(before[:3])
    bad = [w + 1 for w in before]
    bad[3] = np.zeros(2)
    with pytest.raises(ValueError, match=re.escape("Weight 'dense_1/bias' has shape (1,); received an array of shape (2,).")
                       .replace("dense_1", "dense(_\\d+)?")):
        model.set_weights(bad)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)  # nothing changed
    with pytest.raises(ValueError, match=re.escape("Layer 'd' has 2 weight arrays; received 1.")):
        model.layers[0].set_weights(before[:1])
