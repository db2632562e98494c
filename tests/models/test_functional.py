"""The functional API: graphs of layers from Input tensors, against Sequential, closed forms and
Keras 3's own tests (keras/src/models/functional_test.py, model_test.py)."""
import re

import numpy as np
import pytest
import torch

import regulab
from regulab.layers import (Add, BatchNormalization, Dense, Dropout, Input, InputLayer, Lambda,
                            concatenate)
from regulab.models import Model, Sequential, load_model
from regulab.models._functional import Functional


def _seeded(seed=0):
    regulab.set_random_seed(seed)


def test_model_with_inputs_is_a_functional_model():
    x = Input((3,))
    model = Model(x, Dense(2)(x), name="basic")
    assert isinstance(model, Functional) and isinstance(model, Model) and model.name == "basic"


def test_basic_flow_multi_input():
    # Keras: test_basic_flow_multi_input
    a, b = Input((3,), batch_size=2), Input((3,), batch_size=2)
    out = Dense(4)(Dense(5)(Add()([a, b])))
    model = Model([a, b], out)
    assert model([np.ones((2, 3)), np.ones((2, 3))]).shape == (2, 4)
    assert model([Input((3,)), Input((3,))]).shape == (None, 4)


def test_basic_flow_multi_output():
    x = Input((3,))
    model = Model(x, [Dense(4)(x), Dense(5)(x)])
    out = model(np.ones((2, 3)))
    assert isinstance(out, list) and [tuple(o.shape) for o in out] == [(2, 4), (2, 5)]
    sym = model(Input((3,)))
    assert [s.shape for s in sym] == [(None, 4), (None, 5)]


def test_dict_inputs_are_matched_by_name():
    a, b = Input((3,), name="a"), Input((4,), name="b")
    model = Model({"a": a, "b": b}, Dense(2)(concatenate([a, b])))
    xa, xb = np.random.rand(5, 3), np.random.rand(5, 4)
    np.testing.assert_allclose(model.predict({"b": xb, "a": xa}, verbose=0), model.predict([xa, xb], verbose=0))
    with pytest.raises(ValueError, match=re.escape("Argument `x` names 'c', which is not one of the model's "
                                                   "inputs: 'a', 'b'.")):
        model.predict({"a": xa, "c": xb}, verbose=0)


def test_functional_equals_sequential_in_outputs_and_gradients():
    _seeded(1)
    layers = [Dense(16, activation="relu"), Dropout(0.3), BatchNormalization(), Dense(3, activation="softmax")]
    seq = Sequential([Input((8,)), *layers])
    x = Input((8,))
    h = x
    for layer in layers:
        h = layer(h)
    fun = Model(x, h)
    assert fun.weights == seq.weights  # the very same variables
    data = torch.randn(32, 8)
    for training in (False, True):
        key = 7
        a = seq.forward(data, seq.live_context(training=training, key=key))
        b = fun.forward(data, fun.live_context(training=training, key=key))
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    # gradients of one training step, by autograd through each model's own forward
    grads = []
    for model in (seq, fun):
        ctx = model.live_context(training=True, key=3)
        params = [ctx.values[ctx.paths[v]].detach().requires_grad_() for v in model.trainable_weights]
        ctx.values.update({ctx.paths[v]: p for v, p in zip(model.trainable_weights, params)})
        loss = model.forward(data, ctx).square().sum()
        grads.append(torch.autograd.grad(loss, params))
    for ga, gb in zip(*grads):
        torch.testing.assert_close(ga, gb, rtol=0, atol=0)


def test_functional_and_sequential_fits_are_identical():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((64, 6)).astype("float32"), rng.integers(0, 2, 64)
    results = []
    for kind in ("seq", "fun"):
        _seeded(2)
        layers = [Dense(8, activation="relu"), Dropout(0.2), Dense(1, activation="sigmoid")]
        if kind == "seq":
            model = Sequential([Input((6,)), *layers])
        else:
            inp = Input((6,))
            model = Model(inp, layers[2](layers[1](layers[0](inp))))
        model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
        h = model.fit(x, y, epochs=3, batch_size=16, seed=5, verbose=0)
        results.append((model.get_weights(), h.history))
    for a, b in zip(results[0][0], results[1][0]):
        np.testing.assert_array_equal(a, b)
    assert results[0][1] == results[1][1]


