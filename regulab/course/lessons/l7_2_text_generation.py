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
# # 7.2 Project: text generation with an RNN
#
# A **character-level language model** reads text one character at a time and, at every
# position, gives a probability to each possible next character. Trained on enough text, it
# can then *write*: pick a character from its prediction, feed it back in, and repeat.
#
# The text here is Python's own documentation (the help topics that ship with Python, about
# 460,000 characters). It is split by whole topics: the model never sees the held-out topics
# during training, so its score on them measures what it learned about English and Python, not
# what it memorised.
#
# ## How to score a language model: bits per character
#
# If the model gives probability $p$ to the character that actually comes next, it "pays"
# $-\log_2 p$ bits for it: 0 bits for a sure and right guess, 1 bit for a coin flip, many bits
# for a surprise. The average over the held-out text is its **bits per character** (bpc), the
# usual figure for these models; lower is better. It is the cross-entropy loss of training,
# measured in bits instead of nats: divide the loss by $\ln 2$.

# %%
import matplotlib.pyplot as plt
import numpy as np

import regulab
from regulab import course
from regulab.datasets import load_python_docs
from regulab.layers import GRU, Dense, Embedding, Input
from regulab.models import Sequential

QUICK = course.quick()
EPOCHS = 1 if QUICK else 6
UNITS = 64 if QUICK else 128
LENGTH = 32  # characters per training window
regulab.set_random_seed(0)

train_text, held_out_text = load_python_docs()
if QUICK:
    train_text, held_out_text = train_text[:40_000], held_out_text[:8_000]
print(f"{len(train_text):,} training characters, {len(held_out_text):,} held-out characters")
print(repr(train_text[:200]))

# %% [markdown]
# The vocabulary is every character of the training text, numbered from 1; number 0 stands for
# any character the training text lacks (a held-out topic may use one).

# %%
chars = sorted(set(train_text))
index = {c: i + 1 for i, c in enumerate(chars)}
V = len(chars) + 1


def encode(text: str) -> np.ndarray:
    return np.array([index.get(c, 0) for c in text], dtype=np.int64)


def decode(codes) -> str:
    return "".join(chars[i - 1] if i > 0 else "?" for i in codes)


train_codes, held_out_codes = encode(train_text), encode(held_out_text)
course.result("vocabulary size (with the unknown symbol)", V)

# %% [markdown]
# ## Baselines: guessing without a network
#
# Three simple predictors say what a number of bits means:
#
# - **uniform**: every one of the $V$ characters equally likely: $\log_2 V$ bits each;
# - **unigram**: each character with its frequency in the training text (spaces and `e` are
#   cheap, `Q` is expensive), whatever came before;
# - **bigram**: each character with its frequency *after the previous character*, so `u` after
#   `q` is nearly free. That is one character of context.
#
# Counts are **smoothed** by adding $k$ to each (so a pair never seen in training does not get
# probability 0, which would cost infinitely many bits). We try a few $k$ and keep the one best
# on the held-out text; that favours the baselines, so beating them counts for more.
#
# All the scores below are over the same predicted characters: the held-out text is cut into
# windows of 256 characters, and each character is predicted from those before it in its window.

# %%
def windows(codes: np.ndarray, length: int, offset: int = 0):
    """Non-overlapping windows from ``offset``: inputs (n, length) and the next characters (n, length)."""
    n = (len(codes) - 1 - offset) // length
    starts = offset + length * np.arange(n)[:, None]
    return codes[starts + np.arange(length)], codes[starts + np.arange(1, length + 1)]


def unigram_bits(train: np.ndarray, following: np.ndarray, k: float) -> float:
    counts = np.bincount(train, minlength=V) + k
    return float(-np.log2(counts[following] / counts.sum()).mean())


def bigram_bits(train: np.ndarray, previous: np.ndarray, following: np.ndarray, k: float) -> float:
    counts = np.zeros((V, V))
    np.add.at(counts, (train[:-1], train[1:]), 1.0)
    counts += k
    p = counts / counts.sum(axis=1, keepdims=True)
    return float(-np.log2(p[previous, following]).mean())


x_eval, y_eval = windows(held_out_codes, 256)
bits = {"uniform": float(np.log2(V)),
        "unigram": min(unigram_bits(train_codes, y_eval, k) for k in (1.0, 0.1, 0.01)),
        "bigram": min(bigram_bits(train_codes, x_eval, y_eval, k) for k in (1.0, 0.1, 0.01))}
for name, value in bits.items():
    course.result(f"{name} baseline: held-out bits per character", value)

