"""5.1.1: the generator's half of a GAN's train_step, checked by what one step does: which optimizer
moves which weights, and whether the generator's update is the gradient of its loss (its fakes
scored against "real") at the very latent points the step drew."""
import contextlib

import numpy as np
import torch

ADVICE = ("after the discriminator's update, compute g_loss = self.loss_fn(torch.zeros((n, 1)), "
          "self.discriminator(self.generator(z))) on new latent points z, call self.zero_grad(), "
          "g_loss.backward() and self.g_optimizer.apply(grads, self.generator.trainable_weights)")
LABELS = ("score the generator's fakes against labels that say real, torch.zeros((n, 1)): the discriminator "
          "labels fakes 1, and the generator wants the opposite verdict")


def _values(weights):
    return [w.value.detach().clone() for w in weights]


def _changed(before, weights) -> bool:
    return any(not torch.equal(b, w.value.detach()) for b, w in zip(before, weights))


@contextlib.contextmanager
def _recording(gan, events: list):
    """Note, in order, every input of ``gan.generator`` and every ``apply`` of either optimizer
    (the weights and gradients it was given, and both networks' weights just before it)."""
    generator = gan.generator
    cls = type(generator)
    original_call = cls.__call__

    def call(self, inputs, *args, **kwargs):
        if self is generator:
            events.append(("z", torch.as_tensor(inputs).detach().clone()))
        return original_call(self, inputs, *args, **kwargs)

    def recorder(which, original):
        def apply(grads, variables):
            variables = list(variables)
            events.append((which, {
                "ids": {id(v) for v in variables},
                "grads": {id(v): None if g is None else g.detach().clone() for g, v in zip(grads, variables)},
                "generator": _values(gan.generator.trainable_weights),
                "discriminator": _values(gan.discriminator.trainable_weights)}))
            return original(grads, variables)
        return apply

    optimizers = {"g": gan.g_optimizer, "d": gan.d_optimizer}
    saved = {which: opt.__dict__.get("apply") for which, opt in optimizers.items()}
    cls.__call__ = call
    for which, opt in optimizers.items():
        opt.apply = recorder(which, opt.apply)
        if gan.d_optimizer is gan.g_optimizer:  # one optimizer for both: its calls are told apart by the weights
            break
    try:
        yield
    finally:
        cls.__call__ = original_call
        for which, opt in optimizers.items():
            if saved[which] is None:
                opt.__dict__.pop("apply", None)
            else:
                opt.apply = saved[which]


def _gradient_at(gan, z, generator_values, weights) -> dict:
    """The gradient of the generator's loss at latent points ``z``, with the generator's weights set
    to ``generator_values`` (those it had when its update was applied)."""
    now = _values(weights)
    for w, value in zip(weights, generator_values):
        w.value = value.clone()
    try:
        gan.zero_grad()
        loss = gan.loss_fn(torch.zeros((z.shape[0], 1), device=z.device), gan.discriminator(gan.generator(z)))
        loss.backward()
        out = {id(v): v.value.grad.detach().clone() for v in weights if v.value.grad is not None}
    finally:
        for w, value in zip(weights, now):
            w.value = value
        gan.zero_grad()
    return out


def _fresh(gan):
    """A new GAN of the learner's class, networks and settings, untrained (seeded), so that its
    discriminator is still unsure (a trained one can be so sure that every gradient vanishes);
    the learner's own ``gan`` when it cannot be rebuilt."""
    import regulab
    from regulab import optimizers

    try:
        regulab.set_random_seed(0)
        networks = [type(net).from_config(net.get_config()) for net in (gan.generator, gan.discriminator)]
        copy = type(gan)(*networks, gan.latent_dim)
        copy.compile(d_optimizer=optimizers.fresh_copy(gan.d_optimizer),
                     g_optimizer=optimizers.fresh_copy(gan.g_optimizer), loss_fn=gan.loss_fn)
    except Exception:  # noqa: BLE001 - the learner changed the class's signature: check the trained one
        return gan
    return copy


def check(run):
    gan = run.namespace["gan"]
    for name in ("generator", "discriminator", "g_optimizer", "d_optimizer", "loss_fn", "train_step", "latent_dim"):
        if not hasattr(gan, name):
            yield (f"`gan` has no `{name}`; keep the starting point's GAN class and build gan = GAN(generator, "
                   "discriminator, LATENT_DIM), compiled with d_optimizer, g_optimizer and loss_fn")
            return
    gan = _fresh(gan)
    generator_weights = list(gan.generator.trainable_weights)
    discriminator_weights = list(gan.discriminator.trainable_weights)
    generator_ids = {id(v) for v in generator_weights}
    discriminator_ids = {id(v) for v in discriminator_weights}
    real = torch.as_tensor(np.asarray(run.data["X_train"][:256], dtype=np.float32))
    events: list = []
    before = _values(generator_weights)
    with _recording(gan, events):
        logs = gan.train_step(real)
    applies = [(i, e) for i, (kind, e) in enumerate(events) if kind in ("g", "d") and e["ids"] & generator_ids
               or kind == "g"]
    if not applies:
        yield f"train_step never calls self.g_optimizer.apply, so the generator never learns; {ADVICE}"
        return
    index, call = applies[-1]
    if call["ids"] & discriminator_ids:
        given = ("is also given the discriminator's weights" if call["ids"] & generator_ids
                 else "is given the discriminator's weights instead of the generator's")
        yield (f"self.g_optimizer.apply {given}, so the generator's step trains the discriminator to be fooled; "
               "pass self.generator.trainable_weights only")
        return
    if not _changed(before, generator_weights):
        yield f"one train_step leaves the generator's weights unchanged; {ADVICE}"
        return
    if any(kind == "d" and e is not call for kind, e in events[index + 1:]) or \
            _changed(call["discriminator"], discriminator_weights):
        yield ("the discriminator's weights change after the generator's update; in the generator's half only "
               "self.generator.trainable_weights may move")
        return
    latent = [e for kind, e in events[:index] if kind == "z"]
    if not latent:
        yield f"the generator's update does not come from images the generator drew in this step; {ADVICE}"
        return
    wanted = _gradient_at(gan, latent[-1], call["generator"], generator_weights)
    ids = [i for i in wanted if call["grads"].get(i) is not None]
    if not ids:
        yield f"the gradients given to self.g_optimizer.apply are None: call g_loss.backward() first; {ADVICE}"
        return
    given = torch.cat([call["grads"][i].flatten() for i in ids])
    reference = torch.cat([wanted[i].flatten() for i in ids])
    cosine = float(torch.dot(given, reference) / (given.norm() * reference.norm() + 1e-20))
    if cosine < 0 or given.norm() < 1e-3 * reference.norm():
        yield (f"the generator's update makes its fakes look more fake (its gradient has cosine {cosine:.2f} with "
               f"the gradient of the fakes' loss against 'real'): {LABELS}")
        return
    if cosine < 0.98:
        yield (f"the generator's gradient differs from the gradient of its loss (cosine {cosine:.2f}): compute "
               "g_loss with self.loss_fn on the discriminator's verdict on fresh fakes, and call self.zero_grad() "
               "just before g_loss.backward()")
        return
    if not isinstance(logs, dict) or "g_loss" not in logs:
        yield ("train_step returns no 'g_loss'; update self.g_loss_tracker with g_loss and return "
               "{'d_loss': ..., 'g_loss': self.g_loss_tracker.result()}")
