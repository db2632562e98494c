"""LeakyReLU, ReLU, ELU and Softmax layers against torch's functions and Keras 3's tests."""
import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from regulab.layers import ELU, LeakyReLU, ReLU, Softmax

X = torch.linspace(-3, 9, 25).reshape(5, 5)


def test_leaky_relu_matches_torch_and_keras_default():
    torch.testing.assert_close(LeakyReLU(0.2)(X), F.leaky_relu(X, 0.2))
    assert LeakyReLU().negative_slope == 0.3  # Keras 3's default
    assert LeakyReLU(alpha=0.1).negative_slope == 0.1  # Keras 2 spelling


def test_relu_options_follow_keras_formula():
    # Keras 3's relu_test: max_value, negative_slope and threshold together
    layer = ReLU(max_value=6.0, negative_slope=0.5, threshold=1.0)
    x = X.numpy()
    expected = np.where(x >= 6.0, 6.0, np.where(x >= 1.0, x, 0.5 * (x - 1.0)))
    np.testing.assert_allclose(layer(X).numpy(), expected, rtol=1e-6)
    torch.testing.assert_close(ReLU()(X), F.relu(X))


def test_elu_and_softmax_match_torch():
    torch.testing.assert_close(ELU(0.5)(X), F.elu(X, 0.5))
    torch.testing.assert_close(Softmax()(X), torch.softmax(X, -1))
    x3 = torch.randn(2, 3, 4)
    torch.testing.assert_close(Softmax(axis=1)(x3), torch.softmax(x3, 1))


def test_bad_arguments_name_the_argument():
    with pytest.raises(ValueError, match=re.escape(
            "Invalid value for argument `negative_slope` of LeakyReLU: expected a float in [0, inf). "
            "Received: negative_slope=-1")):
        LeakyReLU(-1)
    with pytest.raises(ValueError, match=re.escape("Invalid value for argument `max_value` of ReLU")):
        ReLU(max_value=-2.0)
    with pytest.raises(ValueError, match=re.escape(
            "Invalid value for argument `axis` of Softmax: expected a non-batch axis of inputs of shape "
            "(None, 5). Received: axis=0")):
        Softmax(axis=0)(X)
