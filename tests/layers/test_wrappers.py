"""Bidirectional and TimeDistributed: against torch.nn.LSTM(bidirectional=True) and per-step calls,
and Keras 3's own tests (keras/src/layers/rnn/{bidirectional,time_distributed}_test.py) ported with
their reported figures."""
import re

import numpy as np
import pytest
import torch
from torch import nn

import regulab
from regulab.layers import (GRU, LSTM, Bidirectional, Conv2D, Dense, Dropout, Embedding, Input, SimpleRNN,
                            TimeDistributed)
from regulab.models import Sequential, load_model
from tests.helpers import RNN_CONSTANTS as CONSTANTS, constant, seq


def close(actual, expected, tol=1e-5):
    np.testing.assert_allclose(np.asarray(actual), np.asarray(expected, dtype="float32"), rtol=tol, atol=tol)


def _x(shape=(3, 6, 4), seed=0):
    return torch.from_numpy(np.random.default_rng(seed).standard_normal(shape).astype("float32"))


def _randomize(layer, seed=1):
    rng = np.random.default_rng(seed)
    layer.set_weights([rng.uniform(-0.5, 0.5, w.shape).astype("float32") for w in layer.get_weights()])


def _torch_bilstm(bi):
    (kf, rf, bf), (kb, rb, bb) = bi.forward_layer.get_weights(), bi.backward_layer.get_weights()
    mod = nn.LSTM(kf.shape[0], bi.forward_layer.units, batch_first=True, bidirectional=True)
    with torch.no_grad():
        for sfx, (k, r, b) in (("", (kf, rf, bf)), ("_reverse", (kb, rb, bb))):
            getattr(mod, f"weight_ih_l0{sfx}").copy_(torch.from_numpy(k.T.copy()))
            getattr(mod, f"weight_hh_l0{sfx}").copy_(torch.from_numpy(r.T.copy()))
            getattr(mod, f"bias_ih_l0{sfx}").copy_(torch.from_numpy(b))
            getattr(mod, f"bias_hh_l0{sfx}").zero_()
    return mod


