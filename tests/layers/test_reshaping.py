import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import regulab
from regulab.lab import fit_variants
from regulab.layers import (Cropping1D, Cropping2D, Dense, Flatten, Input, RepeatVector, UpSampling1D, UpSampling2D,
                            ZeroPadding1D, ZeroPadding2D)
from regulab.models import Model, Sequential, load_model

RESHAPING = [UpSampling1D, UpSampling2D, ZeroPadding1D, ZeroPadding2D, Cropping1D, Cropping2D]


def _rand(*shape, seed=0):
    return np.random.default_rng(seed).random(shape).astype("float32")


def np_resize_bilinear(x, out_h, out_w):
    """TensorFlow's bilinear resize with half-pixel centres, pixel by pixel."""
    n, h, w, c = x.shape
    out = np.empty((n, out_h, out_w, c), dtype=np.float64)

    def source(i, size_in, size_out):
        pos = (i + 0.5) * size_in / size_out - 0.5
        lo = int(np.floor(pos))
        frac = pos - lo
        return max(lo, 0), min(lo + 1, size_in - 1), frac

    for i in range(out_h):
        top, bottom, fy = source(i, h, out_h)
        for j in range(out_w):
            left, right, fx = source(j, w, out_w)
            upper = x[:, top, left] * (1 - fx) + x[:, top, right] * fx
            lower = x[:, bottom, left] * (1 - fx) + x[:, bottom, right] * fx
            out[:, i, j] = upper * (1 - fy) + lower * fy
    return out


# -- UpSampling1D (Keras's up_sampling1d_test) ----------------------------------------------------

def test_keras_upsampling_1d():
    layer = UpSampling1D(size=2)
    out = layer(_rand(3, 5, 4))
    assert tuple(out.shape) == (3, 10, 4) and out.dtype == torch.float32
    assert layer.count_params() == 0 and not layer.supports_masking


