"""TextVectorization: Python strings to token indices (or bag-of-words counts), in NumPy.

It runs on the data before the model, as Keras recommends for every backend but TensorFlow:
``x = vectorizer(texts)`` gives an int64 tensor to ``fit`` a model that starts with an
``Embedding``. A model cannot contain it (models compute on tensors, and strings are none): building
one with it raises an error that says so.
"""
from __future__ import annotations

import collections
import itertools
import os
import re
import string

import numpy as np
import torch

from regulab._validation import check_choice, check_int
from regulab.layers._base import Layer
from regulab.layers._symbolic import any_symbolic

PAD, OOV = "", "[UNK]"
_STANDARDIZE = ("lower_and_strip_punctuation", "lower", "strip_punctuation")
_SPLIT = ("whitespace", "character")
_MODES = ("int", "multi_hot", "count")
# Keras lowercases ASCII letters only (tf.strings.lower) and strips ASCII punctuation, the regex
# class [!"#$%&()*+,-./:;<=>?@[\]^_`{|}~'], which is exactly string.punctuation
_TABLES = {
    "lower": str.maketrans(string.ascii_uppercase, string.ascii_lowercase),
    "strip_punctuation": str.maketrans("", "", string.punctuation),
    "lower_and_strip_punctuation": str.maketrans(string.ascii_uppercase, string.ascii_lowercase,
                                                 string.punctuation),
}
_WORDS = re.compile(r"[^ \t\n\v\f\r]+")  # tf.strings.split: ASCII whitespace, runs count as one


def _text(value, where: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, np.str_):
        return str(value)
    raise TypeError(f"{where} expects strings; received {type(value).__name__}: {value!r}.")


