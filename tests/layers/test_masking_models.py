"""Masks follow models as in Keras: Embedding(mask_zero=True) or Masking makes one, layers that
support masking pass it on, recurrent layers and masked pooling use it.

The reference for a padded batch is the same layers run on each sequence without its padding.
"""
import numpy as np
import pytest
import regulab
from regulab import layers as L
from regulab.models import Model, Sequential

LENGTHS = [5, 3, 1, 4]
T = 5


def _padded(seed=0, vocab=12):
    rng = np.random.default_rng(seed)
    x = np.zeros((len(LENGTHS), T), dtype="int64")
    for i, n in enumerate(LENGTHS):
        x[i, :n] = rng.integers(1, vocab, size=n)
    return x


def _per_sequence(model, x):
    """The model's output for each sequence alone, without padding."""
    return np.concatenate([model.predict(x[i:i + 1, :n], verbose=0) for i, n in enumerate(LENGTHS)])


@pytest.mark.parametrize("rnn", [lambda: L.LSTM(4), lambda: L.GRU(4), lambda: L.SimpleRNN(4),
                                 lambda: L.LSTM(4, recurrent_dropout=0.0, go_backwards=True),
                                 lambda: L.Bidirectional(L.GRU(3))])
def test_padding_is_ignored_by_recurrent_layers(rnn):
    regulab.set_random_seed(0)
    model = Sequential([L.Input((None,), dtype="int64"), L.Embedding(12, 3, mask_zero=True), rnn(),
                        L.Dense(2)])
    x = _padded()
    padded = model.predict(x, verbose=0)
    np.testing.assert_allclose(padded, _per_sequence(model, x), rtol=1e-5, atol=1e-5)


def test_masks_follow_a_functional_graph_through_dense_and_dropout():
    regulab.set_random_seed(1)
    inp = L.Input((None,), dtype="int64")
    h = L.Embedding(12, 3, mask_zero=True)(inp)
    h = L.Dropout(0.5)(L.Dense(6, activation="relu")(h))  # both pass the mask on
    seqs = L.LSTM(4, return_sequences=True)(h)
    pooled = L.GlobalAveragePooling1D()(seqs)  # mean over the unmasked steps only
    model = Model(inp, L.Dense(1)(pooled))
    x = _padded(2)
    np.testing.assert_allclose(model.predict(x, verbose=0), _per_sequence(model, x), rtol=1e-5, atol=1e-5)


def test_masking_layer_skips_steps_of_mask_value():
    regulab.set_random_seed(2)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((len(LENGTHS), T, 3)).astype("float32")
    for i, n in enumerate(LENGTHS):
        x[i, n:] = 0.0
    model = Sequential([L.Input((None, 3)), L.Masking(0.0), L.GRU(4)])
    ref = np.concatenate([model.predict(x[i:i + 1, :n], verbose=0) for i, n in enumerate(LENGTHS)])
    np.testing.assert_allclose(model.predict(x, verbose=0), ref, rtol=1e-5, atol=1e-5)


def test_a_mask_stops_at_a_layer_that_does_not_support_it():
    seq = Sequential([L.Input((T,), dtype="int64"), L.Embedding(12, 3, mask_zero=True), L.Flatten(),
                      L.Dense(2)])
    x = _padded()
    # Flatten drops the mask (as in Keras): padded steps count as zeros... of the embedding of 0
    out = seq.predict(x, verbose=0)
    assert out.shape == (4, 2)


def test_masked_sequence_model_trains():
    regulab.set_random_seed(3)
    rng = np.random.default_rng(0)
    n = 256
    lengths = rng.integers(1, 9, size=n)
    x = np.zeros((n, 8), dtype="int64")
    for i, k in enumerate(lengths):
        x[i, :k] = rng.integers(1, 5, size=k)
    y = (np.array([(row[row > 0] == 1).sum() for row in x]) > lengths / 4).astype("float32")
    model = Sequential([L.Input((8,), dtype="int64"), L.Embedding(5, 8, mask_zero=True), L.GRU(8),
                        L.Dense(1, activation="sigmoid")])
    model.compile(regulab.optimizers.Adam(0.02), "binary_crossentropy", metrics=["accuracy"])
    h = model.fit(x, y, epochs=8, batch_size=32, verbose=0, seed=0)
    assert h.history["accuracy"][-1] > 0.85


def test_non_integer_floats_fed_to_indices_are_an_error():
    import re

    model = Sequential([L.Input((3,), dtype="int64"), L.Embedding(5, 2), L.Flatten(), L.Dense(1)])
    assert model.predict(np.array([[1.0, 2.0, 3.0]]), verbose=0).shape == (1, 1)  # whole numbers convert
    with pytest.raises(ValueError, match=re.escape(
            "Argument `x` feeds an input of integer indices, but contains the non-integer value 3.7 at "
            "index (0, 2).")):
        model.predict(np.array([[1.0, 2.0, 3.7]]), verbose=0)