def test_parameter_counts_follow_keras_formulas():
    # multi-input and multi-output: Dense(u) on n inputs has n*u + u parameters
    a, b = Input((3,)), Input((5,))
    shared = Dense(4)
    ha, hb = shared(Dense(5)(a)), shared(b)  # the shared layer sees 5 features both times
    out1, out2 = Dense(2)(concatenate([ha, hb])), Dense(1)(hb)
    model = Model([a, b], [out1, out2])
    assert model.count_params() == (3 * 5 + 5) + (5 * 4 + 4) + (8 * 2 + 2) + (4 * 1 + 1)
    # nested: a model used as a layer counts its weights once, however often it is called
    inner_in = Input((4,))
    inner = Model(inner_in, Dense(3)(inner_in), name="inner")
    x = Input((4,))
    outer = Model(x, Add()([inner(x), inner(x)]))
    assert outer.count_params() == 4 * 3 + 3 == inner.count_params()
    # BatchNormalization: 4 per feature, 2 of them trainable
    bx = Input((6,))
    bn = Model(bx, BatchNormalization()(bx))
    assert bn.count_params() == 24 and sum(v.value.numel() for v in bn.trainable_weights) == 12


def test_layer_getters_and_layers_order():
    # Keras: test_layer_getters (InputLayers are layers of a functional model)
    a, b = Input((3,), name="input_a"), Input((3,), name="input_b")
    out = Dense(2, name="dense_2")(Dense(3, name="dense_1")(Add()([a, b])))
    model = Model([a, b], out)
    assert [layer.name for layer in model.layers][:2] == ["input_a", "input_b"]
    assert isinstance(model.get_layer(index=0), InputLayer)
    assert model.get_layer(name="dense_1").units == 3
    assert model.get_layer(index=-1).name == "dense_2"
    with pytest.raises(ValueError, match=re.escape("No such layer: nope. Existing layers are: ['input_a', 'input_b', ")):
        model.get_layer("nope")
    with pytest.raises(ValueError, match=re.escape("Provide exactly one of `name` or `index` to get_layer.")):
        model.get_layer()


def test_submodels_from_intermediate_tensors():
    # Keras: test_functional_slicing
    x = Input((2,))
    d1, d2, d3 = Dense(3, name="d1"), Dense(4, name="d2"), Dense(5, name="d3")
    h1 = d1(x)
    h2 = d2(h1)
    h3 = d3(h2)
    full = Model(x, h3)
    assert len(full.layers) == 4
    x2 = Input((4,))
    tail = Model(x2, d3(x2))
    assert [type(layer).__name__ for layer in tail.layers] == ["InputLayer", "Dense"]
    data = np.random.rand(3, 2).astype("float32")
    mid = Model(x, h2).predict(data, verbose=0)
    np.testing.assert_allclose(tail.predict(mid, verbose=0), full.predict(data, verbose=0), rtol=1e-6)


def test_wrong_symbolic_shape_names_the_layer_and_both_shapes():
    dense = Dense(2, name="head")
    dense(Input((4,)))
    with pytest.raises(ValueError, match=re.escape(
            "Input 0 of layer 'head' is incompatible with the layer: expected shape (None, 4), but received "
            "input with shape (None, 5).")):
        dense(Input((5,)))


def test_wrong_data_shape_names_the_input():
    x = Input((4,), name="features")
    model = Model(x, Dense(1)(x), name="net")
    with pytest.raises(ValueError, match=re.escape(
            "Input 'features' of model 'net' is incompatible: expected shape (None, 4), but received input with "
            "shape (None, 3).")):
        model.predict(np.zeros((2, 3)), verbose=0)
    a, b = Input((2,), name="a"), Input((2,), name="b")
    two = Model([a, b], Add()([a, b]))
    with pytest.raises(ValueError, match=re.escape("Argument `x` has 1 entries but the model has 2 inputs ('a', 'b')")):
        two.predict([np.zeros((2, 2))], verbose=0)


def test_outputs_that_do_not_depend_on_the_inputs():
    a, b = Input((2,), name="a"), Input((2,), name="b")
    with pytest.raises(ValueError, match=re.escape(
            "Graph disconnected: the model's outputs depend on the input 'b' (needed by layer 'dense_of_b'), "
            "which is not among the model's inputs ('a').")):
        Model(a, [Dense(1)(a), Dense(1, name="dense_of_b")(b)])
    with pytest.raises(ValueError, match=re.escape("Graph disconnected: the model's outputs depend on the input 'b' "
                                                   "(an output itself)")):
        Model(a, b)


def test_two_layers_with_one_name():
    x = Input((2,))
    h = Dense(2, name="twin")(x)
    with pytest.raises(ValueError, match=re.escape(
            'The name "twin" is used by 2 layers in the model (Dense and Dense). All layer names should be unique.')):
        Model(x, Dense(1, name="twin")(h))


def test_inputs_must_be_symbolic():
    with pytest.raises(TypeError, match=re.escape("All inputs of a functional Model must be symbolic tensors")):
        Model("a", Dense(1)(Input((2,))))


def test_integer_inputs_pass_through_unchanged():
    seen = []

    def record(t):
        seen.append(t.dtype)
        return t.float() * 2

    x = Input((3,), dtype="int32", name="tokens")
    model = Model(x, Lambda(record, output_shape=(3,))(x))
    out = model.predict(np.array([[1, 2, 3]]), verbose=0)
    assert torch.int32 in seen and out.tolist() == [[2.0, 4.0, 6.0]]