class TextVectorization(Layer):
    """Maps strings to sequences of token indices: standardize, split, look each token up.

    Index 0 is padding (``''``) and 1 the out-of-vocabulary token (``'[UNK]'``); the vocabulary,
    learnt by ``adapt`` or given, takes 2, 3, ... by descending frequency, ties broken by token
    in descending order (Keras's order). The output is an int64 tensor ``(batch, length)``,
    padded with 0 or cut to ``output_sequence_length`` (default: the longest in the batch); a
    single string gives a 1-D sequence. ``output_mode='multi_hot'`` or ``'count'`` give float32
    ``(batch, vocabulary_size)`` bags of words instead, index 0 being OOV.

    It is a preprocessing step on Python strings (pure Python and NumPy), run before the model:
    ``x = vectorizer(texts)``, then ``model.fit(x, y)``; it cannot be a layer of a model.

    Differences from Keras: callables for ``standardize`` and ``split`` take one Python string
    (and return a string, or a list of tokens) instead of a batch of TensorFlow strings;
    ``split=None`` makes each input string one token, so a batch of shape ``(n,)`` gives ``(n, 1)``;
    ``output_mode`` ``'tf_idf'`` and ``'one_hot'`` are not available.

    Args:
        max_tokens: largest vocabulary, padding and OOV included (at least 2 if set).
        standardize: ``'lower_and_strip_punctuation'`` (default), ``'lower'``,
            ``'strip_punctuation'``, ``None``, or a callable on one string. Lowercasing and
            punctuation are ASCII's, as in Keras.
        split: ``'whitespace'`` (default), ``'character'`` (each Unicode character a token, for
            character-level models), ``None``, or a callable returning a list of tokens.
        ngrams: ``None``, an integer n (1- to n-grams) or a tuple of widths, joined by spaces.
        output_mode: ``'int'`` (default), ``'multi_hot'`` or ``'count'``.
        output_sequence_length: pad or cut every sequence to this length (``'int'`` mode).
        pad_to_max_tokens: bag-of-words modes: make the output ``max_tokens`` wide.
        vocabulary: a list of tokens or the path of a file with one token a line; then no adapt.

    >>> from regulab.layers import TextVectorization
    >>> vectorizer = TextVectorization(output_sequence_length=4)
    >>> vectorizer.adapt(["foo bar", "bar baz", "baz bada boom"])
    >>> vectorizer.get_vocabulary()
    ['', '[UNK]', 'baz', 'bar', 'foo', 'boom', 'bada']
    >>> vectorizer(["Foo qux bar!", "qux baz"]).tolist()
    [[4, 1, 3, 0], [1, 2, 0, 0]]
    """

    output_dtype = torch.int64

    def __init__(self, max_tokens: int | None = None, standardize="lower_and_strip_punctuation",
                 split="whitespace", ngrams=None, output_mode: str = "int", output_sequence_length: int | None = None,
                 pad_to_max_tokens: bool = False, vocabulary=None, **kwargs):
        super().__init__(**kwargs)
        where = "TextVectorization"
        if max_tokens is not None and (check_int("max_tokens", max_tokens, where=where) <= 1):
            raise ValueError(f"If set, `max_tokens` must be greater than 1. Received: max_tokens={max_tokens}")
        self.max_tokens = max_tokens
        if not (standardize is None or callable(standardize)):
            check_choice("standardize", standardize, _STANDARDIZE, where)
        if not (split is None or callable(split)):
            check_choice("split", split, _SPLIT, where)
        self.standardize, self.split = standardize, split
        if isinstance(ngrams, bool) or not (ngrams is None or isinstance(ngrams, int) or (
                isinstance(ngrams, (tuple, list)) and ngrams and all(isinstance(n, int) for n in ngrams))):
            raise ValueError(f"`ngrams` must be None, an integer, or a tuple of integers. Received: ngrams={ngrams}")
        if ngrams is not None and min([ngrams] if isinstance(ngrams, int) else ngrams) < 1:
            raise ValueError(f"`ngrams` widths must be positive. Received: ngrams={ngrams}")
        self.ngrams = tuple(ngrams) if isinstance(ngrams, (tuple, list)) else ngrams
        self._widths = (tuple(range(1, ngrams + 1)) if isinstance(ngrams, int) else self.ngrams)
        output_mode = "multi_hot" if output_mode == "binary" else output_mode
        if output_mode in ("tf_idf", "tf-idf", "one_hot"):
            raise ValueError(f"output_mode={output_mode!r} of TextVectorization is not available in regulab; "
                             f"use 'int', 'multi_hot' or 'count'.")
        self.output_mode = check_choice("output_mode", output_mode, _MODES, where)
        if output_sequence_length is not None:
            if self.output_mode != "int":
                raise ValueError("`output_sequence_length` must not be set if `output_mode` is not 'int'. "
                                 f"Received output_sequence_length={output_sequence_length}.")
            output_sequence_length = check_int("output_sequence_length", output_sequence_length, low=1, where=where)
        self.output_sequence_length = output_sequence_length
        self.pad_to_max_tokens = bool(pad_to_max_tokens)
        if self.pad_to_max_tokens and max_tokens is None:
            raise ValueError(f"If pad_to_max_tokens is True, must set `max_tokens`. Received: max_tokens={max_tokens}")
        if self.pad_to_max_tokens and self.output_mode == "int":
            raise ValueError("`pad_to_max_tokens` applies to output_mode 'multi_hot' and 'count' only; "
                             "for 'int' set `output_sequence_length`.")
        self._has_input_vocabulary = vocabulary is not None
        self._tokens: list[str] | None = None
        self._index: dict[str, int] = {}
        if vocabulary is not None:
            self.set_vocabulary(vocabulary)

    # -- vocabulary
    @property
    def _specials(self) -> list[str]:
        return [PAD, OOV] if self.output_mode == "int" else [OOV]

    def _learnt(self, tokens: list[str]) -> None:
        self._tokens = tokens
        start = len(self._specials)
        self._index = {t: i + start for i, t in enumerate(tokens)}
        if self.output_mode == "int":
            self._index[PAD] = 0

    def set_vocabulary(self, vocabulary) -> None:
        """Use ``vocabulary`` (a list of tokens, or a file with one a line) instead of adapting. It may
        start with the special tokens (``['', '[UNK]', ...]`` as ``get_vocabulary`` returns it)."""
        if isinstance(vocabulary, (str, os.PathLike)):
            path = os.fspath(vocabulary)
            if not os.path.isfile(path):
                raise ValueError(f"Vocabulary file {path} does not exist.")
            with open(path, encoding="utf-8") as f:
                vocabulary = [line.rstrip("\r\n") for line in f]
        tokens = [_text(t, "TextVectorization vocabulary") for t in vocabulary]
        if not tokens:
            raise ValueError(f"Cannot set an empty vocabulary. Received: vocabulary={tokens}")
        specials = self._specials
        if tokens[:len(specials)] == specials:
            tokens = tokens[len(specials):]
        repeated = [t for t, n in collections.Counter(tokens).items() if n > 1]
        if repeated:
            raise ValueError("The passed vocabulary has at least one repeated term. Please uniquify your dataset. "
                             f"The repeated terms are: {repeated}")
        if PAD in tokens:
            raise ValueError("Found reserved mask token at unexpected location in `vocabulary`. Note that passed "
                             "`vocabulary` does not need to include the OOV and mask tokens. Either remove all "
                             "mask and OOV tokens, or include them only at the start of the vocabulary in "
                             f"precisely this order: {specials}. Received: mask_token={PAD!r} at vocabulary index "
                             f"{tokens.index(PAD) + len(specials)}")
        size = len(specials) + len(tokens)
        if self.max_tokens is not None and size > self.max_tokens:
            raise ValueError("Attempted to set a vocabulary larger than the maximum vocab size. Received vocabulary "
                             f"size is {size}; `max_tokens` is {self.max_tokens}.")
        self._learnt(tokens)

    def get_vocabulary(self, include_special_tokens: bool = True) -> list[str]:
        """The tokens by index: ``['', '[UNK]', most frequent, ...]`` (``'int'`` mode)."""
        tokens = list(self._tokens or [])
        return self._specials + tokens if include_special_tokens else tokens

    def vocabulary_size(self) -> int:
        """Number of indices, padding and OOV included (what ``Embedding``'s ``input_dim`` needs)."""
        return len(self._specials) + len(self._tokens or [])

    def adapt(self, data, batch_size=None, steps: int | None = None) -> None:
        """Learn the vocabulary from ``data``: a string, a list or array of strings (each a
        document), or an iterable of such batches (``steps`` of them at most). ``batch_size``
        is accepted for Keras 2's signature and changes nothing."""
        if self._has_input_vocabulary:
            raise ValueError(f"Cannot adapt layer '{self.name}' after setting a static vocabulary via "
                             f"`vocabulary` argument or `set_vocabulary()` method.")
        if steps is not None:
            steps = check_int("steps", steps, low=1, where="TextVectorization.adapt")
        if isinstance(data, (str, bytes)) or _is_batch(data):
            batches = [data]
        elif hasattr(data, "__iter__"):
            batches = itertools.islice(iter(data), steps)
        else:
            raise TypeError(f"TextVectorization.adapt expects strings, a list or array of strings, or an iterable "
                            f"of batches of them; received {type(data).__name__}.")
        counts: collections.Counter = collections.Counter()
        for batch in batches:
            docs, _ = self._documents(batch)
            for row in self._token_rows(docs):
                counts.update(row)
        counts.pop(PAD, None)
        counts.pop(OOV, None)
        # by count, then by token, both descending: Keras's np.lexsort((tokens, counts))[::-1]
        tokens = [t for t, _ in sorted(counts.items(), key=lambda tc: (tc[1], tc[0]), reverse=True)]
        if self.max_tokens is not None:
            tokens = tokens[:self.max_tokens - len(self._specials)]
        self._learnt(tokens)

    # -- text to tokens
    def _tokenize(self, doc: str) -> list[str]:
        if callable(self.standardize):
            doc = _text(self.standardize(doc), "TextVectorization's `standardize` callable")
        elif self.standardize is not None:
            doc = doc.translate(_TABLES[self.standardize])
        if self.split is None:
            tokens = [doc]
        elif self.split == "whitespace":
            tokens = _WORDS.findall(doc)
        elif self.split == "character":
            tokens = list(doc)
        else:
            tokens = [_text(t, "TextVectorization's `split` callable") for t in self.split(doc)]
        if self._widths is None:
            return tokens
        out = []
        for w in self._widths:
            out.extend(" ".join(tokens[i:i + w]) for i in range(len(tokens) - w + 1))
        return out

    def _documents(self, inputs):
        """``(documents, single string)``; each document is a string, or with ``split=None`` a
        row of strings, each one token."""
        where = "TextVectorization"
        if isinstance(inputs, (str, bytes, np.str_)):
            return [_text(inputs, where)], True
        if isinstance(inputs, torch.Tensor):
            raise TypeError(f"{where} expects strings; received a tensor of {inputs.dtype}. Call it on the "
                            f"texts themselves (a list or array of strings).")
        if hasattr(inputs, "to_numpy"):
            inputs = inputs.to_numpy()
        if isinstance(inputs, np.ndarray):
            inputs = inputs.tolist()
        rows = list(inputs)
        nested = [isinstance(r, (list, tuple, np.ndarray)) for r in rows]
        if not any(nested):
            docs = [_text(r, where) for r in rows]
            return ([[d] for d in docs] if self.split is None else docs), False
        if not all(nested):
            raise ValueError(f"{where} takes a flat list of strings or a list of rows of strings; received a mix.")
        rows = [list(r) for r in rows]
        if self.split is None:
            return [[_text(t, where) for t in r] for r in rows], False
        if any(len(r) != 1 for r in rows):
            width = next(len(r) for r in rows if len(r) != 1)
            raise ValueError("When using `TextVectorization` to tokenize strings, the input rank must be 1 or the "
                             f"last shape dimension must be 1. Received: inputs.shape=({len(rows)}, {width})")
        return [_text(r[0], where) for r in rows], False

    def _token_rows(self, docs) -> list[list[str]]:
        if self.split is None:  # rows of whole strings: standardize each, no splitting
            return [[t for s in row for t in self._tokenize(s)] for row in docs]
        return [self._tokenize(d) for d in docs]

    # -- calling
    def __call__(self, inputs, training=None, **kwargs):
        """Vectorize ``inputs`` (a string, or a list/array of strings); see the class docstring."""
        if kwargs:
            bad = next(iter(kwargs))
            raise TypeError(f"Layer '{self.name}' was called with an unexpected keyword argument '{bad}'.")
        if any_symbolic(inputs):
            raise TypeError(_IN_MODEL.format(name=self.name))
        if self._tokens is None:
            raise ValueError(f"TextVectorization layer '{self.name}' has no vocabulary: call "
                             f"`{self.name}.adapt(texts)` on the training texts first, or pass `vocabulary=`.")
        docs, single = self._documents(inputs)
        rows = self._token_rows(docs)
        lengths = np.fromiter((len(r) for r in rows), dtype=np.int64, count=len(rows))
        get = self._index.get
        oov = self._specials.index(OOV)
        ids = np.fromiter((get(t, oov) for r in rows for t in r), dtype=np.int64, count=int(lengths.sum()))
        n = len(rows)
        starts = np.repeat(np.cumsum(lengths) - lengths, lengths)
        which = np.repeat(np.arange(n), lengths)
        if self.output_mode != "int":
            depth = self.max_tokens if self.pad_to_max_tokens else self.vocabulary_size()
            out = np.zeros((n, depth), dtype=np.float32)
            kept = np.fromiter((t != PAD for r in rows for t in r), dtype=bool, count=len(ids))
            if self.output_mode == "count":
                np.add.at(out, (which[kept], ids[kept]), 1.0)
            else:
                out[which[kept], ids[kept]] = 1.0
            result = torch.from_numpy(out)
            return result[0] if single else result
        length = self.output_sequence_length
        if length is None:
            length = int(lengths.max()) if n else 0
        out = np.zeros((n, length), dtype=np.int64)
        pos = np.arange(len(ids)) - starts
        fits = pos < length
        out[which[fits], pos[fits]] = ids[fits]
        result = torch.from_numpy(out)
        return result[0] if single else result

    def build(self, input_shape):
        raise TypeError(_IN_MODEL.format(name=self.name))

    def call(self, x, ctx):
        raise TypeError(_IN_MODEL.format(name=self.name))

    def get_config(self):
        for name in ("standardize", "split"):
            if callable(getattr(self, name)):
                raise ValueError(f"Cannot save TextVectorization '{self.name}': its `{name}` is a Python callable. "
                                 f"Use one of the named options to save it.")
        return {**super().get_config(), "max_tokens": self.max_tokens, "standardize": self.standardize,
                "split": self.split, "ngrams": list(self.ngrams) if isinstance(self.ngrams, tuple) else self.ngrams,
                "output_mode": self.output_mode, "output_sequence_length": self.output_sequence_length,
                "pad_to_max_tokens": self.pad_to_max_tokens,
                "vocabulary": None if self._tokens is None else list(self._tokens)}


def _is_batch(data) -> bool:
    """A list/array of strings (or of rows of them), as opposed to an iterable of such batches."""
    if isinstance(data, np.ndarray) or hasattr(data, "to_numpy"):
        return True
    if not isinstance(data, (list, tuple)):
        return False
    return all(isinstance(d, (str, bytes, np.str_)) or (
        isinstance(d, (list, tuple)) and all(isinstance(t, (str, bytes, np.str_)) for t in d)) for d in data)


_IN_MODEL = ("TextVectorization layer '{name}' cannot be part of a model: models compute on tensors, and it "
             "runs on Python strings. Vectorize the texts first (`x = {name}(texts)`) and start the model "
             "after it, e.g. with Input((length,), dtype='int64') and an Embedding.")
