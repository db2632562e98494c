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
# # 5.1 Generative adversarial networks
#
# A **generative adversarial network** (GAN) learns to produce new samples that look like its
# training data. It is two networks trained against each other:
#
# - the **generator** turns a vector of random numbers (a point of the *latent space*) into an
#   image;
# - the **discriminator** looks at an image and outputs the probability that it is fake.
#
# Each training step first teaches the discriminator to tell real images from the generator's,
# then teaches the generator to fool the discriminator. Neither network ever sees a "correct"
# generated image: the generator learns only from the discriminator's verdicts.
#
# We train a small GAN on scikit-learn's 8x8 handwritten digits, then ask an independent
# classifier, trained on real digits only, how convincing the samples are.

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.model_selection import train_test_split

import regulab
from regulab import course
from regulab.layers import Dense, Dropout, Flatten, Input, LeakyReLU, Reshape
from regulab.models import Model, Sequential

QUICK = course.quick()
EPOCHS = 4 if QUICK else 80
JUDGE_EPOCHS = 4 if QUICK else 20
LATENT_DIM = 32
regulab.set_random_seed(0)
x, y = regulab.datasets.load_digits()
x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.25, stratify=y, random_state=0)
print(x_train.shape, "pixels in", (float(x_train.min()), float(x_train.max())))

# %% [markdown]
# ## The two networks
#
# Both are small dense networks. The generator maps 32 random numbers to 64 pixels; its last
# activation is a sigmoid because the digits' pixels lie in [0, 1]. The discriminator maps 64
# pixels to one probability. `LeakyReLU` (a ReLU with a small slope for negative inputs) is the
# usual choice in GANs: it keeps gradients flowing to the generator even through units that are
# "off".

# %%
def make_generator(width=128):
    return Sequential([
        Input((LATENT_DIM,)),
        Dense(width), LeakyReLU(0.2),
        Dense(2 * width), LeakyReLU(0.2),
        Dense(64, activation="sigmoid"), Reshape((8, 8, 1)),
    ], name="generator")


def make_discriminator(width=128):
    return Sequential([
        Input((8, 8, 1)), Flatten(),
        Dense(2 * width), LeakyReLU(0.2),
        Dense(width), LeakyReLU(0.2),
        Dense(1, activation="sigmoid"),
    ], name="discriminator")


# %% [markdown]
# ## A custom training step
#
# `fit` normally computes one loss and updates every weight. A GAN needs two updates per batch,
# each on a different network, so we override `train_step`, as in Keras. The step below is
# written the way Keras 3 writes it for its PyTorch backend: `zero_grad()`, a loss, `backward()`,
# then `optimizer.apply(grads, weights)` for the weights of one network only.
#
# The discriminator's labels are 1 for fake and 0 for real. Adding a little noise to these
# labels is a well-known trick that keeps the discriminator from becoming overconfident. The
# generator's step uses the *opposite* labels ("these fakes are real"): its loss falls when the
# discriminator is fooled.

# %%
class GAN(Model):
    def __init__(self, generator, discriminator, latent_dim):
        super().__init__()
        self.generator = generator
        self.discriminator = discriminator
        self.latent_dim = latent_dim
        self.d_loss_tracker = regulab.metrics.Mean(name="d_loss")
        self.g_loss_tracker = regulab.metrics.Mean(name="g_loss")
        self.seed_generator = regulab.random.SeedGenerator(1337)

    @property
    def metrics(self):  # fit resets these at the start of every epoch
        return [self.d_loss_tracker, self.g_loss_tracker]

    def compile(self, d_optimizer, g_optimizer, loss_fn):
        super().compile()
        self.d_optimizer, self.g_optimizer, self.loss_fn = d_optimizer, g_optimizer, loss_fn

    def train_step(self, real):
        if isinstance(real, (tuple, list)):
            real = real[0]
        n = real.shape[0]
        device = real.device

        # 1. the discriminator: fakes labelled 1, real images 0, both a little noisy
        z = regulab.random.normal((n, self.latent_dim), seed=self.seed_generator)
        images = torch.concat([self.generator(z), real])
        labels = torch.concat([torch.ones((n, 1), device=device), torch.zeros((n, 1), device=device)])
        labels = labels + 0.05 * regulab.random.uniform(labels.shape, seed=self.seed_generator)
        self.zero_grad()
        d_loss = self.loss_fn(labels, self.discriminator(images))
        d_loss.backward()
        weights = self.discriminator.trainable_weights
        with torch.no_grad():
            self.d_optimizer.apply([w.value.grad for w in weights], weights)

        # 2. the generator: its fakes labelled "real" (0); only the generator's weights move
        z = regulab.random.normal((n, self.latent_dim), seed=self.seed_generator)
        self.zero_grad()
        g_loss = self.loss_fn(torch.zeros((n, 1), device=device), self.discriminator(self.generator(z)))
        g_loss.backward()
        weights = self.generator.trainable_weights
        with torch.no_grad():
            self.g_optimizer.apply([w.value.grad for w in weights], weights)

        self.d_loss_tracker.update_state(d_loss)
        self.g_loss_tracker.update_state(g_loss)
        return {"d_loss": self.d_loss_tracker.result(), "g_loss": self.g_loss_tracker.result()}


# %% [markdown]
# ## Training
#
# Adam with `beta_1=0.5` (less momentum than the default 0.9) is the usual setting for GANs:
# each network's target moves as the other learns, and a long memory of old gradients hurts.
# `fit` is called on the images alone: there are no labels to learn.

