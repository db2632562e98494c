"""SimpleRNN, LSTM and GRU against PyTorch's modules and a NumPy transcription of Keras's equations.

The fused path (PyTorch's kernels) and the scan path (the Python time loop, forced here with
``activation=torch.tanh``, which is not the registered 'tanh') must give the same outputs and
gradients on the same weights.
"""
import re

import numpy as np
import pytest
import torch
from torch import nn

import regulab
from regulab import regularizers
from regulab.layers import GRU, LSTM, Dense, Embedding, Input, SimpleRNN
from regulab.models import Sequential, load_model

B, T, F, U = 3, 6, 4, 5


def _x(seed=0, shape=(B, T, F)):
    return torch.from_numpy(np.random.default_rng(seed).standard_normal(shape).astype("float32"))


def _call(layer, x, mask=None, training=False, key=0, states=None):
    inputs = x if states is None else [x, *states]
    layer.build_for([tuple(t.shape[1:]) for t in inputs] if states is not None else tuple(x.shape[1:]))
    return layer.call(inputs, layer.live_context(training=training, key=key), mask=mask)


def _randomize(layer, seed=1):
    rng = np.random.default_rng(seed)
    layer.set_weights([rng.uniform(-0.5, 0.5, w.shape).astype("float32") for w in layer.get_weights()])


def _np_sigmoid(z):
    return 1 / (1 + np.exp(-z))


def keras_reference(kind, x, weights, mask=None, go_backwards=False, zero_output=False, states=None,
                    reset_after=True, in_masks=None, rec_masks=None):
    """Keras's recurrent layer in NumPy: ``(output sequence, final states)``. ``in_masks`` and
    ``rec_masks`` are the dropout masks, one per gate ((gates, batch, n)) or one for all."""
    x = np.asarray(x, dtype=np.float64)
    k, r = (np.asarray(w, np.float64) for w in weights[:2])
    b = np.asarray(weights[2], np.float64) if len(weights) > 2 else None
    n_batch, steps, _ = x.shape
    u = r.shape[0]
    gates = k.shape[1] // u
    mask = np.ones((n_batch, steps), bool) if mask is None else np.asarray(mask, bool)
    if go_backwards:
        x, mask = x[:, ::-1], mask[:, ::-1]
    n_states = 2 if kind == "lstm" else 1
    st = [np.zeros((n_batch, u)) for _ in range(n_states)] if states is None else [np.asarray(s, np.float64)
                                                                                  for s in states]

    def per_gate(v, m, g):
        if m is None:
            return v
        m = np.asarray(m, np.float64)
        return v * (m[g] if m.ndim == 3 else m)

    def proj(v, w, m, g):
        return per_gate(v, m, g) @ w[:, g * u:(g + 1) * u]

    b_in = None if b is None else (b[0] if b.ndim == 2 else b)
    b_rec = b[1] if b is not None and b.ndim == 2 else np.zeros(gates * u)
    prev, outs = np.zeros((n_batch, u)), []
    for t in range(steps):
        xt, h = x[:, t], st[0]
        xg = [proj(xt, k, in_masks, g) + (0 if b_in is None else b_in[g * u:(g + 1) * u]) for g in range(gates)]
        if kind == "simple":
            new = [np.tanh(xg[0] + proj(h, r, rec_masks, 0) + b_rec[:u])]
        elif kind == "lstm":
            i, f, c, o = (_np_sigmoid(xg[g] + proj(h, r, rec_masks, g)) if g != 2 else
                          np.tanh(xg[g] + proj(h, r, rec_masks, g)) for g in range(4))
            c_new = f * st[1] + i * c
            new = [o * np.tanh(c_new), c_new]
        else:
            z = _np_sigmoid(xg[0] + proj(h, r, rec_masks, 0) + b_rec[:u])
            rr = _np_sigmoid(xg[1] + proj(h, r, rec_masks, 1) + b_rec[u:2 * u])
            if reset_after:
                hh = np.tanh(xg[2] + rr * (proj(h, r, rec_masks, 2) + b_rec[2 * u:]))
            else:
                hh = np.tanh(xg[2] + (rr * per_gate(h, rec_masks, 2)) @ r[:, 2 * u:])
            new = [z * h + (1 - z) * hh]
        m = mask[:, t, None]
        st = [np.where(m, n_, s) for n_, s in zip(new, st)]
        prev = np.where(m, new[0], 0.0 if zero_output else prev)
        outs.append(prev)
    return np.stack(outs, 1), st


