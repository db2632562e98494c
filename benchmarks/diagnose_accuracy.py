"""How often ``regulab.lab.diagnose`` names the regime a learning curve was built to show.

Every curve comes from a real regulab fit whose regime is known by construction:

- underfitting: models far too small for their task (a linear model on concentric circles or XOR,
  a one-unit bottleneck before ten classes) or a tiny model whose learning rate is far too low;
- overfitting: models far too large for a few dozen to a few hundred samples, trained long;
- good fit: well-sized models on ample data, stopped early (``EarlyStopping(monitor='val_loss',
  patience=5)``);
- still improving: reasonable models stopped after too few epochs;
- unstable: Adam with a learning rate 100 to 300 times its default.

The seeds of one case train together as one stacked model (``regulab.lab.fit_variants``, each
with its own callbacks), which gives each seed the History its own ``fit(seed=...)`` would.
The script prints the confusion matrix and, as its last line, ``accuracy: NN.N%``.

Usage: OMP_NUM_THREADS=1 python benchmarks/diagnose_accuracy.py [--quick] [--seeds 5]
"""
from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np
from sklearn.datasets import load_breast_cancer, make_circles, make_classification, make_moons

import regulab
from regulab.lab import fit_variants
from regulab.lab._diagnose import VERDICTS, diagnose
from regulab.layers import Dense
from regulab.models import Sequential

VAL_SIZE = 1000  # held-out samples per task: enough that the validation curve is not mostly noise


# --- tasks: each returns (x_train, y_train, x_val, y_val) for a data seed ---------------------

def _split(x, y, n_train, seed):
    rows = np.random.default_rng(seed).permutation(len(x))
    x = (x - x[rows[:n_train]].mean(0)) / (x[rows[:n_train]].std(0) + 1e-8)
    x = x.astype(np.float32)
    return x[rows[:n_train]], y[rows[:n_train]], x[rows[n_train:]], y[rows[n_train:]]


def seed_lesson(n_train):
    def make(seed):
        t = regulab.datasets.seed_task(n_train=n_train, n_test=VAL_SIZE, seed=seed)
        return t.x_train, t.y_train, t.x_test, t.y_test
    return make


def moons(n_train, noise):
    def make(seed):
        x, y = make_moons(n_train + VAL_SIZE, noise=noise, random_state=seed)
        return _split(x, y.astype(np.float32), n_train, seed)
    return make


def circles(n_train, extra=0):
    def make(seed):
        x, y = make_circles(n_train + VAL_SIZE, factor=0.5, noise=0.08, random_state=seed)
        if extra:  # noise features a linear model could only memorise
            x = np.hstack([x, np.random.default_rng(seed).standard_normal((len(x), extra))])
        return _split(x, y.astype(np.float32), n_train, seed)
    return make


def xor(n_train, dims=2):
    def make(seed):
        rng = np.random.default_rng(seed)
        x = rng.uniform(-1, 1, (n_train + VAL_SIZE, dims))
        y = (x[:, 0] * x[:, 1] > 0).astype(np.float32)
        return _split(x, y, n_train, seed)
    return make


def classes(n_train, n_classes=3, n_features=20, flip_y=0.02):
    def make(seed):
        x, y = make_classification(n_train + VAL_SIZE, n_features=n_features, n_informative=8, n_redundant=2,
                                   n_classes=n_classes, flip_y=flip_y, class_sep=1.0, random_state=seed)
        return _split(x, y.astype(np.int64), n_train, seed)
    return make


def cancer(n_train):
    def make(seed):
        d = load_breast_cancer()
        return _split(d.data, d.target.astype(np.float32), n_train, seed)
    return make


def digits(n_train):
    def make(seed):
        x, y = regulab.datasets.load_digits()
        rows = np.random.default_rng(seed).permutation(len(x))
        x = x.reshape(len(x), -1)
        return x[rows[:n_train]], y[rows[:n_train]], x[rows[n_train:]], y[rows[n_train:]]
    return make


# --- models -----------------------------------------------------------------------------------

