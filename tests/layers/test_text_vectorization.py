"""TextVectorization, against hand-computed examples and Keras 3's tests
(keras/src/layers/preprocessing/text_vectorization_test.py)."""
import re

import numpy as np
import pytest
import torch

from regulab.layers import Embedding, Flatten, Input, TextVectorization
from regulab.models import Model, Sequential


def test_adapt_flow():  # Keras: test_adapt_flow
    layer = TextVectorization(max_tokens=5000, output_mode="int", output_sequence_length=4)
    layer.adapt(["foo bar", "bar baz", "baz bada boom"])
    output = layer([["foo qux bar"], ["qux baz"]])
    assert isinstance(output, torch.Tensor) and output.dtype == torch.int64
    assert output.tolist() == [[4, 1, 3, 0], [1, 2, 0, 0]]


def test_vocabulary_order_by_count_then_token_descending():
    layer = TextVectorization()
    layer.adapt(["b a c a", "c b a", "d", "e e"])  # a:3, b:2, c:2, e:2, d:1
    assert layer.get_vocabulary() == ["", "[UNK]", "a", "e", "c", "b", "d"]
    assert layer.get_vocabulary(include_special_tokens=False) == ["a", "e", "c", "b", "d"]
    assert layer.vocabulary_size() == 7


@pytest.mark.parametrize("how", ["constructor", "set_vocabulary"])
def test_fixed_vocabulary(how):  # Keras: test_fixed_vocabulary, test_set_vocabulary
    kwargs = {"vocabulary": ["baz", "bar", "foo"]} if how == "constructor" else {}
    layer = TextVectorization(max_tokens=5000, output_sequence_length=4, **kwargs)
    if how == "set_vocabulary":
        layer.set_vocabulary(["baz", "bar", "foo"])
    assert layer([["foo qux bar"], ["qux baz"]]).tolist() == [[4, 1, 3, 0], [1, 2, 0, 0]]
    assert layer.get_vocabulary() == ["", "[UNK]", "baz", "bar", "foo"]


def test_vocabulary_may_start_with_special_tokens():
    layer = TextVectorization(vocabulary=["", "[UNK]", "x", "y"])
    assert layer.get_vocabulary() == ["", "[UNK]", "x", "y"]
    assert layer(["y x z"]).tolist() == [[3, 2, 1]]


def test_padding_to_longest_and_truncation():
    layer = TextVectorization(vocabulary=["a", "b", "c"])
    assert layer(["a b c a", "c", ""]).tolist() == [[2, 3, 4, 2], [4, 0, 0, 0], [0, 0, 0, 0]]
    layer = TextVectorization(vocabulary=["a", "b", "c"], output_sequence_length=2)
    assert layer(["a b c a", "c", ""]).tolist() == [[2, 3], [4, 0], [0, 0]]
    assert layer([]).shape == (0, 2)


def test_single_string_gives_one_sequence():
    layer = TextVectorization(vocabulary=["a", "b"])
    out = layer("b a q")
    assert out.shape == (3,) and out.tolist() == [3, 2, 1]


def test_standardizations():  # Keras: lower_and_strip, lower, strip_punctuation, None, callable
    layer = TextVectorization(vocabulary=["hello", "world", "this", "is", "nice", "test"])
    assert layer(["Hello, World!. This is just a nice test!"]).tolist() == [[2, 3, 4, 5, 1, 1, 6, 7]]
    layer = TextVectorization(standardize="lower",
                              vocabulary=["hello,", "hello", "world", "this", "is", "nice", "test"])
    assert layer(["Hello, World!. This is just a nice test!"]).tolist() == [[2, 1, 5, 6, 1, 1, 7, 1]]
    layer = TextVectorization(standardize="strip_punctuation", vocabulary=["Hello", "World", "Test"])
    assert layer(["Hello, World! Test."]).tolist() == [[2, 3, 4]]
    layer = TextVectorization(standardize=None, vocabulary=["Hello", "world"])
    assert layer(["Hello hello"]).tolist() == [[2, 1]]
    layer = TextVectorization(standardize=lambda s: s.replace("-", " "), vocabulary=["foo", "bar"])
    assert layer(["foo-bar"]).tolist() == [[2, 3]]


def test_keras_character_classes():
    # ASCII case and punctuation only (tf.strings.lower, Keras's regex); runs of ASCII whitespace split
    layer = TextVectorization(vocabulary=["ÉtÉ", "été", "don't", "dont", "a"])
    assert layer(["ÉTÉ  dOn't\t\nA\u00a0a"]).tolist() == [[2, 5, 1]]


