"""2.2.1: closed-form derivatives of six activations, compared with torch autograd."""
import inspect

import numpy as np

NAMES = ("relu", "leaky_relu", "sigmoid", "tanh", "elu", "softplus")
TOLERANCE = 1e-6


def _autograd(name, x):
    import torch

    from regulab import activations

    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    y = activations.get(name)(t)
    y.sum().backward()
    return y.detach().numpy(), t.grad.numpy()


def _finding(derivative, name, x):
    try:
        ours = derivative(name, x.copy())
    except Exception as error:
        return f"derivative('{name}', x) raised {type(error).__name__}: {error}; fix the branch for '{name}'"
    if ours is None:
        return (f"derivative('{name}', x) returns None: the branch for '{name}' is not written yet; add it "
                "(lesson 2.2's table has its derivative)")
    try:
        ours = np.broadcast_to(np.asarray(ours, dtype=np.float64), x.shape)
    except (TypeError, ValueError):
        shape = getattr(ours, "shape", None)
        return (f"derivative('{name}', x) returned {type(ours).__name__}{f' of shape {shape}' if shape else ''} "
                f"for x of shape {x.shape}; return an array of x's shape, one derivative per element")
    value, expected = _autograd(name, x)
    gap = np.abs(ours - expected)
    if not np.isfinite(ours).all():
        return f"derivative('{name}', x) returns inf or nan for some x in [-4, 4]; compare with autograd's finite values"
    if gap.max() <= TOLERANCE:
        return None
    negative = x < 0
    if name == "leaky_relu" and np.allclose(ours[~negative], 1) and np.allclose(ours[negative], ours[negative][0]):
        return (f"derivative('leaky_relu', x) is {ours[negative][0]:g} for x < 0, but regulab's leaky_relu (Keras 3's "
                "default) has slope 0.2 there")
    if np.abs(ours - value).max() <= TOLERANCE:
        return f"derivative('{name}', x) returns {name}(x) itself, not its derivative"
    i = int(gap.argmax())
    return (f"derivative('{name}', x) is {ours[i]:.4g} at x = {x[i]:.3g} where autograd gives {expected[i]:.4g} "
            f"(off by up to {gap.max():.3g} on [-4, 4]); check the formula for {name}")


def check(run):
    derivative = run.namespace["derivative"]
    if not callable(derivative):
        yield "derivative is not a function; define it with def derivative(name, x):"
        return
    try:
        source = inspect.getsource(derivative)
    except (OSError, TypeError):
        source = ""
    if "backward(" in source or "autograd" in source:
        yield "derivative calls autograd; the task asks for the closed-form formulas, written with NumPy"
        return
    x = np.linspace(-4, 4, 800)
    for name in NAMES:
        finding = _finding(derivative, name, x)
        if finding:
            yield finding
