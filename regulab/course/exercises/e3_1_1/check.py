"""3.1.1: a hand-written 'valid' cross-correlation, compared with scipy.signal.correlate2d."""
import inspect

import numpy as np
from scipy.signal import convolve2d, correlate2d

FORMULA = "cell [i, j] is np.sum(image[i:i+kh, j:j+kw] * kernel)"


def _cases():
    rng = np.random.default_rng(0)
    from regulab.datasets import load_digits

    digit = load_digits()[0][0, :, :, 0].astype(float)
    return [
        ("an 8x8 digit and a 3x3 vertical-edge kernel", digit, np.array([[-1., 0, 1], [-2, 0, 2], [-1, 0, 1]])),
        ("a 6x7 random image and a 3x2 kernel", rng.normal(size=(6, 7)), rng.normal(size=(3, 2))),
        ("a 5x9 random image and a 2x4 kernel", rng.normal(size=(5, 9)), rng.normal(size=(2, 4))),
        ("a 4x4 random image and a 1x1 kernel", rng.normal(size=(4, 4)), np.array([[2.5]])),
        ("a 3x3 random image and a 3x3 kernel", rng.normal(size=(3, 3)), rng.normal(size=(3, 3))),
    ]


def check(run):
    conv2d = run.namespace["conv2d"]
    if not callable(conv2d):
        yield f"conv2d is a {type(conv2d).__name__}, not a function; define it with def conv2d(image, kernel):"
        return
    try:
        source = inspect.getsource(conv2d)
    except (OSError, TypeError):
        source = ""
    if any(word in source for word in ("correlate", "convolve", "scipy")):
        yield "conv2d calls SciPy; the task is to write the sliding sum yourself with NumPy loops"
        return
    for what, image, kernel in _cases():
        expected = correlate2d(image, kernel, mode="valid")
        try:
            got = np.asarray(conv2d(image.copy(), kernel.copy()), dtype=float)
        except Exception as error:
            yield f"conv2d raised {type(error).__name__}: {error} for {what}; {FORMULA}"
            return
        if got.shape != expected.shape:
            yield (f"for {what} conv2d returns shape {got.shape}, but a 'valid' convolution gives "
                   f"{expected.shape}: (H - kh + 1, W - kw + 1), the positions where the whole kernel fits")
            return
        if np.allclose(got, expected, atol=1e-6):
            continue
        if not got.any():
            yield f"conv2d returns only zeros for {what}: fill the output, {FORMULA}"
        elif np.allclose(got, convolve2d(image, kernel, mode="valid"), atol=1e-6):
            yield (f"conv2d flips the kernel (it matches scipy.signal.convolve2d for {what}); a Conv2D layer does "
                   f"not flip it: {FORMULA}")
        elif got.shape == expected.T.shape and np.allclose(got, expected.T, atol=1e-6):
            yield f"conv2d swaps rows and columns for {what}: i runs over the image's rows (axis 0), j over its columns"
        else:
            i, j = np.unravel_index(np.abs(got - expected).argmax(), got.shape)
            yield (f"for {what} conv2d gives {got[i, j]:.4g} at [{i}, {j}] where correlate2d gives "
                   f"{expected[i, j]:.4g}; {FORMULA}")
        return
