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
# # 4.3 RNNs for language: a character model
#
# A **language model** gives the probability of the next symbol given the ones before it. At
# the level of characters that is a classification with one class per character, repeated at
# every position of the text. An RNN is a natural fit: its state carries everything it has
# read, and after training it can **generate** text by sampling a character, feeding it back in,
# and sampling the next.
#
# The text is Python's own documentation (the topics `help()` shows), which every Python
# installation ships: about 400,000 characters for training and a separate set of topics for
# validation, so the held-out text is on subjects the model never read.
#
# How good is a language model? Its **cross-entropy**: the average of $-\ln p(\text{true next
# character})$ over held-out text, in nats per character (lower is better). We compare it with
# simple baselines that count characters: a uniform guess, the character frequencies (unigram),
# and a **bigram** model that knows only the previous character.

# %%
import matplotlib.pyplot as plt
import numpy as np

import regulab
from regulab import course
from regulab.layers import GRU, Dense, Embedding, Input
from regulab.losses import SparseCategoricalCrossentropy
from regulab.models import Sequential

QUICK = course.quick()
EPOCHS = 1 if QUICK else 3
UNITS = 64 if QUICK else 128
LENGTH = 32                                   # characters per training window
regulab.set_random_seed(0)
train_text, validation_text = regulab.datasets.load_python_docs()
if QUICK:
    train_text, validation_text = train_text[:40_000], validation_text[:10_000]
course.result("training characters", len(train_text))
course.result("validation characters", len(validation_text))
print(repr(train_text[1000:1200]))

# %% [markdown]
# ## Characters as numbers
#
# Each character of the training text gets an index from 1; index 0 stands for any character
# the training text lacks (the validation text may contain a few).

# %%
chars = sorted(set(train_text))
index = {c: i + 1 for i, c in enumerate(chars)}
VOCAB = len(chars) + 1


def encode(text):
    return np.array([index.get(c, 0) for c in text], dtype=np.int64)


def decode(codes):
    return "".join(chars[i - 1] if i > 0 else "?" for i in codes)


train_codes, validation_codes = encode(train_text), encode(validation_text)
course.result("vocabulary size (with the unknown symbol)", VOCAB)
print(encode("def f(x):"), decode(encode("def f(x):")))

# %% [markdown]
# The model reads windows of 32 characters and predicts, at every position, the character that
# comes next: the targets are the inputs shifted by one.

# %%
def windows(codes, length=LENGTH, offset=0):
    n = (len(codes) - 1 - offset) // length
    starts = offset + length * np.arange(n)[:, None]
    return codes[starts + np.arange(length)], codes[starts + np.arange(1, length + 1)]


x_val, y_val = windows(validation_codes)
print("validation windows:", x_val.shape, "first input/target:", repr(decode(x_val[0][:12])), repr(decode(y_val[0][:12])))

# %% [markdown]
# ## Baselines that count
#
# A bigram model estimates $p(b \mid a)$ from how often $b$ follows $a$ in the training text.
# Pairs never seen would get probability 0 (an infinite loss), so we add $k$ to every count
# ("add-$k$ smoothing"). We score each baseline on exactly the (previous, next) pairs of the
# validation windows, as the RNN will be.

# %%
def bigram_cross_entropy(k):
    counts = np.zeros((VOCAB, VOCAB))
    np.add.at(counts, (train_codes[:-1], train_codes[1:]), 1.0)
    log_p = np.log(counts + k) - np.log((counts + k).sum(axis=1, keepdims=True))
    return float(-log_p[x_val.ravel(), y_val.ravel()].mean())


unigram = np.bincount(train_codes, minlength=VOCAB) + 1.0
baselines = {
    "uniform": float(np.log(VOCAB)),
    "unigram": float(-np.log(unigram / unigram.sum())[y_val.ravel()].mean()),
    "bigram (add-1)": bigram_cross_entropy(1.0),
}
baselines["bigram (best add-k)"] = min(bigram_cross_entropy(k) for k in (1.0, 0.3, 0.1, 0.03, 0.01))
for name, value in baselines.items():
    course.result(f"{name}: held-out cross-entropy", value, "nats/char")

# %% [markdown]
# The "best add-$k$" bigram picks its smoothing on the validation text itself, which flatters
# it: it is the strongest version of that baseline.
#
# ## The RNN
#
# An `Embedding` turns each character index into a learned vector of 32 numbers; a `GRU` with
# `return_sequences=True` gives its state at *every* step, not only the last; a `Dense` layer
# turns each state into one score (a *logit*) per character. The loss is the cross-entropy of
# those scores against the next characters, `from_logits=True` because the softmax is left to
# the loss. `Input((None,))`: any length, so we can later feed it a prompt of a few characters.

