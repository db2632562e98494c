"""``Model.fit``: check every argument and prepare the data, then hand over to the epoch loop."""
from __future__ import annotations

import torch

from regulab._seed import global_seed_set
from regulab._validation import check_float, check_int
from regulab.training import _data, _loop
from regulab.training._batch_mix import BatchMix


def _is_iterator(x) -> bool:
    """A generator or iterator of batches, or an iterable of them such as a DataLoader (anything
    iterable that is not an array, a tensor, a DataFrame or a Python container of arrays)."""
    if isinstance(x, (torch.Tensor, list, tuple, dict, str, bytes)) or hasattr(x, "__array__") or hasattr(x, "to_numpy"):
        return False
    return hasattr(x, "__next__") or hasattr(x, "__iter__")


def unpack_validation(validation_data):
    if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
        raise ValueError("Invalid value for argument `validation_data`: expected a tuple (x_val, y_val) or "
                         f"(x_val, y_val, sample_weight_val). Received: {type(validation_data).__name__}")
    xv, yv, *rest = validation_data
    return xv, yv, (rest[0] if rest else None)


def _validation_tensors(model, spec, validation_data):
    xv, yv, wv = unpack_validation(validation_data)
    with _data.data_source("fit", "validation_data"):
        xt, yt, w, _ = model._arrays(xv, yv, wv, spec)
    return xt, yt, w


def _iterator_batches(model, spec, it, steps_per_epoch, class_weight=None):
    if steps_per_epoch is None:
        if not hasattr(it, "__len__"):
            raise ValueError("Argument `steps_per_epoch` is required when `x` is an iterator without a length.")
        steps_per_epoch = len(it)
    steps = check_int("steps_per_epoch", steps_per_epoch, low=1)
    if hasattr(it, "device"):
        it.device = model.device  # transform batches where the model lives
    checked = []
    drawn = [0]  # batches drawn, across epochs: errors say which one was bad

    def convert(item):
        if not isinstance(item, (tuple, list)) or len(item) not in (2, 3):  # DataLoaders yield lists
            raise ValueError("An iterator passed to fit must yield (x, y) or (x, y, sample_weight) batches; "
                             f"received {type(item).__name__}.")
        xb, yb, *rest = item
        _data.check_finite_batch((xb, yb, rest[0] if rest else None), ("x", "y", "sample_weight"), drawn[0], "fit")
        drawn[0] += 1
        kind = spec.heads[0].loss.target_kind
        if not checked:  # full checks on the first batch only: per-batch checks would sync
            xt, yt, w, _ = model._arrays(xb, yb, rest[0] if rest else None, spec)
            checked.append(True)
        else:
            shape = model.output_shapes[0]
            dtypes = model.input_dtypes()
            xt = torch.as_tensor(xb, dtype=dtypes[0] if dtypes else torch.float32).to(model.device)
            for _, layer in model._index_consumers():  # the steps rely on it (see Structure)
                layer.check_indices(xt)
            yt = torch.as_tensor(yb).to(model.device)
            yt = yt.long().reshape(yt.shape[0], *shape[:-1]) if kind == "sparse" else \
                yt.float().reshape(yt.shape[0], *shape)
            w = None if not rest or rest[0] is None else torch.as_tensor(rest[0], dtype=torch.float32).to(model.device)
        if class_weight is not None:
            w = _data.apply_class_weight(w, _data.class_labels(yt, kind), class_weight, model.device)
        return xt, yt, w

    return _loop.IteratorBatches(it, steps, convert)


def _batch_mix(mixup, cutmix):
    """The batch mixing of ``fit(mixup=alpha)`` or ``fit(cutmix=alpha)``, or None."""
    if mixup is not None and cutmix is not None:
        raise ValueError("Arguments `mixup` and `cutmix` of fit are exclusive: pass one alpha. "
                         f"Received: mixup={mixup!r}, cutmix={cutmix!r}")
    if mixup is not None:
        return BatchMix("mixup", check_float("mixup", mixup, low=0.0, low_open=True, where="fit"))
    if cutmix is not None:
        return BatchMix("cutmix", check_float("cutmix", cutmix, low=0.0, low_open=True, where="fit"))
    return None


