"""Rescaling and Normalization, against NumPy and Keras 3's tests
(keras/src/layers/preprocessing/rescaling_test.py, normalization_test.py)."""
import re

import numpy as np
import pytest
import torch

import regulab
from regulab.lab import fit_variants
from regulab.layers import Dense, Input, Normalization, Rescaling
from regulab.models import Sequential, load_model


# -- Rescaling
def test_rescaling_basics():  # Keras: test_rescaling_basics, test_rescaling_dtypes
    layer = Rescaling(scale=1.0 / 255, offset=0.5)
    assert layer(np.zeros((2, 3), dtype="float32")).shape == (2, 3)
    assert layer.count_params() == 0 and layer.weights == [] and layer.supports_masking
    for scale, offset in ((2, 0.5), (1.0, 2)):
        out = Rescaling(scale, offset)(np.ones((2, 3), dtype="float32"))
        np.testing.assert_allclose(out.numpy(), np.full((2, 3), scale + offset))
    out = Rescaling(1.0 / 255, 0.5)(np.full((2, 3), 255, dtype="int16"))
    assert out.dtype == torch.float32
    np.testing.assert_allclose(out.numpy(), 1.5)


def test_rescaling_correctness():  # Keras: test_rescaling_correctness
    x = np.random.default_rng(0).random((3, 10, 10, 3)) * 255
    out = Rescaling(scale=1.0 / 255, offset=0.5)(x)
    np.testing.assert_allclose(out.numpy(), x / 255 + 0.5, rtol=1e-6)


def test_rescaling_per_channel_channels_last():
    x = np.random.default_rng(1).random((2, 4, 4, 3)).astype("float32") * 255
    scale, offset = [1 / 255, 1.5 / 255, 2 / 255], [0.0, -1.0, 1.0]
    out = Rescaling(scale, offset)(x)
    np.testing.assert_allclose(out.numpy(), x * np.array(scale) + np.array(offset), rtol=1e-5, atol=1e-6)


def test_rescaling_bad_arguments():
    with pytest.raises(ValueError, match=re.escape(
            "Invalid value for argument `scale` of Rescaling: expected a finite number or a list of finite numbers. "
            "Received: scale='half'")):
        Rescaling("half")
    layer = Rescaling([1.0, 2.0])
    with pytest.raises(ValueError, match=re.escape(
            f"Layer '{layer.name}' has 2 per-channel values of `scale`, but its input has 3 channels "
            f"(shape (None, 4, 3)).")):
        layer(np.zeros((1, 4, 3), dtype="float32"))


def test_rescaling_config_round_trip():
    layer = Rescaling([0.5, 0.25], offset=-1.0)
    again = Rescaling.from_config(layer.get_config())
    assert again.get_config() == layer.get_config() == {**layer.get_config(), "scale": [0.5, 0.25], "offset": -1.0}


# -- Normalization
def test_normalization_basics():  # Keras: test_normalization_basics
    layer = Normalization(axis=-1)
    layer.adapt(np.random.default_rng(0).random((8, 3)))
    assert [v.name.split("/")[1] for v in layer.non_trainable_weights] == ["mean", "variance", "count"]
    assert layer.trainable_weights == [] and layer.count_params() == 7 and layer.supports_masking
    given = Normalization(mean=np.array([0.5, 0.2, -0.1]), variance=np.array([0.1, 0.2, 0.3]))
    assert given(np.zeros((2, 3), dtype="float32")).shape == (2, 3) and given.weights == []
    inverted = Normalization(mean=np.array([0.5, 0.2, -0.1]), variance=np.array([0.1, 0.2, 0.3]), invert=True)
    assert inverted(np.zeros((2, 3), dtype="float32")).shape == (2, 3) and inverted.count_params() == 0