def test_summary_has_the_connected_to_column():
    a, b = Input((3,), name="a"), Input((2,), name="b")
    out = Dense(1, name="out")(concatenate([Dense(4, name="h")(a), b], name="cat"))
    lines = []
    Model([a, b], out).summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert "Connected to" in text
    assert re.search(r"cat \(Concatenate\)\s+│ \(None, 6\)\s+│\s+0 │ h\[0\]\[0\], b\[0\]\[0\]", text)
    assert re.search(r"out \(Dense\)\s+│ \(None, 1\)\s+│\s+7 │ cat\[0\]\[0\]", text)


def test_summary_expand_nested_lists_inner_layers():
    inner = Sequential([Dense(3, input_dim=2, name="inner_dense")], name="inner")
    x = Input((2,))
    outer = Model(x, Dense(1)(inner(x)))
    lines = []
    outer.summary(print_fn=lines.append, expand_nested=True)
    assert any("└ inner_dense (Dense)" in line for line in lines)
    lines.clear()
    outer.summary(print_fn=lines.append)
    assert not any("inner_dense" in line for line in lines)


@pytest.mark.parametrize("kind", ["single", "list", "dict"])
def test_config_round_trip_keeps_structure_and_outputs(kind):
    _seeded(3)
    a, b = Input((3,), name="a"), Input((2,), name="b")
    shared = Dense(4, name="shared")
    h = Add(name="sum")([shared(concatenate([a, Dense(1, name="one")(b)], name="cat")), shared(Dense(4, name="four")(a))])
    outs = {"single": Dense(1, name="o")(h), "list": [Dense(1, name="o1")(h), Dense(2, name="o2")(h)],
            "dict": {"x": Dense(1, name="ox")(h), "y": Dense(2, name="oy")(h)}}[kind]
    model = Model([a, b], outs)
    clone = Functional.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    data = [np.random.rand(4, 3).astype("float32"), np.random.rand(4, 2).astype("float32")]
    got, want = clone.predict(data, verbose=0), model.predict(data, verbose=0)
    if kind == "single":
        np.testing.assert_allclose(got, want, rtol=1e-6)
    elif kind == "dict":
        assert isinstance(got, dict) and got.keys() == want.keys() == {"x", "y"}
        for key in want:
            np.testing.assert_allclose(got[key], want[key], rtol=1e-6)
    else:
        assert len(got) == len(want)
        for g, w in zip(got, want):
            np.testing.assert_allclose(g, w, rtol=1e-6)
    assert clone.output_names == model.output_names
    assert clone.count_params() == model.count_params()


def test_save_and_load_functional_and_nested_models(tmp_path):
    _seeded(4)
    enc_in = Input((6,))
    encoder = Model(enc_in, Dense(2, activation="relu", name="code")(Dense(4, name="h")(enc_in)), name="encoder")
    decoder = Sequential([Dense(4, input_dim=2), Dense(6)], name="decoder")
    x = Input((6,))
    auto = Model(x, decoder(encoder(x)), name="autoencoder")
    auto.compile("adam", "mse")
    data = np.random.rand(32, 6).astype("float32")
    auto.fit(data, data, epochs=2, verbose=0, seed=0)
    path = tmp_path / "auto.regulab"
    auto.save(path)
    back = load_model(path)
    np.testing.assert_array_equal(back.predict(data, verbose=0), auto.predict(data, verbose=0))
    assert [v.short_name for v in back.weights] == [v.short_name for v in auto.weights]
    assert back.optimizer.iterations == auto.optimizer.iterations == 2
    # training resumes identically: same optimizer state, same seed
    auto.fit(data, data, epochs=1, verbose=0, seed=1)
    back.fit(data, data, epochs=1, verbose=0, seed=1)
    for a, b in zip(auto.get_weights(), back.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_paths_name_the_chain_of_layers():
    enc_in = Input((3,))
    encoder = Model(enc_in, Dense(2, name="dense_1")(enc_in), name="encoder")
    x = Input((3,))
    model = Model(x, Dense(1, name="head")(encoder(x)))
    assert sorted(model.variable_paths().values()) == ["encoder/dense_1/bias", "encoder/dense_1/kernel",
                                                       "head/bias", "head/kernel"]


def test_automatic_names_do_not_change_paths():
    # two builds of one architecture have the same paths whatever was numbered before
    def build():
        x = Input((3,))
        return Model(x, Dense(1)(Dense(2)(x)))
    first, second = build(), build()
    assert list(first.variable_paths().values()) == list(second.variable_paths().values()) == [
        "dense/kernel", "dense/bias", "dense_1/kernel", "dense_1/bias"]
