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
# # 6.3 Framework comparison
#
# TensorFlow/Keras and PyTorch solve the same problem with different trade-offs:
#
# | | Keras (`compile`/`fit`) | PyTorch (hand-written loop) |
# |---|---|---|
# | training loop | written for you | you write it |
# | custom training | override `train_step` | change the loop |
# | debugging | the model's layers and callbacks | ordinary Python, line by line |
# | defaults | chosen for you (initialisers, Adam's epsilon, metrics) | explicit |
#
# Claims about which one is *faster* are easy to make and easy to get wrong, so this lesson
# measures: the same network, on the same data, trained by regulab's `fit` and by an ordinary
# hand-written PyTorch loop, timed side by side, with held-out accuracy to check that both did
# the same job.

# %%
import importlib.util
import time

import matplotlib.pyplot as plt
import numpy as np
import torch

import regulab
from regulab import course
from regulab.layers import Dense, Flatten, Input
from regulab.models import Sequential

QUICK = course.quick()
EPOCHS = 1 if QUICK else 15
REPEATS = 1 if QUICK else 3
BATCH = 32
(x_train, y_train), (x_test, y_test) = regulab.datasets.load_mnist1d()
if QUICK:
    x_train, y_train = x_train[:800], y_train[:800]
print("MNIST-1D:", x_train.shape, "training signals,", x_test.shape, "held out; torch", torch.__version__,
      "| threads", torch.get_num_threads())

# %% [markdown]
# ## The task and the network
#
# MNIST-1D is a small benchmark of one-dimensional signals of 40 values in 10 classes, made to be
# hard for linear models. The network is a plain MLP: 40 inputs, two hidden layers of 128 ReLU
# units, a softmax over 10 classes, trained with Adam (learning rate 1e-3) in batches of 32.
#
# ## In regulab