def _resume_point(model, callbacks, explicit_seed):
    """The checkpoint of the fit's BackupAndRestore if it has one (read and checked as a file; the
    loop checks it against the model), else None."""
    from regulab.callbacks._backup import BackupAndRestore

    backup = next((c for c in callbacks or () if isinstance(c, BackupAndRestore)), None)
    if backup is None:
        return None
    if model.has_custom_train_step:
        raise ValueError(f"BackupAndRestore backs up the standard training step; model '{model.name}' has its own "
                         "train_step. Save its weights with ModelCheckpoint instead.")
    resume = backup.read()
    if resume is None:
        return None
    if explicit_seed is not None and explicit_seed != resume.seed:
        raise ValueError(f"The backup '{resume.where}' continues a fit with seed={resume.seed}; this fit has "
                         f"seed={explicit_seed}. Pass seed={resume.seed} to resume it, or delete the backup to "
                         "start afresh.")
    return resume


def fit_model(model, x, y, *, batch_size, epochs, verbose, callbacks, validation_split, validation_data,
              shuffle, class_weight, sample_weight, initial_epoch, steps_per_epoch, seed, mixup=None,
              cutmix=None):
    model._require_compiled("fit")
    epochs = check_int("epochs", epochs, low=0)
    batch_mix = _batch_mix(mixup, cutmix)
    initial_epoch = check_int("initial_epoch", initial_epoch, low=0)
    verbose = _loop.resolve_verbose(verbose)
    validation_split = check_float("validation_split", validation_split, low=0.0, high=1.0, high_open=True)
    seeded = seed is not None or global_seed_set()
    explicit_seed = seed
    if seed is None:
        seed = int(torch.randint(0, 2**31 - 1, ()))  # follows torch.manual_seed
    seed = check_int("seed", seed, low=0)
    resume = _resume_point(model, callbacks, explicit_seed)
    if resume is not None:
        seed = resume.seed  # the shuffles, masks and split of the fit it continues
    if model.has_custom_train_step:
        from regulab.training._custom import fit_custom

        if batch_mix is not None:
            raise ValueError("Arguments `mixup`/`cutmix` of fit mix batches inside the standard training step; "
                             f"model '{model.name}' has its own train_step, so mix inside it instead.")
        return fit_custom(model, x, y, batch_size=batch_size, epochs=epochs, verbose=verbose, callbacks=callbacks,
                          validation_split=validation_split, validation_data=validation_data, shuffle=shuffle,
                          sample_weight=sample_weight, initial_epoch=initial_epoch,
                          steps_per_epoch=steps_per_epoch, seed=seed, class_weight=class_weight)
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
        spec = model._step_spec()
        batches = _iterator_batches(model, spec, x, steps_per_epoch, class_weight)
    else:
        batch_size = 32 if batch_size is None else check_int("batch_size", batch_size, low=1)
        with _data.data_source("fit"):
            if not model.built:
                model._inputs(x, "x")  # builds the model from the data's shape
            spec = model._step_spec()
            xt, yt, w, labels = model._arrays(x, y, sample_weight, spec)
        if validation_split and validation_data is None:
            split = _data.validation_split(_loop.num_samples(xt), validation_split, labels, seed)
            extra["validation_split"] = {"train": len(split.train), "val": len(split.val),
                                         "stratified": split.stratified, "seed": seed}
            if verbose:
                print(split.describe())
            tr = torch.as_tensor(split.train, device=model.device)
            va = torch.as_tensor(split.val, device=model.device)
            validation = (_loop.take(xt, va), _loop.take(yt, va), _loop.take(w, va))
            xt, yt, w = _loop.take(xt, tr), _loop.take(yt, tr), _loop.take(w, tr)
            labels = None if labels is None else labels[split.train]
        # class weights apply to training samples only, as in Keras: validation stays unweighted
        w = _data.apply_class_weight(w, labels, class_weight, model.device)
        batches = _loop.ArrayBatches(xt, yt, w, batch_size, bool(shuffle), seed)
    if validation_data is not None:
        validation = _validation_tensors(model, spec, validation_data)
    if batch_mix is not None and not spec.single:
        raise ValueError("Arguments `mixup`/`cutmix` of fit need a model with one output; "
                         f"model '{model.name}' has {len(model.output_names)}.")
    spec.batch_mix = batch_mix
    model.history = _loop.run_epochs(model, spec, batches, epochs=epochs, initial_epoch=initial_epoch,
                                     verbose=verbose, callbacks=callbacks, validation=validation,
                                     seed=seed, extra_params=extra, jit_compile=model.jit_compile,
                                     steps_per_execution=model.steps_per_execution, seeded=seeded,
                                     resume=resume)
    return model.history
