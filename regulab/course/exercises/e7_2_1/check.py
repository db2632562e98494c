"""7.2.1: bigram_bits_per_char, compared with a reference on several texts and values of k; a
wrong value is matched against the usual mistakes (natural log, no unknown symbol, a denominator
without V, a unigram, a sum instead of a mean) to say which one it is."""
import math

import numpy as np

EXAMPLE = ("abab", "abba", 1.0)


def data():
    from regulab.datasets import load_python_docs

    train, validation = load_python_docs()
    return {"train_text": train[:20_000], "test_text": validation[:5_000]}


def _codes(train_text, test_text, vocabulary):
    chars = sorted(set(vocabulary))
    index = {c: i + 1 for i, c in enumerate(chars)}
    train = np.array([index[c] for c in train_text], dtype=np.int64)
    test = np.array([index.get(c, 0) for c in test_text], dtype=np.int64)
    return train, test, len(chars) + 1


def reference(train_text, test_text, k=1.0, *, mistake=None):
    """The right value (``mistake=None``), or the value one typical mistake gives."""
    vocabulary = train_text + test_text if mistake in ("both_texts", "both_texts_no_unknown") else train_text
    train, test, V = _codes(train_text, test_text, vocabulary)
    if mistake == "unigram":
        counts = np.bincount(train, minlength=V) + k
        return float(-np.log2(counts[test[1:]] / counts.sum()).mean())
    counts = np.zeros((V, V))
    np.add.at(counts, (train[:-1], train[1:]), 1.0)
    row = np.bincount(train, minlength=V)[:, None] if mistake == "count_all" else counts.sum(axis=1, keepdims=True)
    size = {"denominator_k": 1, "no_unknown": V - 1, "both_texts_no_unknown": V - 1}.get(mistake, V)
    bits = -np.log2((counts + k) / (row + k * size))[test[:-1], test[1:]]
    if mistake == "nats":
        return float(bits.mean() * math.log(2))
    if mistake == "sum":
        return float(bits.sum())
    if mistake == "len_test":
        return float(bits.sum() / len(test))
    return float(bits.mean())


MISTAKES = {
    "nats": "it is in nats, not bits: take logarithms to base 2 (np.log2), or divide by ln 2",
    "no_unknown": ("its vocabulary lacks the unknown symbol: V must be len(set(train_text)) + 1, with one index "
                   "(0) for any character train_text lacks"),
    "both_texts": ("its vocabulary comes from both texts; the model may only know train_text: V = "
                   "len(set(train_text)) + 1, and characters of test_text that train_text lacks share the unknown symbol"),
    "both_texts_no_unknown": ("its vocabulary comes from both texts; the model may only know train_text: V = "
                              "len(set(train_text)) + 1, with one index (0) for any character train_text lacks"),
    "count_all": ("its count(a) counts every a in train_text; count only the pairs that start with a (the last "
                  "character starts none): the sum of row a of the pair counts"),
    "denominator_k": "its denominator is count(a) + k; add k once for every symbol of the vocabulary: count(a) + k * V",
    "unigram": ("it ignores the previous character (a unigram model); P(b | a) counts how often b follows a: "
                "(count(a, b) + k) / (count(a) + k * V)"),
    "sum": "it is the total over all pairs; return the mean, dividing by the number of pairs, len(test_text) - 1",
    "len_test": "it divides by len(test_text); a text of n characters has n - 1 pairs, so divide by len(test_text) - 1",
}


def _cases(run):
    texts = run.data
    return [EXAMPLE, (texts["train_text"], texts["test_text"], 1.0), (texts["train_text"], texts["test_text"], 0.1),
            ("hello world", "hold the wheel!", 0.5)]


def _show(train, test, k):
    short = lambda text: repr(text) if len(text) <= 20 else "the predefined " + ("train_text" if text is train else "test_text")
    return f"bigram_bits_per_char({short(train)}, {short(test)}, k={k:g})"


def check(run):
    function = run.namespace.get("bigram_bits_per_char")
    if not callable(function):
        yield "bigram_bits_per_char is not a function; define it with def bigram_bits_per_char(train_text, test_text, k=1.0):"
        return
    for train, test, k in _cases(run):
        call = _show(train, test, k)
        try:
            value = function(train, test, k=k)
        except TypeError as error:
            if "k" in str(error):
                yield f"{call} fails ({error}); the function must take the smoothing as a keyword argument k=1.0"
                return
            yield f"{call} raises TypeError: {error}"
            return
        except Exception as error:
            yield f"{call} raises {type(error).__name__}: {error}"
            return
        try:
            value = float(value)
        except (TypeError, ValueError):
            yield f"{call} returns {value!r}; return one number, the mean of -log2 P(b | a) over the pairs of test_text"
            return
        expected = reference(train, test, k)
        if math.isclose(value, expected, rel_tol=1e-6, abs_tol=1e-9):
            continue
        if not math.isfinite(value):
            yield (f"{call} returns {value}: some pair gets probability 0 or the division fails; add k to every "
                   "count, the pairs never seen included, and divide by count(a) + k * V")
            return
        for mistake, advice in MISTAKES.items():
            if math.isclose(value, reference(train, test, k, mistake=mistake), rel_tol=1e-6, abs_tol=1e-9):
                yield f"{call} returns {value:.4f}, expected {expected:.4f}: {advice}"
                return
        yield (f"{call} returns {value:.4f}, expected {expected:.4f}; follow the task's formula step by step, and "
               "check it on the example: for 'abab' then 'abba', P(b|a) = 3/5, P(b|b) = 1/4, P(a|b) = 2/4")
        return
