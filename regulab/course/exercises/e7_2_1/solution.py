import numpy as np


def bigram_bits_per_char(train_text, test_text, k=1.0):
    """Bits per character of test_text under an add-k smoothed bigram model counted on train_text."""
    chars = sorted(set(train_text))
    index = {c: i + 1 for i, c in enumerate(chars)}  # 0 is the unknown symbol
    V = len(chars) + 1
    train = np.array([index[c] for c in train_text])
    test = np.array([index.get(c, 0) for c in test_text])
    counts = np.zeros((V, V))
    np.add.at(counts, (train[:-1], train[1:]), 1.0)
    smoothed = counts + k
    p = smoothed / smoothed.sum(axis=1, keepdims=True)
    return float(-np.log2(p[test[:-1], test[1:]]).mean())


print(bigram_bits_per_char("abab", "abba"))  # 1.2457 when it is right
print(bigram_bits_per_char(train_text, test_text))