# %%
model = Sequential([
    Input((None,), dtype="int64"),
    Embedding(VOCAB, 32),
    GRU(UNITS, return_sequences=True),
    Dense(VOCAB),
], name="char_gru")
model.compile(optimizer=regulab.optimizers.Adam(1e-2), loss=SparseCategoricalCrossentropy(from_logits=True))
model.summary()

# %% [markdown]
# Each epoch cuts the training text into windows from a new random offset, so the model sees
# the text cut at different places every time.

# %%
rng = np.random.default_rng(0)
curve = []
for epoch in range(EPOCHS):
    x, y = windows(train_codes, offset=int(rng.integers(LENGTH)))
    model.fit(x, y, batch_size=32, epochs=1, verbose=0, seed=epoch)
    curve.append(float(model.evaluate(x_val, y_val, batch_size=256, verbose=0)))
    print(f"epoch {epoch + 1}: held-out cross-entropy {curve[-1]:.3f} nats/char")
course.result("GRU: held-out cross-entropy", curve[-1], "nats/char")
course.result("GRU: held-out bits per character", curve[-1] / np.log(2))
gain = baselines["bigram (best add-k)"] - curve[-1]
course.result("GRU's gain over the best bigram", gain, "nats/char")
course.result("probability of the true next character, GRU over bigram (geometric mean)", float(np.exp(gain)))

# %% [markdown]
# In full mode the GRU beats every counting baseline (the quick run trains too little to): the
# bigram knows one character of context, the GRU up to 32 (everything earlier in its window).
# A gain of $d$ nats per character means the model gives the true next character $e^d$ times
# the bigram's probability, on (geometric) average.

# %%
fig, ax = plt.subplots(figsize=(6, 2.8))
names = [*baselines, "GRU"]
values = [*baselines.values(), curve[-1]]
ax.barh(names, values, color=["tab:gray"] * len(baselines) + ["tab:blue"])
ax.set_xlabel("held-out cross-entropy (nats per character, lower is better)")
ax.invert_yaxis()
course.save_figure(fig, "cross_entropy")

# %% [markdown]
# ## Generating text, at a temperature
#
# To generate, we give the model a prompt, take its scores for the next character, turn them
# into probabilities and draw one. The **temperature** $T$ divides the scores before the
# softmax, $p_i \propto e^{z_i / T}$:
#
# - $T = 1$ samples from the model's own probabilities;
# - $T < 1$ sharpens them: safer, more repetitive text (as $T \to 0$ it always takes the most
#   likely character);
# - $T > 1$ flattens them: more surprising text, and more mistakes.

# %%
def next_distribution(prompt, temperature):
    logits = model.predict_on_batch(encode(prompt)[None])[0, -1].astype(np.float64)
    logits[0] = -np.inf                                    # never produce the unknown symbol
    z = (logits - logits.max()) / temperature
    p = np.exp(z)
    return p / p.sum()


def generate(prompt, length, temperature, seed=0):
    draw = np.random.default_rng(seed)
    text = prompt
    while len(text) < length:
        text += chars[draw.choice(VOCAB, p=next_distribution(text, temperature)) - 1]
    return text


prompt = "The return value of "
temperatures = (0.2, 0.7, 1.2)
fig, axes = plt.subplots(1, len(temperatures), figsize=(12, 2.6), sharey=True)
for ax, temperature in zip(axes, temperatures):
    p = next_distribution(prompt, temperature)
    top = np.argsort(p)[::-1][:10]
    ax.bar([repr(chars[i - 1]) for i in top], p[top])
    ax.set_title(f"next character after {prompt!r}, T = {temperature}", fontsize=8)
    ax.tick_params(axis="x", labelsize=7)
course.save_figure(fig, "temperature")
course.result(f"most likely next character after {prompt!r}", repr(chars[int(np.argmax(next_distribution(prompt, 1.0))) - 1]))

for temperature in temperatures:
    print(f"--- temperature {temperature}")
    print(generate(prompt, 60 if QUICK else 200, temperature))

# %% [markdown]
# At a low temperature the text is made of real words but loops on common phrases; at 1.2 it
# invents words and punctuation. Even a small model picks up the documentation's vocabulary
# ("class", "argument", "attribute") and its sentence shapes.
#
# ## What to take away
#
# - A character language model is a classifier over the next character, trained at every
#   position of a window: `Embedding`, a recurrent layer with `return_sequences=True`, and a
#   `Dense` layer of logits.
# - Judge it by held-out cross-entropy against counting baselines; here the GRU beats the best
#   bigram clearly.
# - Sampling with a temperature trades safety for variety.
# - Exercise 4.3.1 asks you to write the temperature sampling: `regulab exercise start 4.3.1`.
