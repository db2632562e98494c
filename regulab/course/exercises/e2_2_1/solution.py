import numpy as np


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def derivative(name, x):
    """f'(x) for the activation `name`, element by element."""
    x = np.asarray(x, dtype=float)
    if name == 'relu':
        return np.where(x > 0, 1.0, 0.0)
    if name == 'leaky_relu':
        return np.where(x > 0, 1.0, 0.2)          # Keras 3's slope for x < 0
    if name == 'sigmoid':
        s = sigmoid(x)
        return s * (1 - s)                        # at most 0.25, at x = 0
    if name == 'tanh':
        return 1 - np.tanh(x) ** 2
    if name == 'elu':
        return np.where(x > 0, 1.0, np.exp(x))    # alpha = 1
    if name == 'softplus':
        return sigmoid(x)                         # d/dx log(1 + e^x)
    raise ValueError(f"unknown activation {name!r}")


print(derivative('sigmoid', np.array([0.0, 5.0])))