def _torch_module(kind, layer):
    """The torch module computing ``layer`` (Keras weights converted: transposed; GRU z, r, h ->
    r, z, n; the LSTM's single bias as torch's input bias)."""
    k, r, *b = layer.get_weights()
    cls = {"lstm": nn.LSTM, "gru": nn.GRU, "simple": nn.RNN}[kind]
    mod = cls(k.shape[0], layer.units, batch_first=True, bias=bool(b))

    def order(w):
        if kind != "gru":
            return w
        u = layer.units
        return np.concatenate([w[..., u:2 * u], w[..., :u], w[..., 2 * u:]], axis=-1)

    with torch.no_grad():
        mod.weight_ih_l0.copy_(torch.from_numpy(order(k).T.copy()))
        mod.weight_hh_l0.copy_(torch.from_numpy(order(r).T.copy()))
        if b:
            bb = order(b[0])
            mod.bias_ih_l0.copy_(torch.from_numpy(bb[0] if bb.ndim == 2 else bb))
            mod.bias_hh_l0.copy_(torch.from_numpy(bb[1]) if bb.ndim == 2 else torch.zeros(bb.shape))
    return mod


LAYERS = {"lstm": LSTM, "gru": GRU, "simple": SimpleRNN}


@pytest.mark.parametrize("kind", ["lstm", "gru", "simple"])
@pytest.mark.parametrize("scan", [False, True], ids=["fused", "scan"])
@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("use_bias", [True, False])
def test_matches_torch_modules(kind, scan, go_backwards, use_bias):
    layer = LAYERS[kind](U, return_sequences=True, return_state=True, go_backwards=go_backwards,
                         use_bias=use_bias, **({"activation": torch.tanh} if scan else {}))
    x = _x()
    layer.build_for((T, F))
    _randomize(layer)
    seq, *states = _call(layer, x)
    ref_seq, ref_states = _torch_module(kind, layer)(x.flip(1) if go_backwards else x)
    torch.testing.assert_close(seq, ref_seq, rtol=1e-5, atol=1e-5)
    ref_states = ref_states if kind == "lstm" else (ref_states,)
    for s, ref in zip(states, ref_states):
        torch.testing.assert_close(s, ref[0], rtol=1e-5, atol=1e-5)
    assert len(states) == (2 if kind == "lstm" else 1)
    last = LAYERS[kind](U, go_backwards=go_backwards, use_bias=use_bias)
    last.build_for((T, F))
    last.set_weights(layer.get_weights())
    torch.testing.assert_close(_call(last, x), seq[:, -1], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("use_bias", [True, False])
def test_gru_reset_before_matches_keras_equations(use_bias):
    layer = GRU(U, reset_after=False, return_sequences=True, use_bias=use_bias)
    layer.build_for((T, F))
    assert layer.bias is None or layer.bias.shape == (3 * U,)
    _randomize(layer)
    seq = _call(layer, _x())
    ref, _ = keras_reference("gru", _x(), layer.get_weights(), reset_after=False)
    np.testing.assert_allclose(seq.numpy(), ref, rtol=1e-5, atol=1e-5)


MASKS = {
    "right_padded": [[1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 1], [1, 0, 0, 0, 0, 0]],
    "holes": [[1, 0, 1, 1, 0, 1], [0, 0, 1, 1, 1, 1], [1, 1, 0, 0, 0, 0]],
    "empty_row": [[1, 1, 1, 0, 0, 0], [0, 0, 0, 0, 0, 0], [1, 1, 1, 1, 1, 0]],
}


@pytest.mark.parametrize("kind", ["lstm", "gru", "simple"])
@pytest.mark.parametrize("mask_name", list(MASKS))
@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("zero_output", [False, True])
@pytest.mark.parametrize("scan", [False, True], ids=["fused", "scan"])
def test_masks_follow_keras(kind, mask_name, go_backwards, zero_output, scan):
    mask = torch.tensor(MASKS[mask_name], dtype=torch.bool)
    layer = LAYERS[kind](U, return_sequences=True, return_state=True, go_backwards=go_backwards,
                         zero_output_for_mask=zero_output, **({"activation": torch.tanh} if scan else {}))
    layer.build_for((T, F))
    _randomize(layer)
    init = [_x(7 + i, (B, U)) for i in range(2 if kind == "lstm" else 1)]
    seq, *states = _call(layer, _x(), mask=mask, states=init)
    ref_seq, ref_states = keras_reference(kind, _x(), layer.get_weights(), mask.numpy(), go_backwards, zero_output,
                                          states=[s.numpy() for s in init])
    np.testing.assert_allclose(seq.numpy(), ref_seq, rtol=1e-5, atol=1e-5)
    for s, ref in zip(states, ref_states):
        np.testing.assert_allclose(s.numpy(), ref, rtol=1e-5, atol=1e-5)


def test_compute_mask_returns_the_mask_only_for_sequences():
    mask = torch.ones(2, 3, dtype=torch.bool)
    assert LSTM(2, return_sequences=True).compute_mask(None, mask) is mask
    assert LSTM(2).compute_mask(None, mask) is None
    assert LSTM(2, return_sequences=True, return_state=True).compute_mask(None, mask) == [mask, None, None]


@pytest.mark.parametrize("kind", ["lstm", "gru", "simple"])
@pytest.mark.parametrize("masked", [False, True])
def test_fused_and_scan_gradients_agree(kind, masked):
    mask = torch.tensor(MASKS["right_padded"], dtype=torch.bool) if masked else None
    grads = []
    for activation in ("tanh", torch.tanh):
        layer = LAYERS[kind](U, activation=activation, return_sequences=True, go_backwards=True)
        layer.build_for((T, F))
        _randomize(layer)
        x = _x().requires_grad_(True)
        ctx = layer.live_context()
        leaves = [ctx.values[p] for p in layer.variable_paths().values()]
        for t in leaves:
            t.requires_grad_(True)
        out = layer.call(x, ctx, mask=mask)
        grads.append(torch.autograd.grad((out * torch.arange(out.numel()).reshape(out.shape)).sum(), [x, *leaves]))
    for a, b in zip(*grads):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("kind", ["lstm", "gru", "simple"])
def test_under_vmap_the_scan_path_matches_each_variant(kind):
    from regulab.layers import CallContext

    mask = torch.tensor(MASKS["right_padded"], dtype=torch.bool)
    layer = LAYERS[kind](U, return_sequences=True)
    layer.build_for((T, F))
    paths, weights = layer.variable_paths(), []
    for seed in (1, 2):
        _randomize(layer, seed)
        weights.append({p: v.value.clone() for v, p in paths.items()})
    stacked = {p: torch.stack([w[p] for w in weights]) for p in weights[0]}
    out = torch.func.vmap(lambda values: layer.call(_x(), CallContext(values, paths), mask=mask))(stacked)
    for v, w in enumerate(weights):
        torch.testing.assert_close(out[v], layer.call(_x(), CallContext(w, paths), mask=mask), rtol=1e-5, atol=1e-5)


def test_unit_forget_bias_sets_the_forget_gate_to_one():
    layer = LSTM(3)
    layer.build_for((2, 4))
    np.testing.assert_array_equal(layer.get_weights()[2], [0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0])
    plain = LSTM(3, unit_forget_bias=False)
    plain.build_for((2, 4))
    np.testing.assert_array_equal(plain.get_weights()[2], np.zeros(12))


def test_weights_have_keras_names_shapes_and_counts():
    lstm = LSTM(64)
    lstm.build_for((10, 32))
    assert [(w.name, w.shape) for w in lstm.weights] == [
        (f"{lstm.name}/kernel", (32, 256)), (f"{lstm.name}/recurrent_kernel", (64, 256)), (f"{lstm.name}/bias", (256,))]
    assert lstm.count_params() == 4 * (32 * 64 + 64 * 64 + 64) == 24832
    gru = GRU(16)
    gru.build_for((10, 8))
    assert gru.bias.shape == (2, 48) and gru.count_params() == 3 * (8 * 16 + 16 * 16 + 2 * 16)
    before = GRU(16, reset_after=False)
    before.build_for((10, 8))
    assert before.count_params() == 3 * (8 * 16 + 16 * 16 + 16)
    rnn = SimpleRNN(7)
    rnn.build_for((None, 3))
    assert rnn.count_params() == 3 * 7 + 7 * 7 + 7


def test_stacked_grus_and_embedding_lstm_shapes_and_counts():
    stacked = Sequential([Input((20, 8)), GRU(32, return_sequences=True), GRU(16), Dense(1)])
    assert [layer.output_shape for layer in stacked.layers] == [(20, 32), (16,), (1,)]  # without the batch axis
    assert stacked.count_params() == 3 * (8 * 32 + 32 * 32 + 64) + 3 * (32 * 16 + 16 * 16 + 32) + 17
    text = Sequential([Input((50,), dtype="int64"), Embedding(1000, 32), LSTM(64), Dense(1, activation="sigmoid")])
    assert text.count_params() == 32000 + 24832 + 65  # Keras's summary for this classifier


def test_dropout_uses_one_mask_per_sequence_on_inputs():
    # linear cell, identity kernel, no recurrence: h_t = x_t * mask
    layer = SimpleRNN(F, activation="linear", use_bias=False, dropout=0.5, return_sequences=True)
    layer.build_for((T, F))
    layer.set_weights([np.eye(F), np.zeros((F, F))])
    out = _call(layer, torch.ones(64, T, F), training=True)
    assert torch.equal(out, out[:, :1].expand_as(out))
    assert set(out.unique().tolist()) == {0.0, 2.0}
    assert not torch.equal(out[0], out[1]) or not torch.equal(out[1], out[2])
    assert torch.equal(_call(layer, torch.ones(64, T, F)), torch.ones(64, T, F))  # inference: no dropout


def test_recurrent_dropout_uses_the_same_mask_at_every_step():
    # h_t = x_t + (h_{t-1} * m) @ I with x = (1, 0, 0, ...): h_t = m^(t-1), so with one mask
    # the units alive at step 2 stay alive, with values 2^(t-1)
    layer = SimpleRNN(8, activation="linear", use_bias=False, recurrent_dropout=0.5, return_sequences=True)
    layer.build_for((T, 8))
    layer.set_weights([np.eye(8), np.eye(8)])
    x = torch.zeros(32, T, 8)
    x[:, 0] = 1.0
    out = _call(layer, x, training=True)
    alive = out[:, 1] != 0
    for t in range(2, T):
        assert torch.equal(out[:, t] != 0, alive)
        torch.testing.assert_close(out[:, t][alive], torch.full((int(alive.sum()),), 2.0 ** t))


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_recurrent_dropout_draws_one_mask_per_gate_as_keras(kind):
    layer = LAYERS[kind](U, dropout=0.3, recurrent_dropout=0.4, return_sequences=True)
    layer.build_for((T, F))
    _randomize(layer)
    x = _x()
    out = _call(layer, x, training=True, key=5)
    in_masks, rec_masks = layer._dropout_masks(layer.live_context(training=True, key=5), B, F, x.device)
    gates = layer.gates
    assert in_masks.shape == (gates, B, F) and rec_masks.shape == (gates, B, U)
    assert not torch.equal(in_masks[0], in_masks[1])
    ref, _ = keras_reference(kind, x, layer.get_weights(), in_masks=in_masks.numpy(), rec_masks=rec_masks.numpy())
    np.testing.assert_allclose(out.detach().numpy(), ref, rtol=1e-5, atol=1e-5)


def test_input_dropout_alone_stays_on_the_fused_kernel_with_one_mask():
    layer = LSTM(U, dropout=0.5, return_sequences=True)
    layer.build_for((T, F))
    _randomize(layer)
    x = _x()
    out = _call(layer, x, training=True, key=3)
    in_mask, rec = layer._dropout_masks(layer.live_context(training=True, key=3), B, F, x.device)
    assert rec is None and in_mask.shape == (B, F)
    ref, _ = keras_reference("lstm", x, layer.get_weights(), in_masks=in_mask.numpy())
    np.testing.assert_allclose(out.detach().numpy(), ref, rtol=1e-5, atol=1e-5)


def test_initial_state_in_a_functional_encoder_decoder():
    enc_in, dec_in = Input((5, 3)), Input((4, 2))
    _, h, c = LSTM(6, return_state=True)(enc_in)
    out = LSTM(6, return_sequences=True)(dec_in, initial_state=[h, c])
    model = regulab.models.Model([enc_in, dec_in], Dense(2)(out))
    assert model.output_shape == (4, 2)
    pred = model.predict([np.ones((3, 5, 3), "float32"), np.ones((3, 4, 2), "float32")], verbose=0)
    assert pred.shape == (3, 4, 2)


def test_activity_regularizer_penalises_every_output():
    layer = LSTM(3, return_state=True, activity_regularizer=regularizers.l2(0.5))
    x = _x(shape=(4, 2, 3))
    layer.build_for((2, 3))
    ctx = layer.live_context()
    out, h, c = layer.call(x, ctx)
    expected = [0.5 * (t ** 2).sum() / 4 for t in (out, h, c)]
    torch.testing.assert_close(torch.stack(ctx.penalties), torch.stack(expected))


def test_weight_regularizers_are_model_losses():
    model = Sequential([Input((2, 4)), LSTM(3, kernel_regularizer="l2", recurrent_regularizer="l2",
                                            bias_regularizer="l1")])
    assert len(model.losses) == 3


@pytest.mark.parametrize("cls", [SimpleRNN, LSTM, GRU])
def test_bad_arguments_and_inputs(cls):
    where = cls.__name__
    with pytest.raises(ValueError, match=re.escape(
            f"Invalid value for argument `units` of {where}: expected an integer in [1, inf). Received: units=0")):
        cls(0)
    with pytest.raises(ValueError, match=re.escape(
            f"Invalid value for argument `stateful` of {where}: expected False (stateful layers are not supported: "
            f"return the states with return_state=True and pass them back with initial_state=...). "
            f"Received: stateful=True")):
        cls(4, stateful=True)
    with pytest.raises(ValueError, match=re.escape(
            f"Invalid value for argument `recurrent_dropout` of {where}: expected a float in [0, 1). "
            f"Received: recurrent_dropout=1.0")):
        cls(4, recurrent_dropout=1.0)
    layer = cls(4, name="rnn")
    with pytest.raises(ValueError, match=re.escape(
            "Input 0 of layer 'rnn' is incompatible with the layer: expected a 3-D input (batch, timesteps, "
            "features), found ndim=2. Full shape received: (None, 8)")):
        layer(np.zeros((2, 8), "float32"))
    with pytest.raises(ValueError, match=re.escape(
            "Input 0 of layer 'rnn' is incompatible with the layer: expected a 3-D input")):
        Sequential([Input((8,)), cls(4, name="rnn")])


def test_wrong_initial_states_are_errors():
    layer = LSTM(4, name="dec")
    with pytest.raises(ValueError, match=re.escape("Layer 'dec' takes 2 initial states (h, c); received 1.")):
        layer(np.zeros((2, 3, 5), "float32"), initial_state=[np.zeros((2, 4), "float32")])
    with pytest.raises(ValueError, match=re.escape(
            "Layer 'dec': an initial state must have shape (batch, 4); received shape (None, 3).")):
        layer(np.zeros((2, 3, 5), "float32"), initial_state=[np.zeros((2, 3), "float32")] * 2)


def test_wrong_mask_shape_is_an_error():
    layer = GRU(2, name="g")
    with pytest.raises(ValueError, match=re.escape(
            "Layer 'g': the mask must have shape (batch, timesteps) = (2, 3); received shape (2, 4).")):
        layer(np.zeros((2, 3, 5), "float32"), mask=np.ones((2, 4), bool))


def test_save_and_load_round_trip(tmp_path):
    regulab.set_random_seed(0)
    model = Sequential([Input((6, 3)), LSTM(4, return_sequences=True, dropout=0.2, kernel_regularizer="l2"),
                        GRU(3, reset_after=False, go_backwards=True), Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    x = _x(shape=(5, 6, 3)).numpy()
    path = tmp_path / "rnn.regulab"
    model.save(path)
    loaded = load_model(path)
    assert loaded.layers[0].get_config() == model.layers[0].get_config()
    torch.testing.assert_close(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def _sign_task(n=256, steps=8, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, steps, 2)).astype("float32")
    return x, (x[:, :, 0].sum(1) > 0).astype("float32")


def _sign_model(seed, steps=8, **kwargs):
    regulab.set_random_seed(seed)
    model = Sequential([Input((steps, 2)), LSTM(6, **kwargs), Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return model


def test_compiled_fit_matches_eager_fit():
    # compiled, the layer runs the scan path; eagerly, PyTorch's fused kernel (with the same dropout mask)
    x, y = _sign_task(32, steps=3)
    eager, compiled = _sign_model(0, steps=3, dropout=0.2), _sign_model(0, steps=3, dropout=0.2)
    compiled.compile(optimizer="adam", loss="binary_crossentropy", jit_compile=True)
    eager.fit(x, y, epochs=1, batch_size=16, seed=1, verbose=0)
    compiled.fit(x, y, epochs=1, batch_size=16, seed=1, verbose=0)
    for a, b in zip(eager.get_weights(), compiled.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_stacked_variants_match_separate_fits():
    x, y = _sign_task(96)
    stacked = [_sign_model(s, recurrent_dropout=0.1) for s in (0, 1)]
    regulab.lab.fit_variants(stacked, x, y, seeds=[3, 4], epochs=1, batch_size=32)
    for s, fit_seed, model in zip((0, 1), (3, 4), stacked):
        alone = _sign_model(s, recurrent_dropout=0.1)
        alone.fit(x, y, epochs=1, batch_size=32, seed=fit_seed, verbose=0)
        for a, b in zip(alone.get_weights(), model.get_weights()):
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_lstm_learns_which_token_comes_first():
    rng = np.random.default_rng(0)
    n, steps = 1200, 10
    x = rng.integers(3, 12, size=(n, steps))
    first, second = (np.argsort(rng.random((n, steps)), axis=1)[:, :2]).T
    x[np.arange(n), first], x[np.arange(n), second] = 1, 2
    y = (first < second).astype("float32")
    regulab.set_random_seed(0)
    model = Sequential([Input((steps,), dtype="int64"), Embedding(12, 8), LSTM(16), Dense(1, activation="sigmoid")])
    model.compile(optimizer=regulab.optimizers.Adam(0.01), loss="binary_crossentropy", metrics=["accuracy"])
    model.fit(x[:1000], y[:1000], epochs=6, batch_size=32, seed=0, verbose=0)
    _, accuracy = model.evaluate(x[1000:], y[1000:], verbose=0)
    assert accuracy > 0.95