def test_character_split():  # Keras: test_char_splitting
    layer = TextVectorization(split="character", vocabulary=list("abcde"))
    out = layer(["abcf"])
    assert out.tolist() == [[2, 3, 4, 1]]
    layer = TextVectorization(split="character", standardize=None)
    text = "to be, or not to be"
    layer.adapt(text)
    vocab = layer.get_vocabulary()
    assert vocab[:4] == ["", "[UNK]", " ", "o"]  # ' ': 5, 'o': 4, then 't': 3, 'e' and 'b': 2
    ids = layer(text)
    assert ids.shape == (len(text),)
    assert "".join(vocab[i] for i in ids.tolist()) == text


def test_char_rnn_data_on_prose():
    import pydoc_data.topics

    text = "\n".join(list(pydoc_data.topics.topics.values())[:200])
    layer = TextVectorization(split="character", standardize=None)
    layer.adapt(text)
    ids = layer(text).numpy()
    vocab = np.array(layer.get_vocabulary())
    assert "".join(vocab[ids]) == text
    counts = np.bincount(ids)
    assert (np.diff(counts[2:]) <= 0).all()  # indices by descending frequency


def test_custom_split_and_no_split():  # Keras: test_custom_splitting, test_no_split
    layer = TextVectorization(split=lambda s: s.split("|"), vocabulary=["foo", "bar", "foobar"])
    assert layer(["foo|bar"]).tolist() == [[4]]  # standardizing strips '|' before the split
    layer = TextVectorization(standardize=None, split=lambda s: s.split("|"), vocabulary=["foo", "bar"])
    assert layer(["foo|bar"]).tolist() == [[2, 3]]
    layer = TextVectorization(split=None, vocabulary=["foo", "bar", "baz"])
    assert layer([["foo"], ["bar"], ["unknown"]]).tolist() == [[2], [3], [1]]
    assert layer(["baz", "foo bar"]).tolist() == [[4], [1]]


def test_ngrams():  # Keras: test_ngrams_integer, test_ngrams_tuple
    layer = TextVectorization(ngrams=2)
    layer.adapt(["foo bar baz"])
    assert {"foo", "foo bar", "bar baz"} <= set(layer.get_vocabulary())
    layer = TextVectorization(ngrams=(1, 3))
    layer.adapt(["foo bar baz"])
    vocab = layer.get_vocabulary()
    assert "foo" in vocab and "foo bar baz" in vocab and "foo bar" not in vocab
    assert layer(["foo bar baz"]).shape == (1, 4)


def test_max_tokens():  # Keras: test_max_tokens
    layer = TextVectorization(max_tokens=5)
    layer.adapt(["a b c d e f g h i j"])
    assert layer.get_vocabulary() == ["", "[UNK]", "j", "i", "h"]
    assert layer(["a j"]).tolist() == [[1, 2]]


def test_multi_hot_and_count():  # Keras: test_multi_hot_output, test_output_mode_count_output
    layer = TextVectorization(output_mode="multi_hot", vocabulary=["foo", "bar", "baz"])
    out = layer([["foo bar"], ["baz foo foo"]])
    assert out.dtype == torch.float32 and out.tolist() == [[0, 1, 1, 0], [0, 1, 0, 1]]
    assert layer.get_vocabulary() == ["[UNK]", "foo", "bar", "baz"]
    layer = TextVectorization(output_mode="count", vocabulary=["foo", "bar", "baz"])
    assert layer(["foo bar qux qux", "baz foo foo"]).tolist() == [[2, 1, 1, 0], [0, 2, 0, 1]]
    layer = TextVectorization(output_mode="multi_hot", vocabulary=["foo", "bar"], max_tokens=8,
                              pad_to_max_tokens=True)  # Keras: test_pad_to_max_tokens
    assert layer(["foo bar"]).shape == (1, 8)


def test_vocabulary_size_and_file(tmp_path):  # Keras: test_vocabulary_size, test_vocabulary_from_file
    assert TextVectorization(vocabulary=["foo", "bar", "baz"]).vocabulary_size() == 5
    path = tmp_path / "vocab.txt"
    path.write_text("foo\nbar\nbaz\n")
    assert TextVectorization(vocabulary=str(path))(["foo bar baz unknown"]).tolist() == [[2, 3, 4, 1]]


