import torch

import regulab
from tensorflow.keras.layers import Dense, Flatten, Input, LeakyReLU, Reshape
from tensorflow.keras.models import Model, Sequential

LATENT_DIM = 32

generator = Sequential([Input((LATENT_DIM,)), Dense(128), LeakyReLU(0.2), Dense(256), LeakyReLU(0.2),
                        Dense(64, activation="sigmoid"), Reshape((8, 8, 1))], name="generator")
discriminator = Sequential([Input((8, 8, 1)), Flatten(), Dense(256), LeakyReLU(0.2), Dense(128), LeakyReLU(0.2),
                            Dense(1, activation="sigmoid")], name="discriminator")


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
    def metrics(self):
        return [self.d_loss_tracker, self.g_loss_tracker]

    def compile(self, d_optimizer, g_optimizer, loss_fn):
        super().compile()
        self.d_optimizer, self.g_optimizer, self.loss_fn = d_optimizer, g_optimizer, loss_fn

    def train_step(self, real):
        if isinstance(real, (tuple, list)):
            real = real[0]
        n, device = real.shape[0], real.device

        # 1. the discriminator: fakes labelled 1, real images 0
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

        # 2. the generator: new fakes, labelled "real" (0), and only the generator's weights move
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


regulab.set_random_seed(0)
gan = GAN(generator, discriminator, LATENT_DIM)
gan.compile(d_optimizer=regulab.optimizers.Adam(2e-3, beta_1=0.5),
            g_optimizer=regulab.optimizers.Adam(2e-3, beta_1=0.5),
            loss_fn=regulab.losses.BinaryCrossentropy())
history = gan.fit(X_train, batch_size=64, epochs=3, verbose=0, seed=0)
print(history.history)
