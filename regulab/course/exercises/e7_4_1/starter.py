import torch


# The check calls generator_step on a small generator (4 random numbers -> 8 "pixels") and
# discriminator (8 "pixels" -> the probability "real"), with g_optimizer = Adam(1e-2),
# loss_fn = BinaryCrossentropy() and z a batch of 64 latent vectors.
def generator_step(generator, discriminator, g_optimizer, loss_fn, z):
    """One update of the generator: the discriminator should find generator(z) more real afterwards."""
    generator.zero_grad()  # clears old gradients; from now on the generator's calls track them
    predictions = discriminator(generator(z))
    # TODO: the loss of these predictions against the label "real" (ones of shape (len(z), 1)),
    # loss.backward(), then one step of g_optimizer on generator.trainable_weights; return the loss
    return None