@pytest.mark.parametrize("functional", [False, True])
def test_fit_checks_indices_once_for_every_engine(functional):
    import re

    if functional:
        inp = L.Input((3,), dtype="int64")
        model = Model(inp, L.Dense(1)(L.Flatten()(L.Embedding(5, 2)(inp))))
    else:
        model = Sequential([L.Input((3,), dtype="int64"), L.Embedding(5, 2), L.Flatten(), L.Dense(1)])
    model.compile("adam", "mse", jit_compile=True)  # the compiled step itself cannot check
    x = np.array([[1, 2, 3], [4, 7, 0]])
    with pytest.raises(ValueError, match=re.escape("received index 7, outside [0, 5) (input_dim=5)")):
        model.fit(x, np.zeros(2), verbose=0)


def test_auto_keeps_models_with_fused_recurrent_layers_eager():
    x = np.zeros((64, 4, 2), dtype="float32")
    fused = Sequential([L.Input((4, 2)), L.Bidirectional(L.LSTM(3)), L.Dense(1)])
    fused.compile("adam", "mse")  # jit_compile="auto"
    h = fused.fit(x, np.zeros(64), epochs=1, verbose=0)
    assert h.params["engine"] == ("eager (its recurrent layers run faster on PyTorch's fused kernels, "
                                  "which only eager steps use)")
    # recurrent dropout has no fused kernel: the model may compile
    assert not L.LSTM(3, recurrent_dropout=0.2).runs_faster_eagerly
    assert L.GRU(3).runs_faster_eagerly and not L.GRU(3, reset_after=False).runs_faster_eagerly


def test_sequence_labels_for_sequences_of_any_length():
    # a language model: one sparse label per time step, the length unknown to the model
    regulab.set_random_seed(0)
    model = Sequential([L.Input((None,), dtype="int64"), L.Embedding(10, 4), L.GRU(8, return_sequences=True),
                        L.Dense(10)])
    model.compile("adam", loss=regulab.losses.SparseCategoricalCrossentropy(from_logits=True))
    x = np.random.default_rng(0).integers(0, 10, (8, 5))
    h = model.fit(x, x, epochs=2, verbose=0)
    assert np.isfinite(h.history["loss"]).all()
    assert model.evaluate(x[:, :3], x[:, :3], verbose=0) > 0
    with pytest.raises(ValueError, match="expects one integer class label per sample; received `y` of shape"):
        model.fit(x, x[:, :, None, None], verbose=0)


def test_indices_are_checked_once_per_call_and_in_every_batch_of_an_iterator():
    import re

    model = Sequential([L.Input((3,), dtype="int64"), L.Embedding(5, 2), L.Flatten(), L.Dense(1)])
    model.compile("adam", "mse")
    message = re.escape("received index 9, outside [0, 5) (input_dim=5)")
    with pytest.raises(ValueError, match=message):
        model.predict(np.array([[1, 2, 3], [4, 9, 0]]), verbose=0)

    def batches():
        yield np.array([[1, 2, 3]] * 4), np.zeros(4)
        yield np.array([[1, 9, 3]] * 4), np.zeros(4)  # the bad index is in a later batch

    with pytest.raises(ValueError, match=message):
        model.fit(batches(), steps_per_epoch=2, verbose=0)
    h = model.fit(((np.array([[1, 2, 3]] * 4), np.zeros(4)) for _ in range(2)), steps_per_epoch=2, verbose=0)
    assert np.isfinite(h.history["loss"]).all()  # later batches keep integer indices


@pytest.mark.parametrize("inner_kind", ["sequential", "functional"])
def test_masks_cross_into_and_out_of_nested_models(inner_kind):
    regulab.set_random_seed(4)
    x = _padded(3)
    if inner_kind == "sequential":
        inner = Sequential([L.Input((None, 3)), L.GRU(4)])
    else:
        i = L.Input((None, 3))
        inner = Model(i, L.GRU(4)(i))
    # the outer model's Embedding makes the mask; the GRU inside the nested model uses it
    outer = Sequential([L.Input((None,), dtype="int64"), L.Embedding(12, 3, mask_zero=True), inner, L.Dense(2)])
    np.testing.assert_allclose(outer.predict(x, verbose=0), _per_sequence(outer, x), rtol=1e-5, atol=1e-5)
    # and the other way: a nested model makes the mask, the outer model's GRU uses it
    front = Sequential([L.Input((None,), dtype="int64"), L.Embedding(12, 3, mask_zero=True)])
    model = Sequential([L.Input((None,), dtype="int64"), front, L.GRU(4)])
    np.testing.assert_allclose(model.predict(x, verbose=0), _per_sequence(model, x), rtol=1e-5, atol=1e-5)
