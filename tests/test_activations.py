"""Activations against NumPy/SciPy closed forms, with Keras 3's defaults."""
import math
import re

import numpy as np
import pytest
import torch
from scipy import special

from regulab import activations

X = np.linspace(-6.0, 6.0, 97)

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def _elu(x):
    return np.where(x > 0, x, np.expm1(x))


CLOSED_FORMS = {
    "linear": lambda x: x,
    "relu": lambda x: np.maximum(x, 0.0),
    "sigmoid": special.expit,
    "tanh": np.tanh,
    "elu": _elu,
    "selu": lambda x: SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(x)),
    "gelu": lambda x: 0.5 * x * (1.0 + special.erf(x / math.sqrt(2.0))),  # exact, not the tanh form
    "swish": lambda x: x * special.expit(x),
    "silu": lambda x: x * special.expit(x),
    "leaky_relu": lambda x: np.where(x > 0, x, 0.2 * x),  # Keras 3's negative slope
    "softplus": lambda x: np.logaddexp(0.0, x),
}


@pytest.mark.parametrize("name", sorted(CLOSED_FORMS))
def test_activation_matches_closed_form(name):
    got = activations.get(name)(torch.tensor(X)).numpy()
    np.testing.assert_allclose(got, CLOSED_FORMS[name](X), rtol=1e-12, atol=1e-12)


def test_softmax_is_over_the_last_axis():
    x = np.random.default_rng(0).normal(size=(3, 4, 5))
    np.testing.assert_allclose(activations.get("softmax")(torch.tensor(x)).numpy(), special.softmax(x, axis=-1),
                               rtol=1e-12)


def test_gelu_is_not_the_tanh_approximation():
    x = torch.tensor([1.5], dtype=torch.float64)
    approx = 0.5 * 1.5 * (1 + math.tanh(math.sqrt(2 / math.pi) * (1.5 + 0.044715 * 1.5 ** 3)))
    assert abs(float(activations.gelu(x)) - approx) > 1e-5


def test_swish_and_silu_are_one_function():
    assert activations.get("swish") is activations.get("silu")


def test_names_are_case_insensitive():
    assert activations.get("ReLU") is activations.relu


def test_none_is_linear_and_callables_pass_through():
    assert activations.get(None) is activations.linear
    assert activations.get(torch.sin) is torch.sin


def test_unknown_name_suggests_the_closest():
    with pytest.raises(ValueError, match=re.escape(
            "Unknown activation 'rleu'. Did you mean 'relu'? Known activations: elu, gelu, leaky_relu, linear, relu, "
            "selu, sigmoid, silu, softmax, softplus, swish, tanh.")):
        activations.get("rleu")


def test_get_rejects_other_types():
    with pytest.raises(TypeError, match=re.escape("An activation must be a name or a callable. Received: 3")):
        activations.get(3)


@pytest.mark.parametrize("name", ["linear", "relu", "sigmoid", "tanh", "softmax", "elu", "selu", "gelu",
                                  "leaky_relu", "softplus", "swish"])
def test_serialize_round_trip(name):
    fn = activations.get(name)
    assert activations.get(activations.serialize(fn)) is fn


def test_serialize_rejects_custom_functions():
    def custom(x):
        return x

    with pytest.raises(ValueError, match=re.escape(
            f"Cannot save the custom activation {custom!r}: only named activations are saved (elu, gelu, "
            "leaky_relu, linear, relu, selu, sigmoid, silu, softmax, softplus, swish, tanh). Use an Activation "
            "layer with a registered name.")):
        activations.serialize(custom)
