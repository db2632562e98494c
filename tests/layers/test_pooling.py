import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from numpy.lib.stride_tricks import as_strided

import regulab
from regulab.lab import fit_variants
from regulab.layers import (AveragePooling1D, AveragePooling2D, Cropping2D, Dense, Embedding, Flatten,
                            GlobalAveragePooling1D, GlobalAveragePooling2D, GlobalMaxPooling1D, GlobalMaxPooling2D,
                            Input, MaxPooling1D, MaxPooling2D, Reshape, UpSampling2D)
from regulab.models import Model, Sequential, load_model

WINDOWED = [MaxPooling1D, MaxPooling2D, AveragePooling1D, AveragePooling2D]
GLOBAL = [GlobalMaxPooling1D, GlobalAveragePooling1D, GlobalMaxPooling2D, GlobalAveragePooling2D]


# -- NumPy references --------------------------------------------------------------------------------

def _keras_same_padding(input_size, pool_size, stride):
    # Keras's test reference: all of the padding at the end (equal to TensorFlow's split for the
    # pool sizes of 2 its cases use)
    if input_size % stride == 0:
        return max(pool_size - stride, 0)
    return max(pool_size - (input_size % stride), 0)


def np_pool1d(x, pool_size, strides, padding, mode):
    """Keras's ``np_maxpool1d`` / ``np_avgpool1d`` (max pads with -inf, average with edge values)."""
    pool_size = pool_size[0] if isinstance(pool_size, (tuple, list)) else pool_size
    stride = strides[0] if isinstance(strides, (tuple, list)) else strides
    if padding == "same":
        pad = _keras_same_padding(x.shape[1], pool_size, stride)
        if mode == "max":
            x = np.pad(x, ((0, 0), (0, pad), (0, 0)), mode="constant", constant_values=-np.inf)
        else:
            x = np.pad(x, ((0, 0), (0, pad), (0, 0)), mode="edge")
    n, h, c = x.shape
    out_h = (h - pool_size) // stride + 1
    windows = as_strided(x, shape=(n, out_h, c, pool_size),
                         strides=(x.strides[0], stride * x.strides[1], x.strides[2], x.strides[1]))
    return windows.max(axis=3) if mode == "max" else windows.mean(axis=3)


def np_pool2d(x, pool_size, strides, padding, mode):
    """Keras's ``np_maxpool2d`` / ``np_avgpool2d``."""
    pool_size = (pool_size, pool_size) if isinstance(pool_size, int) else tuple(pool_size)
    strides = (strides, strides) if isinstance(strides, int) else tuple(strides)
    (ph, pw), (sh, sw) = pool_size, strides
    if padding == "same":
        pads = ((0, 0), (0, _keras_same_padding(x.shape[1], ph, sh)), (0, _keras_same_padding(x.shape[2], pw, sw)),
                (0, 0))
        x = (np.pad(x, pads, mode="constant", constant_values=-np.inf) if mode == "max"
             else np.pad(x, pads, mode="edge"))
    n, h, w, c = x.shape
    out_h, out_w = (h - ph) // sh + 1, (w - pw) // sw + 1
    windows = as_strided(x, shape=(n, out_h, out_w, c, ph, pw),
                         strides=(x.strides[0], sh * x.strides[1], sw * x.strides[2], x.strides[3], x.strides[1],
                                  x.strides[2]))
    return windows.max(axis=(4, 5)) if mode == "max" else windows.mean(axis=(4, 5))