# %% [markdown]
# ## The model: Embedding, GRU, Dense
#
# An `Embedding` turns each character number into a vector of 32 numbers the network learns. A
# `GRU` reads the window left to right and, with `return_sequences=True`, gives its state at
# every position: a summary of everything it has read so far. A `Dense` layer turns each state
# into $V$ scores (logits) for the next character. The loss is the cross-entropy of those logits
# against the true next characters, at every position at once.
#
# `Input((None,))` leaves the length open: the model trains on windows of 32 characters, and the
# same weights read windows of any length later.
#
# Training windows start at a new random offset each epoch, so the text is cut at different
# places every time and the model does not always see the same characters first. The last two
# epochs take smaller steps (a learning rate of 0.002 instead of 0.01), which lets the weights
# settle into a better minimum.

# %%
model = Sequential([
    Input((None,), dtype="int64"),
    Embedding(V, 32),
    GRU(UNITS, return_sequences=True),
    Dense(V),
])
model.compile(optimizer=regulab.optimizers.Adam(1e-2),
              loss=regulab.losses.SparseCategoricalCrossentropy(from_logits=True))
model.summary()

rng = np.random.default_rng(0)
curve = []
for epoch in range(EPOCHS):
    model.optimizer.learning_rate = 1e-2 if epoch < max(EPOCHS - 2, 1) else 2e-3
    x, y = windows(train_codes, LENGTH, offset=int(rng.integers(LENGTH)))
    history = model.fit(x, y, batch_size=32, epochs=1, verbose=0, seed=epoch)
    curve.append(model.evaluate(x_eval, y_eval, batch_size=64, verbose=0) / np.log(2))
    print(f"epoch {epoch + 1}: training loss {history.history['loss'][-1] / np.log(2):.3f} bits, "
          f"held-out {curve[-1]:.3f} bits per character")

bits["GRU"] = float(curve[-1])
course.result("GRU: held-out bits per character", bits["GRU"])
course.result("GRU beats the unigram and the bigram baselines", bits["GRU"] < min(bits["unigram"], bits["bigram"]))

# %% [markdown]
# The bigram model knows one character of context; the GRU knows everything since the start of
# the window. Context matters: the same model scored on windows of only 32 characters, where
# the first characters of each window have almost nothing before them, does worse.

# %%
x_short, y_short = windows(held_out_codes, LENGTH)
course.result("GRU on 32-character windows: held-out bits per character",
              float(model.evaluate(x_short, y_short, batch_size=256, verbose=0) / np.log(2)))

fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.2))
names = list(bits)
left.barh(names, [bits[n] for n in names], color=["gray", "gray", "gray", "tab:blue"])
left.invert_yaxis()
left.set_xlabel("held-out bits per character (lower is better)")
right.plot(range(1, EPOCHS + 1), curve, marker="o", label="GRU")
right.axhline(bits["bigram"], color="gray", linestyle="--", label="bigram")
right.set_xlabel("epoch")
right.set_ylabel("held-out bits per character")
right.legend()
course.save_figure(fig, "bits_per_character")

# %% [markdown]
# ## Writing text, and the temperature
#
# To generate, the model reads a prompt, we draw the next character from its prediction, append
# it, and repeat. The **temperature** $T$ reshapes the prediction before drawing: the
# probabilities become $\mathrm{softmax}(\text{logits}/T)$. At $T = 1$ we draw from the model as it
# is; below 1 the likely characters become likelier still, and the text is safer and more
# repetitive; above 1 it becomes more surprising and more often wrong. Each step reads the last
# 128 characters, plenty for a model trained on windows of 32.

# %%
def generate(prompt: str, length: int, temperature: float, seed: int = 0) -> str:
    draw = np.random.default_rng(seed)
    codes = list(encode(prompt))
    while len(codes) < length:
        logits = model.predict_on_batch(np.array([codes[-128:]]))[0, -1].astype(np.float64)
        logits[0] = -np.inf  # never write the unknown symbol
        z = (logits - logits.max()) / temperature
        p = np.exp(z) / np.exp(z).sum()
        codes.append(int(draw.choice(V, p=p)))
    return prompt + decode(codes[len(prompt):])


LENGTH_OUT = 60 if QUICK else 300
for temperature in (0.5, 1.0):
    print(f"--- temperature {temperature} ---")
    print(generate("The ", LENGTH_OUT, temperature))
course.result("characters generated per sample", LENGTH_OUT)

# %% [markdown]
# At temperature 0.5 the text is made of real, common words ("the", "function", "object") in
# plausible order, and sometimes loops; at 1.0 it has more variety and more invented words. Neither is
# meaningful: 128 units and under a minute of training learn spelling, spacing and some grammar,
# not sense. Bigger models and much more text are what give language models their sense.
#
# ## What to take away
#
# - Score a language model in bits per character on held-out text, next to simple baselines:
#   uniform, unigram and bigram, with smoothing.
# - The GRU beats the bigram by more than a bit per character because it uses the whole context.
# - Temperature trades safety for variety when sampling.
# - Exercise 7.2.1 asks you to compute the bigram baseline's bits per character yourself:
#   `regulab exercise start 7.2.1`, then `regulab exercise check 7.2.1 exercise_7_2_1.py`.
