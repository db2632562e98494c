"""Convolution layers against PyTorch's own modules, Keras's shapes and counts, and in models."""
import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import regulab
from regulab import regularizers
from regulab.lab import fit_variants
from regulab.layers import (Conv1D, Conv1DTranspose, Conv2D, Conv2DTranspose, Dense, DepthwiseConv2D, Flatten,
                            Input, SeparableConv1D, SeparableConv2D)
from regulab.models import Model, Sequential, load_model


def _set(layer, *arrays):
    for var, a in zip(layer.weights, arrays):
        var.assign(torch.as_tensor(a))


def _tf_same_pads(n, span, stride):
    # TensorFlow's documented rule for 'SAME': the odd padding goes at the bottom/right
    total = max(span - stride, 0) if n % stride == 0 else max(span - n % stride, 0)
    return total // 2, total - total // 2


# -- against torch.nn modules ---------------------------------------------------------------------

@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")  # the torch reference's
@pytest.mark.parametrize("kwargs", [
    dict(kernel_size=3), dict(kernel_size=4, strides=3), dict(kernel_size=3, dilation_rate=2),
    dict(kernel_size=3, groups=2), dict(kernel_size=3, padding="same"), dict(kernel_size=4, padding="same"),
    dict(kernel_size=3, strides=2, dilation_rate=2),
])
def test_conv1d_matches_torch_conv1d(kwargs):
    torch.manual_seed(0)
    layer = Conv1D(6, **kwargs)
    x = torch.randn(3, 11, 4)
    layer.build_for((11, 4))
    groups, k = kwargs.get("groups", 1), layer.kernel_size[0]
    ref = torch.nn.Conv1d(4, 6, k, stride=layer.strides, dilation=layer.dilation_rate, groups=groups,
                          padding=kwargs.get("padding", "valid"))
    _set(layer, ref.weight.detach().permute(2, 1, 0), ref.bias.detach())
    expected = ref(x.permute(0, 2, 1)).permute(0, 2, 1)
    torch.testing.assert_close(layer(x), expected, rtol=1e-5, atol=1e-5)
    assert layer.kernel.shape == (k, 4 // groups, 6)


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
@pytest.mark.parametrize("kwargs", [
    dict(kernel_size=3), dict(kernel_size=(3, 2), strides=(2, 1)), dict(kernel_size=3, dilation_rate=(2, 1)),
    dict(kernel_size=3, groups=3), dict(kernel_size=3, padding="same"), dict(kernel_size=(2, 4), padding="same"),
])
def test_conv2d_matches_torch_conv2d(kwargs):
    torch.manual_seed(0)
    layer = Conv2D(6, **kwargs)
    x = torch.randn(2, 9, 8, 3)
    layer.build_for((9, 8, 3))
    groups = kwargs.get("groups", 1)
    ref = torch.nn.Conv2d(3, 6, layer.kernel_size, stride=layer.strides, dilation=layer.dilation_rate,
                          groups=groups, padding=kwargs.get("padding", "valid"))
    _set(layer, ref.weight.detach().permute(2, 3, 1, 0), ref.bias.detach())
    expected = ref(x.permute(0, 3, 1, 2)).permute(0, 2, 3, 1)
    torch.testing.assert_close(layer(x), expected, rtol=1e-5, atol=1e-5)
    assert layer.kernel.shape == (*layer.kernel_size, 3 // groups, 6)


@pytest.mark.parametrize("n", [7, 8])
@pytest.mark.parametrize("k", [1, 2, 3, 4, 5])
def test_conv2d_same_with_strides_pads_like_tensorflow(n, k):
    torch.manual_seed(0)
    layer = Conv2D(4, k, strides=2, padding="same", use_bias=False)
    x = torch.randn(2, n, n + 1, 3)
    out = layer(x)
    assert out.shape == (2, -(-n // 2), -(-(n + 1) // 2), 4)
    (top, bottom), (left, right) = _tf_same_pads(n, k, 2), _tf_same_pads(n + 1, k, 2)
    padded = F.pad(x.permute(0, 3, 1, 2), (left, right, top, bottom))
    expected = F.conv2d(padded, layer.kernel.value.permute(3, 2, 0, 1), stride=2).permute(0, 2, 3, 1)
    torch.testing.assert_close(out, expected, rtol=1e-5, atol=1e-5)


def test_conv2d_gradients_match_torch():
    torch.manual_seed(0)
    ref = torch.nn.Conv2d(3, 5, 3, stride=2)
    layer = Conv2D(5, 3, strides=2, padding="valid")
    layer.build_for((9, 9, 3))
    _set(layer, ref.weight.detach().permute(2, 3, 1, 0), ref.bias.detach())
    x = torch.randn(4, 9, 9, 3)
    ref(x.permute(0, 3, 1, 2)).square().sum().backward()
    for var in layer.weights:
        var.value.requires_grad_(True)
    layer.call(x, layer.live_context()).square().sum().backward()
    torch.testing.assert_close(layer.kernel.value.grad, ref.weight.grad.permute(2, 3, 1, 0), rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(layer.bias.value.grad, ref.bias.grad, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("kwargs", [dict(kernel_size=2, strides=2), dict(kernel_size=3, strides=2),
                                    dict(kernel_size=3, strides=1, dilation_rate=2), dict(kernel_size=(2, 3))])
def test_conv2d_transpose_valid_matches_torch(kwargs):
    torch.manual_seed(0)
    layer = Conv2DTranspose(5, **kwargs)
    layer.build_for((6, 5, 3))
    ref = torch.nn.ConvTranspose2d(3, 5, layer.kernel_size, stride=layer.strides, dilation=layer.dilation_rate)
    _set(layer, ref.weight.detach().permute(2, 3, 1, 0), ref.bias.detach())
    x = torch.randn(2, 6, 5, 3)
    torch.testing.assert_close(layer(x), ref(x.permute(0, 3, 1, 2)).permute(0, 2, 3, 1), rtol=1e-5, atol=1e-5)
    assert layer.kernel.shape == (*layer.kernel_size, 5, 3)


def test_conv2d_transpose_same_matches_torch_where_torch_can_express_it():
    # kernel 4, strides 2: TensorFlow crops one row/column on each side, torch's padding=1
    torch.manual_seed(0)
    layer = Conv2DTranspose(4, 4, strides=2, padding="same")
    layer.build_for((5, 5, 3))
    ref = torch.nn.ConvTranspose2d(3, 4, 4, stride=2, padding=1)
    _set(layer, ref.weight.detach().permute(2, 3, 1, 0), ref.bias.detach())
    x = torch.randn(2, 5, 5, 3)
    torch.testing.assert_close(layer(x), ref(x.permute(0, 3, 1, 2)).permute(0, 2, 3, 1), rtol=1e-5, atol=1e-5)


def test_conv2d_transpose_is_the_adjoint_of_conv2d_same():
    # TensorFlow defines conv2d_transpose as the gradient of conv2d: <conv(u), v> == <u, conv_t(v)>
    torch.manual_seed(0)
    for k in (3, 5):
        conv = Conv2D(4, k, strides=2, padding="same", use_bias=False)
        conv.build_for((14, 14, 3))
        up = Conv2DTranspose(3, k, strides=2, padding="same", use_bias=False)
        up.build_for((7, 7, 4))
        up.kernel.assign(conv.kernel.value)
        u, v = torch.randn(2, 14, 14, 3), torch.randn(2, 7, 7, 4)
        torch.testing.assert_close((conv(u) * v).sum(), (u * up(v)).sum(), rtol=1e-4, atol=1e-4)


def test_depthwise_conv2d_matches_torch_grouped_conv():
    torch.manual_seed(0)
    layer = DepthwiseConv2D(3, strides=2, padding="same", depth_multiplier=2)
    layer.build_for((8, 8, 3))
    ref = torch.nn.Conv2d(3, 6, 3, stride=2, padding=1, groups=3)  # 8 -> 4, TF pads (0, 1): compare padded
    # torch's weight (6, 1, 3, 3): output channel c * 2 + m is channel c's m-th kernel
    layer.kernel.assign(ref.weight.detach().reshape(3, 2, 3, 3).permute(2, 3, 0, 1))
    layer.bias.assign(ref.bias.detach())
    x = torch.randn(2, 8, 8, 3)
    padded = F.pad(x.permute(0, 3, 1, 2), (0, 1, 0, 1))
    expected = F.conv2d(padded, ref.weight, ref.bias, stride=2, groups=3).permute(0, 2, 3, 1)
    torch.testing.assert_close(layer(x), expected, rtol=1e-5, atol=1e-5)
    assert layer.count_params() == 3 * 3 * 3 * 2 + 6 and layer.depthwise_kernel is layer.kernel


def test_separable_conv2d_matches_torch_depthwise_then_pointwise():
    torch.manual_seed(0)
    layer = SeparableConv2D(5, 3, depth_multiplier=2, padding="same")
    layer.build_for((6, 6, 3))
    dw = torch.nn.Conv2d(3, 6, 3, padding=1, groups=3, bias=False)
    pw = torch.nn.Conv2d(6, 5, 1)
    _set(layer, dw.weight.detach().reshape(3, 2, 3, 3).permute(2, 3, 0, 1), pw.weight.detach().permute(2, 3, 1, 0),
         pw.bias.detach())
    x = torch.randn(2, 6, 6, 3)
    torch.testing.assert_close(layer(x), pw(dw(x.permute(0, 3, 1, 2))).permute(0, 2, 3, 1), rtol=1e-5, atol=1e-5)
    assert [v.short_name for v in layer.weights] == ["depthwise_kernel", "pointwise_kernel", "bias"]


def test_causal_conv1d_sees_only_the_past_and_pads_on_the_left():
    torch.manual_seed(0)
    layer = Conv1D(3, 3, padding="causal", dilation_rate=2)
    x = torch.randn(2, 10, 4)
    y = layer(x)
    assert y.shape == (2, 10, 3)
    expected = F.conv1d(F.pad(x.permute(0, 2, 1), (4, 0)), layer.kernel.value.permute(2, 1, 0), layer.bias.value,
                        dilation=2).permute(0, 2, 1)
    torch.testing.assert_close(y, expected, rtol=1e-5, atol=1e-5)
    x2 = x.clone()
    x2[:, 6:] += 1.0
    torch.testing.assert_close(layer(x2)[:, :6], y[:, :6])


def test_outputs_keep_the_channels_last_layout_without_copies():
    x = torch.randn(2, 8, 8, 3)
    for layer in (Conv2D(4, 3), Conv2D(4, 3, strides=2, padding="same"), DepthwiseConv2D(3), SeparableConv2D(4, 3),
                  Conv2DTranspose(4, 4, strides=2, padding="same")):
        assert layer(x).is_contiguous(), layer
    # an odd kernel under 'same' with strides 2: TensorFlow crops one more column on the right,
    # which stays a view (no copy) of torch's output
    out = Conv2DTranspose(4, 3, strides=2, padding="same")(x)
    assert out.shape == (2, 16, 16, 4) and out.stride()[-1] == 1


# -- shapes and parameter counts -------------------------------------------------------------------

def test_parameter_counts_as_keras_reports_them():
    assert Sequential([Conv2D(32, 3, input_shape=(28, 28, 1))]).count_params() == 320
    assert Sequential([SeparableConv2D(64, 3, input_shape=(16, 16, 32))]).count_params() == 32 * 9 + 32 * 64 + 64
    assert Sequential([Conv2D(8, 3, groups=4, use_bias=False, input_shape=(8, 8, 12))]).count_params() == 3 * 3 * 3 * 8
    assert Sequential([Conv2DTranspose(16, 5, input_shape=(7, 7, 32))]).count_params() == 5 * 5 * 16 * 32 + 16
    assert Sequential([Conv1D(25, 5, input_shape=(40, 1))]).count_params() == 5 * 25 + 25


def test_lenet_style_parameter_counts():
    model = Sequential([Conv2D(6, 5, activation="relu", input_shape=(28, 28, 1)),
                        Conv2D(16, 5, strides=2, activation="relu"), Flatten(), Dense(10, activation="softmax")])
    # conv: 5*5*1*6 + 6 = 156, output 24x24x6; conv: 5*5*6*16 + 16 = 2416, output floor((24-5)/2)+1 = 10;
    # dense: 10*10*16*10 + 10 = 16010
    assert [layer.output_shape for layer in model.layers] == [(24, 24, 6), (10, 10, 16), (1600,), (10,)]
    assert [layer.count_params() for layer in model.layers] == [156, 2416, 0, 16010]
    assert model.count_params() == 156 + 2416 + 16010


def test_dcgan_generator_upsamples_like_keras():
    model = Sequential([Dense(7 * 7 * 8, input_shape=(16,)), regulab.layers.Reshape((7, 7, 8)),
                        Conv2DTranspose(8, 5, strides=1, padding="same"),
                        Conv2DTranspose(4, 5, strides=2, padding="same"),
                        Conv2DTranspose(1, 5, strides=2, padding="same", activation="tanh")])
    assert [layer.output_shape for layer in model.layers[2:]] == [(7, 7, 8), (14, 14, 4), (28, 28, 1)]
    assert model.predict(np.zeros((3, 16), "float32"), verbose=0).shape == (3, 28, 28, 1)


def test_unknown_spatial_sizes_pass_through():
    assert Conv2D(4, 3).compute_output_shape((None, 10, 3)) == (None, 8, 4)
    assert Conv1D(4, 3, strides=2, padding="same").compute_output_shape((None, 3)) == (None, 4)
    assert Conv2DTranspose(2, 3, strides=2).compute_output_shape((None, 5, 3)) == (None, 11, 2)
    assert DepthwiseConv2D(3, depth_multiplier=3).compute_output_shape((None, None, 2)) == (None, None, 6)
    x = Input((None, None, 3))
    assert SeparableConv2D(8, 3, padding="same")(x).shape == (None, None, None, 8)


def test_a_built_conv_accepts_other_spatial_sizes_but_not_other_channels():
    layer = Conv2D(4, 3, name="c")
    assert layer(np.zeros((1, 8, 8, 3), "float32")).shape == (1, 6, 6, 4)
    assert layer(np.zeros((2, 12, 10, 3), "float32")).shape == (2, 10, 8, 4)
    with pytest.raises(ValueError, match=re.escape(
            "Input 0 of layer 'c' is incompatible with the layer: expected axis -1 of input shape to have value 3, "
            "but received input with shape (None, 8, 8, 2).")):
        layer(np.zeros((1, 8, 8, 2), "float32"))


# -- bad input -------------------------------------------------------------------------------------

def test_kernel_larger_than_a_valid_input_is_refused_at_build():
    with pytest.raises(ValueError, match=re.escape(
            "Layer 'conv2d' with padding='valid': its kernel size (5, 5) is larger than the input (3, 8); expected "
            "spatial dimensions of at least (5, 5), received input shape (None, 3, 8, 1). Use padding='same' or a "
            "smaller kernel_size.")):
        Sequential([Conv2D(6, 5, name="conv2d", input_shape=(3, 8, 1))])
    with pytest.raises(ValueError, match=re.escape(
            "Layer 'c1' with padding='valid': its kernel size (3,) with dilation_rate (3,) spans (7,), which is "
            "larger than the input (6,); expected spatial dimensions of at least (7,), received input shape "
            "(None, 6, 2).")):
        Conv1D(2, 3, dilation_rate=3, name="c1")(Input((6, 2)))


def test_wrong_input_rank_is_refused():
    with pytest.raises(ValueError, match=re.escape(
            "Input 0 of layer 'conv' is incompatible with the layer: expected ndim=4 (batch, height, width, "
            "channels), found ndim=3. Full shape received: (None, 28, 28)")):
        Conv2D(4, 3, name="conv")(np.zeros((2, 28, 28), "float32"))
    with pytest.raises(ValueError, match=re.escape("expected ndim=3 (batch, steps, channels), found ndim=4.")):
        Conv1D(4, 3)(Input((8, 8, 1)))


@pytest.mark.parametrize("make, message", [
    (lambda: Conv2D(0, 3),
     "Invalid value for argument `filters` of Conv2D: expected an integer in [1, inf). Received: filters=0"),
    (lambda: Conv2D(4, 0),
     "Invalid value for argument `kernel_size` of Conv2D: expected a positive integer or a tuple of 2 positive "
     "integers. Received: kernel_size=0"),
    (lambda: Conv2D(4, (1, 0)), "Received: kernel_size=(1, 0)"),
    (lambda: Conv2D(4, (3, 3, 3)), "Received: kernel_size=(3, 3, 3)"),
    (lambda: Conv2D(4, (3,)), "Received: kernel_size=(3,)"),
    (lambda: Conv2D(4, 3.0), "Received: kernel_size=3.0"),
    (lambda: Conv2D(4, 3, strides=0),
     "Invalid value for argument `strides` of Conv2D: expected a positive integer or a tuple of 2 positive "
     "integers. Received: strides=0"),
    (lambda: Conv1D(4, 3, strides=(0,)),
     "Invalid value for argument `strides` of Conv1D: expected a positive integer or a tuple of one. "
     "Received: strides=(0,)"),
    (lambda: Conv2D(5, 3, groups=2),
     "Invalid value for argument `groups` of Conv2D: expected a divisor of `filters` (filters=5). Received: groups=2"),
    (lambda: Conv2D(4, 3, groups=0),
     "Invalid value for argument `groups` of Conv2D: expected an integer in [1, inf). Received: groups=0"),
    (lambda: Conv2D(4, 3, padding="causal"),
     "Invalid value for argument `padding` of Conv2D: expected one of 'valid', 'same'. Received: padding='causal'."),
    (lambda: Conv1D(4, 3, padding="casual"), "Did you mean 'causal'?"),
    (lambda: Conv2D(4, 3, data_format="channels_first"),
     "Invalid value for argument `data_format` of Conv2D: expected 'channels_last' or None (regulab's layers are "
     "channels-last: move the channels to the last axis, e.g. with np.moveaxis(x, 1, -1)). "
     "Received: data_format='channels_first'"),
    (lambda: DepthwiseConv2D(3, depth_multiplier=0),
     "Invalid value for argument `depth_multiplier` of DepthwiseConv2D: expected an integer in [1, inf). "
     "Received: depth_multiplier=0"),
    (lambda: SeparableConv2D(0, 3), "Invalid value for argument `filters` of SeparableConv2D"),
    (lambda: Conv2DTranspose(2, 3, strides=2, output_padding=2),
     "Invalid value for argument `output_padding` of Conv2DTranspose: expected None, or an integer or a tuple of "
     "2 integers, each in [0, stride) (strides=(2, 2)). Received: output_padding=2"),
    (lambda: Conv2D(4, 3, kernel_regularizer="l3"), "Argument `kernel_regularizer` of Conv2D"),
])
def test_bad_arguments_name_the_argument(make, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        make()


def test_input_channels_must_divide_into_groups():
    with pytest.raises(ValueError, match=re.escape(
            "Layer 'g' needs input channels divisible by groups=2; received input shape (None, 8, 8, 3) with 3 "
            "channels.")):
        Conv2D(4, 3, groups=2, name="g")(Input((8, 8, 3)))


# -- in models -------------------------------------------------------------------------------------

def _digits():
    from sklearn.datasets import load_digits

    d = load_digits()
    return (d.images[:256, :, :, None] / 16.0).astype("float32"), d.target[:256].astype("int64")


def _tiny_cnn(seed=0):
    regulab.set_random_seed(seed)
    model = Sequential([Conv2D(8, 3, activation="relu", input_shape=(8, 8, 1)),
                        SeparableConv2D(8, 3, strides=2, padding="same", activation="relu"),
                        Flatten(), Dense(10, activation="softmax")])
    model.compile(optimizer=regulab.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def test_fit_of_a_tiny_cnn_reduces_the_loss():
    x, y = _digits()
    history = _tiny_cnn().fit(x, y, epochs=5, batch_size=32, verbose=0, seed=0).history
    assert history["loss"][-1] < 0.5 * history["loss"][0]


def test_compiled_fit_matches_eager_fit():
    x, y = _digits()
    eager, compiled = _tiny_cnn(), _tiny_cnn()
    compiled.compile(optimizer="adam", loss="sparse_categorical_crossentropy", jit_compile=True)
    eager.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    h_e = eager.fit(x[:96], y[:96], epochs=2, batch_size=32, verbose=0, seed=1).history["loss"]
    h_c = compiled.fit(x[:96], y[:96], epochs=2, batch_size=32, verbose=0, seed=1).history["loss"]
    np.testing.assert_allclose(h_c, h_e, rtol=1e-4)
    for a, b in zip(eager.get_weights(), compiled.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_stacked_fit_of_two_cnns_trains_each():
    x, y = _digits()
    models = [_tiny_cnn(0), _tiny_cnn(1)]
    before = [m.get_weights() for m in models]
    histories = fit_variants(models, x[:128], y[:128], seeds=[0, 1], epochs=2, batch_size=32)
    assert all(np.isfinite(h.history["loss"]).all() for h in histories)
    for model, init in zip(models, before):
        assert all(not np.allclose(a, b) for a, b in zip(model.get_weights(), init))
    assert not np.allclose(models[0].get_weights()[0], models[1].get_weights()[0])


def test_functional_model_summary_and_regularizer_penalties():
    inputs = Input((16, 16, 3))
    h = Conv2D(8, 3, padding="same", kernel_regularizer=regularizers.l2(0.01), activation="relu")(inputs)
    h = DepthwiseConv2D(3, strides=2, padding="same")(h)
    h = Conv2DTranspose(4, 3, strides=2, padding="same", activity_regularizer=regularizers.l1(0.01))(h)
    seq = Conv1D(4, 3, padding="causal")(Input((10, 2)))
    model = Model(inputs, SeparableConv2D(2, 1)(h))
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    for shape, params in [("(None, 16, 16, 8)", "224"), ("(None, 8, 8, 8)", "80"), ("(None, 16, 16, 4)", "292"),
                          ("(None, 16, 16, 2)", "14")]:
        assert re.search(re.escape(shape) + r"\s*│\s*" + params + r"\b", text), (shape, text)
    assert "Total params: 610" in text
    assert seq.shape == (None, 10, 4)
    assert len(model.losses) == 1


def test_save_and_load_round_trip(tmp_path):
    model = Sequential([Conv1D(4, 3, padding="causal", dilation_rate=2, input_shape=(12, 2)),
                        SeparableConv1D(4, 3, depth_multiplier=2, strides=2, padding="same",
                                        pointwise_regularizer="l2"),
                        Conv1DTranspose(3, 2, strides=2, output_padding=1, kernel_initializer="he_normal"),
                        regulab.layers.Reshape((13, 3, 1)),
                        Conv2D(2, (3, 1), groups=1, activation="tanh", bias_regularizer=regularizers.l1(0.1)),
                        DepthwiseConv2D((2, 1), depth_multiplier=2, depthwise_regularizer="l1"),
                        Conv2DTranspose(2, (2, 1), strides=(2, 1), padding="same")])
    model.compile("adam", "mse")
    x = np.random.default_rng(0).standard_normal((4, 12, 2)).astype("float32")
    path = tmp_path / "cnn.regulab"
    model.save(path)
    back = load_model(path)
    assert [layer.get_config() for layer in back.layers] == [layer.get_config() for layer in model.layers]
    np.testing.assert_allclose(back.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)
    assert back.layers[2].output_padding == (1,)
    assert back.layers[1].pointwise_regularizer is not None
