"""7.4.1: generator_step updates the generator only, towards samples the discriminator finds more
real, and returns the loss it computed before the update."""
import math

import numpy as np

STEPS = 30
SHAPE = "generator_step(generator, discriminator, g_optimizer, loss_fn, z)"


def _parts(seed: int = 0):
    import regulab
    from regulab.layers import Dense, Input
    from regulab.models import Sequential

    regulab.set_random_seed(seed)
    generator = Sequential([Input((4,)), Dense(16, activation="relu"), Dense(8, activation="sigmoid")])
    discriminator = Sequential([Input((8,)), Dense(16, activation="relu"), Dense(1, activation="sigmoid")])
    return generator, discriminator, regulab.optimizers.Adam(1e-2), regulab.losses.BinaryCrossentropy()


def _weights(model):
    return [np.array(v.value.detach().cpu().numpy(), copy=True) for v in model.trainable_weights]


def _moved(before, model) -> bool:
    return any(not np.array_equal(a, b) for a, b in zip(before, _weights(model)))


def _realness(generator, discriminator, z) -> float:
    return float(discriminator.predict(generator.predict(z, verbose=0), verbose=0).mean())


def _expected_loss(generator, discriminator, z) -> float:
    p = np.clip(discriminator.predict(generator.predict(z, verbose=0), verbose=0).astype(np.float64), 1e-12, 1.0)
    return float(-np.log(p).mean())


def _call(function, parts, z):
    generator, discriminator, optimizer, loss_fn = parts
    return function(generator, discriminator, optimizer, loss_fn, z)


def check(run):
    import regulab

    function = run.namespace.get("generator_step")
    if not callable(function):
        yield f"generator_step is not a function; define it with def {SHAPE}:"
        return
    parts = _parts()
    generator, discriminator = parts[0], parts[1]
    seeds = regulab.random.SeedGenerator(7)
    z_eval = regulab.random.normal((256, 4), seed=seeds).cpu().numpy()
    d_before, g_before = _weights(discriminator), _weights(generator)
    realness_before = _realness(generator, discriminator, z_eval)
    z = regulab.random.normal((64, 4), seed=seeds)
    expected = _expected_loss(generator, discriminator, z.cpu().numpy())
    try:
        returned = _call(function, parts, z)
        for _ in range(STEPS - 1):
            _call(function, parts, regulab.random.normal((64, 4), seed=seeds))
    except RuntimeError as error:
        if "does not require grad" in str(error):
            yield (f"loss.backward() found nothing to differentiate ({error}); call generator.zero_grad() before "
                   "generator(z): it clears old gradients and makes the generator's calls track them")
            return
        yield f"{SHAPE} raises RuntimeError: {error}"
        return
    except Exception as error:
        yield f"{SHAPE} raises {type(error).__name__}: {error}"
        return
    if _moved(d_before, discriminator):
        yield ("your step changed the discriminator's weights; the generator's half must update the generator "
               "only: pass generator.trainable_weights (and their gradients) to g_optimizer.apply")
        return
    if not _moved(g_before, generator):
        yield ("the generator's weights did not change after 30 steps; compute the loss, call loss.backward(), "
               "then g_optimizer.apply([v.value.grad for v in generator.trainable_weights], "
               "generator.trainable_weights) inside torch.no_grad()")
        return
    realness_after = _realness(generator, discriminator, z_eval)
    if realness_after <= realness_before + 0.01:
        yield (f"after 30 steps the discriminator finds the samples less real, not more (its mean output went from "
               f"{realness_before:.3f} to {realness_after:.3f}); the generator's labels must say 'real': "
               "torch.ones((len(z), 1)), not zeros")
        return
    if returned is None:
        yield "generator_step returns None; return the loss, so that train_step can report it"
        return
    try:
        value = float(returned.detach() if hasattr(returned, "detach") else returned)
    except (TypeError, ValueError):
        yield f"generator_step returns a {type(returned).__name__}; return the loss, a number (or a one-number tensor)"
        return
    if not math.isclose(value, expected, rel_tol=1e-3, abs_tol=1e-5):
        yield (f"generator_step returns {value:.4f}, but the loss of the batch before the update is {expected:.4f}; "
               "return loss_fn(torch.ones((len(z), 1)), discriminator(generator(z))), computed before the update")