# %%
gan = GAN(make_generator(), make_discriminator(), LATENT_DIM)
gan.compile(d_optimizer=regulab.optimizers.Adam(2e-3, beta_1=0.5),
            g_optimizer=regulab.optimizers.Adam(2e-3, beta_1=0.5),
            loss_fn=regulab.losses.BinaryCrossentropy())
history = gan.fit(x_train, batch_size=64, epochs=EPOCHS, verbose=0, seed=0)
course.result("last epoch: discriminator loss", history.history["d_loss"][-1])
course.result("last epoch: generator loss", history.history["g_loss"][-1])

# %% [markdown]
# The two losses do not fall together as a classifier's loss does: when one network gets
# better, the other's loss rises. A discriminator loss near $\ln 2 \approx 0.69$ means it can
# barely tell real from fake; a discriminator loss that falls to zero means the generator has
# lost, and it stops learning.

# %%
fig, ax = plt.subplots(figsize=(6, 3))
ax.plot(history.history["d_loss"], label="discriminator")
ax.plot(history.history["g_loss"], label="generator")
ax.axhline(np.log(2), color="gray", linestyle=":", label="ln 2")
ax.set_xlabel("epoch")
ax.set_ylabel("binary cross-entropy")
ax.legend()
course.save_figure(fig, "gan_losses")

# %% [markdown]
# ## Samples
#
# To draw new digits we feed the generator fresh random points. Every point gives another image.

# %%
z = np.random.default_rng(123).standard_normal((500, LATENT_DIM)).astype(np.float32)
samples = gan.generator.predict(z, verbose=0)
padded = np.pad(samples[:40, ..., 0], ((0, 0), (1, 1), (1, 1)))     # a white border around each image
grid = padded.reshape(4, 10, 10, 10).transpose(0, 2, 1, 3).reshape(40, 100)   # 4 rows of 10 images
fig, ax = plt.subplots(figsize=(8, 3.4))
ax.imshow(grid, cmap="gray_r", vmin=0, vmax=1)
ax.axis("off")
ax.set_title(f"generated digits after {EPOCHS} epochs")
course.save_figure(fig, "gan_samples")

# %% [markdown]
# ## How good are they? A judge
#
# Looking at samples is subjective. A common objective check is to ask a classifier trained on
# *real* digits: a convincing sample should be classified with confidence, and the samples
# should cover all ten classes (a generator that draws only one digit very well has "collapsed"
# to one mode). To know what a figure means we also score references: real held-out digits,
# uniform noise, and the average of two real digits (a blurry non-digit).

# %%
regulab.set_random_seed(0)
judge = Sequential([Input((8, 8, 1)), Flatten(), Dense(128, activation="relu"), Dropout(0.2),
                    Dense(10, activation="softmax")], name="judge")
judge.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
judge.fit(x_train, y_train, epochs=JUDGE_EPOCHS, verbose=0, seed=0)
course.result("judge: held-out accuracy on real digits", judge.evaluate(x_test, y_test, verbose=0)[1])

rng = np.random.default_rng(0)
pairs = rng.integers(0, len(x_test), (500, 2))
references = {
    "generated samples": samples,
    "real held-out digits": x_test,
    "uniform noise": rng.random((500, 8, 8, 1)).astype(np.float32),
    "averages of two digits": (x_test[pairs[:, 0]] + x_test[pairs[:, 1]]) / 2,
}
for name, images in references.items():
    probabilities = judge.predict(images, verbose=0)
    course.result(f"judge's mean confidence: {name}", float(probabilities.max(axis=1).mean()))
counts = np.bincount(judge.predict(samples, verbose=0).argmax(axis=1), minlength=10)
course.result("classes covered by the samples (of 10)", int((counts >= 5).sum()))
print("samples per predicted class:", counts.tolist())

# %% [markdown]
# After the full 80 epochs the samples' mean confidence lies between that of the references that
# are not digits (noise, averages of two digits) and that of real digits, and the samples cover
# all ten classes: the generator draws recognisable digits of every kind, if not yet as clean as
# real ones. (The quick run trains a few epochs only, far too few for that.)

# %% [markdown]
# ## Copies?
#
# A generator could also "cheat" by memorising training images. The distance from each sample to
# its nearest training image tells: real held-out digits are at a typical distance from the
# training set, and a memorising generator would sit much closer.

# %%
def nearest_distance(images, reference):
    a, b = images.reshape(len(images), -1), reference.reshape(len(reference), -1)
    squared = (a ** 2).sum(1)[:, None] - 2 * a @ b.T + (b ** 2).sum(1)[None, :]
    return float(np.median(np.sqrt(np.maximum(squared.min(axis=1), 0.0))))


course.result("median distance to the nearest training image: samples", nearest_distance(samples, x_train))
course.result("median distance to the nearest training image: real held-out", nearest_distance(x_test, x_train))

# %% [markdown]
# ## What to take away
#
# - A GAN is two networks and two losses; `train_step` updates each network with its own optimizer.
# - Its losses do not tell you when it is done: look at samples, and measure them with a judge,
#   against references that show what the judge's numbers mean.
# - Check for mode collapse (the classes covered) and for copying (the distance to the training set).
# - Exercise 5.1.1 asks you to write the generator's half of the training step:
#   `regulab exercise start 5.1.1`.