def test_config_round_trip():  # Keras: test_config
    layer = TextVectorization(output_mode="int", vocabulary=["one", "two"], output_sequence_length=5)
    again = TextVectorization.from_config(layer.get_config())
    assert again.get_config() == layer.get_config()
    adapted = TextVectorization(max_tokens=10, split="character")
    adapted.adapt(["abca"])
    restored = TextVectorization.from_config(adapted.get_config())
    assert restored.get_vocabulary() == adapted.get_vocabulary() == ["", "[UNK]", "a", "c", "b"]
    with pytest.raises(ValueError, match=re.escape("its `split` is a Python callable")):
        TextVectorization(split=str.split).get_config()


def test_use_before_adapt_is_an_error():
    layer = TextVectorization(name="vectorizer")
    msg = ("TextVectorization layer 'vectorizer' has no vocabulary: call `vectorizer.adapt(texts)` on the "
           "training texts first, or pass `vocabulary=`.")
    with pytest.raises(ValueError, match=re.escape(msg)):
        layer(["hello"])


def test_bad_arguments_and_inputs():
    with pytest.raises(ValueError, match=re.escape(
            "Invalid value for argument `split` of TextVectorization: expected one of 'whitespace', 'character'. "
            "Received: split='characters'. Did you mean 'character'?")):
        TextVectorization(split="characters")
    with pytest.raises(ValueError, match=re.escape(
            "If set, `max_tokens` must be greater than 1. Received: max_tokens=1")):
        TextVectorization(max_tokens=1)
    with pytest.raises(ValueError, match=re.escape("output_mode='tf_idf' of TextVectorization is not available")):
        TextVectorization(output_mode="tf_idf")
    with pytest.raises(ValueError, match="`output_sequence_length` must not be set"):
        TextVectorization(output_mode="count", output_sequence_length=3)
    with pytest.raises(ValueError, match="The passed vocabulary has at least one repeated term"):
        TextVectorization(vocabulary=["a", "b", "a"])
    with pytest.raises(ValueError, match="Found reserved mask token at unexpected location"):
        TextVectorization(vocabulary=["a", ""])
    with pytest.raises(ValueError, match=re.escape(
            "Attempted to set a vocabulary larger than the maximum vocab size. Received vocabulary size is 5; "
            "`max_tokens` is 4.")):
        TextVectorization(max_tokens=4, vocabulary=["a", "b", "c"])
    with pytest.raises(ValueError, match="Cannot adapt layer 'fixed' after setting a static vocabulary"):
        TextVectorization(vocabulary=["a"], name="fixed").adapt(["a b"])
    layer = TextVectorization(vocabulary=["a"])
    with pytest.raises(TypeError, match=re.escape("TextVectorization expects strings; received int: 3.")):
        layer(["a", 3])
    with pytest.raises(ValueError, match="the input rank must be 1 or the last shape dimension must be 1"):
        layer([["a", "b"]])


def test_adapt_on_iterable_of_batches_and_arrays():
    batches = (["foo bar", "bar"] for _ in range(3))
    layer = TextVectorization()
    layer.adapt(batches, steps=2)
    assert layer.get_vocabulary() == ["", "[UNK]", "bar", "foo"]
    layer = TextVectorization()
    layer.adapt(np.array([["b a"], ["a"]]))
    assert layer.get_vocabulary() == ["", "[UNK]", "a", "b"]


def test_cannot_be_part_of_a_model_and_feeds_an_embedding():
    layer = TextVectorization(max_tokens=10, output_sequence_length=3, vocabulary=["baz", "bar", "foo"],
                              name="vectorizer")
    msg = ("TextVectorization layer 'vectorizer' cannot be part of a model: models compute on tensors, and it "
           "runs on Python strings. Vectorize the texts first (`x = vectorizer(texts)`)")
    with pytest.raises(TypeError, match=re.escape(msg)):
        layer(Input((1,)))
    with pytest.raises(TypeError, match=re.escape(msg)):
        Sequential([Input((1,)), layer]).build((1,))
    # the supported way (Keras: test_tf_as_first_sequential_layer): vectorize, then embed
    x = layer([["foo qux bar"], ["qux baz"]])
    inputs = Input((3,), dtype="int64")
    model = Model(inputs, Flatten()(Embedding(layer.vocabulary_size(), 4)(inputs)))
    assert model(x).shape == (2, 12)
