"""A character-level language model (Karpathy's char-RNN) on Python's own documentation.

An Embedding, a GRU over windows of text and a Dense layer predict every next character. Its
per-character cross-entropy on the held-out topics (in nats) is compared with a smoothed bigram
model counted on the training text and scored on the same (previous, next) character pairs: the
bigram knows one character of context, the GRU everything earlier in the window. ``generate``
continues a prompt by sampling one character at a time at a temperature.

Run it: ``python examples/char_rnn.py`` (under a minute on two CPU cores).
"""
from __future__ import annotations

import numpy as np

import regulab
from regulab.layers import GRU, Dense, Embedding, Input
from regulab.models import Model, Sequential


class CharVocabulary:
    """The characters of a training text, each with an index from 1; index 0 stands for any
    character the text lacks.

    >>> vocab = CharVocabulary("hello")
    >>> vocab.size, vocab.encode("hex").tolist(), vocab.decode([2, 1, 3, 3, 4])
    (5, [2, 1, 0], 'hello')
    """

    def __init__(self, text: str):
        self.chars = sorted(set(text))
        self._index = {c: i + 1 for i, c in enumerate(self.chars)}
        self.size = len(self.chars) + 1

    def encode(self, text: str) -> np.ndarray:
        return np.array([self._index.get(c, 0) for c in text], dtype=np.int64)

    def decode(self, codes) -> str:
        return "".join(self.chars[i - 1] if i > 0 else "\ufffd" for i in np.asarray(codes).tolist())


def windows(codes: np.ndarray, length: int, offset: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Consecutive non-overlapping windows from ``offset``: inputs ``(n, length)`` and the next
    characters ``(n, length)`` (the inputs moved on by one).

    >>> x, y = windows(np.arange(10), 3, offset=1)
    >>> x.tolist(), y.tolist()
    ([[1, 2, 3], [4, 5, 6]], [[2, 3, 4], [5, 6, 7]])
    """
    n = (len(codes) - 1 - offset) // length
    starts = offset + length * np.arange(n)[:, None]
    return codes[starts + np.arange(length)], codes[starts + np.arange(1, length + 1)]


def bigram_counts(codes: np.ndarray, size: int) -> np.ndarray:
    """``counts[a, b]``: how often character ``b`` follows ``a`` in ``codes``."""
    counts = np.zeros((size, size))
    np.add.at(counts, (codes[:-1], codes[1:]), 1.0)
    return counts


def bigram_cross_entropy(counts: np.ndarray, previous: np.ndarray, following: np.ndarray, k: float = 1.0) -> float:
    """Mean -log P(following | previous) in nats under add-``k`` smoothing of ``counts``.

    >>> counts = bigram_counts(np.array([1, 2, 1, 2]), 3)
    >>> round(bigram_cross_entropy(counts, np.array([1]), np.array([2]), k=1.0), 4)  # -log (2+1)/(2+3)
    0.5108
    """
    smoothed = counts + k
    log_p = np.log(smoothed) - np.log(smoothed.sum(axis=1, keepdims=True))
    return float(-log_p[previous.ravel(), following.ravel()].mean())


def build(vocab_size: int, length: int, units: int = 128, embedding_dim: int = 32) -> Sequential:
    """Embedding, GRU (every step's output) and Dense logits over the characters, for windows of
    ``length`` characters."""
    return Sequential([Input((length,), dtype="int64"), Embedding(vocab_size, embedding_dim),
                       GRU(units, return_sequences=True), Dense(vocab_size)], name="char_rnn")


def compile_model(model: Sequential, learning_rate: float = 1e-2) -> None:
    loss = regulab.losses.SparseCategoricalCrossentropy(from_logits=True)
    model.compile(optimizer=regulab.optimizers.Adam(learning_rate), loss=loss, jit_compile=False)


def train(model: Sequential, codes: np.ndarray, epochs: int, batch_size: int = 32, seed: int = 0) -> None:
    """Fit on the windows of ``codes``, from a new random offset every epoch (so each epoch cuts
    the text at other places)."""
    length = model.input_shape[-1]
    rng = np.random.default_rng(seed)
    for epoch in range(epochs):
        x, y = windows(codes, length, offset=int(rng.integers(length)))
        model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0, seed=seed + epoch)


def sampling_model(model: Sequential) -> Model:
    """The same layers (the same weights) for inputs of any length, to continue a prompt."""
    inputs = Input((None,), dtype="int64")
    out = inputs
    for layer in model.layers:
        out = layer(out)
    return Model(inputs, out)


def generate(model: Sequential, vocab: CharVocabulary, prompt: str, length: int, temperature: float = 1.0,
             seed: int | None = None) -> str:
    """``prompt`` continued to ``length`` characters in all, one sampled character at a time.

    Each next character is drawn from softmax(logits / ``temperature``) given everything so far;
    ``temperature=0`` takes the most likely character (the argmax path), which small
    temperatures approach; ``seed`` makes the draws repeatable.
    """
    if not isinstance(prompt, str) or not prompt:
        raise ValueError(f"generate needs a non-empty prompt string; received prompt={prompt!r}.")
    if not isinstance(length, int) or length < len(prompt):
        raise ValueError(f"Invalid value for argument `length` of generate: expected an integer at least the "
                         f"prompt's length, {len(prompt)}. Received: length={length!r}")
    if not temperature >= 0:
        raise ValueError(f"Invalid value for argument `temperature` of generate: expected a float in [0, inf). "
                         f"Received: temperature={temperature!r}")
    sampler = sampling_model(model)
    rng = np.random.default_rng(seed)
    codes = list(vocab.encode(prompt))
    while len(codes) < length:
        logits = sampler.predict_on_batch(np.array([codes], dtype=np.int64))[0, -1].astype(np.float64)
        logits[0] = -np.inf  # never produce the stand-in for unknown characters
        if temperature == 0:
            codes.append(int(np.argmax(logits)))
            continue
        z = (logits - logits.max()) / temperature
        p = np.exp(z)
        codes.append(int(rng.choice(len(p), p=p / p.sum())))
    return prompt + vocab.decode(codes[len(prompt):])


def run(epochs: int = 1, units: int = 128, length: int = 32, seed: int = 0):
    """Train on the documentation; returns the model, the vocabulary, the held-out cross-entropy
    of the model and of add-one and best-smoothed bigram models on the same character pairs."""
    train_text, validation_text = regulab.datasets.load_python_docs()
    vocab = CharVocabulary(train_text)
    train_codes, validation_codes = vocab.encode(train_text), vocab.encode(validation_text)
    regulab.set_random_seed(seed)
    model = build(vocab.size, length, units)
    compile_model(model)
    train(model, train_codes, epochs, seed=seed)
    x_val, y_val = windows(validation_codes, length)
    model_ce = float(model.evaluate(x_val, y_val, batch_size=256, verbose=0))
    counts = bigram_counts(train_codes, vocab.size)
    bigram = {k: bigram_cross_entropy(counts, x_val, y_val, k) for k in (1.0, 0.5, 0.1, 0.01)}
    return model, vocab, {"model": model_ce, "bigram_add_one": bigram[1.0], "bigram_best": min(bigram.values())}


def main() -> None:
    model, vocab, ce = run()
    print(f"char-rnn validation cross-entropy: {ce['model']:.3f} nats/char "
          f"(add-one bigram {ce['bigram_add_one']:.3f}, best add-k bigram {ce['bigram_best']:.3f})")
    print(generate(model, vocab, "The ", 200, temperature=0.5, seed=0))


if __name__ == "__main__":
    main()
