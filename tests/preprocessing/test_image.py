"""ImageDataGenerator: Keras's methods and flow contract, checked against SciPy and NumPy."""
import warnings

import numpy as np
import pytest
import scipy.ndimage as ndi
import torch

from regulab.preprocessing.image import ImageDataGenerator

SEED_EXAMPLE = dict(rotation_range=20, width_shift_range=0.2, height_shift_range=0.2,
                    shear_range=0.2, zoom_range=0.2, horizontal_flip=True, fill_mode="nearest")


def reference_matrix(p, h, w):
    """Keras's rotate . shift . shear . zoom in (x, y), about the image centre, then the
    horizontal flip; returned in SciPy's (row, col) form as (matrix, offset)."""
    t, s = np.deg2rad(p["theta"]), np.deg2rad(p["shear"])
    m = (np.array([[np.cos(t), -np.sin(t), 0], [np.sin(t), np.cos(t), 0], [0, 0, 1]])
         @ np.array([[1, 0, p["tx"]], [0, 1, p["ty"]], [0, 0, 1]])
         @ np.array([[1, -np.sin(s), 0], [0, np.cos(s), 0], [0, 0, 1]])
         @ np.diag([p["zx"], p["zy"], 1.0]))
    cx, cy = (w - 1) / 2, (h - 1) / 2
    m = np.array([[1, 0, cx], [0, 1, cy], [0, 0, 1]]) @ m @ np.array(
        [[1, 0, -cx], [0, 1, -cy], [0, 0, 1]])
    if p["flip_horizontal"]:
        m = m @ np.array([[-1, 0, w - 1], [0, 1, 0], [0, 0, 1]])
    rc = m[[1, 0]][:, [1, 0, 2]]
    return rc[:, :2], rc[:, 2]


SCIPY_MODE = {"nearest": "nearest", "constant": "constant", "reflect": "reflect",
              "wrap": "grid-wrap"}  # Keras documents wrap as abcd|abcd: SciPy's grid-wrap


@pytest.mark.parametrize("fill_mode", ["nearest", "constant", "reflect", "wrap"])
@pytest.mark.parametrize("order", [0, 1])
def test_apply_transform_matches_scipy_with_the_same_matrix(fill_mode, order):
    rng = np.random.default_rng(0)
    x = rng.random((7, 10, 3))
    gen = ImageDataGenerator(fill_mode=fill_mode, cval=0.25, interpolation_order=order,
                             dtype="float64")
    p = dict(theta=25.0, tx=1.7, ty=-2.3, shear=12.0, zx=0.85, zy=1.1, flip_horizontal=True,
             flip_vertical=False, channel_shift_intensity=None, brightness=None)
    matrix, offset = reference_matrix(p, 7, 10)
    expected = np.stack([ndi.affine_transform(x[..., c], matrix, offset, order=order,
                                              mode=SCIPY_MODE[fill_mode], cval=0.25)
                         for c in range(3)], axis=-1)
    got = gen.apply_transform(x, p)
    assert isinstance(got, np.ndarray)
    np.testing.assert_allclose(got, expected, atol=1e-9)


def test_get_random_transform_gives_keras_keys_and_python_values():
    gen = ImageDataGenerator(**SEED_EXAMPLE, channel_shift_range=5.0)
    p = gen.get_random_transform((32, 32, 3), seed=1)
    assert list(p) == ["theta", "tx", "ty", "shear", "zx", "zy", "flip_horizontal",
                       "flip_vertical", "channel_shift_intensity", "brightness"]
    assert isinstance(p["theta"], float) and isinstance(p["flip_horizontal"], bool)
    assert p["brightness"] is None and p["flip_vertical"] is False
    assert -20 <= p["theta"] <= 20 and -6.4 <= p["tx"] <= 6.4 and 0.8 <= p["zx"] <= 1.2
    assert p == gen.get_random_transform((32, 32, 3), seed=1)
    assert p != gen.get_random_transform((32, 32, 3), seed=2)


def test_random_transform_repeats_with_a_seed_and_varies_per_sample():
    gen = ImageDataGenerator(**SEED_EXAMPLE)
    img = np.random.default_rng(0).random((16, 16, 3)).astype("float32")
    a, b = gen.random_transform(img, seed=4), gen.random_transform(img, seed=4)
    assert isinstance(a, np.ndarray) and a.shape == img.shape
    np.testing.assert_array_equal(a, b)
    batch = gen.random_transform(np.stack([img] * 3), seed=4)
    assert not np.allclose(batch[0], batch[1])


