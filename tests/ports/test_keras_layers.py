"""Keras 3's own tests of the regularization layers, ported: ``keras/src/layers/regularization/``
``dropout_test.py``, ``spatial_dropout_test.py``, ``gaussian_dropout_test.py``,
``alpha_dropout_test.py``, ``gaussian_noise_test.py``, and
``keras/src/layers/normalization/batch_normalization_test.py`` (``keras`` replaced by ``regulab``).

Where regulab deliberately differs, the port asserts regulab's behaviour and says what Keras does:
errors use regulab's one wording ("Invalid value for argument `rate` of Dropout: expected ...",
naming the layer) rather than Keras's "Invalid value received for argument `rate`"; ``rate`` must
be below 1 (Keras accepts 1, which scales the survivors by 1/0); ``GaussianNoise.stddev`` may
exceed 1 (Keras caps it at 1); layers are channels-last only (``data_format='channels_first'`` is
an error); there is no ``SpatialDropout3D``; ``Layer.build`` takes the shape of one sample (Keras:
with the batch axis); BatchNormalization has no ``renorm`` or ``synchronized``.
"""
import re

import numpy as np
import pytest
import torch

from regulab import layers, models

RNG = np.random.default_rng(0)


def run_layer_test(cls, init_kwargs, input_shape, expected_output_shape=None,
                   expected_num_trainable_weights=0, expected_num_non_trainable_weights=0,
                   expected_num_losses=0, supports_masking=True, training=True):
    """What Keras's ``run_layer_test`` checks, for one layer: the output shape and weights of an
    eager call, masking support, a config round trip, and a model holding the layer training."""
    layer = cls(**init_kwargs)
    x = RNG.standard_normal(input_shape).astype("float32")
    out = layer(x, training=training)
    assert tuple(out.shape) == tuple(expected_output_shape or input_shape)
    assert len(layer.trainable_weights) == expected_num_trainable_weights
    assert len(layer.non_trainable_weights) == expected_num_non_trainable_weights
    assert layer.supports_masking == supports_masking
    config = layer.get_config()
    assert cls.from_config(config).get_config() == config
    model = models.Sequential([layers.Input(input_shape[1:]), cls(**init_kwargs)])
    model.compile(optimizer="sgd", loss="mse")
    assert len(model.losses) == expected_num_losses
    history = model.fit(x, x, epochs=1, batch_size=len(x), verbose=0)
    assert np.isfinite(history.history["loss"][0])


# -- Dropout (dropout_test.py)

def test_dropout_basics():
    run_layer_test(layers.Dropout, {"rate": 0.2}, input_shape=(2, 3), expected_output_shape=(2, 3))


def test_dropout_rescaling():
    inputs = np.ones((20, 500))
    outputs = layers.Dropout(0.5, seed=1337)(inputs, training=True).numpy()
    np.testing.assert_allclose(np.mean(outputs), 1.0, atol=0.02)
    np.testing.assert_allclose(np.max(outputs), 2.0)


def test_dropout_partial_noise_shape_dynamic():
    outputs = layers.Dropout(0.5, noise_shape=(None, 1, None))(np.ones((20, 5, 10)), training=True)
    np.testing.assert_allclose(outputs[:, 0, :], outputs[:, 1, :])


def test_dropout_partial_noise_shape_static():
    outputs = layers.Dropout(0.5, noise_shape=(20, 1, 10))(np.ones((20, 5, 10)), training=True)
    np.testing.assert_allclose(outputs[:, 0, :], outputs[:, 1, :])


@pytest.mark.parametrize("cls", [layers.Dropout, layers.AlphaDropout, layers.GaussianDropout])
@pytest.mark.parametrize("rate", [-0.5, 1.5, 1.0])
def test_rate_outside_zero_one(cls, rate):
    # Keras: "Invalid value received for argument `rate`. Expected a float value between 0 and 1."
    with pytest.raises(ValueError, match=re.escape(
            f"Invalid value for argument `rate` of {cls.__name__}: expected a float in [0, 1). "
            f"Received: rate={rate}")):
        cls(rate=rate)


def test_validate_noise_shape_none():
    assert layers.Dropout(0.5, noise_shape=None).noise_shape is None


