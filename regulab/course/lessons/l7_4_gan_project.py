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
# # 7.4 Project: a GAN for image generation
#
# A generative adversarial network is two networks trained against each other. The
# **generator** turns random noise into images; the **discriminator** looks at an image and says
# how likely it is to be real. The discriminator learns to tell the generator's images from the
# training images; the generator learns to fool it. When it works, the generator ends up drawing
# images that look like the training data, though it never copies one.
#
# The project's hardest part is not training the GAN but **measuring** it: a GAN has no test
# accuracy. We will judge the samples with a separate classifier, trained on real digits only,
# in two ways:
#
# - its **confidence**: a real digit gets a sure answer ("that is a 3, 99%"); a smudge does not;
# - the **Fréchet distance** between the classifier's internal features of generated and of real
#   held-out images (the idea behind the FID score used for photos): small when the samples are
#   varied like real digits, not only sharp.

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.model_selection import train_test_split

import regulab
from regulab import course, metrics
from regulab.datasets import load_digits
from regulab.layers import Conv2D, Dense, Dropout, Flatten, Input, LeakyReLU, MaxPooling2D, Reshape
from regulab.models import Model, Sequential

QUICK = course.quick()
JUDGE_EPOCHS = 2 if QUICK else 20
GAN_EPOCHS = 2 if QUICK else 100
LATENT_DIM = 32
regulab.set_random_seed(0)

x, y = load_digits()
x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.25, stratify=y, random_state=0)
print("training images", x_train.shape, "held-out images", x_test.shape)

# %% [markdown]
# ## The judge: a digits classifier
#
# A small CNN like lesson 7.1's, trained on the real training digits, with one more Dense layer:
# `features`, 64 ReLU units just before the softmax, is what the judge "sees" in an image. A
# second model, `featurizer`, shares the judge's layers (and weights) and outputs those features.