def np_pool_loop(x, pool_size, strides, padding, mode):
    """Window by window, with TensorFlow's 'same' rule: output ceil(n / stride), total padding
    split evenly with the odd cell at the end, and only real cells in each window."""
    spatial = x.shape[1:-1]
    sizes, befores = [], []
    for n, k, s in zip(spatial, pool_size, strides):
        if padding == "valid":
            sizes.append((n - k) // s + 1)
            befores.append(0)
        else:
            out = -(-n // s)
            sizes.append(out)
            befores.append(max((out - 1) * s + k - n, 0) // 2)
    out = np.empty((x.shape[0], *sizes, x.shape[-1]), dtype=np.float64)
    axes = tuple(range(1, len(spatial) + 1))
    for idx in np.ndindex(*sizes):
        window = tuple(slice(max(i * s - b, 0), min(i * s - b + k, n))
                       for i, s, b, k, n in zip(idx, strides, befores, pool_size, spatial))
        cells = x[(slice(None), *window, slice(None))]
        out[(slice(None), *idx, slice(None))] = cells.max(axis=axes) if mode == "max" else cells.mean(axis=axes)
    return out


# -- Keras's tests: shapes and correctness (channels_last cases) -----------------------------------

@pytest.mark.parametrize("cls,pool_size,strides,padding,input_shape,output_shape", [
    (MaxPooling1D, 2, 1, "valid", (3, 5, 4), (3, 4, 4)),
    (MaxPooling1D, 2, 1, "same", (3, 5, 4), (3, 5, 4)),
    (MaxPooling1D, (2,), (2,), "valid", (3, 5, 4), (3, 2, 4)),
    (MaxPooling2D, 2, 1, "valid", (3, 5, 5, 4), (3, 4, 4, 4)),
    (MaxPooling2D, 2, 1, "same", (3, 5, 5, 4), (3, 5, 5, 4)),
    (MaxPooling2D, (2, 3), (2, 2), "valid", (3, 5, 5, 4), (3, 2, 2, 4)),
    (AveragePooling1D, 2, 1, "valid", (3, 5, 4), (3, 4, 4)),
    (AveragePooling1D, 2, 1, "same", (3, 5, 4), (3, 5, 4)),
    (AveragePooling1D, (2,), (2,), "valid", (3, 5, 4), (3, 2, 4)),
    (AveragePooling2D, 2, 1, "valid", (3, 5, 5, 4), (3, 4, 4, 4)),
    (AveragePooling2D, 2, 1, "same", (3, 5, 5, 4), (3, 5, 5, 4)),
    (AveragePooling2D, (2, 3), (2, 2), "valid", (3, 5, 5, 4), (3, 2, 2, 4)),
    (AveragePooling2D, (2, 3), (2, 2), "same", (3, 5, 5, 4), (3, 3, 3, 4)),
])
def test_keras_pooling_shapes(cls, pool_size, strides, padding, input_shape, output_shape):
    layer = cls(pool_size=pool_size, strides=strides, padding=padding, data_format="channels_last")
    out = layer(np.random.default_rng(0).random(input_shape, dtype=np.float32))
    assert tuple(out.shape) == output_shape
    assert layer.compute_output_shape(input_shape[1:]) == output_shape[1:]
    assert layer.weights == [] and layer.count_params() == 0
    assert not layer.supports_masking


@pytest.mark.parametrize("cls,mode", [(MaxPooling1D, "max"), (AveragePooling1D, "average")])
@pytest.mark.parametrize("pool_size,strides,padding", [
    (2, 1, "valid"), (2, 1, "same"), ((2,), (2,), "valid"), ((2,), (2,), "same")])
def test_keras_pooling1d_correctness(cls, mode, pool_size, strides, padding):
    inputs = np.arange(24, dtype="float32").reshape((2, 3, 4))
    out = cls(pool_size=pool_size, strides=strides, padding=padding)(inputs)
    np.testing.assert_allclose(out.numpy(), np_pool1d(inputs, pool_size, strides, padding, mode), rtol=1e-6)


@pytest.mark.parametrize("pool_size,strides,padding", [(2, 1, "valid"), ((2, 2), (2, 2), "same"),
                                                       ((2, 3), (3, 3), "same")])
def test_keras_max_pooling2d_correctness(pool_size, strides, padding):
    inputs = np.arange(100, dtype="float32").reshape((1, 5, 5, 4))
    out = MaxPooling2D(pool_size=pool_size, strides=strides, padding=padding)(inputs)
    np.testing.assert_allclose(out.numpy(), np_pool2d(inputs, pool_size, strides, padding, "max"))


@pytest.mark.parametrize("pool_size,strides,padding", [(2, 1, "valid"), ((2, 3), (2, 2), "valid"),
                                                       (2, (2, 1), "same"), ((2, 2), (2, 2), "same")])
def test_keras_average_pooling2d_correctness(pool_size, strides, padding):
    inputs = np.arange(16, dtype="float32").reshape((1, 4, 4, 1))
    out = AveragePooling2D(pool_size=pool_size, strides=strides, padding=padding)(inputs)
    np.testing.assert_allclose(out.numpy(), np_pool2d(inputs, pool_size, strides, padding, "average"), rtol=1e-6)


# -- TensorFlow's 'same' padding, against a window-by-window loop and torch ------------------------

@pytest.mark.parametrize("mode", ["max", "average"])
@pytest.mark.parametrize("shape,pool_size,strides", [
    ((5, 7), (3, 3), (2, 2)), ((4, 6), (3, 2), (1, 2)), ((7, 5), (2, 3), (3, 1)), ((5, 5), (4, 4), (2, 3))])
def test_same_padding_2d_matches_a_loop_with_tensorflow_rule(mode, shape, pool_size, strides):
    x = np.random.default_rng(1).standard_normal((2, *shape, 3)).astype("float32")
    cls = MaxPooling2D if mode == "max" else AveragePooling2D
    for padding in ("same", "valid"):
        out = cls(pool_size, strides=strides, padding=padding)(x)
        np.testing.assert_allclose(out.numpy(), np_pool_loop(x, pool_size, strides, padding, mode),
                                   rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("mode", ["max", "average"])
@pytest.mark.parametrize("steps,pool_size,strides", [(5, 2, 2), (7, 3, 2), (6, 4, 3), (9, 5, 1)])
def test_same_padding_1d_matches_a_loop_with_tensorflow_rule(mode, steps, pool_size, strides):
    x = np.random.default_rng(2).standard_normal((3, steps, 2)).astype("float32")
    cls = MaxPooling1D if mode == "max" else AveragePooling1D
    out = cls(pool_size, strides=strides, padding="same")(x)
    np.testing.assert_allclose(out.numpy(), np_pool_loop(x, (pool_size,), (strides,), "same", mode),
                               rtol=1e-5, atol=1e-6)


def test_same_padding_splits_the_padding_and_averages_real_steps_only():
    x = np.arange(1, 6, dtype="float32").reshape(1, 5, 1)
    # pool 2 stride 2 on 5 steps: one padded step at the end; the last window holds only 5
    assert AveragePooling1D(2, padding="same")(x)[0, :, 0].tolist() == [1.5, 3.5, 5.0]
    assert MaxPooling1D(2, padding="same")(x)[0, :, 0].tolist() == [2.0, 4.0, 5.0]
    # pool 3 stride 2: two padded steps, one at each end (windows [p 1 2], [2 3 4], [4 5 p])
    assert AveragePooling1D(3, strides=2, padding="same")(x)[0, :, 0].tolist() == [1.5, 3.0, 4.5]
    assert MaxPooling1D(3, strides=2, padding="same")(-x)[0, :, 0].tolist() == [-1.0, -2.0, -4.0]


@pytest.mark.parametrize("pool_size,strides", [(3, 1), (5, 2), ((3, 5), (1, 1))])
def test_symmetric_same_padding_matches_torch_excluding_pads(pool_size, strides):
    # odd windows with stride 1, or sizes where TensorFlow pads evenly: torch's own padding
    x = torch.randn(2, 9, 9, 3)
    k = (pool_size, pool_size) if isinstance(pool_size, int) else pool_size
    pad = tuple(kk // 2 for kk in k)
    cf = x.permute(0, 3, 1, 2).contiguous()
    ref_max = F.max_pool2d(cf, k, strides, pad).permute(0, 2, 3, 1)
    ref_avg = F.avg_pool2d(cf, k, strides, pad, count_include_pad=False).permute(0, 2, 3, 1)
    torch.testing.assert_close(MaxPooling2D(pool_size, strides, padding="same")(x), ref_max)
    torch.testing.assert_close(AveragePooling2D(pool_size, strides, padding="same")(x), ref_avg)


@pytest.mark.parametrize("pool_size,strides", [(2, None), (3, 2), ((2, 3), (1, 2))])
def test_valid_pooling_matches_torch_on_channels_first_copies(pool_size, strides):
    x = torch.randn(2, 7, 8, 3)
    k = (pool_size, pool_size) if isinstance(pool_size, int) else pool_size
    s = k if strides is None else (strides, strides) if isinstance(strides, int) else strides
    cf = x.permute(0, 3, 1, 2).contiguous()
    torch.testing.assert_close(MaxPooling2D(pool_size, strides)(x), F.max_pool2d(cf, k, s).permute(0, 2, 3, 1))
    torch.testing.assert_close(AveragePooling2D(pool_size, strides)(x), F.avg_pool2d(cf, k, s).permute(0, 2, 3, 1))
    seq = torch.randn(2, 11, 4)
    k1 = k[0]
    cf1 = seq.permute(0, 2, 1).contiguous()
    torch.testing.assert_close(MaxPooling1D(k1, s[0])(seq), F.max_pool1d(cf1, k1, s[0]).permute(0, 2, 1))
    torch.testing.assert_close(AveragePooling1D(k1, s[0])(seq), F.avg_pool1d(cf1, k1, s[0]).permute(0, 2, 1))


def test_gradients_match_finite_differences():
    for layer in (AveragePooling2D(3, 2, padding="same"), MaxPooling2D(3, 2, padding="same"),
                  AveragePooling1D(3, 2, padding="same")):
        shape = (1, 5, 2) if layer.rank == 1 else (1, 5, 4, 2)
        layer.build_for(shape[1:])
        ctx = layer.live_context()
        x = torch.randn(shape, dtype=torch.float64, requires_grad=True)
        assert torch.autograd.gradcheck(lambda t: layer.call(t, ctx), (x,), fast_mode=True)


def test_2d_output_is_contiguous_channels_last():
    out = MaxPooling2D(3, 2, padding="same")(torch.randn(2, 9, 9, 4))
    assert out.is_contiguous()


# -- global pooling -------------------------------------------------------------------------------

@pytest.mark.parametrize("cls,keepdims,input_shape,output_shape", [
    (GlobalAveragePooling1D, False, (3, 5, 4), (3, 4)), (GlobalAveragePooling1D, True, (3, 5, 4), (3, 1, 4)),
    (GlobalMaxPooling1D, False, (3, 5, 4), (3, 4)), (GlobalMaxPooling1D, True, (3, 5, 4), (3, 1, 4)),
    (GlobalAveragePooling2D, False, (3, 5, 6, 4), (3, 4)), (GlobalAveragePooling2D, True, (3, 5, 6, 4), (3, 1, 1, 4)),
    (GlobalMaxPooling2D, False, (3, 5, 6, 4), (3, 4)), (GlobalMaxPooling2D, True, (3, 5, 6, 4), (3, 1, 1, 4)),
])
def test_keras_global_pooling_shapes(cls, keepdims, input_shape, output_shape):
    layer = cls(data_format="channels_last", keepdims=keepdims)
    assert tuple(layer(np.zeros(input_shape, dtype="float32")).shape) == output_shape
    assert layer.compute_output_shape(input_shape[1:]) == output_shape[1:]
    assert layer.count_params() == 0


@pytest.mark.parametrize("keepdims", [False, True])
def test_keras_global_pooling_correctness(keepdims):
    seq = np.arange(24, dtype="float32").reshape((2, 3, 4))
    img = np.arange(96, dtype="float32").reshape((2, 3, 4, 4))
    for cls, x, axes, fn in ((GlobalAveragePooling1D, seq, (1,), np.mean), (GlobalMaxPooling1D, seq, (1,), np.max),
                             (GlobalAveragePooling2D, img, (1, 2), np.mean), (GlobalMaxPooling2D, img, (1, 2), np.max)):
        expected = np.apply_over_axes(fn, x, axes)
        if not keepdims:
            expected = expected.squeeze()
        np.testing.assert_allclose(cls(keepdims=keepdims)(x).numpy(), expected)


def _masked_call(layer, x, mask):
    layer.build_for(x.shape[1:])
    return layer.call(torch.as_tensor(x), layer.live_context(), mask=torch.as_tensor(mask))


@pytest.mark.parametrize("keepdims", [False, True])
def test_keras_masked_global_average_pooling1d(keepdims):
    inputs = np.arange(24, dtype="float32").reshape((2, 3, 4))
    mask = np.array([[1, 1, 0], [0, 1, 0]], dtype="int32")
    m = mask[:, :, None]
    expected = (inputs * m).sum(axis=1) / m.sum(axis=1)
    if keepdims:
        expected = expected[:, None, :]
    np.testing.assert_allclose(_masked_call(GlobalAveragePooling1D(keepdims=keepdims), inputs, mask).numpy(),
                               expected)


@pytest.mark.parametrize("keepdims", [False, True])
def test_masked_global_pooling_1d_against_numpy(keepdims):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((6, 7, 3)).astype("float32")
    x[0, 5] = np.inf  # a masked step never leaks into the result, whatever it holds
    mask = rng.random((6, 7)) < 0.6
    mask[0] = [True] * 5 + [False] * 2
    mask[1] = False
    mean = np.stack([x[i, mask[i]].mean(0) if mask[i].any() else np.zeros(3) for i in range(6)])
    top = np.stack([x[i, mask[i]].max(0) if mask[i].any() else np.zeros(3) for i in range(6)])
    if keepdims:
        mean, top = mean[:, None], top[:, None]
    np.testing.assert_allclose(_masked_call(GlobalAveragePooling1D(keepdims=keepdims), x, mask).numpy(), mean,
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(_masked_call(GlobalMaxPooling1D(keepdims=keepdims), x, mask).numpy(), top)


def test_masked_global_pooling_takes_a_mask_and_passes_none_on():
    x = torch.randn(2, 3, 4)
    mask = torch.tensor([[True, False, True], [True, True, True]])
    for cls in (GlobalAveragePooling1D, GlobalMaxPooling1D):
        layer = cls()
        assert layer.takes_mask and layer.compute_mask(x, mask) is None
    assert not GlobalAveragePooling2D().takes_mask and not MaxPooling1D().takes_mask
    torch.testing.assert_close(GlobalAveragePooling1D()(x, mask=mask.numpy()),
                               torch.stack([x[0, [0, 2]].mean(0), x[1].mean(0)]))
    torch.testing.assert_close(GlobalMaxPooling1D()(x, mask=mask), torch.stack([x[0, [0, 2]].amax(0), x[1].amax(0)]))


@pytest.mark.parametrize("cls", [GlobalAveragePooling1D, GlobalMaxPooling1D])
def test_masked_global_pooling_in_a_model_ignores_padding(cls):
    lengths = [5, 3, 1, 4]
    rng = np.random.default_rng(0)
    x = np.zeros((len(lengths), 5), dtype="int64")
    for i, n in enumerate(lengths):
        x[i, :n] = rng.integers(1, 12, size=n)
    regulab.set_random_seed(0)
    model = Sequential([Input((None,), dtype="int64"), Embedding(12, 3, mask_zero=True), Dense(4), cls(), Dense(2)])
    alone = np.concatenate([model.predict(x[i:i + 1, :n], verbose=0) for i, n in enumerate(lengths)])
    np.testing.assert_allclose(model.predict(x, verbose=0), alone, rtol=1e-5, atol=1e-6)


def test_masked_global_pooling_gradient_skips_masked_steps():
    layer = GlobalAveragePooling1D()
    layer.build_for((4, 2))
    x = torch.randn(1, 4, 2, requires_grad=True)
    layer.call(x, layer.live_context(), mask=torch.tensor([[True, True, False, True]])).sum().backward()
    torch.testing.assert_close(x.grad[0, :, 0], torch.tensor([1 / 3, 1 / 3, 0.0, 1 / 3]))


def test_mask_of_the_wrong_shape_is_refused():
    with pytest.raises(ValueError, match=re.escape(
            "Layer 'gap' needs a mask of shape (batch, steps) = (2, 3); received a mask of shape (2, 4).")):
        _masked_call(GlobalAveragePooling1D(name="gap"), np.zeros((2, 3, 4), "float32"), np.ones((2, 4), bool))


# -- bad arguments and inputs ---------------------------------------------------------------------

@pytest.mark.parametrize("kwargs,msg", [
    ({"pool_size": 0}, "Invalid value for argument `pool_size` of MaxPooling2D: expected a positive integer or a "
                       "tuple of 2 positive integers. Received: pool_size=0"),
    ({"strides": 0}, "Invalid value for argument `strides` of MaxPooling2D: expected a positive integer or a "
                     "tuple of 2 positive integers. Received: strides=0"),
    ({"strides": (2, 0)}, "Invalid value for argument `strides` of MaxPooling2D: expected a positive integer or "
                          "a tuple of 2 positive integers. Received: strides=(2, 0)"),
    ({"pool_size": (2, 2, 2)}, "Invalid value for argument `pool_size` of MaxPooling2D: expected a positive "
                               "integer or a tuple of 2 positive integers. Received: pool_size=(2, 2, 2)"),
    ({"padding": "full"}, "Invalid value for argument `padding` of MaxPooling2D: expected one of 'valid', "
                          "'same'. Received: padding='full'."),
    ({"data_format": "channels_first"}, "Invalid value for argument `data_format` of MaxPooling2D: expected "
                                        "'channels_last' or None (regulab's layers are channels-last: move the "
                                        "channels to the last axis, e.g. with np.moveaxis(x, 1, -1)). Received: "
                                        "data_format='channels_first'"),
])
def test_bad_pooling_arguments(kwargs, msg):
    with pytest.raises(ValueError, match=re.escape(msg)):
        MaxPooling2D(**kwargs)


def test_zero_pool_size_of_1d_pooling_and_bad_global_data_format():
    with pytest.raises(ValueError, match=re.escape(
            "Invalid value for argument `pool_size` of AveragePooling1D: expected a positive integer or a tuple "
            "of one. Received: pool_size=0")):
        AveragePooling1D(0)
    with pytest.raises(ValueError, match=re.escape("Invalid value for argument `data_format` of "
                                                   "GlobalAveragePooling1D: expected 'channels_last' or None")):
        GlobalAveragePooling1D(data_format="channels_first")


def test_pool_larger_than_the_input_under_valid():
    msg = ("Layer 'mp' with padding='valid': its pool_size (5,) is larger than the input (3,); expected spatial "
           "dimensions of at least (5,), received input shape (None, 3, 2). Use padding='same' or a smaller "
           "pool_size.")
    with pytest.raises(ValueError, match=re.escape(msg)):
        MaxPooling1D(5, name="mp")(np.zeros((1, 3, 2), "float32"))
    with pytest.raises(ValueError, match=re.escape("its pool_size (2, 4) is larger than the input (4, 3)")):
        AveragePooling2D((2, 4))(Input((4, 3, 1)))
    assert MaxPooling1D(5, padding="same")(np.zeros((1, 3, 2), "float32")).shape == (1, 1, 2)


def test_pool_larger_than_a_length_known_only_at_call():
    model = Sequential([Input((None, 2)), MaxPooling1D(4, name="mp"), GlobalMaxPooling1D()])
    assert model.predict(np.zeros((1, 8, 2), "float32"), verbose=0).shape == (1, 2)
    with pytest.raises(ValueError, match=re.escape("Layer 'mp' with padding='valid': its pool_size (4,) is larger "
                                                   "than the input (3,)")):
        model.predict(np.zeros((1, 3, 2), "float32"), verbose=0)


@pytest.mark.parametrize("layer,shape,msg", [
    (lambda: MaxPooling2D(name="p"), (2, 5, 4), "Input 0 of layer 'p' is incompatible with the layer: expected "
     "ndim=4 (batch, height, width, channels), found ndim=3. Full shape received: (None, 5, 4)"),
    (lambda: AveragePooling1D(name="p"), (2, 5, 5, 4), "Input 0 of layer 'p' is incompatible with the layer: "
     "expected ndim=3 (batch, steps, channels), found ndim=4. Full shape received: (None, 5, 5, 4)"),
    (lambda: GlobalAveragePooling2D(name="p"), (2, 5, 4), "Input 0 of layer 'p' is incompatible with the layer: "
     "expected ndim=4 (batch, height, width, channels), found ndim=3. Full shape received: (None, 5, 4)"),
    (lambda: GlobalMaxPooling1D(name="p"), (2, 5), "Input 0 of layer 'p' is incompatible with the layer: "
     "expected ndim=3 (batch, steps, channels), found ndim=2. Full shape received: (None, 5)"),
])
def test_wrong_input_rank(layer, shape, msg):
    with pytest.raises(ValueError, match=re.escape(msg)):
        layer()(np.zeros(shape, "float32"))
    with pytest.raises(ValueError, match=re.escape(msg)):
        layer()(Input(shape[1:]))


def test_a_built_layer_pools_inputs_of_other_sizes_but_not_other_ranks():
    layer = MaxPooling2D(name="p")
    assert layer(np.zeros((1, 4, 4, 2), "float32")).shape == (1, 2, 2, 2)
    assert layer(np.zeros((1, 6, 8, 3), "float32")).shape == (1, 3, 4, 3)
    with pytest.raises(ValueError, match=re.escape("expected ndim=4 (batch, height, width, channels), found ndim=3")):
        layer(np.zeros((1, 4, 4), "float32"))


# -- configuration and saving ----------------------------------------------------------------------

def test_keras_config_keys_and_from_config():
    for cls in WINDOWED:
        layer = cls(3, strides=2, padding="same", name="p")
        cfg = layer.get_config()
        rank = layer.rank
        assert cfg == {"name": "p", "pool_size": [3] * rank, "padding": "same", "strides": [2] * rank,
                       "data_format": "channels_last"}
        assert cls.from_config(cfg).get_config() == cfg
    assert MaxPooling2D().get_config()["strides"] == [2, 2]
    for cls in GLOBAL:
        cfg = cls(keepdims=True, name="g").get_config()
        assert cfg == {"name": "g", "data_format": "channels_last", "keepdims": True}
        assert cls.from_config(cfg).get_config() == cfg


def test_saved_model_round_trips(tmp_path):
    regulab.set_random_seed(0)
    inp = Input((7, 6, 2))
    h = Dense(3)(inp)
    a = GlobalMaxPooling2D()(MaxPooling2D(3, strides=2, padding="same")(h))
    b = GlobalAveragePooling2D()(AveragePooling2D((2, 3), padding="same")(h))
    seq = AveragePooling1D(3, 2, padding="same")(MaxPooling1D(2, 1)(Reshape((21, 4))(Dense(2)(inp))))
    c = GlobalAveragePooling1D(keepdims=True)(seq)
    model = Model(inp, [Dense(1)(a), Dense(1)(b), Flatten()(c)])
    x = np.random.default_rng(0).standard_normal((4, 7, 6, 2)).astype("float32")
    path = tmp_path / "pool.regulab"
    model.save(path)
    back = load_model(path)
    for want, got in zip(model.predict(x, verbose=0), back.predict(x, verbose=0)):
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-6)
    assert [layer.get_config() for layer in back.layers] == [layer.get_config() for layer in model.layers]


# -- in training ----------------------------------------------------------------------------------

def _digits(n=192):
    from sklearn.datasets import load_digits

    d = load_digits()
    return (d.images[:n, :, :, None] / 16.0).astype("float32"), d.target[:n].astype("int64")


def _pooling_net(seed=0):
    regulab.set_random_seed(seed)
    model = Sequential([Input((8, 8, 1)), Dense(8, activation="relu"), MaxPooling2D(3, strides=2, padding="same"),
                        AveragePooling2D(padding="same"), Flatten(), Dense(10, activation="softmax")])
    model.compile(optimizer=regulab.optimizers.Adam(0.05), loss="sparse_categorical_crossentropy", jit_compile=False)
    return model


def test_fit_trains_through_2d_pooling():
    x, y = _digits()
    model = _pooling_net()
    first = model.layers[0].get_weights()[0].copy()
    history = model.fit(x, y, epochs=10, batch_size=32, verbose=0, seed=0).history
    assert history["loss"][-1] < 0.85 * history["loss"][0]
    assert not np.allclose(model.layers[0].get_weights()[0], first)  # gradients reached the first layer


def test_fit_trains_through_1d_and_global_pooling():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((256, 12)).astype("float32")
    y = (x[:, ::2].max(1) > x[:, 1::2].max(1)).astype("float32")
    regulab.set_random_seed(0)
    model = Sequential([Input((12,)), Reshape((6, 2)), Dense(8, activation="relu"), MaxPooling1D(2),
                        AveragePooling1D(2, padding="same"), GlobalMaxPooling1D(), Dense(1, activation="sigmoid")])
    model.compile(optimizer=regulab.optimizers.Adam(0.02), loss="binary_crossentropy", jit_compile=False)
    first = model.layers[1].get_weights()[0].copy()
    history = model.fit(x, y, epochs=12, batch_size=32, verbose=0, seed=0).history
    assert history["loss"][-1] < 0.8 * history["loss"][0]
    assert not np.allclose(model.layers[1].get_weights()[0], first)


def test_stacked_fit_equals_separate_fits():
    x, y = _digits(96)
    separate = [_pooling_net(0), _pooling_net(1)]
    for model, seed in zip(separate, (3, 4)):
        model.fit(x, y, epochs=2, batch_size=32, verbose=0, seed=seed)
    stacked = [_pooling_net(0), _pooling_net(1)]
    fit_variants(stacked, x, y, seeds=[3, 4], epochs=2, batch_size=32)
    for a, b in zip(separate, stacked):
        for wa, wb in zip(a.get_weights(), b.get_weights()):
            np.testing.assert_allclose(wa, wb, rtol=1e-4, atol=2e-5)


def test_compiled_fit_matches_eager_fit():
    # the one compiled fit of the pooling and reshaping layers: their 'same', bilinear and
    # cropping paths together
    x, y = _digits(96)

    def net():
        regulab.set_random_seed(0)
        return Sequential([Input((8, 8, 1)), Dense(3, activation="relu"), AveragePooling2D(3, 2, padding="same"),
                           UpSampling2D(interpolation="bilinear"), Cropping2D(((0, 1), (1, 0))), GlobalMaxPooling2D(),
                           Dense(10, activation="softmax")])

    eager, compiled = net(), net()
    eager.compile("adam", "sparse_categorical_crossentropy", jit_compile=False)
    compiled.compile("adam", "sparse_categorical_crossentropy", jit_compile=True)
    h_e = eager.fit(x, y, epochs=2, batch_size=32, verbose=0, seed=1).history["loss"]
    h_c = compiled.fit(x, y, epochs=2, batch_size=32, verbose=0, seed=1).history["loss"]
    np.testing.assert_allclose(h_c, h_e, rtol=1e-4)
    for a, b in zip(eager.get_weights(), compiled.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
