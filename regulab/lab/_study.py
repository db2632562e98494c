"""``lab.study``: every variant of a model trained over several seeds, compared with intervals.

The data is split once (a stratified validation split of the training data, seeded by
``data_seed``, and the held-out test set given or split off the same way), so every variant and
seed sees the same split and variants can be compared seed by seed. Seed ``s`` of every variant
starts from ``build_model()`` under ``set_random_seed(s)`` and trains with ``fit(seed=s)``: the
comparison with the baseline is paired, which removes most of the seed noise from the difference.

Variants that share an architecture train together as one stacked model (``_transform.py`` says
which); each group is written to ``output_dir`` as soon as it is done, so a rerun after a crash or
Ctrl-C skips the finished groups.
"""
from __future__ import annotations

import hashlib
import shutil
import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from regulab._atomic import atomic_write
from regulab._validation import check_float, check_int
from regulab.callbacks import BackupAndRestore, Callback
from regulab.lab._result import StudyResult
from regulab.lab._settings import check_variants
from regulab.lab._sparsity import sparsity
from regulab.lab._transform import Group, build_variant, group_variants
from regulab.training._variants import IncompatibleVariants, fit_variants

_HIST_BINS = 40


@dataclass
class StudyData:
    """The study's fixed split: training, validation (for early stopping and the gap) and held-out test."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    description: str

    def fingerprint(self) -> str:
        h = hashlib.sha256()
        for a in (self.x_train, self.y_train, self.x_val, self.y_val, self.x_test, self.y_test):
            h.update(str(a.shape).encode())
            h.update(np.ascontiguousarray(a).tobytes())
        return h.hexdigest()[:16]


def _is_classes(y: np.ndarray) -> bool:
    flat = y.reshape(len(y), -1)
    return flat.shape[1] == 1 and np.all(np.mod(flat, 1) == 0) and len(np.unique(flat)) <= 50


def _split(x, y, fraction: float, seed: int):
    from sklearn.model_selection import train_test_split

    stratify = y.reshape(len(y)) if _is_classes(y) else None
    return train_test_split(x, y, test_size=fraction, random_state=seed, stratify=stratify), stratify is not None


def prepare_data(data, validation_split: float, data_seed: int) -> StudyData:
    """``data`` as an object with ``x_train``/``y_train`` (and ``x_test``/``y_test``), or a tuple
    ``(x, y)`` or ``(x_train, y_train, x_test, y_test)``."""
    if hasattr(data, "x_train") and hasattr(data, "y_train"):
        x, y = data.x_train, data.y_train
        xt, yt = getattr(data, "x_test", None), getattr(data, "y_test", None)
    elif isinstance(data, (tuple, list)) and len(data) in (2, 4):
        x, y, xt, yt = (*data, None, None) if len(data) == 2 else data
    else:
        raise ValueError("Argument `data` of study takes (x, y), (x_train, y_train, x_test, y_test) or an object "
                         f"with x_train, y_train, x_test and y_test. Received: {type(data).__name__}")
    x, y = np.asarray(x), np.asarray(y)
    if len(x) != len(y):
        raise ValueError(f"Argument `data` of study: x has {len(x)} samples and y {len(y)}.")
    notes = []
    if xt is None:
        (x, xt, y, yt), stratified = _split(x, y, 0.2, data_seed)
        notes.append(f"held-out test: 20% of the data{' (stratified)' if stratified else ''}, seed {data_seed}")
    xt, yt = np.asarray(xt), np.asarray(yt)
    (xtr, xv, ytr, yv), stratified = _split(x, y, validation_split, data_seed)
    notes.append(f"validation: {validation_split:.0%} of the training data{' (stratified)' if stratified else ''}, "
                 f"seed {data_seed}, the same for every variant and seed")
    desc = (f"{len(xtr)} training, {len(xv)} validation and {len(xt)} held-out test samples of shape "
            f"{tuple(xtr.shape[1:])}; " + "; ".join(notes))
    return StudyData(xtr, ytr, xv, yv, xt, yt, desc)


class _Progress(Callback):
    """Advances a group's progress bar by one variant-epoch."""

    def __init__(self, advance):
        super().__init__()
        self.advance = advance

    def on_epoch_end(self, epoch, logs=None):
        self.advance()


def _metric(model) -> tuple[str, bool]:
    """The compared metric: the model's first compiled metric, else its loss; and its direction."""
    for name, m in model._step_spec().log_names():
        if m is not None:
            return name, m.direction == "max"
    return "loss", False


