"""Keras 3's convolution tests (``keras/src/layers/convolutional/{conv,conv_transpose,depthwise_conv,
separable_conv}_test.py``), ported for channels-last data: their shape and weight-count cases, and
their numerical cases against NumPy references of TensorFlow's definitions (written here: a direct
sum over kernel taps; the transposed convolution as the adjoint of the convolution).

Where regulab differs: no channels_first, Conv3D, LoRA or constraints; `strides > 1` together with
`dilation_rate > 1` is allowed (torch computes it; Keras refuses it) and checked against the
reference; argument errors use regulab's wording.
"""
import numpy as np
import pytest
import torch

from regulab.layers import (Conv1D, Conv1DTranspose, Conv2D, Conv2DTranspose, DepthwiseConv1D, DepthwiseConv2D,
                            Input, SeparableConv1D, SeparableConv2D)
from regulab.models import Sequential


# -- NumPy references ------------------------------------------------------------------------------

def _tuple(v, rank):
    return tuple(v) * (rank if len(tuple(v)) == 1 else 1) if isinstance(v, (tuple, list)) else (v,) * rank


def _tf_same_pads(n, span, stride):
    # TensorFlow's documented rule for 'SAME'
    total = max(span - stride, 0) if n % stride == 0 else max(span - n % stride, 0)
    return total // 2, total - total // 2


def _taps(x, ks, strides, dilation, out):
    """(tap, x sliced at that tap for every output position)."""
    for tap in np.ndindex(*ks):
        sl = tuple(slice(t * d, t * d + (o - 1) * s + 1, s) for t, d, o, s in zip(tap, dilation, out, strides))
        yield tap, x[(slice(None), *sl)]


