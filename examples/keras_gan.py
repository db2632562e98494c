"""Keras's GAN example ("Customizing what happens in fit() with PyTorch"), with only the imports
changed, on two-dimensional points instead of digits (Dense layers instead of Conv2D, which
regulab does not have yet).

Run it: ``python examples/keras_gan.py``. It prints how far the generator's samples are from the
data before and after training.
"""
import numpy as np
import torch

import regulab
from regulab import metrics
from regulab.layers import Dense, Input
from regulab.models import Model, Sequential

LATENT_DIM = 4


class GAN(Model):
    def __init__(self, discriminator, generator, latent_dim):
        super().__init__()
        self.discriminator = discriminator
        self.generator = generator
        self.latent_dim = latent_dim
        self.d_loss_tracker = metrics.Mean(name="d_loss")
        self.g_loss_tracker = metrics.Mean(name="g_loss")
        self.seed_generator = regulab.random.SeedGenerator(1337)
        self.built = True

    @property
    def metrics(self):
        return [self.d_loss_tracker, self.g_loss_tracker]

    def compile(self, d_optimizer, g_optimizer, loss_fn):
        super().compile()
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer
        self.loss_fn = loss_fn

    def train_step(self, real_images):
        device = "cuda" if torch.cuda.is_available() else "cpu"
        if isinstance(real_images, tuple) or isinstance(real_images, list):
            real_images = real_images[0]
        # Sample random points in the latent space
        batch_size = real_images.shape[0]
        random_latent_vectors = regulab.random.normal(
            shape=(batch_size, self.latent_dim), seed=self.seed_generator)

        # Decode them to fake images
        generated_images = self.generator(random_latent_vectors)

        # Combine them with real images
        real_images = torch.tensor(real_images, device=device)
        combined_images = torch.concat([generated_images, real_images], axis=0)

        # Assemble labels discriminating real from fake images
        labels = torch.concat(
            [torch.ones((batch_size, 1), device=device), torch.zeros((batch_size, 1), device=device)], axis=0)
        # Add random noise to the labels - important trick!
        labels += 0.05 * regulab.random.uniform(labels.shape, seed=self.seed_generator)

        # Train the discriminator
        self.zero_grad()
        predictions = self.discriminator(combined_images)
        d_loss = self.loss_fn(labels, predictions)
        d_loss.backward()
        grads = [v.value.grad for v in self.discriminator.trainable_weights]
        with torch.no_grad():
            self.d_optimizer.apply(grads, self.discriminator.trainable_weights)

        # Sample random points in the latent space
        random_latent_vectors = regulab.random.normal(
            shape=(batch_size, self.latent_dim), seed=self.seed_generator)

        # Assemble labels that say "all real images"
        misleading_labels = torch.zeros((batch_size, 1), device=device)

        # Train the generator (note that we should *not* update the weights
        # of the discriminator)!
        self.zero_grad()
        predictions = self.discriminator(self.generator(random_latent_vectors))
        g_loss = self.loss_fn(misleading_labels, predictions)
        grads = g_loss.backward()
        grads = [v.value.grad for v in self.generator.trainable_weights]
        with torch.no_grad():
            self.g_optimizer.apply(grads, self.generator.trainable_weights)

        # Update metrics and return their value.
        self.d_loss_tracker.update_state(d_loss)
        self.g_loss_tracker.update_state(g_loss)
        return {"d_loss": self.d_loss_tracker.result(), "g_loss": self.g_loss_tracker.result()}


def build(latent_dim: int = LATENT_DIM):
    """The discriminator and generator of the example, for 2-D points."""
    discriminator = Sequential([Input((2,)), Dense(32, activation="leaky_relu"), Dense(32, activation="leaky_relu"),
                                Dense(1, activation="sigmoid")], name="discriminator")
    generator = Sequential([Input((latent_dim,)), Dense(32, activation="leaky_relu"), Dense(2)], name="generator")
    gan = GAN(discriminator=discriminator, generator=generator, latent_dim=latent_dim)
    gan.compile(d_optimizer=regulab.optimizers.Adam(learning_rate=0.003),
                g_optimizer=regulab.optimizers.Adam(learning_rate=0.003),
                loss_fn=regulab.losses.BinaryCrossentropy())
    return gan


def points(n: int = 512, seed: int = 0) -> np.ndarray:
    """The data: a Gaussian blob around (3, -2)."""
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((n, 2)) * 0.3 + np.array([3.0, -2.0])).astype("float32")


def distance(gan, real: np.ndarray) -> float:
    """How far the mean of the generator's samples lies from the data's."""
    z = np.random.default_rng(1).standard_normal((256, gan.latent_dim))
    return float(np.linalg.norm(gan.generator.predict(z, verbose=0).mean(0) - real.mean(0)))


def main(epochs: int = 30) -> None:
    regulab.set_random_seed(0)
    real = points()
    gan = build()
    before = distance(gan, real)
    dataset = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.tensor(real), torch.tensor(real)),
                                          batch_size=64, shuffle=True)
    gan.fit(dataset, epochs=epochs, verbose=0)
    print(f"distance of the generated samples to the data: {before:.2f} before training, "
          f"{distance(gan, real):.2f} after {epochs} epochs")


if __name__ == "__main__":
    main()