def _kernel_summary(models) -> tuple[dict | None, list | None]:
    """A histogram of the first kernel over every seed, and per input the fraction of seeds
    that still use it (an input row of the first kernel not all zero)."""
    kernels = []
    for m in models:
        k = next((layer.kernel.numpy() for layer in m.layers if getattr(layer, "kernel", None) is not None), None)
        if k is None:
            return None, None
        kernels.append(k.reshape(-1, k.shape[-2], k.shape[-1]))
    values = np.concatenate([k.ravel() for k in kernels])
    counts, edges = np.histogram(values, bins=_HIST_BINS)
    name = next(layer.name for layer in models[0].layers if getattr(layer, "kernel", None) is not None)
    used = np.mean([(k != 0).any(axis=(0, 2)) for k in kernels], axis=0)
    return {"layer": name, "counts": counts.tolist(), "edges": edges.tolist()}, used.tolist()


def _train_group(build_model, variants, group: Group, seeds, epochs, batch_size, data: StudyData,
                 jit_compile, progress, backup_dir: Path | None = None) -> dict:
    """Train one group and return its record. With ``backup_dir``, every run backs up after each
    epoch (``BackupAndRestore``), so a study killed inside a group resumes it where it was."""
    runs = [(name, s, *build_variant(build_model, name, variants[name], group, s))
            for name in group.variants for s in seeds]
    models = [r[2] for r in runs]
    per_model = [e or epochs for *_, e in runs]
    metric, higher = _metric(models[0])
    advance = progress(sum(per_model)) if progress else (lambda done=False: None)
    callbacks = [[*cbs, _Progress(advance)] for *_, cbs, _ in runs]
    if backup_dir is not None:
        for i, cbs in enumerate(callbacks):
            cbs.append(BackupAndRestore(backup_dir / str(i), double_checkpoint=True))
    validation = (data.x_val, data.y_val)
    # mixup's alpha is state: variants without it train in the same stack with alpha 0
    alphas = [float(variants[name].get("mixup") or 0.0) for name, *_ in runs]
    start = time.perf_counter()
    if group.stacked:
        try:
            histories = fit_variants(models, data.x_train, data.y_train, seeds=[s for _, s, *_ in runs],
                                     epochs=per_model, batch_size=batch_size, validation_data=validation,
                                     callbacks=callbacks, jit_compile=jit_compile,
                                     mixup=alphas if any(alphas) else None)
        except IncompatibleVariants as err:  # variants that build to different architectures: train them apart
            group.stacked, group.reason = False, str(err)
    if not group.stacked:
        histories = [m.fit(data.x_train, data.y_train, epochs=e, batch_size=batch_size, validation_data=validation,
                           callbacks=cbs, seed=s, verbose=0, mixup=a or None)
                     for (_, s, m, _, _), e, cbs, a in zip(runs, per_model, callbacks, alphas)]
    seconds = time.perf_counter() - start
    advance(done=True)
    record = {"name": group.name, "variants": group.variants, "mode": group.mode, "reason": group.reason,
              "seconds": seconds, "metric": metric, "higher_is_better": higher, "runs": {}}
    for name in group.variants:
        mine = [(r, h) for r, h in zip(runs, histories) if r[0] == name]
        scores = {split: [] for split in ("train", "val", "test")}
        for (_, _, m, _, _), _ in mine:
            for split, (x, y) in (("train", (data.x_train, data.y_train)), ("val", validation),
                                  ("test", (data.x_test, data.y_test))):
                scores[split].append(float(m.evaluate(x, y, verbose=0, return_dict=True)[metric]))
        weights, used = _kernel_summary([r[2] for r, _ in mine])
        penalized = any(k in variants[name] for k in ("l1", "l1_proximal"))
        record["runs"][name] = {
            **scores,
            "epochs": [len(h.epoch) for _, h in mine],
            "zero_fraction": [float(sparsity(r[2]).zero_fraction) for r, _ in mine],
            "histories": [{k: [float(v) for v in vs] for k, vs in h.history.items()} for _, h in mine],
            "weights": weights, "surviving_inputs": used if penalized else None,
        }
    return record


def _group_file(output_dir: Path, group: Group, variants, seeds, epochs, batch_size, data: StudyData,
                model_config) -> Path:
    key = json.dumps({"variants": {n: variants[n] for n in group.variants}, "seeds": list(seeds),
                      "epochs": epochs, "batch_size": batch_size, "data": data.fingerprint(),
                      "model": model_config}, sort_keys=True, default=str)
    return output_dir / "groups" / f"{hashlib.sha256(key.encode()).hexdigest()[:20]}.json"