def np_conv(x, kernel, bias, strides=1, padding="valid", dilation_rate=1, groups=1):
    """Cross-correlation of channels-last ``x`` with a Keras kernel ``(*k, c / groups, filters)``."""
    rank = x.ndim - 2
    ks, strides, dilation = kernel.shape[:rank], _tuple(strides, rank), _tuple(dilation_rate, rank)
    spans = [d * (k - 1) + 1 for k, d in zip(ks, dilation)]
    if padding == "valid":
        pads = [(0, 0)] * rank
    elif padding == "causal":
        pads = [(spans[0] - 1, 0)]
    else:
        pads = [_tf_same_pads(n, sp, s) for n, sp, s in zip(x.shape[1:-1], spans, strides)]
    x = np.pad(x, [(0, 0), *pads, (0, 0)])
    out = [(n - sp) // s + 1 for n, sp, s in zip(x.shape[1:-1], spans, strides)]
    c_in, filters = kernel.shape[-2], kernel.shape[-1]
    f_g = filters // groups
    y = np.zeros((x.shape[0], *out, filters))
    for tap, patch in _taps(x, ks, strides, dilation, out):
        for g in range(groups):
            y[..., g * f_g:(g + 1) * f_g] += patch[..., g * c_in:(g + 1) * c_in] @ kernel[tap][:, g * f_g:(g + 1) * f_g]
    return y + bias


def np_depthwise_conv(x, kernel, bias, strides=1, padding="valid", dilation_rate=1):
    """Each channel ``c`` filtered by ``kernel[..., c, m]`` into output channel ``c * M + m``."""
    rank = x.ndim - 2
    ks, strides, dilation = kernel.shape[:rank], _tuple(strides, rank), _tuple(dilation_rate, rank)
    spans = [d * (k - 1) + 1 for k, d in zip(ks, dilation)]
    if padding == "same":
        x = np.pad(x, [(0, 0), *[_tf_same_pads(n, sp, s) for n, sp, s in zip(x.shape[1:-1], spans, strides)],
                       (0, 0)])
    out = [(n - sp) // s + 1 for n, sp, s in zip(x.shape[1:-1], spans, strides)]
    c, m = kernel.shape[-2:]
    y = np.zeros((x.shape[0], *out, c, m))
    for tap, patch in _taps(x, ks, strides, dilation, out):
        y += patch[..., :, None] * kernel[tap]
    return y.reshape(*y.shape[:-2], c * m) + bias


def keras_transpose_length(n, k, s, padding, output_padding, d=1):
    span = (k - 1) * d + 1
    if padding == "valid":
        return (n - 1) * s + span + (max(span, s) - span if output_padding is None else output_padding)
    return n * s if output_padding is None else (n - 1) * s + span % 2 + output_padding


def np_conv_transpose(x, kernel, bias, strides=1, padding="valid", output_padding=None, dilation_rate=1):
    """The adjoint of the convolution from the output size back to ``x``'s (TensorFlow's definition):
    each input position scatters ``x @ kernel[tap].T`` to ``i * stride + tap * dilation - pad_before``,
    ``pad_before`` being the convolution's padding on that output size; kernel ``(*k, filters, c)``."""
    rank = x.ndim - 2
    ks, strides, dilation = kernel.shape[:rank], _tuple(strides, rank), _tuple(dilation_rate, rank)
    out_pad = (None,) * rank if output_padding is None else _tuple(output_padding, rank)
    sizes = x.shape[1:-1]
    out = [keras_transpose_length(n, k, s, padding, p, d)
           for n, k, s, p, d in zip(sizes, ks, strides, out_pad, dilation)]
    spans = [d * (k - 1) + 1 for k, d in zip(ks, dilation)]
    before = [0 if padding == "valid" else max((n - 1) * s + sp - m, 0) // 2
              for n, s, sp, m in zip(sizes, strides, spans, out)]
    full = np.zeros((x.shape[0], *[b + m + (n - 1) * s + sp for b, m, n, s, sp in
                                   zip(before, out, sizes, strides, spans)], kernel.shape[-2]))
    for tap in np.ndindex(*ks):
        sl = tuple(slice(t * d, t * d + (n - 1) * s + 1, s) for t, d, n, s in zip(tap, dilation, sizes, strides))
        full[(slice(None), *sl)] += x @ kernel[tap].T
    crop = tuple(slice(b, b + m) for b, m in zip(before, out))
    return full[(slice(None), *crop)] + bias


def _run(layer, x, *weights):
    layer.build_for(x.shape[1:])
    for var, w in zip(layer.weights, weights):
        var.assign(torch.as_tensor(w, dtype=torch.float32))
    return layer(x.astype("float32")).numpy()


def _check_layer(cls, init_kwargs, input_shape, output_shape, trainable_weights):
    """Keras's run_layer_test, in short: shapes (eager and symbolic), weight counts, the config
    round trip, and one training step."""
    layer = cls(**init_kwargs)
    x = np.random.default_rng(0).standard_normal(input_shape).astype("float32")
    assert tuple(layer(x).shape) == output_shape
    assert cls(**init_kwargs)(Input(input_shape[1:])).shape == (None, *output_shape[1:])
    assert len(layer.trainable_weights) == trainable_weights and not layer.non_trainable_weights
    again = cls.from_config(layer.get_config())
    assert again.get_config() == layer.get_config()
    model = Sequential([cls(**init_kwargs, input_shape=input_shape[1:])])
    model.compile("sgd", "mse")
    before = model.get_weights()
    model.fit(x, np.ones(output_shape, "float32"), epochs=1, verbose=0)
    assert any(not np.allclose(a, b) for a, b in zip(model.get_weights(), before))
    assert layer.supports_masking is False


# -- conv_test.py ----------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, input_shape, output_shape", [
    (dict(filters=5, kernel_size=2, strides=1, padding="valid", dilation_rate=1, groups=1), (3, 5, 4), (3, 4, 5)),
    (dict(filters=6, kernel_size=2, strides=1, padding="same", dilation_rate=(2,), groups=2), (3, 4, 4), (3, 4, 6)),
    (dict(filters=6, kernel_size=2, strides=1, padding="causal", dilation_rate=(2,), groups=2), (3, 4, 4), (3, 4, 6)),
    (dict(filters=6, kernel_size=2, strides=(2,), padding="valid", dilation_rate=1, groups=2), (3, 5, 4), (3, 2, 6)),
])
def test_conv1d_basic(kwargs, input_shape, output_shape):
    _check_layer(Conv1D, {**kwargs, "data_format": "channels_last"}, input_shape, output_shape, 2)


