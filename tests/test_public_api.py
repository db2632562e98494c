"""The public API: every exported name exists, and every layer survives get_config/from_config."""
import importlib

import pytest
import torch

import regulab
from regulab import layers as L

PACKAGES = ["regulab", "regulab.layers", "regulab.models", "regulab.callbacks", "regulab.regularizers",
            "regulab.optimizers", "regulab.losses", "regulab.metrics", "regulab.lab", "regulab.datasets",
            "regulab.augment", "regulab.preprocessing", "regulab.preprocessing.image", "regulab.compat",
            "regulab.course"]


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
    (lambda: L.LeakyReLU(0.2), (5,)),
    (lambda: L.ReLU(max_value=1.0, negative_slope=0.1, threshold=0.5), (5,)),
    (lambda: L.ELU(0.5), (5,)),
    (lambda: L.Softmax(axis=1), (3, 4)),
    (lambda: L.Conv1D(4, 3, strides=2, padding="causal", dilation_rate=1, kernel_regularizer="l1"), (9, 2)),
    (lambda: L.Conv2D(4, (3, 2), padding="same", strides=2, groups=2, activation="relu"), (7, 6, 2)),
    (lambda: L.SeparableConv2D(4, 3, depth_multiplier=2), (6, 6, 3)),
    (lambda: L.DepthwiseConv2D(3, depth_multiplier=2, padding="same"), (6, 6, 3)),
    (lambda: L.Conv2DTranspose(3, 3, strides=2, padding="same"), (4, 4, 2)),
    (lambda: L.MaxPooling1D(2, padding="same"), (5, 3)),
    (lambda: L.MaxPooling2D((2, 2), strides=1), (5, 5, 3)),
    (lambda: L.AveragePooling1D(3, strides=2), (7, 3)),
    (lambda: L.AveragePooling2D(2, padding="same"), (5, 5, 3)),
    (lambda: L.GlobalMaxPooling1D(), (5, 3)),
    (lambda: L.GlobalAveragePooling1D(keepdims=True), (5, 3)),
    (lambda: L.GlobalMaxPooling2D(), (4, 4, 3)),
    (lambda: L.GlobalAveragePooling2D(), (4, 4, 3)),
    (lambda: L.UpSampling1D(3), (4, 2)),
    (lambda: L.UpSampling2D(2, interpolation="bilinear"), (3, 3, 2)),
    (lambda: L.ZeroPadding1D((1, 2)), (4, 2)),
    (lambda: L.ZeroPadding2D(((1, 0), (0, 2))), (3, 3, 2)),
    (lambda: L.Cropping1D((1, 1)), (5, 2)),
    (lambda: L.Cropping2D(((1, 0), (0, 1))), (4, 4, 2)),
    (lambda: L.RepeatVector(3), (4,)),
    (lambda: L.Masking(0.0), (4, 3)),
    (lambda: L.Rescaling(1 / 255.0, offset=-1.0), (3,)),
    (lambda: L.Normalization(mean=[0.5, 1.0, 2.0], variance=[1.0, 4.0, 0.25]), (3,)),
    (lambda: L.SimpleRNN(3, return_sequences=True, dropout=0.2), (4, 2)),
    (lambda: L.LSTM(3, recurrent_dropout=0.3, go_backwards=True), (4, 2)),
    (lambda: L.GRU(3, reset_after=False, dropout=0.1), (4, 2)),
    (lambda: L.GRU(3, return_sequences=True), (4, 2)),
    (lambda: L.Bidirectional(L.LSTM(3, return_sequences=True), merge_mode="sum"), (4, 2)),
    (lambda: L.TimeDistributed(L.Dense(3)), (4, 2)),
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