def _model_config(build_model) -> str:
    """What the baseline model is, for the resume key: its layers' configurations without their
    names (numbered per process) and how it is compiled."""
    from regulab import optimizers
    from regulab.models._specs import describe
    from regulab.training._engine import _without_names

    model = build_model()
    return json.dumps([type(model).__name__, [_without_names(describe(layer)) for layer in model._flatten_layers()[1:]],
                       optimizers.describe(model.optimizer), repr(model.loss), repr(model.loss_weights),
                       repr(model._metric_args)], sort_keys=True, default=str)


def study(build_model, data, variants, *, seeds=5, epochs: int = 100, batch_size: int = 32,
          validation_split: float = 0.2, data_seed: int = 0, output_dir=None, title: str | None = None,
          jit_compile: bool = False, verbose: int = 1) -> StudyResult:
    """Train every variant from several seeds and compare them with the baseline.

    Args:
        build_model: a function returning a new compiled, built model (the baseline).
        data: ``(x, y)``, ``(x_train, y_train, x_test, y_test)`` or an object with those attributes.
        variants: ``{name: settings}`` (see ``regulab.lab._settings``); ``"baseline"`` is added.
        seeds: the number of seeds (``0 .. seeds-1``) or a list of seeds.
        epochs: epochs per model (a variant's ``epochs`` setting overrides it).
        output_dir: a folder where each finished group is saved (a rerun skips it) and the report
            goes (``index.html``); None keeps everything in memory.
        jit_compile: compile each group's stacked step.
        verbose: 1 shows a progress bar per group.

    Returns:
        A :class:`StudyResult` (``table()``, ``to_json()``, ``to_frame()``, ``report(path)``).
    """
    variants = check_variants(variants)
    if isinstance(seeds, (list, tuple)):
        if not seeds:
            raise ValueError("Argument `seeds` of study is empty: give a number of seeds or a list of them.")
        seed_list = [check_int("seeds", s, low=0, where="study") for s in seeds]
    else:
        seed_list = list(range(check_int("seeds", seeds, low=1, where="study")))
    epochs = check_int("epochs", epochs, low=1, where="study")
    batch_size = check_int("batch_size", batch_size, low=1, where="study")
    validation_split = check_float("validation_split", validation_split, low=0.0, high=1.0, low_open=True,
                                   high_open=True, where="study")
    split = prepare_data(data, validation_split, data_seed)
    groups = group_variants(variants)
    output = None if output_dir is None else Path(output_dir)
    config = _model_config(build_model) if output is not None else None
    records = []
    progress_bar = _progress_bar() if verbose else None
    with progress_bar or _nothing():
        for group in groups:
            path = None if output is None else _group_file(output, group, variants, seed_list, epochs, batch_size,
                                                          split, config)
            if path is not None and path.exists():
                record = json.loads(path.read_text())
                record["resumed"] = True
                group.stacked, group.reason = record["mode"] == "stacked", record["reason"]
            else:
                progress = None
                if progress_bar is not None:
                    progress = _group_task(progress_bar, f"{group.name}: {', '.join(group.variants)}")
                backups = None if path is None else path.with_suffix(".backup")
                record = _train_group(build_model, variants, group, seed_list, epochs, batch_size, split,
                                      jit_compile, progress, backups)
                if path is not None:
                    atomic_write(path, json.dumps(record).encode())
                    shutil.rmtree(backups, ignore_errors=True)  # the group's record replaces them
            records.append(record)
    result = StudyResult.from_records(records, variants, seed_list, split.description,
                                      title or "Study", data_sizes=(len(split.x_train), len(split.x_val),
                                                                    len(split.x_test)))
    if output is not None:
        atomic_write(output / "study.json", json.dumps(result.to_json(), indent=1).encode())
        result.report(output / "index.html")
    return result


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _progress_bar():
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    transient=False)


def _group_task(bar, description: str):
    """``start(total) -> advance()``: a task on ``bar`` counting variant-epochs."""

    def start(total: int):
        task = bar.add_task(description[:60], total=total)

        def advance(done: bool = False):
            # early stopping ends some variants before their last epoch: the group is then done
            if done:
                bar.update(task, completed=total)
            else:
                bar.advance(task)

        return advance

    return start