@pytest.mark.parametrize("kwargs, input_shape, output_shape", [
    (dict(filters=5, kernel_size=2, strides=1, padding="valid", dilation_rate=1, groups=1), (3, 5, 5, 4),
     (3, 4, 4, 5)),
    (dict(filters=6, kernel_size=2, strides=1, padding="same", dilation_rate=(2, 2), groups=2), (3, 4, 4, 4),
     (3, 4, 4, 6)),
    (dict(filters=6, kernel_size=(2, 2), strides=(2, 1), padding="valid", dilation_rate=(1, 1), groups=2),
     (3, 5, 5, 4), (3, 2, 4, 6)),
])
def test_conv2d_basic(kwargs, input_shape, output_shape):
    _check_layer(Conv2D, {**kwargs, "data_format": "channels_last"}, input_shape, output_shape, 2)


@pytest.mark.parametrize("cls, kwargs, input_shape, output_shape", [
    (Conv1D, dict(filters=6, kernel_size=3, strides=1, groups=1), (5, 4), (3, 6)),
    (Conv1D, dict(filters=6, kernel_size=2, strides=2, groups=2), (5, 4), (2, 6)),
    (Conv2D, dict(filters=6, kernel_size=3, strides=1, groups=1), (5, 5, 4), (3, 3, 6)),
    (Conv2D, dict(filters=6, kernel_size=2, strides=2, groups=2), (5, 5, 4), (2, 2, 6)),
])
def test_conv_compute_output_shape(cls, kwargs, input_shape, output_shape):
    # Keras's test_enable_lora cases, without LoRA: the symbolic shape of an unbatched input
    assert cls(**kwargs)(Input(input_shape)).shape == (None, *output_shape)


@pytest.mark.parametrize("kwargs", [
    dict(filters=5, kernel_size=2, strides=1, padding="valid", dilation_rate=1, groups=1),
    dict(filters=6, kernel_size=2, strides=1, padding="same", dilation_rate=(2,), groups=2),
    dict(filters=6, kernel_size=2, strides=1, padding="causal", dilation_rate=(2,), groups=2),
    dict(filters=6, kernel_size=(2,), strides=(2,), padding="valid", dilation_rate=1, groups=2),
    dict(filters=4, kernel_size=3, strides=2, padding="same", dilation_rate=2, groups=1),  # regulab only
])
def test_conv1d_correctness(kwargs):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 8, 4))
    layer = Conv1D(**kwargs)
    layer.build_for(x.shape[1:])
    kernel, bias = rng.normal(size=layer.kernel.shape), rng.normal(size=(kwargs["filters"],))
    expected = np_conv(x, kernel, bias, kwargs["strides"], kwargs["padding"], kwargs["dilation_rate"],
                       kwargs["groups"])
    np.testing.assert_allclose(_run(layer, x, kernel, bias), expected, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("kwargs", [
    dict(filters=5, kernel_size=2, strides=1, padding="valid", dilation_rate=1, groups=1),
    dict(filters=4, kernel_size=3, strides=2, padding="same", dilation_rate=1, groups=1),
    dict(filters=6, kernel_size=2, strides=1, padding="same", dilation_rate=(2, 2), groups=2),
    dict(filters=6, kernel_size=2, strides=1, padding="same", dilation_rate=(2, 3), groups=2),
    dict(filters=6, kernel_size=(4, 3), strides=(2, 1), padding="valid", dilation_rate=(1, 1), groups=2),
    dict(filters=4, kernel_size=(3, 2), strides=(2, 3), padding="same", dilation_rate=(2, 1), groups=1),
])
def test_conv2d_correctness(kwargs):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 8, 8, 4))
    layer = Conv2D(**kwargs)
    layer.build_for(x.shape[1:])
    kernel, bias = rng.normal(size=layer.kernel.shape), rng.normal(size=(kwargs["filters"],))
    expected = np_conv(x, kernel, bias, kwargs["strides"], kwargs["padding"], kwargs["dilation_rate"],
                       kwargs["groups"])
    np.testing.assert_allclose(_run(layer, x, kernel, bias), expected, rtol=5e-4, atol=1e-4)