def _flow_data(n=10):
    x = np.arange(n, dtype="float32").reshape(n, 1, 1, 1) * np.ones((1, 4, 4, 1), "float32")
    return x, np.arange(n)


def test_flow_contract():
    x, y = _flow_data(10)
    it = ImageDataGenerator().flow(x, y, batch_size=4, seed=0)
    assert len(it) == 3
    assert iter(it) is it
    seen = []
    for _ in range(6):  # two epochs
        xb, yb = next(it)
        assert xb.dtype == torch.float32 and yb.dtype == torch.int64
        assert xb.device == it.device == torch.device("cpu")
        np.testing.assert_array_equal(xb[:, 0, 0, 0].numpy(), yb.numpy())  # rows stay paired
        seen.append(yb.tolist())
    assert [len(b) for b in seen] == [4, 4, 2, 4, 4, 2]
    first, second = sum(seen[:3], []), sum(seen[3:], [])
    assert sorted(first) == sorted(second) == list(range(10))
    assert first != second  # reshuffled every epoch


def test_flow_items_with_weights_without_labels_and_float_labels():
    x, y = _flow_data(6)
    gen = ImageDataGenerator()
    xb, yb, wb = next(gen.flow(x, y.astype("float64"), batch_size=6, shuffle=False,
                               sample_weight=np.arange(6) / 2))
    assert yb.dtype == torch.float32 and wb.dtype == torch.float32
    np.testing.assert_array_equal(wb.numpy(), np.arange(6) / 2)
    only_x = next(gen.flow(x, batch_size=2, shuffle=False))
    assert isinstance(only_x, torch.Tensor) and only_x.shape == (2, 4, 4, 1)


def test_flow_seed_repeats_the_batches_and_the_device_can_be_set():
    x = np.random.default_rng(0).random((20, 8, 8, 3)).astype("float32")
    gen = ImageDataGenerator(**SEED_EXAMPLE)
    a, b = gen.flow(x, batch_size=8, seed=5), gen.flow(x, batch_size=8, seed=5)
    b.device = "cpu"
    for _ in range(4):
        torch.testing.assert_close(next(a), next(b), rtol=0, atol=0)
    c = next(gen.flow(x, batch_size=8, seed=6))
    assert not torch.allclose(next(gen.flow(x, batch_size=8, seed=5)), c)


def test_seed_example_runs_on_digits():
    from sklearn.datasets import load_digits

    X_train = load_digits().images[..., None].astype("float32") / 16
    datagen = ImageDataGenerator(**SEED_EXAMPLE)
    datagen.fit(X_train)
    xb = next(datagen.flow(X_train, batch_size=32, seed=0))
    assert xb.shape == (32, 8, 8, 1)
    assert 0 <= float(xb.min()) and float(xb.max()) <= 1  # 'nearest' filling adds no new values


def test_validation_split_subsets_are_complementary_and_stratified():
    x = np.arange(100, dtype="float32").reshape(100, 1, 1, 1) * np.ones((1, 2, 2, 1), "float32")
    y = np.repeat(np.arange(4), 25)  # sorted by class: Keras's first-fraction split breaks here
    gen = ImageDataGenerator(validation_split=0.2)
    val = gen.flow(x, y, batch_size=100, subset="validation", shuffle=False)
    train = gen.flow(x, y, batch_size=100, subset="training", shuffle=False)
    assert (val.n, train.n) == (20, 80)
    xv, yv = next(val)
    xt, yt = next(train)
    ids = np.concatenate([xv[:, 0, 0, 0].numpy(), xt[:, 0, 0, 0].numpy()])
    assert sorted(ids.tolist()) == list(range(100))
    assert np.bincount(yv.numpy()).tolist() == [5, 5, 5, 5]


def test_a_class_that_cannot_be_split_is_an_error_unless_ignored():
    x = np.zeros((11, 2, 2, 1), "float32")
    y = np.array([0] * 10 + [1])
    gen = ImageDataGenerator(validation_split=0.3)
    with pytest.raises(ValueError) as e:
        gen.flow(x, y, subset="training")
    assert str(e.value) == (
        "The training and validation subsets of ImageDataGenerator(validation_split=...) hold "
        "different classes: class(es) [1] have too few samples to appear in both. Pass "
        "flow(..., ignore_class_split=True) to split anyway.")
    assert gen.flow(x, y, subset="training", ignore_class_split=True).n == 8