def test_validate_noise_shape_integer_tuple():
    assert layers.Dropout(0.5, noise_shape=(20, 1, 10)).noise_shape == (20, 1, 10)


def test_validate_noise_shape_none_values():
    assert layers.Dropout(0.5, noise_shape=(None, 1, None)).noise_shape == (None, 1, None)


def test_validate_noise_shape_cast_to_a_tuple():
    layer = layers.Dropout(0.5, noise_shape=[20, 1, 10])
    assert layer.noise_shape == (20, 1, 10)
    assert isinstance(layer.noise_shape, tuple)


NOISE_SHAPE = ("Invalid value for argument `noise_shape` of Dropout: expected None, or a tuple with "
               "one positive integer or None per input axis. Received: ")


@pytest.mark.parametrize("noise_shape, received", [
    ("Invalid", "noise_shape='Invalid'"),  # Keras: "Expected a tuple or list of integers."
    (3, "noise_shape=3"),  # Keras: "Expected an iterable of integers"
    ((20, 1.5, 10), "noise_shape=(20, 1.5, 10) (entry 1 is 1.5)"),  # "all elements to be integers or None"
    ((20, -1, 10), "noise_shape=(20, -1, 10) (entry 1 is -1)"),  # "all dimensions to be positive"
    ((20, 0, 10), "noise_shape=(20, 0, 10) (entry 1 is 0)"),
])
def test_validate_noise_shape_errors(noise_shape, received):
    with pytest.raises(ValueError, match=re.escape(NOISE_SHAPE + received)):
        layers.Dropout(0.5, noise_shape=noise_shape)


def test_noise_shape_must_fit_the_input():
    # Keras's backend fails to broadcast the mask; regulab says which entry does not fit
    layer = layers.Dropout(0.5, noise_shape=(20, 2, 10), name="drop")
    with pytest.raises(ValueError, match=re.escape(
            "Layer 'drop': noise_shape (20, 2, 10) does not fit input with shape (20, 5, 10): entry 1 "
            "is 2, expected 1, None or 5.")):
        layer(np.ones((20, 5, 10)), training=True)
    with pytest.raises(ValueError, match=re.escape("must have one entry per input axis")):
        layers.Dropout(0.5, noise_shape=(None, 1), name="drop2")(np.ones((20, 5, 10)), training=True)


def test_dropout_is_the_identity_in_inference():
    x = RNG.standard_normal((4, 6)).astype("float32")
    for layer in (layers.Dropout(0.5), layers.SpatialDropout1D(0.5), layers.AlphaDropout(0.5),
                  layers.GaussianDropout(0.5), layers.GaussianNoise(0.5)):
        shaped = x.reshape(4, 2, 3) if isinstance(layer, layers.SpatialDropout1D) else x
        np.testing.assert_array_equal(layer(shaped, training=False).numpy(), shaped)


def test_layers_with_the_same_seed_draw_the_same_masks():
    # as Keras's SeedGenerator(seed): one seed, one stream, whichever layer holds it
    a, b, c = layers.Dropout(0.5, seed=7), layers.Dropout(0.5, seed=7), layers.Dropout(0.5, seed=8)
    x = torch.ones(40, 40)
    outs = [layer.call(x, layer.live_context(training=True, key=123)) for layer in (a, b, c)]
    assert torch.equal(outs[0], outs[1]) and not torch.equal(outs[0], outs[2])
    assert layers.Dropout.from_config(a.get_config()).seed == 7
    # called on its own, a seeded layer repeats from run to run, and each call draws anew
    first, second = layers.Dropout(0.5, seed=7), layers.Dropout(0.5, seed=7)
    calls = [first(x, training=True), first(x, training=True), second(x, training=True)]
    assert torch.equal(calls[0], calls[2]) and not torch.equal(calls[0], calls[1])
    with pytest.raises(ValueError, match=re.escape(
            "Invalid value for argument `seed` of Dropout: expected an integer in [0, inf). "
            "Received: seed=-1")):
        layers.Dropout(0.5, seed=-1)


# -- SpatialDropout1D/2D (spatial_dropout_test.py)

