# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 2.2 Activation functions and their derivatives
#
# Without an activation function a network is a chain of matrix products, which is just one
# matrix product: a linear model. The activation $f$ applied after each weighted sum is what
# lets layers build curved boundaries. Training needs one more thing from $f$: its
# **derivative** $f'$, because backpropagation multiplies the error signal by $f'(z)$ at every
# layer on its way back. An activation is chosen as much for its derivative as for its shape.
#
# The common ones, as `regulab.activations` (and Keras) define them:
#
# | name | $f(x)$ | $f'(x)$ |
# |------|--------|---------|
# | relu | $\max(x, 0)$ | $1$ if $x > 0$, else $0$ |
# | leaky_relu | $x$ if $x > 0$, else $0.2x$ | $1$ if $x > 0$, else $0.2$ |
# | sigmoid | $\sigma(x) = 1/(1+e^{-x})$ | $\sigma(x)(1-\sigma(x))$ |
# | tanh | $\tanh x$ | $1 - \tanh^2 x$ |
# | elu | $x$ if $x > 0$, else $e^x - 1$ | $1$ if $x > 0$, else $e^x$ |
# | selu | $\lambda x$ if $x > 0$, else $\lambda\alpha(e^x - 1)$ | $\lambda$ if $x > 0$, else $\lambda\alpha e^x$ |
# | gelu | $x\,\Phi(x)$ | $\Phi(x) + x\,\varphi(x)$ |
# | softplus | $\log(1 + e^x)$ | $\sigma(x)$ |
#
# ($\Phi$ and $\varphi$ are the standard normal distribution function and density; selu's
# constants are $\lambda \approx 1.0507$, $\alpha \approx 1.6733$. Keras 3's leaky_relu slope is 0.2.)

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch
from scipy.stats import norm

import regulab
from regulab import activations, course
from regulab.layers import Dense, Input
from regulab.models import Sequential

QUICK = course.quick()
regulab.set_random_seed(0)

# %% [markdown]
# ## Derivatives by autograd, and in closed form
#
# PyTorch's **autograd** records the operations applied to a tensor and computes derivatives
# exactly (to float rounding) by the chain rule: `y.sum().backward()` leaves $f'(x_i)$ in
# `x.grad`, as each $y_i$ depends on $x_i$ alone. We compare it with the formulas in the table on
# 1,000 points in $[-5, 5]$ (none exactly at 0, where relu and its cousins have a kink and no
# derivative).

# %%
SELU_SCALE, SELU_ALPHA = 1.0507009873554805, 1.6732632423543772


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


closed_form = {
    "relu": lambda x: (x > 0).astype(float),
    "leaky_relu": lambda x: np.where(x > 0, 1.0, 0.2),
    "sigmoid": lambda x: sigmoid(x) * (1 - sigmoid(x)),
    "tanh": lambda x: 1 - np.tanh(x) ** 2,
    "elu": lambda x: np.where(x > 0, 1.0, np.exp(x)),
    "selu": lambda x: SELU_SCALE * np.where(x > 0, 1.0, SELU_ALPHA * np.exp(x)),
    "gelu": lambda x: norm.cdf(x) + x * norm.pdf(x),
    "softplus": sigmoid,
}

x = np.linspace(-5, 5, 1000)


def autograd_derivative(name, x):
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    y = activations.get(name)(t)
    y.sum().backward()
    return y.detach().numpy(), t.grad.numpy()


values, derivatives = {}, {}
for name, formula in closed_form.items():
    values[name], derivatives[name] = autograd_derivative(name, x)
    error = float(np.abs(derivatives[name] - formula(x)).max())
    course.result(f"{name}: max |autograd - closed form|", error)

# %% [markdown]
# All differences are at the level of float64 rounding ($10^{-16}$): the formulas are right, and
# autograd computes what calculus says.
#
# ## The functions and their derivatives

# %%
fig, axes = plt.subplots(2, 4, figsize=(13, 5.5), sharex=True)
for ax, name in zip(axes.ravel(), closed_form):
    ax.plot(x, values[name], label="f(x)")
    ax.plot(x, derivatives[name], "--", label="f'(x)")
    ax.axhline(0, color="gray", linewidth=0.5)
    ax.axvline(0, color="gray", linewidth=0.5)
    ax.set_title(name)
    ax.set_ylim(-2, 3)
axes[0, 0].legend()
course.save_figure(fig, "activations_and_derivatives")

# %% [markdown]
# ## Vanishing gradients
#
# The sigmoid's derivative is at most $\sigma(0)(1-\sigma(0)) = 0.25$, and close to 0 as soon
# as $|x|$ is a few units. The error signal reaching the first layer of a deep sigmoid network
# is multiplied by such a factor at every layer (and by the weights), so it shrinks roughly
# geometrically: after 10 layers the factor is at most $0.25^{10} \approx 10^{-6}$. The first
# layers then barely learn. This **vanishing gradient** is why ReLU, whose derivative is exactly
# 1 for positive inputs, replaced the sigmoid in hidden layers. (tanh's derivative reaches 1 at
# 0, which helps, but it saturates too.)

# %%
course.result("sigmoid: largest derivative", float(autograd_derivative("sigmoid", np.array([0.0]))[1][0]))
course.result("sigmoid: derivative at x = 5", float(closed_form["sigmoid"](np.array([5.0]))[0]))
course.result("0.25 ** 10", 0.25 ** 10)

# %% [markdown]
# We measure it in real networks: 10 hidden layers of 32 units, the same random inputs, a
# squared-output loss, and the size of the gradient of each layer's kernel. `model.zero_grad()`
# makes the weights record gradients when we call the model on a tensor ourselves.

# %%
DEPTH = 10
inputs = torch.tensor(np.random.default_rng(0).normal(size=(256, 32)), dtype=torch.float32)
gradient_norms = {}
for name in ("sigmoid", "tanh", "relu"):
    regulab.set_random_seed(0)
    deep = Sequential([Input((32,)), *[Dense(32, activation=name) for _ in range(DEPTH)], Dense(1)])
    deep.zero_grad()
    (deep(inputs) ** 2).mean().backward()
    gradient_norms[name] = [float(layer.kernel.value.grad.norm()) for layer in deep.layers[:DEPTH]]
    course.result(f"{name}: gradient norm, first layer / last hidden layer",
                  gradient_norms[name][0] / gradient_norms[name][-1])

fig, ax = plt.subplots(figsize=(6, 3.5))
for name, norms in gradient_norms.items():
    ax.semilogy(range(1, DEPTH + 1), norms, "o-", label=name)
ax.set_xlabel("hidden layer (1 = next to the input)")
ax.set_ylabel("gradient norm of the kernel")
ax.legend()
course.save_figure(fig, "vanishing_gradients")

# %% [markdown]
# In the sigmoid network the first layer's gradient is millions of times smaller than the last
# hidden layer's; in the tanh and ReLU networks it stays within a factor of ten.
#
# ## What to take away
#
# - Backpropagation multiplies by $f'$ at every layer, so the derivative's shape matters as much
#   as the function's.
# - Sigmoid and tanh saturate: their derivatives vanish for large $|x|$, and the sigmoid's is
#   never above 0.25, so deep stacks of them stop learning in their first layers.
# - ReLU and its smooth relatives (leaky relu, elu, selu, gelu) keep a derivative near 1 for
#   positive inputs; relu is the default choice for hidden layers. Keep sigmoid and softmax for
#   the output layer, where they turn scores into probabilities.
# - Exercise 2.2.1 asks you to write these derivatives yourself; the check compares them with
#   autograd: `regulab exercise start 2.2.1`.