def test_keras_upsampling_1d_correctness():
    out = UpSampling1D(size=2)(np.arange(12).reshape((2, 2, 3)))
    np.testing.assert_allclose(out.numpy(), np.array(
        [[[0.0, 1.0, 2.0], [0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [3.0, 4.0, 5.0]],
         [[6.0, 7.0, 8.0], [6.0, 7.0, 8.0], [9.0, 10.0, 11.0], [9.0, 10.0, 11.0]]]))
    np.testing.assert_allclose(UpSampling1D(size=3)(np.ones((2, 1, 5))).numpy(), np.ones((2, 3, 5)))


def test_keras_upsampling_1d_with_dynamic_shapes():
    assert UpSampling1D(size=2)(Input((2, 3))).shape == (None, 4, 3)
    assert UpSampling1D(size=4)(Input((2, 3))).shape == (None, 8, 3)
    assert UpSampling1D(size=2)(Input((None, 3))).shape == (None, None, 3)
    assert UpSampling1D(size=4).compute_output_shape((3, None)) == (12, None)


@pytest.mark.parametrize("size", [0, -2, 2.5, "2", True])
def test_keras_upsampling_1d_with_invalid_size(size):
    with pytest.raises(ValueError, match=re.escape(
            f"Invalid value for argument `size` of UpSampling1D: expected an integer in [1, inf). "
            f"Received: size={size!r}")):
        UpSampling1D(size=size)


# -- UpSampling2D (Keras's up_sampling2d_test) ----------------------------------------------------

@pytest.mark.parametrize("size", [(2, 2), (2, 3)])
def test_keras_upsampling_2d(size):
    inputs = _rand(2, 11, 12, 2)
    layer = UpSampling2D(size=size, data_format="channels_last")
    out = layer(inputs)
    assert tuple(out.shape) == (2, 11 * size[0], 12 * size[1], 2)
    expected = np.repeat(np.repeat(inputs, size[0], axis=1), size[1], axis=2)
    np.testing.assert_allclose(out.numpy(), expected)
    assert out.is_contiguous()


def test_keras_upsampling_2d_correctness():
    x = np.arange(12).reshape((2, 2, 1, 3))
    expected = np.array([[[[0., 1., 2.], [0., 1., 2.]], [[3., 4., 5.], [3., 4., 5.]]],
                         [[[6., 7., 8.], [6., 7., 8.]], [[9., 10., 11.], [9., 10., 11.]]]])
    np.testing.assert_allclose(UpSampling2D(size=(1, 2))(x).numpy(), expected)
    for interpolation in ["nearest", "bilinear", "BILINEAR"]:
        assert UpSampling2D(size=(1, 2), interpolation=interpolation)(x).shape == (2, 2, 2, 3)


@pytest.mark.parametrize("size", [(2, 2), (2, 3), (3, 1)])
def test_bilinear_matches_tensorflow_half_pixel_rule_and_torch(size):
    inputs = _rand(2, 5, 4, 3, seed=1)
    out = UpSampling2D(size=size, interpolation="bilinear")(inputs)
    assert tuple(out.shape) == (2, 5 * size[0], 4 * size[1], 3)
    np.testing.assert_allclose(out.numpy(), np_resize_bilinear(inputs, 5 * size[0], 4 * size[1]), rtol=1e-5,
                               atol=1e-6)
    cf = torch.as_tensor(inputs).permute(0, 3, 1, 2).contiguous()
    ref = F.interpolate(cf, scale_factor=size, mode="bilinear", align_corners=False).permute(0, 2, 3, 1)
    torch.testing.assert_close(out, ref)


def test_upsampling_2d_shapes_and_bad_arguments():
    assert UpSampling2D(3).compute_output_shape((None, 4, 2)) == (None, 12, 2)
    assert UpSampling2D().get_config()["size"] == [2, 2]
    with pytest.raises(ValueError, match=re.escape(
            "Invalid value for argument `interpolation` of UpSampling2D: expected one of 'nearest', 'bilinear'. "
            "Received: interpolation='bicubic'.")):
        UpSampling2D(interpolation="bicubic")
    with pytest.raises(ValueError, match=re.escape(
            "Invalid value for argument `size` of UpSampling2D: expected a positive integer or a tuple of 2 "
            "positive integers. Received: size=(2, 0)")):
        UpSampling2D((2, 0))


# -- ZeroPadding (Keras's zero_padding1d_test, zero_padding2d_test) ------------------------------

def test_keras_zero_padding_1d():
    inputs = _rand(1, 2, 3)
    out = ZeroPadding1D(padding=(1, 2), data_format="channels_last")(inputs).numpy()
    for index in [0, -1, -2]:
        np.testing.assert_allclose(out[:, index, :], 0.0)
    np.testing.assert_allclose(out[:, 1:-2, :], inputs)
    np.testing.assert_allclose(out, np.pad(inputs, ((0, 0), (1, 2), (0, 0))))


@pytest.mark.parametrize("padding", [(2, 2), 2])
def test_keras_zero_padding_1d_with_same_padding(padding):
    inputs = _rand(1, 2, 3)
    out = ZeroPadding1D(padding=padding)(inputs).numpy()
    for index in [0, 1, -1, -2]:
        np.testing.assert_allclose(out[:, index, :], 0.0)
    np.testing.assert_allclose(out[:, 2:-2, :], inputs)


def test_keras_zero_padding_1d_with_dynamic_spatial_dim():
    assert ZeroPadding1D((1, 2))(Input((None, 3))).shape == (None, None, 3)
    assert ZeroPadding1D((1, 2))(Input((2, 3))).shape == (None, 5, 3)


@pytest.mark.parametrize("padding", [(1,), (1, 2, 3), "1", -1, (1, -1), True])
def test_keras_zero_padding_1d_errors_if_padding_argument_invalid(padding):
    with pytest.raises(ValueError, match=re.escape(
            "Invalid value for argument `padding` of ZeroPadding1D: expected a non-negative integer or a tuple "
            f"of 2 non-negative integers. Received: padding={padding!r}")):
        ZeroPadding1D(padding)


def test_keras_zero_padding_1d_get_config():
    layer = ZeroPadding1D(padding=(1, 2), data_format="channels_last", name="zp")
    assert layer.get_config() == {"name": "zp", "padding": [1, 2], "data_format": "channels_last"}


def test_keras_zero_padding_2d():
    inputs = _rand(1, 2, 3, 4)
    out = ZeroPadding2D(padding=((1, 2), (3, 4)), data_format="channels_last")(inputs).numpy()
    for index in [0, -1, -2]:
        np.testing.assert_allclose(out[:, index, :, :], 0.0)
    for index in [0, 1, 2, -1, -2, -3, -4]:
        np.testing.assert_allclose(out[:, :, index, :], 0.0)
    np.testing.assert_allclose(out[:, 1:-2, 3:-4, :], inputs)
    np.testing.assert_allclose(out, np.pad(inputs, ((0, 0), (1, 2), (3, 4), (0, 0))))


@pytest.mark.parametrize("padding", [((2, 2), (2, 2)), (2, 2), 2])
def test_keras_zero_padding_2d_with_same_padding(padding):
    inputs = _rand(1, 2, 3, 4)
    out = ZeroPadding2D(padding=padding)(inputs).numpy()
    for index in [0, 1, -1, -2]:
        np.testing.assert_allclose(out[:, index, :, :], 0.0)
        np.testing.assert_allclose(out[:, :, index, :], 0.0)
    np.testing.assert_allclose(out[:, 2:-2, 2:-2, :], inputs)


def test_keras_zero_padding_2d_with_dynamic_spatial_dim():
    assert ZeroPadding2D(((1, 2), (3, 4)))(Input((2, None, 4))).shape == (None, 5, None, 4)
    assert ZeroPadding2D((1, (0, 2))).compute_output_shape((2, 3, 1)) == (4, 5, 1)


@pytest.mark.parametrize("padding", [(1,), (1, 2, 3), "1", ((1, 2), (3, 4, 5)), ((1, 2), (3, -4)), ((1, 2), "3")])
def test_keras_zero_padding_2d_errors_if_padding_argument_invalid(padding):
    with pytest.raises(ValueError, match=re.escape(
            "Invalid value for argument `padding` of ZeroPadding2D: expected a non-negative integer, a tuple of 2 "
            "non-negative integers (symmetric height, width) or a tuple of 2 tuples of 2 non-negative integers "
            f"((top, bottom), (left, right)). Received: padding={padding!r}")):
        ZeroPadding2D(padding)


def test_keras_zero_padding_2d_get_config():
    layer = ZeroPadding2D(padding=(1, 2), data_format="channels_last", name="zp")
    assert layer.get_config() == {"name": "zp", "padding": [[1, 1], [2, 2]], "data_format": "channels_last"}


# -- Cropping (Keras's cropping1d_test, cropping2d_test) -----------------------------------------

@pytest.mark.parametrize("cropping,window", [((1, 2), slice(1, 3)), ((1, 1), slice(1, 4)), (1, slice(1, 4)),
                                             ((0, 1), slice(0, 4)), ((1, 0), slice(1, 5))])
def test_keras_cropping_1d(cropping, window):
    inputs = _rand(3, 5, 7)
    layer = Cropping1D(cropping=cropping)
    np.testing.assert_array_equal(layer(inputs).numpy(), inputs[:, window, :])
    assert layer.compute_output_shape((5, 7)) == (window.stop - window.start, 7)


def test_keras_cropping_1d_with_dynamic_spatial_dim():
    assert Cropping1D((1, 2))(Input((None, 7))).shape == (None, None, 7)


@pytest.mark.parametrize("cropping", [(1,), (1, 2, 3), "1", (1, -2)])
def test_keras_cropping_1d_errors_if_cropping_argument_invalid(cropping):
    with pytest.raises(ValueError, match=re.escape(
            "Invalid value for argument `cropping` of Cropping1D: expected a non-negative integer or a tuple of 2 "
            f"non-negative integers. Received: cropping={cropping!r}")):
        Cropping1D(cropping=cropping)


@pytest.mark.parametrize("cropping", [(2, 3), (3, 3)])
def test_keras_cropping_1d_errors_if_cropping_more_than_available(cropping):
    msg = (f"Layer 'crop': cropping {cropping} removes all of the 5 steps of the input; expected a total cropping "
           "of the steps smaller than 5, received input shape (None, 5, 7).")
    with pytest.raises(ValueError, match=re.escape(msg)):
        Cropping1D(cropping=cropping, name="crop")(Input((5, 7)))
    with pytest.raises(ValueError, match=re.escape(msg)):
        Cropping1D(cropping=cropping, name="crop")(_rand(3, 5, 7))


CROPS_2D = [
    (((1, 2), (3, 4)), ((1, 5), (3, 5))), (((2, 2), (2, 2)), ((2, 5), (2, 7))), ((2, 2), ((2, 5), (2, 7))),
    (2, ((2, 5), (2, 7))), (((0, 2), (0, 4)), ((0, 5), (0, 5))), (((1, 0), (3, 0)), ((1, 7), (3, 9))),
    (((1, 0), (3, 4)), ((1, 7), (3, 5))), (((1, 2), (3, 0)), ((1, 5), (3, 9))),
]


@pytest.mark.parametrize("cropping,ranges", CROPS_2D)
def test_keras_cropping_2d(cropping, ranges):
    inputs = _rand(3, 7, 9, 5)
    (r0, r1), (c0, c1) = ranges
    layer = Cropping2D(cropping=cropping, data_format="channels_last")
    np.testing.assert_array_equal(layer(inputs).numpy(), inputs[:, r0:r1, c0:c1, :])
    assert layer.compute_output_shape((7, 9, 5)) == (r1 - r0, c1 - c0, 5)


def test_keras_cropping_2d_with_dynamic_spatial_dim():
    assert Cropping2D(((1, 2), (3, 4)))(Input((7, None, 5))).shape == (None, 4, None, 5)


@pytest.mark.parametrize("cropping,axis,size", [(((3, 6), (0, 0)), "rows", 7), (((0, 0), (5, 4)), "columns", 9)])
def test_keras_cropping_2d_errors_if_cropping_more_than_available(cropping, axis, size):
    with pytest.raises(ValueError, match=re.escape(
            f"Layer 'crop': cropping {cropping} removes all of the {size} {axis} of the input; expected a total "
            f"cropping of the {axis} smaller than {size}, received input shape (None, 7, 9, 5).")):
        Cropping2D(cropping=cropping, name="crop")(Input((7, 9, 5)))


@pytest.mark.parametrize("cropping", [((4, 5), (0, 0)), ((0, 0), (5, 5)), ((6, 3), (0, 0)), ((0, 0), (7, 3))])
def test_keras_cropping_2d_error_on_excessive_cropping(cropping):
    with pytest.raises(ValueError, match=re.escape(f"Layer 'crop': cropping {cropping} removes all of the")):
        Cropping2D(cropping=cropping, name="crop")(_rand(3, 8, 9, 5))


@pytest.mark.parametrize("cropping", [(1,), (1, 2, 3), "1", ((1, 2), (3, 4, 5)), ((1, 2), (3, -4)), ((1, 2), "3")])
def test_keras_cropping_2d_errors_if_cropping_argument_invalid(cropping):
    with pytest.raises(ValueError, match=re.escape(
            "Invalid value for argument `cropping` of Cropping2D: expected a non-negative integer, a tuple of 2 "
            "non-negative integers (symmetric height, width) or a tuple of 2 tuples of 2 non-negative integers "
            f"((top, bottom), (left, right)). Received: cropping={cropping!r}")):
        Cropping2D(cropping=cropping)


def test_cropping_everything_of_a_size_known_only_at_call():
    model = Sequential([Input((None, 4, 1)), Cropping2D(((2, 1), (0, 0)), name="crop"), Flatten()])
    assert model.predict(np.zeros((2, 5, 4, 1), "float32"), verbose=0).shape == (2, 8)
    with pytest.raises(ValueError, match=re.escape(
            "Layer 'crop': cropping ((2, 1), (0, 0)) removes all of the 3 rows of the input; expected a total "
            "cropping of the rows smaller than 3, received input shape (None, 3, 4, 1).")):
        model.predict(np.zeros((2, 3, 4, 1), "float32"), verbose=0)


# -- RepeatVector (Keras's repeat_vector_test) ---------------------------------------------------

def test_keras_repeat_vector():
    inputs = _rand(2, 5)
    layer = RepeatVector(n=3)
    np.testing.assert_array_equal(layer(inputs).numpy(), np.repeat(np.reshape(inputs, (2, 1, 5)), 3, axis=1))
    assert layer.count_params() == 0 and not layer.supports_masking


def test_keras_repeat_vector_with_dynamic_dimensions():
    assert RepeatVector(n=3)(Input((5,))).shape == (None, 3, 5)
    assert RepeatVector(n=3).compute_output_shape((None,)) == (3, None)


@pytest.mark.parametrize("n", ["3", 3.5, [3], 0, -3, True])
def test_keras_repeat_vector_with_invalid_n(n):
    with pytest.raises(ValueError, match=re.escape(
            f"Invalid value for argument `n` of RepeatVector: expected an integer in [1, inf). Received: n={n!r}")):
        RepeatVector(n=n)


def test_repeat_vector_gradient_sums_over_the_copies():
    layer = RepeatVector(4)
    x = torch.randn(2, 3, requires_grad=True)
    layer(x).sum().backward()
    torch.testing.assert_close(x.grad, torch.full((2, 3), 4.0))


# -- shared: ranks, masks, configuration, saving --------------------------------------------------

@pytest.mark.parametrize("layer,shape,msg", [
    (lambda: UpSampling2D(name="r"), (2, 5, 4), "Input 0 of layer 'r' is incompatible with the layer: expected "
     "ndim=4 (batch, height, width, channels), found ndim=3. Full shape received: (None, 5, 4)"),
    (lambda: UpSampling1D(name="r"), (2, 5, 4, 1), "Input 0 of layer 'r' is incompatible with the layer: expected "
     "ndim=3 (batch, steps, channels), found ndim=4. Full shape received: (None, 5, 4, 1)"),
    (lambda: Cropping1D(name="r"), (2, 5), "Input 0 of layer 'r' is incompatible with the layer: expected "
     "ndim=3 (batch, steps, channels), found ndim=2. Full shape received: (None, 5)"),
    (lambda: ZeroPadding2D(name="r"), (2, 5, 4), "Input 0 of layer 'r' is incompatible with the layer: expected "
     "ndim=4 (batch, height, width, channels), found ndim=3. Full shape received: (None, 5, 4)"),
    (lambda: RepeatVector(2, name="r"), (2, 5, 4), "Input 0 of layer 'r' is incompatible with the layer: expected "
     "ndim=2 (batch, features), found ndim=3. Full shape received: (None, 5, 4)"),
])
def test_wrong_input_rank(layer, shape, msg):
    with pytest.raises(ValueError, match=re.escape(msg)):
        layer()(np.zeros(shape, "float32"))
    with pytest.raises(ValueError, match=re.escape(msg)):
        layer()(Input(shape[1:]))


@pytest.mark.parametrize("cls", [UpSampling2D, ZeroPadding1D, ZeroPadding2D, Cropping2D])
def test_channels_first_is_refused(cls):
    with pytest.raises(ValueError, match=re.escape(
            f"Invalid value for argument `data_format` of {cls.__name__}: expected 'channels_last' or None")):
        cls(data_format="channels_first")


def test_layers_take_inputs_of_other_sizes_once_built():
    layer = ZeroPadding2D(1)
    assert layer(np.zeros((1, 2, 2, 1), "float32")).shape == (1, 4, 4, 1)
    assert layer(np.zeros((1, 3, 5, 2), "float32")).shape == (1, 5, 7, 2)


def test_configs_round_trip_through_from_config():
    for layer in (UpSampling1D(3), UpSampling2D((1, 2), interpolation="bilinear"), ZeroPadding1D(2),
                  ZeroPadding2D(((1, 0), (2, 3))), Cropping1D((0, 2)), Cropping2D(1), RepeatVector(4)):
        cfg = layer.get_config()
        assert type(layer).from_config(cfg).get_config() == cfg
    assert UpSampling2D(name="u").get_config() == {"name": "u", "size": [2, 2], "data_format": "channels_last",
                                                   "interpolation": "nearest"}
    assert Cropping2D(name="c").get_config() == {"name": "c", "cropping": [[0, 0], [0, 0]],
                                                 "data_format": "channels_last"}
    assert Cropping1D(name="c").get_config() == {"name": "c", "cropping": [1, 1]}
    assert UpSampling1D(name="u").get_config() == {"name": "u", "size": 2}
    assert RepeatVector(3, name="r").get_config() == {"name": "r", "n": 3}


def _image_net(seed=0):
    regulab.set_random_seed(seed)
    model = Sequential([Input((4, 4, 1)), Dense(3, activation="relu"), UpSampling2D(interpolation="bilinear"),
                        ZeroPadding2D(((1, 0), (0, 1))), Cropping2D(((0, 2), (1, 1))), UpSampling2D((1, 2)),
                        Flatten(), Dense(1, activation="sigmoid")])
    model.compile(optimizer=regulab.optimizers.Adam(0.02), loss="binary_crossentropy", jit_compile=False)
    return model


def _images(n=128):
    x = _rand(n, 4, 4, 1, seed=5)
    return x, (x[:, :2].mean((1, 2, 3)) > x[:, 2:].mean((1, 2, 3))).astype("float32")


def test_saved_models_round_trip(tmp_path):
    regulab.set_random_seed(0)
    inp = Input((6,))
    seq = Cropping1D((1, 0))(ZeroPadding1D((2, 1))(UpSampling1D(2)(RepeatVector(3)(Dense(2)(inp)))))
    sequence = Model(inp, Dense(1)(Flatten()(seq)))
    image = _image_net()
    for model, x in ((sequence, _rand(4, 6)), (image, _images(4)[0])):
        path = tmp_path / f"{model.name}.regulab"
        model.save(path)
        back = load_model(path)
        np.testing.assert_allclose(np.asarray(back.predict(x, verbose=0)), np.asarray(model.predict(x, verbose=0)),
                                   rtol=1e-6)
        assert [layer.get_config() for layer in back.layers] == [layer.get_config() for layer in model.layers]


def test_fit_trains_through_the_2d_layers():
    x, y = _images()
    model = _image_net()
    first = model.layers[0].get_weights()[0].copy()
    history = model.fit(x, y, epochs=8, batch_size=32, verbose=0, seed=0).history
    assert history["loss"][-1] < 0.85 * history["loss"][0]
    assert not np.allclose(model.layers[0].get_weights()[0], first)  # gradients reached the first layer


def test_fit_trains_through_the_1d_layers():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((256, 4)).astype("float32")
    y = (x[:, 0] > x[:, 1]).astype("float32")
    regulab.set_random_seed(0)
    model = Sequential([Input((4,)), Dense(3, activation="relu"), RepeatVector(2), UpSampling1D(2),
                        ZeroPadding1D((1, 2)), Cropping1D((2, 1)), Dense(2), Flatten(),
                        Dense(1, activation="sigmoid")])
    assert model.output_shape == (1,) and model.layers[4].output_shape == (4, 3)
    model.compile(optimizer=regulab.optimizers.Adam(0.02), loss="binary_crossentropy", jit_compile=False)
    first = model.layers[0].get_weights()[0].copy()
    history = model.fit(x, y, epochs=6, batch_size=32, verbose=0, seed=0).history
    assert history["loss"][-1] < 0.8 * history["loss"][0]
    assert not np.allclose(model.layers[0].get_weights()[0], first)


def test_stacked_fit_equals_separate_fits():
    x, y = _images(96)
    separate = [_image_net(0), _image_net(1)]
    for model, seed in zip(separate, (3, 4)):
        model.fit(x, y, epochs=2, batch_size=32, verbose=0, seed=seed)
    stacked = [_image_net(0), _image_net(1)]
    fit_variants(stacked, x, y, seeds=[3, 4], epochs=2, batch_size=32)
    for a, b in zip(separate, stacked):
        for wa, wb in zip(a.get_weights(), b.get_weights()):
            np.testing.assert_allclose(wa, wb, rtol=1e-4, atol=2e-5)