def test_fit_statistics_equal_numpys_and_standardize_applies_them():
    x = np.random.default_rng(0).normal(100, 20, (40, 5, 5, 3))
    gen = ImageDataGenerator(featurewise_center=True, featurewise_std_normalization=True,
                             rescale=1 / 255, dtype="float64")
    gen.fit(x)
    scaled = x / 255
    mean = scaled.mean(axis=(0, 1, 2)).reshape(1, 1, 3)
    std = scaled.std(axis=(0, 1, 2)).reshape(1, 1, 3)
    np.testing.assert_allclose(gen.mean, mean)
    np.testing.assert_allclose(gen.std, std)
    np.testing.assert_allclose(gen.standardize(x), (scaled - mean) / (std + 1e-6))
    np.testing.assert_allclose(gen.standardize(x[0]), (scaled[0] - mean) / (std + 1e-6))
    xb = next(gen.flow(x, batch_size=40, shuffle=False))
    np.testing.assert_allclose(xb.numpy(), (scaled - mean) / (std + 1e-6))


def test_zca_through_the_generator_matches_numpy():
    x = np.random.default_rng(2).normal(size=(300, 2, 2, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gen = ImageDataGenerator(zca_whitening=True, zca_epsilon=1e-9, dtype="float64")
    gen.fit(x)
    flat = (x - x.mean(axis=(0, 1, 2))).reshape(300, -1)
    u, s, _ = np.linalg.svd(flat.T, full_matrices=False)
    np.testing.assert_allclose(gen.zca_whitening_matrix, (u * (np.sqrt(300) / s)) @ u.T,
                               rtol=1e-6, atol=1e-9)
    white = gen.standardize(x).reshape(300, -1)
    np.testing.assert_allclose(white.T @ white / 300, np.eye(12), atol=1e-6)


def test_featurewise_normalization_without_fit_is_an_error():
    x = np.zeros((4, 3, 3, 1), "float32")
    gen = ImageDataGenerator(featurewise_center=True)
    it = gen.flow(x)
    message = ("This ImageDataGenerator has featurewise_center=True but has not been fitted: "
               "call `datagen.fit(x_train)` on the training images first (and only on them).")
    with pytest.raises(RuntimeError) as e:
        next(it)
    assert str(e.value) == message
    with pytest.raises(RuntimeError):
        gen.standardize(x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        std_only = ImageDataGenerator(featurewise_std_normalization=True)
    with pytest.raises(RuntimeError, match="featurewise_center=True but has not been fitted"):
        std_only.standardize(x)


def test_keras_flag_implications_warn():
    with pytest.warns(UserWarning) as record:
        gen = ImageDataGenerator(zca_whitening=True, featurewise_std_normalization=True)
    assert [str(w.message) for w in record] == [
        "This ImageDataGenerator specifies `zca_whitening`, which overrides setting of "
        "`featurewise_center`.",
        "This ImageDataGenerator specifies `zca_whitening` which overrides setting of "
        "`featurewise_std_normalization`."]
    assert gen.featurewise_center and not gen.featurewise_std_normalization
    with pytest.warns(UserWarning, match="overrides setting of `samplewise_center`"):
        assert ImageDataGenerator(samplewise_std_normalization=True).samplewise_center


def test_channels_first_gives_the_channels_last_result_transposed():
    x = np.random.default_rng(0).random((6, 9, 7, 3)).astype("float32")
    last = next(ImageDataGenerator(**SEED_EXAMPLE).flow(x, batch_size=6, seed=1))
    first = next(ImageDataGenerator(**SEED_EXAMPLE, data_format="channels_first").flow(
        np.moveaxis(x, 3, 1), batch_size=6, seed=1))
    torch.testing.assert_close(first, last.movedim(3, 1))


def test_preprocessing_function_gets_each_augmented_image_before_rescale():
    calls = []

    def fn(img):
        calls.append(img.shape)
        return img + 1

    x = np.zeros((5, 4, 4, 1), "float32")
    xb = next(ImageDataGenerator(preprocessing_function=fn, rescale=0.5).flow(x, batch_size=5))
    assert calls == [(4, 4, 1)] * 5
    np.testing.assert_array_equal(xb.numpy(), 0.5)


def test_float64_output():
    xb = next(ImageDataGenerator(rotation_range=10, dtype="float64").flow(
        np.zeros((2, 4, 4, 1)), batch_size=2))
    assert xb.dtype == torch.float64


def _error(fn):
    with pytest.raises(ValueError) as e:
        fn()
    return str(e.value)


def test_flow_bad_input_messages():
    gen = ImageDataGenerator()
    x = np.zeros((10, 4, 4, 3), "float32")
    assert _error(lambda: gen.flow(x, np.zeros(9))) == (
        "Invalid value for argument `y` of ImageDataGenerator.flow: expected 10 samples, as many "
        "as `x`. Received: y with shape (9,)")
    assert _error(lambda: gen.flow(x, np.zeros(10), sample_weight=np.ones(3))) == (
        "Invalid value for argument `sample_weight` of ImageDataGenerator.flow: expected 10 "
        "samples, as many as `x`. Received: sample_weight with shape (3,)")
    assert _error(lambda: gen.flow(np.zeros((10, 8, 8)))) == (
        "Invalid value for argument `x` of ImageDataGenerator.flow: expected an array of rank 4 "
        "(N, H, W, C). Received: x with shape (10, 8, 8); for one-channel images add the channel "
        "axis: x[..., None]")
    assert _error(lambda: gen.flow(np.zeros((10, 3, 32, 32)))) == (
        "Invalid value for argument `x` of ImageDataGenerator.flow: expected (N, H, W, C) images "
        "with 1, 3 or 4 channels on axis 3. Received: x with shape (10, 3, 32, 32), which looks "
        "like the other layout; pass data_format='channels_first' or transpose the array")
    assert _error(lambda: gen.flow(x, subset="validation")) == (
        "Invalid value for argument `subset` of ImageDataGenerator.flow: a subset needs "
        "ImageDataGenerator(validation_split=...) above 0. Received: subset='validation' with "
        "validation_split=0")
    assert _error(lambda: ImageDataGenerator(validation_split=0.2).flow(x, subset="train")) == (
        "Invalid value for argument `subset` of ImageDataGenerator.flow: expected one of "
        "'training', 'validation'. Received: subset='train'. Did you mean 'training'?")


def test_wrong_channel_count_after_fit():
    gen = ImageDataGenerator(featurewise_center=True)
    gen.fit(np.zeros((4, 3, 3, 3)))
    assert _error(lambda: gen.flow(np.zeros((4, 3, 3, 1)))) == (
        "Invalid value for argument `x` of ImageDataGenerator.flow: expected images with 3 "
        "channels, as the data given to fit(). Received: x with shape (4, 3, 3, 1)")
    assert _error(lambda: gen.fit(np.zeros((4, 3, 3)))) == (
        "Invalid value for argument `x` of ImageDataGenerator.fit: expected an array of rank 4 "
        "(N, H, W, C). Received: x with shape (4, 3, 3); for one-channel images add the channel "
        "axis: x[..., None]")


@pytest.mark.parametrize("kwargs, message", [
    ({"rotation_range": -20}, "Invalid value for argument `rotation_range` of "
                              "ImageDataGenerator: expected a float in [0, inf). "
                              "Received: rotation_range=-20"),
    ({"zoom_range": [-0.5, 1.0]}, "Invalid value for argument `zoom_range` of "
                                  "ImageDataGenerator: expected a float in [0, 1) or a pair "
                                  "[lower, upper] with 0 < lower <= upper. "
                                  "Received: zoom_range=[-0.5, 1.0]"),
    ({"fill_mode": "mirror"}, "Invalid value for argument `fill_mode` of ImageDataGenerator: "
                              "expected one of 'nearest', 'constant', 'reflect', 'wrap'. "
                              "Received: fill_mode='mirror'."),
    ({"interpolation_order": 2}, "Invalid value for argument `interpolation_order` of "
                                 "ImageDataGenerator: expected 0 (nearest) or 1 (bilinear); "
                                 "spline orders 2 to 5 are not supported. "
                                 "Received: interpolation_order=2"),
    ({"validation_split": 1.0}, "Invalid value for argument `validation_split` of "
                                "ImageDataGenerator: expected a float in [0, 1). "
                                "Received: validation_split=1.0"),
    ({"rescale": 0}, "Invalid value for argument `rescale` of ImageDataGenerator: expected None "
                     "or a nonzero float. Received: rescale=0"),
    ({"data_format": "channel_last"}, "Invalid value for argument `data_format` of "
                                      "ImageDataGenerator: expected one of 'channels_last', "
                                      "'channels_first'. Received: data_format='channel_last'. "
                                      "Did you mean 'channels_last'?"),
])
def test_constructor_bad_arguments(kwargs, message):
    assert _error(lambda: ImageDataGenerator(**kwargs)) == message