# -- conv_transpose_test.py ------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, input_shape, output_shape", [
    (dict(filters=5, kernel_size=2, strides=2, padding="valid", output_padding=None, dilation_rate=1),
     (2, 8, 4), (2, 16, 5)),
    (dict(filters=6, kernel_size=2, strides=3, padding="same", output_padding=2, dilation_rate=(1,)),
     (2, 8, 4), (2, 23, 6)),
    (dict(filters=6, kernel_size=(2,), strides=(2,), padding="valid", output_padding=None, dilation_rate=1),
     (2, 8, 4), (2, 16, 6)),
])
def test_conv1d_transpose_basic(kwargs, input_shape, output_shape):
    _check_layer(Conv1DTranspose, kwargs, input_shape, output_shape, 2)


@pytest.mark.parametrize("kwargs, input_shape, output_shape", [
    (dict(filters=5, kernel_size=2, strides=2, padding="valid", output_padding=None, dilation_rate=1),
     (2, 8, 8, 4), (2, 16, 16, 5)),
    (dict(filters=6, kernel_size=2, strides=3, padding="same", output_padding=2, dilation_rate=(1, 1)),
     (2, 8, 8, 4), (2, 23, 23, 6)),
    (dict(filters=6, kernel_size=(2, 3), strides=(2, 1), padding="valid", output_padding=None, dilation_rate=(1, 1)),
     (2, 8, 8, 4), (2, 16, 10, 6)),  # Keras's channels_first case, channels last
    (dict(filters=2, kernel_size=(7, 7), strides=(16, 16), padding="valid", output_padding=None,
          dilation_rate=(1, 1)), (1, 14, 14, 2), (1, 224, 224, 2)),
])
def test_conv2d_transpose_basic(kwargs, input_shape, output_shape):
    _check_layer(Conv2DTranspose, kwargs, input_shape, output_shape, 2)


@pytest.mark.parametrize("kwargs", [
    dict(filters=5, kernel_size=2, strides=2, padding="valid", output_padding=None, dilation_rate=1),
    dict(filters=6, kernel_size=2, strides=3, padding="same", output_padding=2, dilation_rate=(1,)),
    dict(filters=6, kernel_size=(2,), strides=(2,), padding="valid", output_padding=None, dilation_rate=1),
    dict(filters=3, kernel_size=3, strides=1, padding="same", output_padding=None, dilation_rate=2),
])
def test_conv1d_transpose_correctness(kwargs):
    rng = np.random.default_rng(2)
    x = rng.normal(size=(2, 8, 4))
    layer = Conv1DTranspose(**kwargs)
    layer.build_for(x.shape[1:])
    kernel, bias = rng.normal(size=layer.kernel.shape), rng.normal(size=(kwargs["filters"],))
    expected = np_conv_transpose(x, kernel, bias, kwargs["strides"], kwargs["padding"], kwargs["output_padding"],
                                 kwargs["dilation_rate"])
    np.testing.assert_allclose(_run(layer, x, kernel, bias), expected, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("kwargs", [
    dict(filters=5, kernel_size=2, strides=2, padding="valid", output_padding=None, dilation_rate=1),
    dict(filters=6, kernel_size=7, strides=16, padding="same", output_padding=2, dilation_rate=(1, 1)),
    dict(filters=6, kernel_size=(2, 3), strides=(2, 1), padding="valid", output_padding=None, dilation_rate=(1, 1)),
    dict(filters=2, kernel_size=(7, 7), strides=(16, 16), padding="valid", output_padding=None, dilation_rate=(1, 1)),
    dict(filters=3, kernel_size=5, strides=2, padding="same", output_padding=None, dilation_rate=1),  # DCGAN's
    dict(filters=3, kernel_size=(3, 4), strides=(2, 3), padding="same", output_padding=(1, 0), dilation_rate=1),
])
def test_conv2d_transpose_correctness(kwargs):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(2, 14, 14, 4))
    layer = Conv2DTranspose(**kwargs)
    layer.build_for(x.shape[1:])
    kernel, bias = rng.normal(size=layer.kernel.shape), rng.normal(size=(kwargs["filters"],))
    expected = np_conv_transpose(x, kernel, bias, kwargs["strides"], kwargs["padding"], kwargs["output_padding"],
                                 kwargs["dilation_rate"])
    np.testing.assert_allclose(_run(layer, x, kernel, bias), expected, rtol=1e-4, atol=1e-4)


