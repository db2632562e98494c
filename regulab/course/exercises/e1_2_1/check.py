"""1.2.1: the perceptron learning rule, converging on separable data, and its accuracy on XOR."""
import numpy as np

RULE = "w += lr * (y[i] - prediction) * X[i] and b += lr * (y[i] - prediction)"


def _reference(X, y, epochs=20, lr=1.0):
    w, b = np.zeros(X.shape[1]), 0.0
    for _ in range(epochs):
        for i in range(len(X)):
            error = y[i] - (1.0 if X[i] @ w + b > 0 else 0.0)
            w, b = w + lr * error * X[i], b + lr * error
    return w, b


def _separable():
    rng = np.random.default_rng(0)
    X = np.concatenate([rng.normal([-2.0, -1.0], 0.5, (50, 2)), rng.normal([2.0, 1.0], 0.5, (50, 2))])
    y = np.repeat([0.0, 1.0], 50)
    order = rng.permutation(100)
    return X[order], y[order]


def _call(function, X, y, **kwargs):
    """(w, b) from the learner's function, or a finding."""
    try:
        result = function(X.copy(), y.copy(), **kwargs)
    except Exception as error:
        return None, (f"train_perceptron(X, y, {', '.join(f'{k}={v}' for k, v in kwargs.items())}) raised "
                      f"{type(error).__name__}: {error}; define it as def train_perceptron(X, y, epochs=20, lr=1.0)")
    try:
        w, b = result
        w, b = np.asarray(w, dtype=float).reshape(-1), float(np.asarray(b, dtype=float).reshape(()))
    except Exception:
        return None, f"train_perceptron returned {type(result).__name__} {result!r:.60}; return the pair (w, b)"
    if w.shape != (X.shape[1],):
        return None, f"train_perceptron returned w of shape {w.shape}; w needs one weight per column of X, shape ({X.shape[1]},)"
    return (w, b), None


def _text(values) -> str:
    return "[" + ", ".join(f"{v:g}" for v in np.atleast_1d(values)) + "]"


def check(run):
    function = run.namespace["train_perceptron"]
    if not callable(function):
        yield "train_perceptron is not a function; define it with def train_perceptron(X, y, epochs=20, lr=1.0):"
        return
    X, y = _separable()
    weights, problem = _call(function, X, y, epochs=20)
    if problem:
        yield problem
        return
    w, b = weights
    accuracy = float(np.mean((X @ w + b > 0) == y))
    if accuracy < 1.0:
        still = " (they never moved from zero)" if not w.any() and b == 0 else ""
        yield (f"on 100 linearly separable points, the weights train_perceptron returns after 20 epochs classify "
               f"only {accuracy:.0%} correctly{still}; the perceptron must reach 100% there: apply the rule {RULE}")
        return
    small_X = np.array([[1.0, 2.0], [2.0, -1.0], [-1.0, 1.5], [0.5, 0.5]])
    small_y = np.array([1.0, 0.0, 0.0, 0.0])
    weights, problem = _call(function, small_X, small_y, epochs=1, lr=0.5)
    if problem:
        yield problem
        return
    (w, b), (w_ref, b_ref) = weights, _reference(small_X, small_y, epochs=1, lr=0.5)
    if not (np.allclose(w, w_ref) and np.isclose(b, b_ref)):
        where = "after one epoch (lr=0.5, four points visited in order) train_perceptron returns"
        if b == 0 and b_ref != 0:
            yield (f"{where} b=0: the bias never changes; update it like a weight whose input is always 1, "
                   "b += lr * (y[i] - prediction)")
        else:
            yield (f"{where} w={_text(w)}, b={b:g}; the rule gives w={_text(w_ref)}, b={b_ref:g}: start from "
                   f"zeros, predict 1 if X[i] @ w + b > 0 else 0, then {RULE}, using the lr argument")
        return
    reported = run.namespace["xor_accuracy"]
    try:
        reported = float(reported)
    except (TypeError, ValueError):
        yield (f"xor_accuracy is {reported!r:.40}, not a number; set it to the share of the four XOR points that "
               "the weights from train_perceptron(X_train, y_train) classify correctly")
        return
    weights, problem = _call(function, run.data["X_train"], run.data["y_train"])
    if problem:
        yield problem
        return
    w, b = weights
    actual = float(np.mean((run.data["X_train"] @ w + b > 0) == run.data["y_train"]))
    if not np.isclose(reported, actual):
        impossible = (" (more than 0.75 is impossible: no straight line separates XOR)" if reported > 0.75 else "")
        yield (f"xor_accuracy is {reported:g}{impossible}, but the weights train_perceptron(X_train, y_train) "
               f"returns classify {actual:.0%} of the XOR points correctly; compute it as "
               "np.mean((X_train @ w + b > 0) == y_train)")
