"""``Model.fit``: check every argument and prepare the data, then hand over to the epoch loop."""
from __future__ import annotations

import torch

from regulab._validation import check_float, check_int
from regulab.training import _data, _loop


def _is_iterator(x) -> bool:
    return hasattr(x, "__next__") and not isinstance(x, (torch.Tensor,))


def _unpack_validation(model, validation_data):
    if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
        raise ValueError("Invalid value for argument `validation_data`: expected a tuple (x_val, y_val) or "
                         f"(x_val, y_val, sample_weight_val). Received: {type(validation_data).__name__}")
    xv, yv, *rest = validation_data
    xt, yt, w, _ = model._arrays(xv, yv, rest[0] if rest else None)
    return xt, yt, w


def _iterator_batches(model, it, steps_per_epoch, class_weight=None):
    if steps_per_epoch is None:
        if not hasattr(it, "__len__"):
            raise ValueError("Argument `steps_per_epoch` is required when `x` is an iterator without a length.")
        steps_per_epoch = len(it)
    steps = check_int("steps_per_epoch", steps_per_epoch, low=1)
    if hasattr(it, "device"):
        it.device = model.device  # transform batches where the model lives
    checked = []

    def convert(item):
        if not isinstance(item, (tuple, list)) or len(item) not in (2, 3):
            raise ValueError("An iterator passed to fit must yield (x, y) or (x, y, sample_weight) batches; "
                             f"received {type(item).__name__}.")
        xb, yb, *rest = item
        kind = model.loss.target_kind
        if not checked:  # full checks on the first batch only: per-batch checks would sync
            xt, yt, w, _ = model._arrays(xb, yb, rest[0] if rest else None)
            checked.append(True)
        else:
            xt = torch.as_tensor(xb, dtype=torch.float32).to(model.device)
            yt = torch.as_tensor(yb).to(model.device)
            yt = yt.long().reshape(yt.shape[0], *model.output_shape[:-1]) if kind == "sparse" else \
                yt.float().reshape(yt.shape[0], *model.output_shape)
            w = None if not rest or rest[0] is None else torch.as_tensor(rest[0], dtype=torch.float32).to(model.device)
        if class_weight is not None:
            w = _data.apply_class_weight(w, _data.class_labels(yt, kind), class_weight, model.device)
        return xt, yt, w

    return _loop.IteratorBatches(it, steps, convert)


def _batch_mix(mixup, cutmix):
    """The mixing function for ``fit(mixup=alpha)`` or ``fit(cutmix=alpha)``, or None."""
    from regulab import augment

    if mixup is not None and cutmix is not None:
        raise ValueError("Arguments `mixup` and `cutmix` of fit are exclusive: pass one alpha. "
                         f"Received: mixup={mixup!r}, cutmix={cutmix!r}")
    if mixup is not None:
        alpha = check_float("mixup", mixup, low=0.0, low_open=True, where="fit")
        return lambda x, y, key: augment.mixup(x, y, source=key, alpha=alpha)
    if cutmix is not None:
        alpha = check_float("cutmix", cutmix, low=0.0, low_open=True, where="fit")
        return lambda x, y, key: augment.cutmix(x, y, source=key, alpha=alpha)
    return None


def fit_model(model, x, y, *, batch_size, epochs, verbose, callbacks, validation_split, validation_data,
              shuffle, class_weight, sample_weight, initial_epoch, steps_per_epoch, seed, mixup=None,
              cutmix=None):
    model._require_compiled("fit")
    epochs = check_int("epochs", epochs, low=0)
    batch_mix = _batch_mix(mixup, cutmix)
    initial_epoch = check_int("initial_epoch", initial_epoch, low=0)
    verbose = _loop.resolve_verbose(verbose)
    validation_split = check_float("validation_split", validation_split, low=0.0, high=1.0, high_open=True)
    if seed is None:
        seed = int(torch.randint(0, 2**31 - 1, ()))  # follows torch.manual_seed
    seed = check_int("seed", seed, low=0)
    extra: dict = {}
    validation = None
    if _is_iterator(x):
        if validation_split:
            raise ValueError("Argument `validation_split` is not supported when `x` is an iterator; "
                             "pass validation_data instead.")
        if not model.built:
            raise ValueError("Build the model (give the first layer `input_shape`) before fitting on an iterator.")
        if sample_weight is not None:
            raise ValueError("Argument `sample_weight` is not supported when `x` is an iterator; yield "
                             "(x, y, sample_weight) batches instead.")
        batches = _iterator_batches(model, x, steps_per_epoch, class_weight)
    else:
        batch_size = 32 if batch_size is None else check_int("batch_size", batch_size, low=1)
        xt, yt, w, labels = model._arrays(x, y, sample_weight)
        if validation_split and validation_data is None:
            split = _data.validation_split(xt.shape[0], validation_split, labels, seed)
            extra["validation_split"] = {"train": len(split.train), "val": len(split.val),
                                         "stratified": split.stratified, "seed": seed}
            if verbose:
                print(split.describe())
            tr = torch.as_tensor(split.train, device=model.device)
            va = torch.as_tensor(split.val, device=model.device)
            validation = (xt[va], yt[va], None if w is None else w[va])
            xt, yt, w = xt[tr], yt[tr], None if w is None else w[tr]
            labels = None if labels is None else labels[split.train]
        # class weights apply to training samples only, as in Keras: validation stays unweighted
        w = _data.apply_class_weight(w, labels, class_weight, model.device)
        batches = _loop.ArrayBatches(xt, yt, w, batch_size, bool(shuffle), seed)
    if validation_data is not None:
        validation = _unpack_validation(model, validation_data)
    spec = model._step_spec()
    spec.batch_mix = batch_mix
    model.history = _loop.run_epochs(model, spec, batches, epochs=epochs, initial_epoch=initial_epoch,
                                     verbose=verbose, callbacks=callbacks, validation=validation,
                                     seed=seed, extra_params=extra, jit_compile=model.jit_compile,
                                     steps_per_execution=model.steps_per_execution)
    return model.history
