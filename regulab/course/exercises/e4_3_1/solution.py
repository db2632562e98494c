import numpy as np


def sample_next(logits, temperature, rng):
    """The index of the next character, drawn from softmax(logits / temperature) with ``rng``."""
    logits = np.asarray(logits, dtype=np.float64)
    if temperature == 0:
        return int(np.argmax(logits))
    z = (logits - logits.max()) / temperature
    p = np.exp(z)
    p /= p.sum()
    return int(rng.choice(len(p), p=p))


rng = np.random.default_rng(0)
scores = np.array([2.0, 1.0, 0.0, -1.0])
for temperature in (0.0, 0.5, 1.0, 2.0):
    draws = [sample_next(scores, temperature, rng) for _ in range(1000)]
    print(temperature, np.bincount(draws, minlength=4) / 1000)
