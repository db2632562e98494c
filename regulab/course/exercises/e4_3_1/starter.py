import numpy as np


def sample_next(logits, temperature, rng):
    """The index of the next character, drawn from softmax(logits / temperature) with ``rng``."""
    logits = np.asarray(logits, dtype=np.float64)
    # TODO: at temperature 0 keep the argmax; otherwise divide the logits by the temperature,
    # turn them into probabilities with a softmax and draw an index with rng.choice
    return int(np.argmax(logits))


rng = np.random.default_rng(0)
scores = np.array([2.0, 1.0, 0.0, -1.0])
for temperature in (0.0, 0.5, 1.0, 2.0):
    draws = [sample_next(scores, temperature, rng) for _ in range(1000)]
    print(temperature, np.bincount(draws, minlength=4) / 1000)