@pytest.mark.parametrize("training", [True, False])
def test_spatial_dropout_1d(training):
    run_layer_test(layers.SpatialDropout1D, {"rate": 0.5}, input_shape=(2, 3, 4), training=training)


def test_spatial_dropout_2d():
    run_layer_test(layers.SpatialDropout2D, {"rate": 0.5}, input_shape=(2, 3, 4, 5))
    # Keras also runs data_format="channels_first"; regulab's layers are channels-last
    with pytest.raises(ValueError, match=re.escape(
            "Invalid value for argument `data_format` of SpatialDropout2D: expected 'channels_last' or "
            "None")):
        layers.SpatialDropout2D(0.5, data_format="channels_first")


def test_spatial_dropout_1d_dynamic():
    layers.SpatialDropout1D(0.5)(layers.Input((3, 2)), training=True)


def test_spatial_dropout_1d_correctness():
    outputs = layers.SpatialDropout1D(0.5)(np.ones((10, 3, 10)), training=True)
    np.testing.assert_allclose(outputs[:, 0, :], outputs[:, 1, :])


def test_spatial_dropout_2d_dynamic():
    layers.SpatialDropout2D(0.5)(layers.Input((3, 2, 4)), training=True)


def test_spatial_dropout_2d_correctness():
    outputs = layers.SpatialDropout2D(0.5)(np.ones((10, 3, 3, 10)), training=True)
    np.testing.assert_allclose(outputs[:, 0, 0, :], outputs[:, 1, 1, :])


def test_spatial_dropout_input_rank():
    # Keras's InputSpec(ndim=3) / (ndim=4)
    with pytest.raises(ValueError, match=re.escape(
            "Layer 'sd' (SpatialDropout1D) expects inputs of rank 3, (batch, steps, channels); "
            "received inputs of shape (None, 3, 2, 4).")):
        layers.SpatialDropout1D(0.5, name="sd")(layers.Input((3, 2, 4)))
    with pytest.raises(ValueError, match=re.escape(
            "Layer 'sd2' (SpatialDropout2D) expects inputs of rank 4, (batch, height, width, "
            "channels); received inputs of shape (None, 6).")):
        layers.SpatialDropout2D(0.5, name="sd2")(np.ones((2, 6)), training=True)
    with pytest.raises(TypeError, match=re.escape("SpatialDropout1D has no argument `noise_shape`")):
        layers.SpatialDropout1D(0.5, noise_shape=(None, 1, None))


# -- GaussianDropout, AlphaDropout, GaussianNoise

def test_gaussian_dropout_basics():
    run_layer_test(layers.GaussianDropout, {"rate": 0.2}, input_shape=(2, 3))


def test_gaussian_dropout_correctness():
    outputs = layers.GaussianDropout(0.3, seed=1337)(np.ones((20, 500)), training=True).numpy()
    np.testing.assert_allclose(np.std(outputs), np.sqrt(0.3 / (1 - 0.3)), atol=0.02)


def test_alpha_dropout_basics():
    run_layer_test(layers.AlphaDropout, {"rate": 0.2}, input_shape=(2, 3))


def test_alpha_dropout_correctness():
    outputs = layers.AlphaDropout(0.3, seed=1337)(np.ones((20, 500), dtype="float32"), training=True)
    np.testing.assert_allclose(np.std(outputs.numpy()), 1.0, atol=1e-1)


def test_alpha_dropout_partial_noise_shape_dynamic():
    outputs = layers.AlphaDropout(0.5, noise_shape=(None, 1, None))(np.ones((20, 5, 10)), training=True)
    np.testing.assert_allclose(outputs[:, 0, :], outputs[:, 1, :])


def test_alpha_dropout_partial_noise_shape_static():
    layer = layers.AlphaDropout(0.5, noise_shape=(20, 1, 10))
    outputs = layer(np.ones((20, 5, 10)), training=True)
    np.testing.assert_allclose(outputs[:, 0, :], outputs[:, 1, :])
    assert layers.AlphaDropout.from_config(layer.get_config()).noise_shape == (20, 1, 10)


def test_gaussian_noise_basics():
    run_layer_test(layers.GaussianNoise, {"stddev": 0.2}, input_shape=(2, 3))


