"""The public API: every exported name exists, and every layer survives get_config/from_config."""
import importlib

import pytest
import torch

import regulab
from regulab import layers as L

PACKAGES = ["regulab", "regulab.layers", "regulab.models", "regulab.callbacks", "regulab.regularizers",
            "regulab.optimizers", "regulab.losses", "regulab.metrics", "regulab.lab", "regulab.datasets",
            "regulab.augment", "regulab.preprocessing", "regulab.preprocessing.image"]


@pytest.mark.parametrize("name", PACKAGES)
def test_all_names_exist(name):
    module = importlib.import_module(name)
    assert module.__all__, name
    for attr in module.__all__:
        assert hasattr(module, attr), f"{name}.{attr}"


def test_design_public_imports():
    from regulab.callbacks import CSVLogger, EarlyStopping, ModelCheckpoint, ReduceLROnPlateau, TerminateOnNaN  # noqa
    from regulab.layers import (Activation, AlphaDropout, BatchNormalization, Dense, Dropout, Flatten,  # noqa
                                GaussianDropout, GaussianNoise, Input, LayerNormalization, Reshape)
    from regulab.models import Model, Sequential, load_model  # noqa
    assert callable(regulab.set_device) and callable(regulab.set_random_seed)


LAYERS = [
    (lambda: L.Dense(4, activation="relu", kernel_regularizer="l2", activity_regularizer=regulab.regularizers.l1(0.1)), (3,)),
    (lambda: L.Activation("gelu"), (3,)),
    (lambda: L.Flatten(), (2, 3)),
    (lambda: L.Reshape((3, 2)), (6,)),
    (lambda: L.Dropout(0.3, seed=2), (5,)),
    (lambda: L.SpatialDropout1D(0.3), (4, 5)),
    (lambda: L.SpatialDropout2D(0.3), (4, 4, 2)),
    (lambda: L.GaussianNoise(0.2), (5,)),
    (lambda: L.GaussianDropout(0.2), (5,)),
    (lambda: L.AlphaDropout(0.2), (5,)),
    (lambda: L.BatchNormalization(momentum=0.9, epsilon=1e-4, gamma_regularizer="l2"), (5,)),
    (lambda: L.LayerNormalization(epsilon=1e-5), (5,)),
]


@pytest.mark.parametrize("make,shape", LAYERS, ids=lambda v: getattr(v, "__name__", str(v)))
def test_layer_config_round_trip_and_same_outputs(make, shape):
    layer = make()
    x = torch.randn(6, *shape)
    layer.build_for(shape)
    clone = type(layer).from_config(layer.get_config())
    clone.build_for(shape)
    clone.set_weights(layer.get_weights())
    assert clone.get_config() == layer.get_config()
    for training in (False, True):
        a = layer.call(x, layer.live_context(training=training, key=5))
        b = clone.call(x, clone.live_context(training=training, key=5))
        torch.testing.assert_close(a, b)
    assert tuple(layer.call(x, layer.live_context()).shape[1:]) == layer.compute_output_shape(shape)
