"""4.3.1: temperature sampling, checked by the frequencies of many draws."""
import numpy as np

LOGITS = np.array([2.0, 1.0, 0.0, -1.0, 0.5])
DRAWS = 3000
TOLERANCE = 0.035      # about 4.5 standard deviations of a frequency near 0.5 over 3,000 draws


def _softmax(z):
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(z - z.max())
    return e / e.sum()


def _draws(sample_next, logits, temperature, seed, n=DRAWS):
    rng = np.random.default_rng(seed)
    return [sample_next(logits.copy(), temperature, rng) for _ in range(n)]


def _frequencies(draws, size):
    return np.bincount(np.asarray(draws, dtype=np.int64), minlength=size)[:size] / len(draws)


def _text(p):
    return "[" + ", ".join(f"{v:.2f}" for v in p) + "]"


def check(run):
    sample_next = run.namespace["sample_next"]
    if not callable(sample_next):
        yield "sample_next is not a function; define it with def sample_next(logits, temperature, rng):"
        return
    try:
        greedy = [sample_next(logits, 0.0, np.random.default_rng(0))
                  for logits in (LOGITS, np.array([0.0, 3.0, 1.0]), np.array([-5.0, -4.0, -6.0]))]
    except Exception as error:
        yield (f"sample_next(logits, 0.0, rng) raised {type(error).__name__}: {error}; at temperature 0 return "
               "int(np.argmax(logits)) before dividing by the temperature")
        return
    if greedy != [0, 1, 1]:
        yield f"at temperature 0 sample_next should return the index of the largest score (np.argmax); it returned {greedy}"
        return
    size = len(LOGITS)
    for temperature in (1.0, 0.5, 2.0):
        try:
            draws = _draws(sample_next, LOGITS, temperature, seed=1)
        except Exception as error:
            yield f"sample_next(logits, {temperature}, rng) raised {type(error).__name__}: {error}"
            return
        values = np.asarray(draws)
        if values.dtype.kind not in "iu" or values.min() < 0 or values.max() >= size:
            yield (f"sample_next should return an index between 0 and len(logits) - 1; at temperature {temperature} "
                   f"it returned values such as {draws[0]!r}")
            return
        if len(set(draws)) == 1:
            yield (f"at temperature {temperature} sample_next returned index {draws[0]} in all {DRAWS} draws; it should "
                   "draw at random, with probabilities softmax(logits / temperature), e.g. rng.choice(len(p), p=p)")
            return
        got, expected = _frequencies(draws, size), _softmax(LOGITS / temperature)
        if np.abs(got - expected).max() > TOLERANCE:
            if np.abs(got - _softmax(LOGITS * temperature)).max() <= TOLERANCE:
                yield (f"at temperature {temperature} the draws follow softmax(logits * {temperature}): divide the "
                       "logits by the temperature, do not multiply them")
            elif np.abs(got - _softmax(LOGITS)).max() <= TOLERANCE:
                yield (f"at temperature {temperature} the draws follow softmax(logits), as if the temperature were 1; "
                       "divide the logits by the temperature before the softmax")
            else:
                yield (f"for logits {LOGITS.tolist()} at temperature {temperature} the draws' frequencies are {_text(got)}; "
                       f"softmax(logits / temperature) is {_text(expected)}")
            return
    again = _draws(sample_next, LOGITS, 1.0, seed=1, n=200)
    if again != _draws(sample_next, LOGITS, 1.0, seed=1, n=200):
        yield ("two runs with generators of the same seed drew different characters: draw with the rng "
               "sample_next is given (rng.choice), not with np.random")
        return
    try:
        index = sample_next(np.array([1000.0, 999.0, 0.0]), 1.0, np.random.default_rng(0))
    except Exception as error:
        yield (f"with scores [1000, 999, 0] sample_next raised {type(error).__name__}: {error}; np.exp(1000) "
               "overflows, so subtract logits.max() before np.exp")
        return
    if index not in (0, 1):
        yield (f"with scores [1000, 999, 0] sample_next returned {index!r}; np.exp(1000) overflows, so subtract "
               "logits.max() before np.exp")