def mlp(hidden, lr=1e-3):
    """A builder of ``Dense(h, relu)`` layers then the output layer the labels need."""
    def build(n_features, n_classes):
        layers, first = [], True
        for h in hidden:
            layers.append(Dense(h, activation="relu", **({"input_dim": n_features} if first else {})))
            first = False
        binary = n_classes == 2
        layers.append(Dense(1 if binary else n_classes, activation="sigmoid" if binary else "softmax",
                            **({"input_dim": n_features} if first else {})))
        model = Sequential(layers)
        model.compile(optimizer=regulab.optimizers.Adam(learning_rate=lr),
                      loss="binary_crossentropy" if binary else "sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        return model
    return build


@dataclass
class Case:
    name: str
    regime: str
    data: Callable
    build: Callable
    epochs: int
    batch_size: int = 32
    patience: int | None = None  # EarlyStopping(monitor="val_loss", patience=...)


CASES = [
    # far too small: a linear model where the classes are not linearly separable
    Case("circles, linear", "underfitting", circles(600), mlp([], lr=0.01), 30),
    Case("circles + 8 noise features, linear", "underfitting", circles(600, extra=8), mlp([], lr=0.01), 30),
    Case("xor, linear", "underfitting", xor(800), mlp([], lr=0.01), 30),
    Case("xor 4-d, linear", "underfitting", xor(800, dims=4), mlp([], lr=0.01), 30),
    Case("digits, 1-unit bottleneck", "underfitting", digits(1000), mlp([1], lr=0.01), 40),
    # a tiny model whose learning rate is far too low to get anywhere
    Case("seed task, 2 units, lr 1e-5", "underfitting", seed_lesson(800), mlp([2], lr=1e-5), 30),
    Case("digits, linear, lr 1e-5", "underfitting", digits(1000), mlp([], lr=1e-5), 30),
    Case("moons, 2 units, lr 1e-5", "underfitting", moons(800, 0.2), mlp([2], lr=1e-5), 30),
    # far too large for the few samples, trained long
    Case("seed task n=200, 512 units", "overfitting", seed_lesson(200), mlp([512]), 40),
    Case("seed task n=400, 512 units", "overfitting", seed_lesson(400), mlp([512]), 40),
    Case("moons n=60, 256x256", "overfitting", moons(60, 0.35), mlp([256, 256]), 150),
    Case("3 classes n=150, 512 units", "overfitting", classes(150, flip_y=0.1), mlp([512]), 80),
    Case("digits n=120, 256x256", "overfitting", digits(120), mlp([256, 256]), 120),
    Case("xor 10-d n=150, 256x256", "overfitting", xor(150, dims=10), mlp([256, 256]), 120),
    # well-sized on ample data, stopped early
    Case("moons n=2000, 16x16, early stopping", "good fit", moons(2000, 0.25), mlp([16, 16], lr=3e-3), 80, 64, 5),
    Case("circles n=2000, 16x16, early stopping", "good fit", circles(2000), mlp([16, 16], lr=3e-3), 80, 64, 5),
    Case("2 classes n=3000, 8 units, early stopping", "good fit", classes(3000, n_classes=2), mlp([8], lr=3e-3),
         80, 64, 5),
    Case("3 classes n=3000, 8 units, early stopping", "good fit", classes(3000), mlp([8], lr=3e-3), 80, 64, 5),
    Case("digits n=1000, 64 units, early stopping", "good fit", digits(1000), mlp([64], lr=3e-3), 80, 32, 5),
    Case("breast cancer n=400, linear, early stopping", "good fit", cancer(400), mlp([], lr=3e-3), 150, 32, 5),
    Case("breast cancer n=400, 8 units, early stopping", "good fit", cancer(400), mlp([8]), 150, 32, 5),
    # reasonable models, too few epochs
    Case("seed task n=2000, 16 units, 6 epochs", "still improving", seed_lesson(2000), mlp([16], lr=3e-4), 6, 64),
    Case("moons n=2000, 16x16, 8 epochs", "still improving", moons(2000, 0.2), mlp([16, 16], lr=3e-4), 8, 64),
    Case("circles n=2000, 16x16, 8 epochs", "still improving", circles(2000), mlp([16, 16]), 8, 64),
    Case("digits n=1000, 32 units, 6 epochs", "still improving", digits(1000), mlp([32], lr=3e-4), 6),
    Case("3 classes n=3000, 32 units, 5 epochs", "still improving", classes(3000), mlp([32], lr=1e-4), 5, 64),
    # a learning rate far too high for Adam
    Case("moons, 32x32, lr 0.3", "unstable", moons(1000, 0.2), mlp([32, 32], lr=0.3), 30),
    Case("circles, 32x32, lr 0.3", "unstable", circles(1000), mlp([32, 32], lr=0.3), 30),
    Case("digits, 64 units, lr 0.1", "unstable", digits(1000), mlp([64], lr=0.1), 30),
    Case("3 classes, 64 units, lr 0.3", "unstable", classes(1000), mlp([64], lr=0.3), 30),
]
QUICK = ["xor, linear", "seed task n=200, 512 units", "breast cancer n=400, linear, early stopping",
         "moons n=2000, 16x16, 8 epochs", "moons, 32x32, lr 0.3"]


def run_case(case: Case, data_seed: int, seeds: list[int]) -> tuple[list, np.ndarray]:
    """The Histories of ``case`` trained on the data of ``data_seed`` from each model seed."""
    x, y, xv, yv = case.data(data_seed)
    n_classes = int(len(np.unique(y)))
    fit_seeds = [1000 * data_seed + s for s in seeds]
    models = []
    for s in fit_seeds:
        regulab.set_random_seed(s)
        models.append(case.build(x.shape[1], n_classes))
    callbacks = None
    if case.patience is not None:
        callbacks = [[regulab.callbacks.EarlyStopping(monitor="val_loss", patience=case.patience)] for _ in seeds]
    histories = fit_variants(models, x, y, seeds=fit_seeds, epochs=case.epochs, batch_size=case.batch_size,
                             validation_data=(xv, yv), callbacks=callbacks)
    return histories, y


def confusion_table(confusion: dict, regimes: list[str]) -> str:
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        width = max(len(v) for v in VERDICTS) + 2
        lines = ["regime \\ verdict".ljust(18) + "".join(v.rjust(width) for v in VERDICTS)]
        lines += [r.ljust(18) + "".join(str(confusion.get((r, v), 0)).rjust(width) for v in VERDICTS)
                  for r in regimes]
        return "\n".join(lines)
    table = Table(title="regime (rows) against verdict (columns)")
    table.add_column("regime")
    for v in VERDICTS:
        table.add_column(v, justify="right")
    for r in regimes:
        table.add_row(r, *(str(confusion.get((r, v), 0)) for v in VERDICTS))
    console = Console(width=120)
    with console.capture() as capture:
        console.print(table)
    return capture.get().rstrip()


def main(argv=None) -> float:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="one case per regime, 2 seeds: a smoke run")
    p.add_argument("--seeds", type=int, default=5, help="model seeds per case and data seed (default 5)")
    p.add_argument("--data-seeds", default="0,1", help="comma-separated data seeds (default 0,1)")
    p.add_argument("--no-labels", action="store_true", help="diagnose without y_train (no prior loss)")
    args = p.parse_args(argv)
    cases = [c for c in CASES if c.name in QUICK] if args.quick else CASES
    seeds = list(range(2 if args.quick else args.seeds))
    data_seeds = [0] if args.quick else [int(s) for s in args.data_seeds.split(",")]
    start = time.perf_counter()
    confusion: dict[tuple[str, str], int] = {}
    for case in cases:
        verdicts = []
        for data_seed in data_seeds:
            histories, y = run_case(case, data_seed, seeds)
            verdicts += [diagnose(h, y_train=None if args.no_labels else y).verdict for h in histories]
        for v in verdicts:
            confusion[(case.regime, v)] = confusion.get((case.regime, v), 0) + 1
        right = sum(v == case.regime for v in verdicts)
        print(f"{case.name:46s} {case.regime:16s} {right:3d}/{len(verdicts)}"
              + ("" if right == len(verdicts) else f"  ({', '.join(sorted(set(verdicts) - {case.regime}))})"),
              flush=True)
    regimes = list(dict.fromkeys(c.regime for c in cases))
    total = sum(confusion.values())
    right = sum(n for (r, v), n in confusion.items() if r == v)
    print(confusion_table(confusion, regimes))
    print(f"{total} learning curves from {len(cases)} cases in {time.perf_counter() - start:.0f} s"
          f"{' (without y_train)' if args.no_labels else ''}")
    accuracy = right / total
    print(f"accuracy: {100 * accuracy:.1f}%")
    return accuracy


if __name__ == "__main__":
    main()
