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
# # 1.2 History and evolution: the perceptron against XOR, then an MLP
#
# Neural networks are older than most of computing. A short timeline:
#
# | year | step |
# |------|------|
# | 1943 | McCulloch and Pitts describe an artificial neuron: a weighted sum and a threshold |
# | 1958 | Rosenblatt's **perceptron** learns its weights from examples |
# | 1969 | Minsky and Papert prove that a single-layer perceptron cannot compute XOR; funding dries up |
# | 1986 | Rumelhart, Hinton and Williams popularise **backpropagation**, which trains hidden layers |
# | 1989 | LeCun trains a convolutional network to read handwritten digits |
# | 1997 | Hochreiter and Schmidhuber introduce the LSTM for long sequences |
# | 2012 | AlexNet wins ImageNet by a wide margin, trained on GPUs: the deep learning boom starts |
# | 2017 | The Transformer, the architecture behind today's language models |
#
# This lesson replays the first act in code: we write Rosenblatt's perceptron in NumPy, watch it
# learn a problem a straight line can solve, watch it fail on XOR, then solve XOR with a
# multilayer perceptron trained by backpropagation.

# %%
import matplotlib.pyplot as plt
import numpy as np

import regulab
from regulab import course
from regulab.layers import Dense
from regulab.models import Sequential
from regulab.optimizers import Adam

QUICK = course.quick()
EPOCHS = 20 if QUICK else 50
MLP_EPOCHS = 100 if QUICK else 200
regulab.set_random_seed(0)
rng = np.random.default_rng(0)

# %% [markdown]
# ## The perceptron learning rule
#
# The perceptron predicts $\hat y = 1$ when $w \cdot x + b > 0$ and $\hat y = 0$ otherwise. It
# looks at the training points one at a time; when it gets one wrong it moves its weights
# towards the right answer:
#
# $$w \leftarrow w + \eta\,(y - \hat y)\,x, \qquad b \leftarrow b + \eta\,(y - \hat y).$$
#
# A correct prediction leaves the weights alone ($y - \hat y = 0$). Rosenblatt proved that if some
# straight line separates the two classes, this rule finds one after finitely many mistakes.

# %%
def predict(X, w, b):
    return (X @ w + b > 0).astype(np.float64)


def train_perceptron(X, y, epochs, lr=1.0, seed=0):
    """Rosenblatt's rule; returns the weights, the bias and the number of mistakes in each epoch."""
    order = np.random.default_rng(seed)
    w, b = np.zeros(X.shape[1]), 0.0
    mistakes = []
    for _ in range(epochs):
        wrong = 0
        for i in order.permutation(len(X)):
            error = y[i] - predict(X[i], w, b)
            if error != 0:
                w, b = w + lr * error * X[i], b + lr * error
                wrong += 1
        mistakes.append(wrong)
    return w, b, mistakes


# %% [markdown]
# ## A linearly separable problem: it converges
#
# 200 points in two clouds that a line can separate. The perceptron makes mistakes in the first
# epochs, then none: once an epoch passes without a mistake the weights never change again.

# %%
X_sep = np.concatenate([rng.normal([-1.5, -1.0], 0.6, (100, 2)), rng.normal([1.5, 1.0], 0.6, (100, 2))])
y_sep = np.repeat([0.0, 1.0], 100)
w_sep, b_sep, mistakes_sep = train_perceptron(X_sep, y_sep, EPOCHS)
course.result("separable clouds: perceptron accuracy", float((predict(X_sep, w_sep, b_sep) == y_sep).mean()))
course.result("separable clouds: first epoch without a mistake", mistakes_sep.index(0) + 1 if 0 in mistakes_sep
              else "none")

# %% [markdown]
# ## XOR: it never settles
#
# On XOR every line misclassifies at least one of the four points, so there is always a mistake
# to correct and the weights cycle for ever. The best the perceptron can ever reach is 3 of 4.

# %%
X_xor = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
y_xor = np.array([0.0, 1.0, 1.0, 0.0])
w_xor, b_xor, mistakes_xor = train_perceptron(X_xor, y_xor, EPOCHS)
course.result("XOR: perceptron accuracy", float((predict(X_xor, w_xor, b_xor) == y_xor).mean()))
course.result("XOR: mistakes in the last epoch", mistakes_xor[-1])

# %% [markdown]
# ## The fix: a hidden layer, trained by backpropagation
#
# Minsky and Papert knew that a network with a hidden layer *can* represent XOR (for instance
# "OR and not AND"); what was missing in 1969 was a way to train the hidden weights, since the
# perceptron rule needs to know each unit's right answer and a hidden unit has none.
# Backpropagation solves that by passing the gradient of the error back through the layers
# (lesson 2.3 writes it out). Smooth activations (here `tanh`) replace the hard threshold so
# that the gradient exists. The result is a **multilayer perceptron** (MLP).

# %%
mlp = Sequential([Dense(8, input_dim=2, activation="tanh"), Dense(1, activation="sigmoid")])
mlp.compile(optimizer=Adam(0.05), loss="binary_crossentropy", metrics=["accuracy"])
history = mlp.fit(X_xor.astype(np.float32), y_xor.astype(np.float32), epochs=MLP_EPOCHS, batch_size=4,
                  verbose=0, seed=0)
mlp_errors = [4 * (1 - a) for a in history.history["accuracy"]]
course.result("XOR: MLP accuracy", mlp.evaluate(X_xor.astype(np.float32), y_xor.astype(np.float32), verbose=0,
                                                return_dict=True)["accuracy"])
wrong_epochs = [i for i, e in enumerate(mlp_errors) if e > 0.5]
course.result("XOR: MLP epoch from which no point is wrong", (wrong_epochs[-1] + 2) if wrong_epochs else 1)

# %% [markdown]
# ## Errors per epoch
#
# Left: the perceptron's mistakes per epoch. On the separable clouds they drop to zero and stay
# there; on XOR they never do. Right: the MLP's misclassified XOR points after each epoch (an
# epoch is one step here, as the batch is all four points).

# %%
fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.5))
epochs = np.arange(1, EPOCHS + 1)
left.plot(epochs, mistakes_sep, "o-", label="separable clouds (200 points)")
left.plot(epochs, mistakes_xor, "s-", label="XOR (4 points)")
left.set_xlabel("epoch")
left.set_ylabel("mistakes in the epoch")
left.set_title("Rosenblatt's perceptron")
left.legend(loc="center right")
right.plot(np.arange(1, len(mlp_errors) + 1), mlp_errors, color="tab:green")
right.set_xlabel("epoch")
right.set_ylabel("misclassified XOR points")
right.set_title("MLP with one hidden layer")
course.save_figure(fig, "errors_per_epoch")

# %% [markdown]
# ## What to take away
#
# - The perceptron learning rule converges whenever a line separates the classes, and cycles
#   for ever when none does: on XOR it cannot get past 3 of 4 points.
# - A hidden layer makes XOR easy, but it needs a training method that can assign blame to hidden
#   units: backpropagation, with smooth activations.
# - Exercise 1.2.1 asks you to write the perceptron rule yourself and measure it on XOR:
#   `regulab exercise start 1.2.1`.
