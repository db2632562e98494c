"""regulab: train neural networks that generalize.

Keras-style models, regularizers and callbacks on PyTorch, with the regularization lesson's
techniques behaving exactly as taught, a lab that diagnoses over- and underfitting, and a training
engine built for small models.

>>> import regulab
>>> from regulab.models import Sequential
>>> from regulab.layers import Dense
>>> model = Sequential([Dense(64, input_dim=100, activation="relu",
...                           kernel_regularizer=regulab.regularizers.l2(0.01)),
...                     Dense(1, activation="sigmoid")])
>>> model.count_params()
6529
"""
from regulab import (activations, augment, callbacks, compat, course, datasets, initializers, lab, layers, losses,
                     metrics, mixed_precision, models, optimizers, preprocessing, random, regularizers, saving)
from regulab._device import get_device, set_device
from regulab._seed import set_random_seed

__version__ = "0.1.0"

__all__ = [
    "activations", "augment", "callbacks", "compat", "course", "datasets", "initializers", "lab", "layers", "losses",
    "metrics", "mixed_precision", "models", "optimizers", "preprocessing", "random", "regularizers", "saving",
    "set_device", "get_device", "set_random_seed", "__version__",
]
