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
# # 4.1 Introduction to RNNs: learning from sequences
#
# In a sequence the order carries the meaning: "dog bites man" is not "man bites dog", and the
# next value of a wave depends on where in its cycle the last values were. A **recurrent neural
# network** (RNN) reads a sequence one step at a time and keeps a **state** $h_t$, a vector that
# summarises what it has read so far. The simplest one, `SimpleRNN`, updates it as
#
# $$h_t = \tanh(x_t W + h_{t-1} U + b),$$
#
# with the same weights $W$, $U$, $b$ at every step. After the last step, $h_T$ goes to an
# ordinary `Dense` layer that makes the prediction. Because the weights are shared across steps,
# the same network reads sequences of any length.
#
# The task here: given 20 noisy samples of a sine wave, of random frequency and phase, predict
# the next sample. The values alone do not say where the wave is going; their order does.

# %%
import matplotlib.pyplot as plt
import numpy as np

import regulab
from regulab import course
from regulab.layers import Dense, Input, SimpleRNN
from regulab.models import Sequential

QUICK = course.quick()
EPOCHS = 3 if QUICK else 20
N_TRAIN = 500 if QUICK else 2000
STEPS = 20
regulab.set_random_seed(0)
rng = np.random.default_rng(0)


def sine_windows(n, steps=STEPS):
    """``n`` windows of ``steps`` noisy sine samples, shape (n, steps, 1), and the sample after each."""
    frequency = rng.uniform(0.15, 0.6, size=(n, 1))        # radians per step
    phase = rng.uniform(0, 2 * np.pi, size=(n, 1))
    t = np.arange(steps + 1)[None, :]
    wave = np.sin(frequency * t + phase) + rng.normal(0, 0.05, size=(n, steps + 1))
    return wave[:, :steps, None].astype(np.float32), wave[:, steps].astype(np.float32)


x_train, y_train = sine_windows(N_TRAIN)
x_test, y_test = sine_windows(500)
print(x_train.shape, y_train.shape)
course.result("variance of the targets (the error of always predicting the mean)", float(y_test.var()))

# %% [markdown]
# Recurrent layers take inputs of shape `(samples, steps, features)`: here one feature, the
# value of the wave at each step.
#
# ## A SimpleRNN
#
# `Input((None, 1))`: the number of steps is left open, so the trained model accepts windows of
# any length.

# %%
rnn_model = Sequential([Input((None, 1)), SimpleRNN(32, name="rnn"), Dense(1)], name="simple_rnn")
rnn_model.compile(optimizer=regulab.optimizers.Adam(3e-3), loss="mse")
rnn_model.summary()
rnn_history = rnn_model.fit(x_train, y_train, epochs=EPOCHS, batch_size=32, verbose=0, seed=0)
rnn_mse = rnn_model.evaluate(x_test, y_test, verbose=0)
course.result("SimpleRNN: held-out mean squared error", rnn_mse)

# %% [markdown]
# The summary's 1,088 parameters of the recurrent layer are $W$ (1x32), $U$ (32x32) and $b$
# (32). To be sure that the formula above is all there is, we run it by hand with NumPy and the
# layer's trained weights, and compare with the layer's own output.

# %%
rnn = rnn_model.get_layer("rnn")
W, U, b = rnn.get_weights()
h = np.zeros((5, W.shape[1]), dtype=np.float32)
for t in range(STEPS):
    h = np.tanh(x_test[:5, t] @ W + h @ U + b)
from_layer = rnn(x_test[:5]).detach().numpy()
course.result("state after 20 steps: largest difference between NumPy and the layer", float(np.abs(h - from_layer).max()))

# %% [markdown]
# ## A Dense network that sees no order
#
# To see what the order is worth, we give a `Dense` network the same 20 values per window, but
# sorted: it knows which values occurred, not when. (Sorting is a fair way to throw the order
# away: every shuffle of a window gives the same sorted list.)

# %%
regulab.set_random_seed(0)
bag_model = Sequential([Input((STEPS,)), Dense(64, activation="relu"), Dense(64, activation="relu"), Dense(1)],
                       name="dense_on_sorted_values")
bag_model.compile(optimizer=regulab.optimizers.Adam(3e-3), loss="mse")
bag_model.fit(np.sort(x_train[..., 0], axis=1), y_train, epochs=EPOCHS, batch_size=32, verbose=0, seed=0)
bag_mse = bag_model.evaluate(np.sort(x_test[..., 0], axis=1), y_test, verbose=0)
course.result("Dense on the sorted values: held-out mean squared error", bag_mse)
course.result("SimpleRNN's error as a share of the order-free model's", rnn_mse / bag_mse)

# %% [markdown]
# Without the order, the network can do little better than guess around the average. The RNN's
# error is a small fraction of it.
#
# The RNN really does rely on the order: shuffle the steps of each test window and its error
# jumps, while the order-free model, by construction, does not notice.

# %%
shuffled = np.stack([window[rng.permutation(STEPS)] for window in x_test])
course.result("SimpleRNN on shuffled windows: held-out mean squared error",
              rnn_model.evaluate(shuffled, y_test, verbose=0))

# %% [markdown]
# ## One network, any length
#
# A `Dense` layer has one weight per input position, so a network for 20 values cannot read 40.
# The RNN applies the same update at every step: the model trained on 20-step windows predicts
# from 40-step windows as it is (a longer view of the same wave).

# %%
x_long, y_long = sine_windows(500, steps=40)
course.result("SimpleRNN trained on 20 steps, tested on 40-step windows: mean squared error",
              rnn_model.evaluate(x_long, y_long, verbose=0))

# %% [markdown]
# ## What the predictions look like
#
# Four test windows: the 20 values the models read, the true next value and each model's guess.

# %%
rnn_guess = rnn_model.predict(x_test[:4], verbose=0)[:, 0]
bag_guess = bag_model.predict(np.sort(x_test[:4, :, 0], axis=1), verbose=0)[:, 0]
fig, axes = plt.subplots(1, 5, figsize=(15, 2.8))
for k, ax in enumerate(axes[:4]):
    ax.plot(range(STEPS), x_test[k, :, 0], "o-", ms=3, color="gray", label="input")
    ax.plot(STEPS, y_test[k], "k*", ms=12, label="true next value")
    ax.plot(STEPS, rnn_guess[k], "o", color="tab:blue", label="SimpleRNN")
    ax.plot(STEPS, bag_guess[k], "s", color="tab:orange", label="Dense, no order")
    ax.set_xlabel("step")
axes[0].legend(fontsize=7)
axes[4].plot(range(1, EPOCHS + 1), rnn_history.history["loss"], color="tab:blue")
axes[4].set_yscale("log")
axes[4].set_title("SimpleRNN training loss", fontsize=9)
axes[4].set_xlabel("epoch")
course.save_figure(fig, "next_value_of_a_sine")

# %% [markdown]
# ## What to take away
#
# - An RNN reads a sequence step by step, updating a state with the same weights at every step;
#   `SimpleRNN` is $h_t = \tanh(x_t W + h_{t-1} U + b)$, and the last state feeds a `Dense` layer.
# - Recurrent layers take `(samples, steps, features)`; with `Input((None, features))` one model
#   reads sequences of any length.
# - When the order matters, a model that cannot see it is stuck near the mean; the RNN uses it.
# - `SimpleRNN` struggles to remember over many steps (its gradients shrink or blow up through
#   the repeated `tanh`); lesson 4.2 introduces the LSTM and the GRU, which fix that.
# - Exercise 4.1.1 asks you to build and train the SimpleRNN yourself: `regulab exercise start 4.1.1`.