@pytest.mark.parametrize("scan", [False, True], ids=["fused", "scan"])
def test_bidirectional_lstm_matches_torch(scan):
    bi = Bidirectional(LSTM(5, return_sequences=True, return_state=True,
                            **({"activation": torch.tanh} if scan else {})))
    x = _x()
    bi.build_for((6, 4))
    _randomize(bi)
    out, hf, cf, hb, cb = bi(x)
    ref, (h, c) = _torch_bilstm(bi)(x)
    torch.testing.assert_close(out, ref, rtol=1e-5, atol=1e-5)
    for mine, theirs in ((hf, h[0]), (cf, c[0]), (hb, h[1]), (cb, c[1])):
        torch.testing.assert_close(mine, theirs, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("merge_mode, combine", [
    ("concat", lambda f, b: torch.cat([f, b], -1)), ("sum", torch.add), ("mul", torch.mul),
    ("ave", lambda f, b: (f + b) / 2), (None, lambda f, b: [f, b]),
])
def test_merge_modes_and_masks_reach_both_directions(merge_mode, combine):
    mask = torch.tensor([[1, 1, 1, 0, 0, 0], [1, 1, 1, 1, 1, 1], [1, 1, 0, 0, 0, 0]], dtype=torch.bool)
    bi = Bidirectional(GRU(3, return_sequences=True), merge_mode=merge_mode)
    x = _x()
    out = bi(x, mask=mask)
    fwd = bi.forward_layer(x, mask=mask)
    bwd = bi.backward_layer(x, mask=mask).flip(1)
    expected = combine(fwd, bwd)
    for a, b in zip(out if merge_mode is None else [out], expected if merge_mode is None else [expected]):
        torch.testing.assert_close(a, b)
    assert bi.forward_layer.zero_output_for_mask and bi.backward_layer.zero_output_for_mask
    assert (bwd[~mask] == 0).all()  # masked steps output zeros inside Bidirectional, as Keras
    out_mask = bi.compute_mask(x, mask)
    assert (out_mask == [mask, mask]) if merge_mode is None else out_mask is mask


def test_parameters_names_and_shapes():
    bi = Bidirectional(LSTM(16, name="enc"))
    model = Sequential([Input((10, 8)), bi, Dense(1)])
    assert bi.count_params() == 2 * 4 * (8 * 16 + 16 * 16 + 16)
    assert bi.output_shape == (32,)
    assert [w.name for w in bi.weights] == [f"{side}_enc/{w}" for side in ("forward", "backward")
                                            for w in ("kernel", "recurrent_kernel", "bias")]
    assert bi.forward_layer.go_backwards is False and bi.backward_layer.go_backwards is True
    assert model.count_params() == bi.count_params() + 33


def test_copies_of_an_automatically_named_layer_have_stable_paths(tmp_path):
    def build():
        return Sequential([Input((4, 3)), Bidirectional(LSTM(2)), Dense(1)])

    model = build()
    LSTM(2), LSTM(2)  # more layers built in between: automatic names move on
    again = build()
    assert list(model.variable_paths().values()) == list(again.variable_paths().values())
    model.save_weights(tmp_path / "w.safetensors")
    again.load_weights(tmp_path / "w.safetensors")
    for a, b in zip(model.get_weights(), again.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_bad_arguments():
    with pytest.raises(ValueError, match=re.escape(
            "Invalid value for argument `merge_mode` of Bidirectional: expected one of 'concat', 'sum', 'mul', 'ave', "
            "None. Received: merge_mode='average'. Did you mean 'ave'?")):
        Bidirectional(LSTM(2), merge_mode="average")
    with pytest.raises(ValueError, match=re.escape(
            "Argument `layer` of Bidirectional must be a recurrent layer (SimpleRNN, LSTM, GRU). Received: layer=")):
        Bidirectional(Dense(2))
    with pytest.raises(ValueError, match=re.escape(
            "Bidirectional: the forward and backward layers must have opposite `go_backwards`; both have "
            "go_backwards=False.")):
        Bidirectional(LSTM(2), backward_layer=LSTM(2))
    with pytest.raises(ValueError, match=re.escape(
            "Bidirectional: the forward and backward layers must have the same `return_sequences`; received False "
            "and True.")):
        Bidirectional(LSTM(2), backward_layer=LSTM(2, go_backwards=True, return_sequences=True))
    with pytest.raises(ValueError, match=re.escape("Argument `layer` of TimeDistributed must be a layer.")):
        TimeDistributed("dense")
    with pytest.raises(ValueError, match=re.escape(
            "Input 0 of layer 'td' is incompatible with the layer: expected at least 3 dimensions (batch, timesteps, "
            "...). Full shape received: (None, 4)")):
        Sequential([Input((4,)), TimeDistributed(Dense(2), name="td")])


def test_save_and_load_round_trip(tmp_path):
    regulab.set_random_seed(0)
    model = Sequential([Input((6, 4)), Bidirectional(LSTM(3, return_sequences=True), merge_mode="sum"),
                        TimeDistributed(Dense(2)), Bidirectional(SimpleRNN(2), backward_layer=SimpleRNN(
                            2, go_backwards=True, activation="relu")), Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    path = tmp_path / "bi.regulab"
    model.save(path)
    loaded = load_model(path)
    x = _x((2, 6, 4)).numpy()
    torch.testing.assert_close(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert loaded.layers[2].backward_layer.get_config()["activation"] == "relu"
    assert [w.name for w in loaded.weights] == [w.name for w in model.weights]


def test_bidirectional_trains_in_stacked_variants():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 5, 3)).astype("float32")
    y = (x[:, :, 0].sum(1) > 0).astype("float32")

    def build(seed):
        regulab.set_random_seed(seed)
        m = Sequential([Input((5, 3)), Bidirectional(GRU(4)), Dense(1, activation="sigmoid")])
        m.compile(optimizer="adam", loss="binary_crossentropy")
        return m

    stacked = [build(0), build(1)]
    regulab.lab.fit_variants(stacked, x, y, seeds=[0, 1], epochs=1, batch_size=32)
    alone = build(1)
    alone.fit(x, y, epochs=1, batch_size=32, seed=1, verbose=0)
    for a, b in zip(alone.get_weights(), stacked[1].get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_time_distributed_applies_the_layer_to_every_step():
    dense = Dense(3)
    td = TimeDistributed(dense)
    x = _x((2, 5, 4))
    out = td(x)
    assert out.shape == (2, 5, 3) and td.count_params() == 15
    torch.testing.assert_close(out, torch.stack([dense(x[:, t]) for t in range(5)], 1))
    mask = torch.tensor([[1, 1, 0, 0, 0], [1, 1, 1, 1, 1]], dtype=torch.bool)
    assert td.compute_mask(x, mask) is mask


def test_time_distributed_dropout_and_masked_sequences_in_a_model():
    regulab.set_random_seed(0)
    model = Sequential([Input((7,), dtype="int64"), Embedding(10, 4, mask_zero=True),
                        LSTM(5, return_sequences=True), TimeDistributed(Dropout(0.5)),
                        TimeDistributed(Dense(3, activation="softmax"))])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    x = np.random.default_rng(0).integers(1, 10, size=(16, 7))
    x[:, 5:] = 0
    model.fit(x, np.random.default_rng(1).integers(0, 3, size=(16, 7)), epochs=1, verbose=0)
    assert model.predict(x, verbose=0).shape == (16, 7, 3)


# -- Keras 3's tests -------------------------------------------------------------------------------

def test_keras_bidirectional_basics():
    bi = Bidirectional(SimpleRNN(4))
    assert tuple(bi(np.zeros((3, 2, 4), "float32")).shape) == (3, 8) and len(bi.trainable_weights) == 6
    bi = Bidirectional(SimpleRNN(4), backward_layer=SimpleRNN(4, go_backwards=True), merge_mode="sum")
    assert tuple(bi(np.zeros((3, 2, 4), "float32")).shape) == (3, 4) and len(bi.trainable_weights) == 6


@pytest.mark.parametrize("scan", [False, True], ids=["fused", "scan"])
def test_keras_bidirectional_correctness(scan):
    extra = {"activation": torch.tanh} if scan else {}
    x = seq(2, 3, 4)
    forward = SimpleRNN(2, **CONSTANTS, **extra)
    close(Bidirectional(forward)(x), [[0.39687276, 0.39687276, 0.10004295, 0.10004295],
                                      [0.7237238, 0.7237238, 0.53391594, 0.53391594]])
    close(Bidirectional(forward, merge_mode="ave")(x), [[0.24845785, 0.24845785], [0.6288199, 0.6288199]])
    out1, out2 = Bidirectional(forward, merge_mode=None)(x)
    close(out1, [[0.39687276, 0.39687276], [0.7237238, 0.7237238]])
    close(out2, [[0.10004295, 0.10004295], [0.53391594, 0.53391594]])
    backward = SimpleRNN(2, kernel_initializer=constant(0.03), recurrent_initializer=constant(0.02),
                         bias_initializer=constant(0.01), go_backwards=True, **extra)
    close(Bidirectional(forward, backward_layer=backward, merge_mode="mul")(x),
          [[0.08374989, 0.08374989], [0.6740834, 0.6740834]])
    gru = GRU(2, return_sequences=True, **CONSTANTS, **extra)
    close(Bidirectional(gru, merge_mode="sum")(x), np.repeat(np.array(
        [[[0.20937867], [0.34462988], [0.40290534]], [[0.59829646], [0.6734641], [0.6479671]]]), 2, axis=-1))


def test_keras_bidirectional_pass_initial_state():
    state = [seq(2, 2) * k for k in (1, 2, 3, 4)]
    close(Bidirectional(LSTM(2, **CONSTANTS))(seq(2, 4, 3), initial_state=state),
          [[0.20794602, 0.4577124, 0.14046375, 0.48191673], [0.6682636, 0.6711909, 0.60943645, 0.60950446]])


def test_keras_bidirectional_masking():
    mask = np.array([[True, True, False, True], [True, False, False, True]])
    close(Bidirectional(GRU(2, **CONSTANTS))(seq(2, 4, 3), mask=mask),
          [[0.19393763, 0.19393763, 0.11669192, 0.11669192], [0.30818558, 0.30818558, 0.28380975, 0.28380975]])


def test_keras_bidirectional_return_state():
    output, h1, c1, h2, c2 = Bidirectional(LSTM(2, return_state=True, **CONSTANTS))(seq(2, 4, 3))
    close(output, [[0.1990008, 0.1990008, 0.12659755, 0.12659755], [0.52335435, 0.52335435, 0.44717982, 0.44717982]])
    close(h1, [[0.1990008, 0.1990008], [0.52335435, 0.52335435]])
    close(c1, [[0.35567185, 0.35567185], [1.0492687, 1.0492687]])
    close(h2, [[0.12659755, 0.12659755], [0.44717982, 0.44717982]])
    close(c2, [[0.2501858, 0.2501858], [0.941473, 0.941473]])


def test_keras_bidirectional_output_shape():
    x = np.array([[[101, 202], [303, 404]]], dtype="float32")
    for merge_mode in ["ave", "concat", "mul", "sum", None]:
        layer = Bidirectional(LSTM(2, return_state=True), merge_mode=merge_mode)
        output = layer(x)
        shapes = layer.compute_output_shape((2, 2))
        assert [tuple(o.shape) for o in output] == [(1, *s) for s in shapes]
    for merge_mode in ["concat", "ave", "mul", "sum"]:
        layer = Bidirectional(LSTM(2), merge_mode=merge_mode)
        assert tuple(layer(x).shape) == (1, *layer.compute_output_shape((2, 2)))
    layer = Bidirectional(LSTM(2), merge_mode=None)
    assert [tuple(o.shape) for o in layer(x)] == [(1, *s) for s in layer.compute_output_shape((2, 2))]


def test_keras_time_distributed_basics_and_build():
    td = TimeDistributed(Dense(1, use_bias=False))
    assert tuple(td(np.zeros((3, 2, 4), "float32")).shape) == (3, 2, 1) and len(td.trainable_weights) == 1
    outputs = TimeDistributed(Conv2D(64, (3, 3)))(Input((10, 128, 128, 3), batch_size=32))
    assert outputs.shape == (None, 10, 126, 126, 64)


def test_keras_time_distributed_correctness():
    td = TimeDistributed(Dense(1, kernel_initializer=constant(0.01), use_bias=False))
    close(td(seq(3, 2, 4)), [[[0.06], [0.22]], [[0.38], [0.53999996]], [[0.7], [0.86]]])


def test_keras_time_distributed_masking():
    class MaskedDense(Dense):
        takes_mask = True

        def call(self, x, ctx, mask=None):
            out = super().call(x, ctx)
            return out if mask is None else out * mask[:, None].to(out.dtype)

    td = TimeDistributed(MaskedDense(1, kernel_initializer=constant(0.01), use_bias=False))
    mask = np.array([[False, True], [True, False], [True, True]])
    close(td(seq(3, 2, 4), mask=mask), [[[0], [0.22]], [[0.38], [0]], [[0.7], [0.86]]])


@pytest.mark.parametrize("mask_shape", [(4, 6), (5, 5), (5, 6), (4, 6, 2)])
def test_keras_time_distributed_mask_validation(mask_shape):
    td = TimeDistributed(Dense(5, activation="softmax"))
    with pytest.raises(ValueError, match=re.escape("The `mask` passed to the `TimeDistributed` layer has a shape")):
        td(np.zeros((4, 5, 3), "float32"), mask=np.ones(mask_shape, bool))
    for good in [(4, 5), (4, 5, 1), (4, 5, 2)]:
        assert tuple(td(np.zeros((4, 5, 3), "float32"), mask=np.ones(good, bool)).shape) == (4, 5, 5)
    assert tuple(td(np.zeros((4, 5, 3), "float32"), mask=None).shape) == (4, 5, 5)