def test_gaussian_noise_correctness():
    outputs = layers.GaussianNoise(0.3, seed=1337)(np.ones((20, 500)), training=True).numpy()
    np.testing.assert_allclose(np.std(outputs), 0.3, atol=0.02)


def test_gaussian_noise_stddev():
    # Keras refuses stddev > 1; regulab only negative values
    outputs = layers.GaussianNoise(2.0, seed=3)(np.zeros((200, 500)), training=True).numpy()
    np.testing.assert_allclose(np.std(outputs), 2.0, atol=0.02)
    with pytest.raises(ValueError, match=re.escape(
            "Invalid value for argument `stddev` of GaussianNoise: expected a float in [0, inf). "
            "Received: stddev=-0.1")):
        layers.GaussianNoise(-0.1)


# -- BatchNormalization (batch_normalization_test.py)

def test_bn_basics():
    run_layer_test(layers.BatchNormalization, {"center": True, "scale": True}, input_shape=(2, 3),
                   expected_num_trainable_weights=2, expected_num_non_trainable_weights=2)
    run_layer_test(layers.BatchNormalization, {"center": False, "scale": False}, input_shape=(2, 3),
                   expected_num_trainable_weights=0, expected_num_non_trainable_weights=2)
    run_layer_test(layers.BatchNormalization, {"center": True, "scale": True, "beta_regularizer": "l2",
                                               "gamma_regularizer": "l2"},
                   input_shape=(2, 4, 4, 3), expected_num_trainable_weights=2,
                   expected_num_non_trainable_weights=2, expected_num_losses=2)


@pytest.mark.parametrize("axis", [-1, 1])
@pytest.mark.parametrize("input_shape", [(5, 2, 3), (5, 3, 3, 2)])
@pytest.mark.parametrize("moving_mean_initializer", ["zeros", "ones"])
@pytest.mark.parametrize("moving_variance_initializer", ["zeros", "ones"])
def test_correctness(axis, input_shape, moving_mean_initializer, moving_variance_initializer):
    layer = layers.BatchNormalization(axis=axis, momentum=0,
                                      moving_mean_initializer=moving_mean_initializer,
                                      moving_variance_initializer=moving_variance_initializer)
    x = np.random.default_rng(1).normal(loc=5.0, scale=10.0, size=input_shape).astype("float32")
    out = x
    for _ in range(3):
        out = layer(out, training=True)
    broadcast_shape = [1] * len(input_shape)
    broadcast_shape[axis] = input_shape[axis]
    out = out.numpy() - np.reshape(layer.beta.numpy(), broadcast_shape)
    out = out / np.reshape(layer.gamma.numpy(), broadcast_shape)
    reduction_axes = list(range(len(input_shape)))
    del reduction_axes[axis]
    np.testing.assert_allclose(np.mean(out, axis=tuple(reduction_axes)), 0.0, atol=1e-3)
    np.testing.assert_allclose(np.std(out, axis=tuple(reduction_axes)), 1.0, atol=1e-3)
    np.testing.assert_allclose(layer.moving_mean.numpy(), 0.0, atol=1e-3)
    np.testing.assert_allclose(layer.moving_variance.numpy(), 1.0, atol=1e-3)

    # inference done before training shouldn't match
    inference_out = layer(x, training=False).numpy()
    training_out = layer(x, training=True).numpy()
    assert not np.allclose(inference_out, training_out)
    # since momentum is zero, inference after training should match
    training_out = layer(x, training=True).numpy()
    inference_out = layer(x, training=False).numpy()
    np.testing.assert_allclose(inference_out, training_out, rtol=1e-5, atol=1e-4)


def test_input_fully_masked():
    norm = layers.BatchNormalization(scale=False, center=False)
    y = norm(np.zeros((4, 5)), mask=np.zeros((4,), dtype=np.float32), training=True)
    np.testing.assert_allclose(y.numpy(), np.zeros((4, 5), dtype=np.float32))


