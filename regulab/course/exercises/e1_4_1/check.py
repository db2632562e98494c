"""1.4.1: a NumPy forward pass that equals model.predict, for any weights of the given shape."""
import numpy as np

from regulab import activations
from regulab.layers import Dense

TOLERANCE = 1e-5
MODEL = "Sequential([Dense(8, input_dim=4, activation='relu'), Dense(3, activation='softmax')])"


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _mistakes(x, weights):
    """What some typical mistakes return, with what to say about each."""
    W1, b1, W2, b2 = [w.astype(np.float64) for w in weights]
    relu = lambda z: np.maximum(z, 0)  # noqa: E731
    return [
        (relu(x @ W1 + b1) @ W2 + b2, "forward returns the output layer's scores before the softmax; apply "
                                      "softmax to them: exp of each score divided by the sum over the row"),
        (_softmax((x @ W1 + b1) @ W2 + b2), "the hidden layer's relu is missing: apply np.maximum(z, 0) to "
                                            "x @ W1 + b1 before the second layer"),
        (_softmax(relu(x @ W1) @ W2), "forward leaves out the biases: each layer adds its b, x @ W + b"),
        (1 / (1 + np.exp(-(relu(x @ W1 + b1) @ W2 + b2))), "the output uses a sigmoid; the model's output "
                                                          "layer is a softmax over the three scores of each row"),
        (np.exp(relu(x @ W1 + b1) @ W2 + b2) / np.exp(relu(x @ W1 + b1) @ W2 + b2).sum(),
         "the softmax divides by the sum over the whole batch; divide each row by its own sum "
         "(axis=1, keepdims=True)"),
    ]


def _compare(forward, model, x):
    """A finding, or None when forward(x, model.get_weights()) equals model.predict(x)."""
    weights = model.get_weights()
    try:
        ours = forward(x.copy(), [w.copy() for w in weights])
    except Exception as error:
        return (f"forward(x, model.get_weights()) raised {type(error).__name__}: {error}; weights is "
                f"[W1, b1, W2, b2] with W1 of shape {weights[0].shape}, so the first layer is x @ W1 + b1")
    try:
        ours = np.asarray(ours, dtype=np.float64)
    except (TypeError, ValueError):
        return f"forward returned {type(ours).__name__}, not an array; return the (n, 3) output as a NumPy array"
    expected = model.predict(x, verbose=0).astype(np.float64)
    if ours.shape != expected.shape:
        hidden = " (the hidden layer's)" if ours.shape == (len(x), weights[0].shape[1]) else ""
        return (f"forward returns an array of shape {ours.shape}{hidden}, but the model outputs {expected.shape}: "
                "pass the hidden layer's output through the second layer, h @ W2 + b2, then the softmax")
    gap = float(np.abs(ours - expected).max())
    if gap <= TOLERANCE:
        return None
    for candidate, advice in _mistakes(x.astype(np.float64), weights):
        if np.abs(ours - candidate).max() <= TOLERANCE:
            return advice
    return (f"forward(x, model.get_weights()) differs from model.predict(x) by up to {gap:.3g}; compute "
            "softmax(relu(x @ W1 + b1) @ W2 + b2)")


def check(run):
    model, forward = run.model, run.namespace["forward"]
    if not callable(forward):
        yield "forward is not a function; define it with def forward(x, weights):"
        return
    dense = [layer for layer in getattr(model, "layers", []) if isinstance(layer, Dense)]
    shape = [(layer.units, layer.activation) for layer in dense]
    if shape != [(8, activations.relu), (3, activations.softmax)] or model.count_params() != 4 * 8 + 8 + 8 * 3 + 3:
        yield f"`model` is not the starting point's network; keep model = {MODEL}"
        return
    x = np.random.default_rng(0).normal(size=(32, 4)).astype(np.float32)
    finding = _compare(forward, model, x)
    if finding:
        yield finding
        return
    import regulab

    regulab.set_random_seed(12345)
    other = type(model).from_config(model.get_config())
    if _compare(forward, other, x) is not None:
        yield ("forward matches `model` but not a second network of the same shape with other weights; compute "
               "with the weights argument it receives, not with `model` or numbers copied from it")