_GRID = [(k, s, p, op) for k in range(1, 5) for s in range(1, 5) for p in ("same", "valid")
         for op in [None, 1, 2, 3, 4] if op is None or op < s]


@pytest.mark.parametrize("kernel_size, strides, padding, output_padding", _GRID)
def test_conv1d_transpose_consistency(kernel_size, strides, padding, output_padding):
    # Keras's torch backend skips the cases where torch's padding and output_padding are both
    # positive (it cannot match TensorFlow there); regulab matches all of them
    x = np.ones((1, 3, 1))
    kernel = np.arange(1, kernel_size + 1, dtype="float64").reshape(kernel_size, 1, 1)
    expected = np_conv_transpose(x, kernel, np.zeros(1), strides, padding, output_padding)
    layer = Conv1DTranspose(1, kernel_size, strides=strides, padding=padding, output_padding=output_padding)
    np.testing.assert_allclose(_run(layer, x, kernel, np.zeros(1)), expected, atol=1e-5)


@pytest.mark.parametrize("kernel_size, strides, padding, output_padding",
                         [(k, s, p, op) for k, s, p, op in _GRID if k in (1, 4) or s in (1, 4)])
def test_conv2d_transpose_shape_inference_with_unknown_sizes(kernel_size, strides, padding, output_padding):
    layer = Conv2DTranspose(2, kernel_size, strides=strides, padding=padding, output_padding=output_padding)
    assert layer(Input((None, None, 3))).shape == (None, None, None, 2)
    assert layer.compute_output_shape((5, None, 3)) == (
        keras_transpose_length(5, kernel_size, strides, padding, output_padding), None, 2)


# -- depthwise_conv_test.py ------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, input_shape, output_shape", [
    (dict(depth_multiplier=5, kernel_size=2, strides=1, padding="valid", dilation_rate=1), (3, 5, 4), (3, 4, 20)),
    (dict(depth_multiplier=6, kernel_size=2, strides=1, padding="same", dilation_rate=(2,)), (3, 4, 4), (3, 4, 24)),
    (dict(depth_multiplier=6, kernel_size=2, strides=(2,), padding="valid", dilation_rate=1), (3, 5, 4), (3, 2, 24)),
])
def test_depthwise_conv1d_basic(kwargs, input_shape, output_shape):
    _check_layer(DepthwiseConv1D, kwargs, input_shape, output_shape, 2)


@pytest.mark.parametrize("kwargs, input_shape, output_shape", [
    (dict(depth_multiplier=5, kernel_size=2, strides=1, padding="valid", dilation_rate=1), (3, 5, 5, 4),
     (3, 4, 4, 20)),
    (dict(depth_multiplier=6, kernel_size=2, strides=1, padding="same", dilation_rate=(2, 2)), (3, 4, 4, 4),
     (3, 4, 4, 24)),
    (dict(depth_multiplier=6, kernel_size=(2, 2), strides=(2, 2), padding="valid", dilation_rate=(1, 1)),
     (3, 5, 5, 4), (3, 2, 2, 24)),
])
def test_depthwise_conv2d_basic(kwargs, input_shape, output_shape):
    _check_layer(DepthwiseConv2D, kwargs, input_shape, output_shape, 2)


