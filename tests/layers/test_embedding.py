"""Embedding and Masking, against torch's own embedding and Keras 3's tests
(keras/src/layers/core/embedding_test.py, masking_test.py)."""
import re

import numpy as np
import pytest
import torch

import regulab
from regulab import regularizers
from regulab.lab import fit_variants
from regulab.layers import Dense, Embedding, Flatten, Input, Layer, Masking
from regulab.models import Model, Sequential, load_model


def _model(vocab=20, steps=5, seed=0, first=None):
    regulab.set_random_seed(seed)
    layers = [Input((steps,), dtype="int32"), Embedding(vocab, 4)] if first is None else [first]
    model = Sequential([*layers, Flatten(), Dense(1, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    return model


def _ids(n=96, vocab=20, steps=5, seed=0):
    x = np.random.default_rng(seed).integers(0, vocab, size=(n, steps))
    return x, (x.sum(1) > vocab * steps / 2).astype("float32")


# -- shapes, weights, numerics
def test_basics_shapes_and_weights():  # Keras: test_embedding_basics
    layer = Embedding(input_dim=4, output_dim=3)
    out = layer(np.array([[0, 3]], dtype="int32"))
    assert out.shape == (1, 2, 3) and out.dtype == torch.float32
    assert [v.name for v in layer.trainable_weights] == [f"{layer.name}/embeddings"]
    assert layer.non_trainable_weights == [] and layer.embeddings.shape == (4, 3)
    assert not layer.supports_masking
    layer = Embedding(input_dim=5, output_dim=4, mask_zero=True)
    assert layer(np.zeros((2, 2, 3), dtype="int64")).shape == (2, 2, 3, 4)
    assert layer.supports_masking and layer.count_params() == 20


def test_correctness():  # Keras: test_correctness
    layer = Embedding(input_dim=3, output_dim=2)
    layer.build_for((3,))
    layer.embeddings.assign(np.array([[0.0, 0.0], [2.0, 2.0], [3.0, 3.0]]))
    np.testing.assert_allclose(layer(np.array([[2, 1, 0]])).numpy()[0], [[3.0, 3.0], [2.0, 2.0], [0.0, 0.0]])


def test_output_equals_torch_embedding_and_indexing():
    layer = Embedding(50, 7)
    x = torch.randint(0, 50, (6, 9))
    out = layer(x)
    table = layer.embeddings.value
    torch.testing.assert_close(out, torch.nn.functional.embedding(x, table))
    torch.testing.assert_close(out, table[x])


def test_default_initializer_is_keras_uniform():
    layer = Embedding(400, 50)
    layer.build_for((1,))
    v = layer.embeddings.numpy()
    assert v.min() >= -0.05 and v.max() <= 0.05
    assert abs(v.std() - 0.1 / np.sqrt(12)) < 0.002  # U(-0.05, 0.05)


def test_regularizer_penalty_is_l2_of_table():
    layer = Embedding(6, 3, embeddings_regularizer=regularizers.l2(0.1))
    layer.build_for((2,))
    table = layer.embeddings.value
    assert layer.embeddings.regularizer is not None
    torch.testing.assert_close(layer.embeddings.regularizer(table), 0.1 * table.square().sum())


# -- masks
def test_compute_mask():  # Keras: test_masking, test_compute_mask_no_masking
    layer = Embedding(input_dim=3, output_dim=2, mask_zero=True)
    assert layer.compute_mask(np.array([2, 1, 0])).tolist() == [True, True, False]
    assert Embedding(input_dim=3, output_dim=2).compute_mask(np.array([2, 1, 0])) is None


def test_masking_correctness():  # Keras: test_masking_correctness
    x = np.array([[[0.0, 0.0], [1.0, 2.0], [0.0, 0.0]], [[2.0, 2.0], [0.0, 0.0], [2.0, 1.0]]], dtype="float32")
    layer = Masking(mask_value=0.0)
    assert layer.compute_mask(x).tolist() == [[False, True, False], [True, False, True]]
    np.testing.assert_array_equal(layer(x).numpy(), x)
    assert layer.supports_masking and layer.count_params() == 0


def test_masking_zeroes_masked_steps_and_keeps_others():
    x = np.array([[[5.0, 5.0], [5.0, 1.0], [0.0, 5.0]]], dtype="float32")
    layer = Masking(mask_value=5.0)
    np.testing.assert_array_equal(layer(x).numpy(), [[[0.0, 0.0], [5.0, 1.0], [0.0, 5.0]]])
    assert layer.compute_mask(x).tolist() == [[False, True, True]]
    assert Masking(mask_value=torch.tensor([5.0])).mask_value == 5.0  # Keras: test_masking_with_tensor


def test_masks_reach_a_layer_that_takes_them():
    seen = []

    class Probe(Layer):
        supports_masking = True
        takes_mask = True

        def call(self, x, ctx, mask=None):
            seen.append(None if mask is None else mask.tolist())
            return x

    x = np.array([[[0.0, 0.0], [1.0, 2.0]], [[2.0, 2.0], [0.0, 0.0]]], dtype="float32")
    Sequential([Masking(), Probe()])(x)
    ids = np.array([[3, 0], [0, 1]])
    Sequential([Embedding(4, 2, mask_zero=True), Probe()])(ids)
    assert seen == [[[False, True], [True, False]], [[True, False], [False, True]]]


# -- bad arguments and bad input
@pytest.mark.parametrize("kwargs, message", [
    ({"input_dim": 0, "output_dim": 3},
     "Invalid value for argument `input_dim` of Embedding: expected an integer in [1, inf). Received: input_dim=0"),
    ({"input_dim": 3, "output_dim": 0},
     "Invalid value for argument `output_dim` of Embedding: expected an integer in [1, inf). Received: output_dim=0"),
    ({"input_dim": 1, "output_dim": 3, "mask_zero": True},
     "Invalid value for argument `input_dim` of Embedding: expected an integer in [2, inf) with mask_zero=True "
     "(index 0 is padding, so input_dim is the vocabulary size + 1). Received: input_dim=1"),
    ({"input_dim": 3, "output_dim": 2, "embeddings_constraint": "non_neg"},
     "Argument `embeddings_constraint` of Embedding is not supported: regulab has no weight constraints. "
     "Received: embeddings_constraint='non_neg'."),
    ({"input_dim": 3, "output_dim": 2, "input_length": 4, "input_shape": (5,)},
     "Arguments `input_length` and `input_shape` of Embedding disagree: input_length=4, input_shape=(5,)."),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        Embedding(**kwargs)


def test_mask_zero_with_two_indices_is_fine():
    assert Embedding(2, 3, mask_zero=True).input_dim == 2


@pytest.mark.parametrize("bad", [10, -1])
def test_index_out_of_range_names_layer_and_value(bad):
    layer = Embedding(10, 2, name="embedding")
    x = np.array([[1, 2], [bad, 3]])
    msg = (f"Layer 'embedding' received index {bad}, outside [0, 10) (input_dim=10). Every index must be below "
           f"input_dim: make input_dim the vocabulary size (largest index + 1).")
    with pytest.raises(ValueError, match=re.escape(msg)):
        layer(x)


def test_float_indices_are_rejected():
    layer = Embedding(10, 2, name="embedding")
    msg = ("Layer 'embedding' expects integer indices; received float32 values. Pass token ids as an integer "
           "array (e.g. np.int64), or start the model with Input(shape, dtype='int32').")
    with pytest.raises(TypeError, match=re.escape(msg)):
        layer(torch.zeros(2, 3))


def test_input_length_is_input_shape():
    layer = Embedding(30, 4, input_length=7)
    assert layer.get_config()["input_shape"] == [7]
    model = Sequential([layer, Flatten()])
    assert model.input_shape == (7,)
    assert "input_length" not in layer.get_config()


# -- in models: fit, plain Sequential, save/load, stacked, compiled
def test_fit_and_evaluate_with_integer_input():
    x, y = _ids()
    model = _model()
    before = model.layers[0].embeddings.numpy()
    history = model.fit(x, y, epochs=2, batch_size=16, verbose=0, seed=0)
    assert len(history.history["loss"]) == 2
    assert not np.allclose(before, model.layers[0].embeddings.numpy())
    assert model.predict(x[:3], verbose=0).shape == (3, 1)
    with pytest.raises(ValueError, match=re.escape("received index 20, outside [0, 20)")):
        model.fit(np.full((8, 5), 20), y[:8], epochs=1, verbose=0)


def test_plain_sequential_keeps_indices_integer():
    # no Input: the first layer's `integer_inputs` makes the model take int64 indices
    x, y = _ids()
    model = _model(first=Embedding(20, 4, input_length=5))
    assert model.input_dtypes() == [torch.int64]
    history = model.fit(x, y, epochs=1, batch_size=32, verbose=0, seed=0)
    assert np.isfinite(history.history["loss"][0])


def test_functional_model_output_dtype():
    inputs = Input((5,), dtype="int64")
    h = Embedding(20, 3)(inputs)
    assert h.shape == (None, 5, 3) and h.dtype == torch.float32
    model = Model(inputs, Dense(1)(Flatten()(h)))
    assert model(np.ones((2, 5), dtype="int64")).shape == (2, 1)


def test_save_load_round_trip(tmp_path):
    x, y = _ids(32)
    model = _model()
    model.fit(x, y, epochs=1, verbose=0, seed=0)
    path = tmp_path / "embedding.regulab"
    model.save(path)
    loaded = load_model(path)
    emb = loaded.layers[0]
    assert isinstance(emb, Embedding) and (emb.input_dim, emb.output_dim) == (20, 4)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_config_round_trip():
    layer = Embedding(12, 5, mask_zero=True, embeddings_regularizer="l2", name="words")
    again = Embedding.from_config(layer.get_config())
    assert again.get_config() == layer.get_config()
    assert again.mask_zero and again.embeddings_regularizer is not None


def test_stacked_fits_equal_separate_fits():
    x, y = _ids(80)
    separate = [_model(seed=s) for s in (0, 1)]
    for m, s in zip(separate, (3, 4)):
        m.fit(x, y, epochs=2, batch_size=16, verbose=0, seed=s)
    stacked = [_model(seed=s) for s in (0, 1)]
    fit_variants(stacked, x, y, seeds=[3, 4], epochs=2, batch_size=16)
    for a, b in zip(separate, stacked):
        for wa, wb in zip(a.get_weights(), b.get_weights()):
            np.testing.assert_allclose(wa, wb, rtol=1e-5, atol=1e-6)


def test_compiled_fit_matches_eager():
    x, y = _ids(64)
    eager, compiled = _model(seed=0), _model(seed=0)
    compiled.compile("adam", "binary_crossentropy", jit_compile=True)
    eager.compile("adam", "binary_crossentropy")
    h_e = eager.fit(x, y, epochs=2, batch_size=16, verbose=0, seed=1).history["loss"]
    h_c = compiled.fit(x, y, epochs=2, batch_size=16, verbose=0, seed=1).history["loss"]
    np.testing.assert_allclose(h_e, h_c, rtol=1e-4)