# %%
inputs = Input((8, 8, 1))
h = Conv2D(32, 3, padding="same", activation="relu")(inputs)
h = MaxPooling2D(2)(Conv2D(32, 3, padding="same", activation="relu")(h))
h = MaxPooling2D(2)(Conv2D(64, 3, padding="same", activation="relu")(h))
features = Dense(64, activation="relu", name="features")(Dropout(0.3)(Flatten()(h)))
judge = Model(inputs, Dense(10, activation="softmax")(features), name="judge")
featurizer = Model(inputs, features, name="featurizer")
judge.compile(optimizer=regulab.optimizers.Adam(2e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
judge.fit(x_train, y_train, batch_size=32, epochs=JUDGE_EPOCHS, verbose=0, seed=0)
course.result("judge: held-out accuracy", judge.evaluate(x_test, y_test, verbose=0, return_dict=True)["accuracy"])

# %% [markdown]
# ## The two scores, and their scale
#
# **Confidence** is the judge's top probability, averaged over a set of images. **Fréchet
# distance**: fit a Gaussian (a mean and a covariance) to the features of each set of images and
# measure how far apart the two Gaussians are,
#
# $$d^2 = \lVert \mu_1 - \mu_2 \rVert^2 + \operatorname{tr}\left(\Sigma_1 + \Sigma_2 - 2 (\Sigma_1 \Sigma_2)^{1/2}\right).$$
#
# A number means little without a scale, so we score two references first, each against the
# same 225 real held-out digits (half B of the test set): the other 225 real held-out digits
# (half A), the best a generator can hope for, and uniform noise, the worst. Every set has 225
# images, because the distance of small sets is biased upwards by their size.

# %%
def confidence(images: np.ndarray) -> float:
    return float(judge.predict(images, verbose=0).max(axis=1).mean())


def psd_sqrt(m: np.ndarray) -> np.ndarray:
    """The square root of a symmetric positive semi-definite matrix, from its eigenvalues."""
    w, v = np.linalg.eigh(m)
    return (v * np.sqrt(np.clip(w, 0, None))) @ v.T


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    fa, fb = featurizer.predict(a, verbose=0).astype(np.float64), featurizer.predict(b, verbose=0).astype(np.float64)
    mu_a, mu_b = fa.mean(axis=0), fb.mean(axis=0)
    cov_a, cov_b = np.cov(fa, rowvar=False), np.cov(fb, rowvar=False)
    # tr (Σa Σb)^½ = tr (Σa^½ Σb Σa^½)^½, and the second matrix is symmetric: a stable way to compute it
    root_a = psd_sqrt(cov_a)
    trace_root = np.sqrt(np.clip(np.linalg.eigvalsh(root_a @ cov_b @ root_a), 0, None)).sum()
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(cov_a) + np.trace(cov_b) - 2 * trace_root)


half_a, half_b = train_test_split(x_test, test_size=0.5, stratify=y_test, random_state=0)
noise = np.random.default_rng(0).random(half_b.shape).astype(np.float32)
course.result("real held-out digits: judge confidence", confidence(x_test))
course.result("uniform noise: judge confidence", confidence(noise))
course.result("Fréchet distance, real half A vs real half B", frechet_distance(half_a, half_b))
course.result("Fréchet distance, noise vs real half B", frechet_distance(noise, half_b))

# %% [markdown]
# ## The GAN
#
# Both networks are small dense ones. The generator maps 32 random numbers to 64 pixels in
# [0, 1] (a sigmoid); the discriminator maps 64 pixels to one probability, "real". `LeakyReLU`
# keeps a small gradient for negative inputs, which helps the generator learn from the
# discriminator's verdicts; Adam with `beta_1=0.5` (less momentum) is the usual GAN setting, as
# the two players keep changing the problem for each other.
#
# Training needs two updates per batch, so we write the step ourselves, in the Keras 3 PyTorch
# spelling of lesson 5.1:
#
# 1. **the discriminator's half**: show it real images (label 1) and generated ones (label 0),
#    and update the discriminator only. The labels get a little random noise, a known trick that
#    keeps the discriminator from becoming too sure too fast;
# 2. **the generator's half**: generate a new batch, ask the discriminator about it with the
#    label "real" (1), and update the generator only: its gradient says how to change the images
#    so the discriminator finds them more real.

# %%
class GAN(Model):
    def __init__(self, discriminator, generator, latent_dim):
        super().__init__()
        self.discriminator, self.generator, self.latent_dim = discriminator, generator, latent_dim
        self.d_loss_tracker = metrics.Mean(name="d_loss")
        self.g_loss_tracker = metrics.Mean(name="g_loss")
        self.seed_generator = regulab.random.SeedGenerator(0)
        self.built = True

    @property
    def metrics(self):
        return [self.d_loss_tracker, self.g_loss_tracker]

    def compile(self, d_optimizer, g_optimizer, loss_fn):
        super().compile()
        self.d_optimizer, self.g_optimizer, self.loss_fn = d_optimizer, g_optimizer, loss_fn

    def train_step(self, real):
        if isinstance(real, (tuple, list)):
            real = real[0]
        n = real.shape[0]
        ones = torch.ones((n, 1), device=real.device)

        # 1. the discriminator's half: real images are 1, generated ones 0
        z = regulab.random.normal((n, self.latent_dim), seed=self.seed_generator)
        images = torch.concat([real, self.generator(z)])
        labels = torch.concat([ones, 0 * ones])
        labels = labels + 0.05 * (1 - 2 * labels) * regulab.random.uniform(labels.shape, seed=self.seed_generator)
        self.zero_grad()
        d_loss = self.loss_fn(labels, self.discriminator(images))
        d_loss.backward()
        grads = [v.value.grad for v in self.discriminator.trainable_weights]
        with torch.no_grad():
            self.d_optimizer.apply(grads, self.discriminator.trainable_weights)

        # 2. the generator's half: new images, judged against the label "real"
        z = regulab.random.normal((n, self.latent_dim), seed=self.seed_generator)
        self.zero_grad()
        g_loss = self.loss_fn(ones, self.discriminator(self.generator(z)))
        g_loss.backward()
        grads = [v.value.grad for v in self.generator.trainable_weights]
        with torch.no_grad():
            self.g_optimizer.apply(grads, self.generator.trainable_weights)

        self.d_loss_tracker.update_state(d_loss)
        self.g_loss_tracker.update_state(g_loss)
        return {"d_loss": self.d_loss_tracker.result(), "g_loss": self.g_loss_tracker.result()}


regulab.set_random_seed(0)
discriminator = Sequential([Input((8, 8, 1)), Flatten(), Dense(256), LeakyReLU(0.2), Dense(128), LeakyReLU(0.2),
                            Dense(1, activation="sigmoid")], name="discriminator")
generator = Sequential([Input((LATENT_DIM,)), Dense(128), LeakyReLU(0.2), Dense(256), LeakyReLU(0.2),
                        Dense(64, activation="sigmoid"), Reshape((8, 8, 1))], name="generator")
gan = GAN(discriminator, generator, LATENT_DIM)
gan.compile(d_optimizer=regulab.optimizers.Adam(2e-3, beta_1=0.5),
            g_optimizer=regulab.optimizers.Adam(2e-3, beta_1=0.5),
            loss_fn=regulab.losses.BinaryCrossentropy())


class Progress(regulab.callbacks.Callback):
    """Every ``every`` epochs, the judge's scores of 225 samples drawn from the same latent vectors."""

    def __init__(self, every: int):
        super().__init__()
        self.every, self.z = every, np.random.default_rng(2).standard_normal((225, LATENT_DIM)).astype(np.float32)
        self.epochs, self.confidence, self.distance = [], [], []

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every == 0:
            images = generator.predict(self.z, verbose=0)
            self.epochs.append(epoch + 1)
            self.confidence.append(confidence(images))
            self.distance.append(frechet_distance(images, half_b))


progress = Progress(every=1 if QUICK else 10)
history = gan.fit(x_train, batch_size=64, epochs=GAN_EPOCHS, verbose=0, seed=0, callbacks=[progress])
course.result("GAN: final discriminator loss", history.history["d_loss"][-1])
course.result("GAN: final generator loss", history.history["g_loss"][-1])
for epoch, c, d in zip(progress.epochs, progress.confidence, progress.distance):
    print(f"epoch {epoch:3d}: judge confidence {c:.3f}, Fréchet distance {d:.1f}")

# %% [markdown]
# The losses do not go to zero and are not the goal: each player's loss depends on the other.
# If the discriminator could not tell at all (it says 0.5 to everything), both losses would be
# $\ln 2 \approx 0.69$; a discriminator loss near 0 would mean the generator has lost. The judge's
# scores, measured every few epochs, tell more: they improve quickly at first and then slowly.
#
# ## Sampling and judging
#
# To sample, draw random latent vectors and run the generator, nothing more.

# %%
def sample(n: int, seed: int) -> np.ndarray:
    z = np.random.default_rng(seed).standard_normal((n, LATENT_DIM)).astype(np.float32)
    return generator.predict(z, verbose=0)


samples = sample(1000, seed=1)
predicted = judge.predict(samples, verbose=0).argmax(axis=1)
counts = np.bincount(predicted, minlength=10)
course.result("generated digits: judge confidence", confidence(samples))
course.result("Fréchet distance, generated vs real half B", frechet_distance(samples[:225], half_b))
course.result("digits the generator draws (at least 2% of samples)", int((counts >= 20).sum()))
print("samples the judge calls 0, 1, ..., 9:", counts.tolist())

# %% [markdown]
# Read the figures against their references. The samples are nearly as convincing to the judge
# as real digits and far from noise; their Fréchet distance sits between the real-vs-real figure
# and noise, much closer to real. The class counts check for **mode collapse**, the classic GAN
# failure where the generator draws one or two digits it has found to fool the discriminator:
# a high confidence alone could hide it, but the counts would show it, and so would the Fréchet
# distance, which grows when the samples are less varied than real digits.

# %%
rows, columns = 6, 10
grid = np.ones((rows * 12, columns * 10))          # each 8x8 image in a 12x10 cell, its label above it
for i in range(rows * columns):
    r, c = divmod(i, columns)
    grid[12 * r + 3:12 * r + 11, 10 * c + 1:10 * c + 9] = 1 - samples[i, :, :, 0]
fig, ax = plt.subplots(figsize=(8, 5.6))
ax.imshow(grid, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
for i in range(rows * columns):
    r, c = divmod(i, columns)
    ax.text(10 * c + 4.5, 12 * r + 1.2, str(predicted[i]), fontsize=7, color="tab:blue", ha="center", va="center")
ax.axis("off")
ax.set_title("generated digits, with the judge's reading")
course.save_figure(fig, "samples_grid")

fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.2))
left.plot(progress.epochs, progress.confidence, marker="o", label="generated")
left.axhline(confidence(x_test), color="tab:green", linestyle="--", label="real held-out")
left.axhline(confidence(noise), color="gray", linestyle=":", label="noise")
left.set_xlabel("epoch")
left.set_ylabel("judge confidence")
left.legend()
right.plot(progress.epochs, progress.distance, marker="o", label="generated vs real B")
right.axhline(frechet_distance(half_a, half_b), color="tab:green", linestyle="--", label="real A vs real B")
right.set_yscale("log")
right.set_xlabel("epoch")
right.set_ylabel("Fréchet distance (log scale)")
right.legend()
course.save_figure(fig, "scores_during_training")

# %% [markdown]
# ## What to take away
#
# - A GAN trains two networks in turn; each step has a discriminator half and a generator half,
#   each updating only its own network.
# - Judge a generator with a classifier trained on real data: its confidence, its class counts
#   (mode collapse) and the Fréchet distance of its features, each next to the same figures for
#   real held-out images and for noise.
# - Exercise 7.4.1 asks you to write the generator's half of the step:
#   `regulab exercise start 7.4.1`, then `regulab exercise check 7.4.1 exercise_7_4_1.py`.