@pytest.mark.parametrize("kind", ["np", "tensor", "batches"])
def test_adapt_matches_numpy(kind):  # Keras: test_normalization_adapt
    rng = np.random.default_rng(0)
    x = rng.normal(3.0, 2.0, (32, 4))
    data = {"np": x, "tensor": torch.as_tensor(x), "batches": [x[i:i + 8] for i in range(0, 32, 8)]}[kind]
    layer = Normalization()
    layer.adapt(data)
    assert layer.built
    np.testing.assert_allclose(layer.adapt_mean.numpy(), x.mean(0), rtol=1e-6)
    np.testing.assert_allclose(layer.adapt_variance.numpy(), x.var(0), rtol=1e-5)
    assert float(layer.count.numpy()) == 32
    out = layer(x).numpy()
    np.testing.assert_allclose(out, (x - x.mean(0)) / x.std(0), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(out.var(0), 1.0, atol=1e-5)
    # high rank with a tuple axis: statistics per (1, 2) index, averaged over axes 0 and 3
    x = rng.random((32, 4, 3, 5))
    data = {"np": x, "tensor": torch.as_tensor(x), "batches": iter([x[:20], x[20:]])}[kind]
    layer = Normalization(axis=(1, 2))
    layer.adapt(data)
    np.testing.assert_allclose(layer.adapt_mean.numpy(), x.mean((0, 3)), rtol=1e-5)
    out = layer(x).numpy()
    np.testing.assert_allclose(out.var(axis=(0, 3)), 1.0, atol=1e-5)
    np.testing.assert_allclose(out.mean(axis=(0, 3)), 0.0, atol=1e-5)
    assert layer.count_params() == 2 * 12 + 1


def test_keras_docstring_examples():
    layer = Normalization(axis=None)
    layer.adapt(np.array([1.0, 2.0, 3.0, 4.0, 5.0], dtype="float32")[:, None])
    np.testing.assert_allclose(layer(np.array([[1.0], [2.0], [3.0]])).numpy().ravel(),
                               [-1.4142135, -0.70710677, 0.0], rtol=1e-6)
    assert layer.count_params() == 3
    adapt = np.array([[0.0, 7.0, 4.0], [2.0, 9.0, 6.0], [0.0, 7.0, 4.0], [2.0, 9.0, 6.0]], dtype="float32")
    layer = Normalization(axis=-1)
    layer.adapt(adapt)
    np.testing.assert_allclose(layer(np.array([[0.0, 7.0, 4.0]])).numpy(), [[-1.0, -1.0, -1.0]])
    layer = Normalization(mean=3.0, variance=2.0)
    np.testing.assert_allclose(layer(np.array([[1.0], [2.0], [3.0]])).numpy().ravel(),
                               [-1.4142135, -0.70710677, 0.0], rtol=1e-6)
    layer = Normalization(axis=-1, invert=True)
    layer.adapt(adapt)
    np.testing.assert_allclose(layer(np.array([[1.0, 2.0, 3.0]])).numpy(), [[2.0, 10.0, 8.0]])


def test_invert_round_trip_and_epsilon():
    rng = np.random.default_rng(2)
    x = rng.normal(-4.0, 3.0, (50, 3))
    x[:, 2] = 7.0  # a constant feature: variance 0, divided by Keras's epsilon 1e-7
    norm, back = Normalization(), Normalization(invert=True)
    norm.adapt(x)
    back.adapt(x)
    z = norm(x).numpy()
    np.testing.assert_allclose(z[:, 2], 0.0)
    np.testing.assert_allclose(back(z).numpy(), x, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(norm(np.array([[0.0, 0.0, 7.0 + 1e-6]])).numpy()[0, 2], 1e-6 / 1e-7, rtol=0.05)


def test_batched_adapt_equals_whole_array():
    x = np.random.default_rng(3).normal(100.0, 0.5, (1000, 2))
    whole, chunked, steps = Normalization(), Normalization(), Normalization()
    whole.adapt(x)
    chunked.adapt(x, batch_size=64)
    np.testing.assert_allclose(chunked.adapt_mean.numpy(), whole.adapt_mean.numpy(), rtol=1e-7)
    np.testing.assert_allclose(chunked.adapt_variance.numpy(), whole.adapt_variance.numpy(), rtol=1e-5)
    steps.adapt(((b, None) for b in np.array_split(x, 10)), steps=2)  # (x, y) batches: x counts
    np.testing.assert_allclose(steps.adapt_mean.numpy(), x[:200].mean(0), rtol=1e-6)


def test_normalization_errors():  # Keras: mean/variance only, axis range, unknown axis, incompatible adapt
    for kwargs in ({"mean": 0.5}, {"variance": 0.1}):
        with pytest.raises(ValueError, match="both `mean` and `variance` must be set"):
            Normalization(**kwargs)
    with pytest.raises(ValueError, match="All `axis` values must be in the range"):
        Normalization(axis=3).build_for((2,))
    with pytest.raises(ValueError, match="All `axis` values must be in the range"):
        Normalization(axis=-4).build_for((3, 4))
    with pytest.raises(ValueError, match="All `axis` values to be kept"):
        Normalization(axis=1).build_for((None,))
    layer = Normalization(axis=-1)
    layer.build_for((5,))
    with pytest.raises(ValueError, match="an incompatible shape"):
        layer.adapt(np.random.random((10, 3)))


def test_use_before_adapt_is_an_error():
    layer = Normalization(name="norm")
    msg = ("Layer 'norm' (Normalization) has no statistics: call `norm.adapt(x_train)` on the training data "
           "before using it, or pass `mean=` and `variance=`.")
    with pytest.raises(ValueError, match=re.escape(msg)):
        layer(np.zeros((2, 3), dtype="float32"))
    model = Sequential([Input((3,)), Normalization(name="norm_2"), Dense(1)])
    model.compile("adam", "mse")
    with pytest.raises(ValueError, match=re.escape("Layer 'norm_2' (Normalization) has no statistics")):
        model.fit(np.zeros((8, 3)), np.zeros(8), verbose=0)


def test_adapt_rejects_non_finite_values():
    x = np.ones((4, 2))
    x[2, 1] = np.nan
    with pytest.raises(ValueError, match=re.escape("adapt() received NaN or inf")):
        Normalization().adapt(x)


def test_batch_axis_cannot_be_kept():
    with pytest.raises(ValueError, match=re.escape("cannot keep statistics along the batch axis")):
        Normalization().adapt(np.arange(5.0))


def _normalized_model(x, seed=0):
    regulab.set_random_seed(seed)
    norm = Normalization()
    norm.adapt(x)
    model = Sequential([Input((x.shape[1],)), norm, Dense(1)])
    model.compile("sgd", "mse")
    return model


def test_statistics_do_not_train_and_save_load(tmp_path):
    rng = np.random.default_rng(4)
    x = rng.normal(50.0, 10.0, (64, 3)).astype("float32")
    y = (x @ np.array([0.1, -0.2, 0.3], dtype="float32"))
    model = _normalized_model(x)
    stats = [v.numpy() for v in model.layers[0].weights]
    model.fit(x, y, epochs=2, batch_size=16, verbose=0, seed=0)
    for before, v in zip(stats, model.layers[0].weights):
        np.testing.assert_array_equal(before, v.numpy())
    assert model.count_params() == 7 + 4
    path = tmp_path / "normalized.regulab"
    model.save(path)
    loaded = load_model(path)
    np.testing.assert_array_equal(loaded.layers[0].adapt_mean.numpy(), x.mean(0, dtype=np.float64).astype("float32"))
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_given_statistics_config_round_trip(tmp_path):
    layer = Normalization(axis=-1, mean=[1.0, 2.0], variance=[4.0, 9.0], invert=True)
    again = Normalization.from_config(layer.get_config())
    assert again.get_config() == layer.get_config()
    x = np.array([[1.0, 1.0]], dtype="float32")
    np.testing.assert_allclose(again(x).numpy(), [[3.0, 5.0]])
    model = Sequential([Input((2,)), Normalization(mean=[1.0, 2.0], variance=[4.0, 9.0]), Dense(1)])
    model.save(tmp_path / "given.regulab")
    np.testing.assert_array_equal(load_model(tmp_path / "given.regulab").predict(x, verbose=0),
                                  model.predict(x, verbose=0))


def test_stacked_fits_with_normalization():
    x = np.random.default_rng(5).normal(5.0, 3.0, (64, 3)).astype("float32")
    y = x.sum(1)
    separate = [_normalized_model(x, seed=s) for s in (0, 1)]
    for m, s in zip(separate, (7, 8)):
        m.fit(x, y, epochs=1, batch_size=16, verbose=0, seed=s)
    stacked = [_normalized_model(x, seed=s) for s in (0, 1)]
    fit_variants(stacked, x, y, seeds=[7, 8], epochs=1, batch_size=16)
    for a, b in zip(separate, stacked):
        for wa, wb in zip(a.get_weights(), b.get_weights()):
            np.testing.assert_allclose(wa, wb, rtol=1e-5, atol=1e-6)