# %%
def regulab_run(seed):
    regulab.set_random_seed(seed)
    model = Sequential([Input((40, 1)), Flatten(), Dense(128, activation="relu"), Dense(128, activation="relu"),
                        Dense(10, activation="softmax")])
    model.compile(optimizer=regulab.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    start = time.perf_counter()
    model.fit(x_train, y_train, epochs=EPOCHS, batch_size=BATCH, verbose=0, seed=seed)
    seconds = time.perf_counter() - start
    return seconds, model.evaluate(x_test, y_test, verbose=0, return_dict=True)["accuracy"]


# %% [markdown]
# ## In plain PyTorch
#
# The loop a PyTorch user would write: reshuffle every epoch, slice the batches, zero the
# gradients, forward, loss, backward, step, and keep a running loss and accuracy for the epoch's
# log line (as `fit` does).

# %%
def torch_run(seed):
    torch.manual_seed(seed)
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(40, 128), torch.nn.ReLU(),
                              torch.nn.Linear(128, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    data, labels = torch.tensor(x_train), torch.tensor(y_train)
    start = time.perf_counter()
    for _ in range(EPOCHS):
        order = torch.randperm(len(data))
        total_loss, correct = 0.0, 0
        for i in range(0, len(data), BATCH):
            index = order[i:i + BATCH]
            optimizer.zero_grad()
            logits = net(data[index])
            loss = torch.nn.functional.cross_entropy(logits, labels[index])
            loss.backward()
            optimizer.step()
            total_loss += loss.item() * len(index)
            correct += (logits.argmax(1) == labels[index]).sum().item()
    seconds = time.perf_counter() - start
    with torch.no_grad():
        accuracy = (net(torch.tensor(x_test)).argmax(1) == torch.tensor(y_test)).float().mean().item()
    return seconds, accuracy


# %% [markdown]
# ## Timing, fairly
#
# A few rules make such a measurement mean something:
#
# - **warm up** first: the first run of each pays one-time costs (imports, memory allocation);
# - **alternate** the two, repeat after repeat, so that whatever else the machine does affects
#   both alike;
# - report **samples per second** and the spread over repeats, not one number;
# - check the **accuracy**: a faster loop that learns less is not faster.

# %%
runners = {"regulab fit": regulab_run, "PyTorch loop": torch_run}
for run in runners.values():            # warm-up, not timed
    run(100)
timings = {name: [] for name in runners}
accuracies = {name: [] for name in runners}
for repeat in range(REPEATS):
    for name, run in (runners.items() if repeat % 2 == 0 else reversed(runners.items())):
        seconds, accuracy = run(repeat)
        timings[name].append(EPOCHS * len(x_train) / seconds)
        accuracies[name].append(accuracy)
for name in runners:
    course.result(f"{name}: training samples per second (median of {REPEATS})", float(np.median(timings[name])))
    course.result(f"{name}: held-out accuracy (mean of {REPEATS})", float(np.mean(accuracies[name])))
speedup = np.median(timings["regulab fit"]) / np.median(timings["PyTorch loop"])
course.result("regulab fit / PyTorch loop, samples per second", float(speedup))

# %% [markdown]
# ## And Keras itself?
#
# The same comparison with TensorFlow's Keras (or Keras 3) needs Keras installed, which this
# course does not require. If it is installed, the cell below times it the same way.

# %%
if importlib.util.find_spec("keras") is None:
    print("Keras is not installed in this environment (pip install keras tensorflow would add it), "
          "so it is not timed here.")
    course.result("Keras timed", "no (not installed)")
else:
    import keras

    def keras_run(seed):
        keras.utils.set_random_seed(seed)
        model = keras.Sequential([keras.Input((40, 1)), keras.layers.Flatten(),
                                  keras.layers.Dense(128, activation="relu"), keras.layers.Dense(128, activation="relu"),
                                  keras.layers.Dense(10, activation="softmax")])
        model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        start = time.perf_counter()
        model.fit(x_train, y_train, epochs=EPOCHS, batch_size=BATCH, verbose=0)
        seconds = time.perf_counter() - start
        return seconds, float(model.evaluate(x_test, y_test, verbose=0)[1])

    keras_run(100)
    results = [keras_run(r) for r in range(REPEATS)]
    timings[f"Keras {keras.__version__}"] = [EPOCHS * len(x_train) / s for s, _ in results]
    accuracies[f"Keras {keras.__version__}"] = [a for _, a in results]
    course.result("Keras: training samples per second (median)", float(np.median(timings[f"Keras {keras.__version__}"])))

# %%
fig, ax = plt.subplots(figsize=(6, 3))
names = list(timings)
fastest = max(max(v) for v in timings.values())
for i, name in enumerate(names):
    ax.barh(i, np.median(timings[name]), color="tab:blue" if i == 0 else "tab:gray")
    ax.scatter(timings[name], [i] * len(timings[name]), color="black", s=10, zorder=3)
    ax.text(0.02 * fastest, i, f"held-out accuracy {np.mean(accuracies[name]):.3f}", va="center", color="white")
ax.set_yticks(range(len(names)), names)
ax.set_xlabel("training samples per second (bar: median; dots: repeats)")
ax.set_xlim(0, 1.1 * fastest)
ax.invert_yaxis()
course.save_figure(fig, "samples_per_second")

# %% [markdown]
# ## Reading the numbers
#
# Both reach about the same held-out accuracy, so the comparison is fair. On this small network
# the two run at similar speeds (within a few tens of percent, and the spread over repeats shows
# how much a busy machine moves the figures): both do the same arithmetic with the same PyTorch
# kernels, and most of the time goes to the Python work around each batch. regulab's `fit` keeps
# that work small (one function per step, multi-tensor optimizer kernels, the epoch's statistics
# kept on the device instead of a `loss.item()` per batch), and for long fits it can compile the
# step (`compile(jit_compile=True)`), which takes a while to compile but then runs several times
# faster. On large networks, where arithmetic dominates, every framework runs at the speed of its
# kernels. The exact figures depend on the machine: run the lesson on yours.
#
# Speed is rarely the reason to pick a framework. Pick the one whose code you and your team
# read and debug most easily, and whose ecosystem (pretrained models, deployment tools) you
# need; regulab lets Keras-style code use PyTorch's ecosystem.
#
# ## What to take away
#
# - Time training in samples per second, after a warm-up, alternating the contenders, over repeats.
# - Check that the contenders reach the same accuracy.
# - Exercise 6.3.1 asks you to write the timing of a fit yourself: `regulab exercise start 6.3.1`.