@pytest.mark.parametrize("cls, shape, kwargs", [
    (DepthwiseConv1D, (2, 8, 4), dict(depth_multiplier=5, kernel_size=2, strides=1, padding="valid", dilation_rate=1)),
    (DepthwiseConv1D, (2, 8, 4), dict(depth_multiplier=6, kernel_size=2, strides=1, padding="same",
                                      dilation_rate=(2,))),
    (DepthwiseConv1D, (2, 8, 4), dict(depth_multiplier=6, kernel_size=(2,), strides=(2,), padding="valid",
                                      dilation_rate=1)),
    (DepthwiseConv2D, (2, 8, 8, 4), dict(depth_multiplier=5, kernel_size=2, strides=1, padding="valid",
                                         dilation_rate=1)),
    (DepthwiseConv2D, (2, 8, 8, 4), dict(depth_multiplier=6, kernel_size=2, strides=1, padding="same",
                                         dilation_rate=(2, 2))),
    (DepthwiseConv2D, (2, 8, 8, 4), dict(depth_multiplier=6, kernel_size=(2, 2), strides=(2, 2), padding="valid",
                                         dilation_rate=(1, 1))),
    (DepthwiseConv2D, (2, 7, 8, 4), dict(depth_multiplier=2, kernel_size=3, strides=2, padding="same",
                                         dilation_rate=1)),
])
def test_depthwise_conv_correctness(cls, shape, kwargs):
    rng = np.random.default_rng(4)
    x = rng.normal(size=shape)
    layer = cls(**kwargs)
    layer.build_for(x.shape[1:])
    kernel, bias = rng.normal(size=layer.kernel.shape), rng.normal(size=(4 * kwargs["depth_multiplier"],))
    expected = np_depthwise_conv(x, kernel, bias, kwargs["strides"], kwargs["padding"], kwargs["dilation_rate"])
    np.testing.assert_allclose(_run(layer, x, kernel, bias), expected, rtol=1e-4, atol=1e-5)


# -- separable_conv_test.py ------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, input_shape, output_shape", [
    (dict(depth_multiplier=5, filters=5, kernel_size=2, strides=1, padding="valid", dilation_rate=1), (3, 5, 4),
     (3, 4, 5)),
    (dict(depth_multiplier=6, filters=6, kernel_size=2, strides=1, padding="same", dilation_rate=(2,)), (3, 4, 4),
     (3, 4, 6)),
    (dict(depth_multiplier=6, filters=6, kernel_size=2, strides=(2,), padding="valid", dilation_rate=1), (3, 5, 4),
     (3, 2, 6)),
])
def test_separable_conv1d_basic(kwargs, input_shape, output_shape):
    _check_layer(SeparableConv1D, kwargs, input_shape, output_shape, 3)


@pytest.mark.parametrize("kwargs, input_shape, output_shape", [
    (dict(depth_multiplier=5, filters=5, kernel_size=2, strides=1, padding="valid", dilation_rate=1), (3, 5, 5, 4),
     (3, 4, 4, 5)),
    (dict(depth_multiplier=6, filters=6, kernel_size=2, strides=1, padding="same", dilation_rate=(2, 2)),
     (3, 4, 4, 4), (3, 4, 4, 6)),
    (dict(depth_multiplier=6, filters=6, kernel_size=(2, 2), strides=(2, 2), padding="valid", dilation_rate=(1, 1)),
     (3, 5, 5, 4), (3, 2, 2, 6)),
])
def test_separable_conv2d_basic(kwargs, input_shape, output_shape):
    _check_layer(SeparableConv2D, kwargs, input_shape, output_shape, 3)


