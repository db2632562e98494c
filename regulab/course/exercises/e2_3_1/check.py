"""2.3.1: the gradients of a two-layer softmax network, compared with torch autograd."""
import numpy as np

KEYS = ("W1", "b1", "W2", "b2")
TOLERANCE = 1e-6


def _problem(n, seed):
    rng = np.random.default_rng(seed)
    d, hidden, k = 6, 5, 4
    params = {"W1": rng.normal(0, 1, (d, hidden)), "b1": rng.normal(0, 0.5, hidden),
              "W2": rng.normal(0, 1, (hidden, k)), "b2": rng.normal(0, 0.5, k)}
    return rng.normal(0, 1, (n, d)), rng.integers(0, k, n), params


def _autograd(x, y, params, relu_mask=True):
    import torch

    leaves = {key: torch.tensor(value, requires_grad=True) for key, value in params.items()}
    z1 = torch.tensor(x) @ leaves["W1"] + leaves["b1"]
    h = torch.relu(z1) if relu_mask else torch.relu(z1).detach() + (z1 - z1.detach())  # no mask: identity gradient
    loss = torch.nn.functional.cross_entropy(h @ leaves["W2"] + leaves["b2"], torch.tensor(y))
    loss.backward()
    return {key: leaf.grad.numpy() for key, leaf in leaves.items()}


def _relative(a, b) -> float:
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), 1e-300))


def _findings(backward, n, seed):
    x, y, params = _problem(n, seed)
    try:
        grads = backward(x.copy(), y.copy(), {key: value.copy() for key, value in params.items()})
    except Exception as error:
        return [f"backward(x, y, params) raised {type(error).__name__}: {error}"]
    if not isinstance(grads, dict):
        return [f"backward returned {type(grads).__name__}; return a dict with keys 'W1', 'b1', 'W2', 'b2'"]
    missing = [key for key in KEYS if key not in grads]
    if missing:
        return [f"the dict backward returns has no {', '.join(repr(k) for k in missing)}; return the gradient of "
                "every parameter"]
    found = []
    for key in KEYS:
        shape = np.shape(grads[key])
        if shape != params[key].shape:
            found.append(f"grads['{key}'] has shape {shape}; it must have the shape of params['{key}'], "
                         f"{params[key].shape}" + (" (sum over the batch axis: .sum(axis=0))" if key[0] == "b" else ""))
    if found:
        return found
    ours = {key: np.asarray(grads[key], dtype=np.float64) for key in KEYS}
    expected = _autograd(x, y, params)
    errors = {key: _relative(ours[key], expected[key]) for key in KEYS}
    if max(errors.values()) <= TOLERANCE:
        return []
    if all(_relative(ours[key], n * expected[key]) <= TOLERANCE for key in KEYS):
        return [f"every gradient is {n} times autograd's (the batch size): the loss is the mean over the batch, "
                "so divide the gradient at the scores by len(y)"]
    unmasked = _autograd(x, y, params, relu_mask=False)
    if all(_relative(ours[key], unmasked[key]) <= TOLERANCE for key in ("W1", "b1")):
        return ["grads['W1'] and grads['b1'] let the gradient through where the relu was inactive; multiply "
                "dz2 @ W2.T by (z1 > 0) before the first layer's gradients"]
    for key in KEYS:
        if errors[key] > TOLERANCE:
            zero = " (it is all zeros)" if not ours[key].any() else ""
            found.append(f"grads['{key}'] differs from autograd's by a relative error of {errors[key]:.2g}{zero}; "
                         + ("propagate the gradient back through W2 and the relu to the first layer"
                            if key in ("W1", "b1") else "start from dz2 = (p - one_hot(y)) / n"))
    return found


def check(run):
    backward = run.namespace["backward"]
    if not callable(backward):
        yield "backward is not a function; define it with def backward(x, y, params):"
        return
    found = _findings(backward, 16, 0)
    if not found:
        found = [f"{f} (with a batch of 7 samples)" for f in _findings(backward, 7, 1)]
    yield from found
