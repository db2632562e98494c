import torch


# The check calls generator_step on a small generator (4 random numbers -> 8 "pixels") and
# discriminator (8 "pixels" -> the probability "real"), with g_optimizer = Adam(1e-2),
# loss_fn = BinaryCrossentropy() and z a batch of 64 latent vectors.
def generator_step(generator, discriminator, g_optimizer, loss_fn, z):
    """One update of the generator: the discriminator should find generator(z) more real afterwards."""
    generator.zero_grad()  # clears old gradients; from now on the generator's calls track them
    predictions = discriminator(generator(z))
    loss = loss_fn(torch.ones((len(z), 1)), predictions)  # the label "real", to fool the discriminator
    loss.backward()
    grads = [v.value.grad for v in generator.trainable_weights]
    with torch.no_grad():
        g_optimizer.apply(grads, generator.trainable_weights)  # the generator's weights only
    return loss