@pytest.mark.parametrize("mask_value", [0.0, 0.1, 1])
def test_batchnorm_ignore_masked_values(mask_value):
    padded_data = np.array([[[1, 5], [2, 5], [mask_value, mask_value], [mask_value, mask_value]]
                            for _ in range(10)], dtype="float32")
    inputs = layers.Input((None, 2))
    masked = layers.Masking(mask_value=mask_value)(inputs)
    normed = layers.BatchNormalization(momentum=0.0)(masked)
    model = models.Model(inputs, normed)
    # Keras runs it eagerly and compiled; compiling is the engine's concern (tests/training)
    model.compile("rmsprop", loss="mse", jit_compile=False)
    model.fit(x=padded_data, y=padded_data, batch_size=10, epochs=5, verbose=0)
    bn = model.layers[2]
    np.testing.assert_allclose(bn.moving_mean.numpy(), [1.5, 5.0], rtol=1e-6)
    np.testing.assert_allclose(bn.moving_variance.numpy(), [0.25, 0.0], atol=1e-6)


def test_trainable_behavior():
    layer = layers.BatchNormalization(axis=-1, momentum=0.8, epsilon=1e-7)
    layer.build_for((4, 4, 3))  # Keras: layer.build((1, 4, 4, 3)), with the batch axis
    layer.trainable = False
    assert len(layer.weights) == 4
    assert len(layer.trainable_weights) == 0
    assert len(layer.non_trainable_weights) == 4

    x = np.random.default_rng(2).normal(loc=5.0, scale=10.0, size=(200, 4, 4, 3)).astype("float32")
    out = layer(x, training=True)  # frozen: inference mode, with moving mean 0 and variance 1
    np.testing.assert_allclose(out.numpy(), x, rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(layer.moving_mean.numpy(), np.zeros(3))  # stats untouched
    np.testing.assert_array_equal(layer.moving_variance.numpy(), np.ones(3))

    layer.trainable = True
    assert len(layer.weights) == 4
    assert len(layer.trainable_weights) == 2
    assert len(layer.non_trainable_weights) == 2
    for _ in range(10):
        out = layer(x, training=True)
    out = out.numpy() - np.reshape(layer.beta.numpy(), (1, 1, 1, 3))
    out = out / np.reshape(layer.gamma.numpy(), (1, 1, 1, 3))
    np.testing.assert_allclose(np.mean(out, axis=(0, 1, 2)), 0.0, atol=1e-3)
    np.testing.assert_allclose(np.std(out, axis=(0, 1, 2)), 1.0, atol=1e-3)


def test_a_frozen_bn_in_a_fit_keeps_its_statistics_and_weights():
    # trainable=False semantics through fit, on the layer and through the model holding it
    x = np.random.default_rng(3).normal(5.0, 2.0, (64, 3)).astype("float32")
    for freeze in ("layer", "model"):
        bn = layers.BatchNormalization()
        inner = models.Sequential([layers.Input((3,)), bn])
        model = models.Sequential([inner, layers.Dense(1)])
        (bn if freeze == "layer" else inner).trainable = False
        model.compile(optimizer="sgd", loss="mse")
        before = [w.copy() for w in bn.get_weights()]
        model.fit(x, x[:, :1], batch_size=16, epochs=2, verbose=0)
        for got, want in zip(bn.get_weights(), before):
            np.testing.assert_array_equal(got, want)
        # and it normalized with the moving statistics: (x - 0) / sqrt(1 + 1e-3)
        np.testing.assert_allclose(bn(x, training=True).numpy(), x / np.sqrt(1 + 1e-3), rtol=1e-6)


def test_masked_broadcast_normalization():
    layer = layers.BatchNormalization(axis=-1, momentum=0.0, epsilon=1e-3)
    y = layer(torch.ones(1, 2, 3, 4), training=True, mask=torch.ones(1, 2, 1)).numpy()
    np.testing.assert_allclose(y.mean(axis=(0, 1, 2)), np.zeros(4), atol=1e-6)
    np.testing.assert_allclose(y, np.zeros_like(y), atol=1e-6)
    np.testing.assert_allclose(layer.moving_mean.numpy(), np.ones(4), atol=1e-6)
    np.testing.assert_allclose(layer.moving_variance.numpy(), np.zeros(4), atol=1e-6)