@pytest.mark.parametrize("cls, shape, kwargs", [
    (SeparableConv1D, (2, 8, 4), dict(depth_multiplier=5, filters=5, kernel_size=2, strides=1, padding="valid",
                                      dilation_rate=1)),
    (SeparableConv1D, (2, 8, 4), dict(depth_multiplier=6, filters=6, kernel_size=2, strides=1, padding="same",
                                      dilation_rate=(2,))),
    (SeparableConv1D, (2, 8, 4), dict(depth_multiplier=6, filters=6, kernel_size=(2,), strides=(2,),
                                      padding="valid", dilation_rate=1)),
    (SeparableConv2D, (2, 8, 8, 4), dict(depth_multiplier=5, filters=5, kernel_size=2, strides=1, padding="valid",
                                         dilation_rate=1)),
    (SeparableConv2D, (2, 8, 8, 4), dict(depth_multiplier=6, filters=6, kernel_size=2, strides=1, padding="same",
                                         dilation_rate=(2, 2))),
    (SeparableConv2D, (2, 8, 8, 4), dict(depth_multiplier=6, filters=6, kernel_size=(2, 2), strides=(2, 2),
                                         padding="valid", dilation_rate=(1, 1))),
])
def test_separable_conv_correctness(cls, shape, kwargs):
    rng = np.random.default_rng(5)
    x = rng.normal(size=shape)
    layer = cls(**kwargs)
    layer.build_for(x.shape[1:])
    depthwise, pointwise = (rng.normal(size=layer.depthwise_kernel.shape),
                            rng.normal(size=layer.pointwise_kernel.shape))
    bias = rng.normal(size=(kwargs["filters"],))
    hidden = np_depthwise_conv(x, depthwise, np.zeros(4 * kwargs["depth_multiplier"]), kwargs["strides"],
                               kwargs["padding"], kwargs["dilation_rate"])
    expected = np_conv(hidden, pointwise, bias)
    np.testing.assert_allclose(_run(layer, x, depthwise, pointwise, bias), expected, rtol=1e-4, atol=1e-4)


# -- test_bad_init_args, in regulab's wording ------------------------------------------------------

@pytest.mark.parametrize("make, argument", [
    (lambda: Conv1D(filters=0, kernel_size=1), "filters"),
    (lambda: Conv2D(filters=2, kernel_size=(1, 0)), "kernel_size"),
    (lambda: Conv2D(filters=2, kernel_size=(2, 2), strides=(1, 0)), "strides"),
    (lambda: Conv2D(filters=5, kernel_size=(2, 2), groups=0), "groups"),
    (lambda: Conv2D(filters=5, kernel_size=(2, 2), groups=2), "groups"),
    (lambda: Conv1DTranspose(filters=0, kernel_size=1), "filters"),
    (lambda: Conv2DTranspose(filters=2, kernel_size=(1, 0)), "kernel_size"),
    (lambda: Conv2DTranspose(filters=2, kernel_size=(2, 2), strides=(1, 0)), "strides"),
    (lambda: Conv1DTranspose(filters=2, kernel_size=3, strides=2, output_padding=2), "output_padding"),
    (lambda: Conv2DTranspose(filters=2, kernel_size=3, strides=2, output_padding=3), "output_padding"),
    (lambda: Conv2DTranspose(filters=2, kernel_size=3, strides=(2, 3), output_padding=(1, 3)), "output_padding"),
    (lambda: DepthwiseConv1D(depth_multiplier=0, kernel_size=1), "depth_multiplier"),
    (lambda: DepthwiseConv2D(depth_multiplier=2, kernel_size=(1, 0)), "kernel_size"),
    (lambda: DepthwiseConv2D(depth_multiplier=2, kernel_size=(2, 2), strides=(1, 0)), "strides"),
    (lambda: SeparableConv1D(depth_multiplier=0, filters=1, kernel_size=1), "depth_multiplier"),
    (lambda: SeparableConv1D(depth_multiplier=1, filters=0, kernel_size=1), "filters"),
    (lambda: SeparableConv2D(depth_multiplier=2, filters=2, kernel_size=(1, 0)), "kernel_size"),
    (lambda: SeparableConv2D(depth_multiplier=2, filters=2, kernel_size=(2, 2), strides=(1, 0)), "strides"),
])
def test_bad_init_args(make, argument):
    with pytest.raises(ValueError, match=f"Invalid value for argument `{argument}` of "):
        make()
