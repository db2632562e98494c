"""``regulab demo``: the regularization lesson as two studies, with error bars and a report.

1. The lesson's model, ``Dense(64, relu) -> Dense(1, sigmoid)``, on the lesson's task (400
   training samples of 100 features, 10 of them informative): plain and with L1, proximal L1, L2,
   dropout, batch normalization, early stopping and all together.
2. A small CNN on scikit-learn's 8x8 digits: plain, with the lesson's ``ImageDataGenerator``
   augmentation, and with batch normalization.

Every variant trains from several seeds; variants that share an architecture train together as
one stacked model. The tables give the held-out accuracy with its 95% interval, the train-val gap
and the paired difference with the plain model; the report (``regulab-report/index.html``) has the
curves, intervals and weight histograms.
"""
from __future__ import annotations

import time
from pathlib import Path

from regulab import datasets
from regulab.lab._study import study
from regulab.layers import Conv2D, Dense, Flatten, MaxPooling2D
from regulab.models import Sequential

#: the lesson's techniques on the lesson's model, in the lesson's order
SEED_VARIANTS = {
    "L1 0.001": {"l1": 0.001},
    "L1 0.001 proximal": {"l1_proximal": 0.001},
    "L2 0.01": {"l2": 0.01},
    "dropout 0.5": {"dropout": 0.5},
    "batch norm": {"batch_norm": True},
    "early stopping": {"early_stopping": 5},
    "all together": {"l2": 0.01, "dropout": 0.5, "batch_norm": True, "early_stopping": 5},
}
#: the lesson's ImageDataGenerator settings, without the horizontal flip: a mirrored digit is
#: another symbol (or none), so flipping would teach the model wrong labels
AUGMENTATION = {"rotation_range": 20, "width_shift_range": 0.2, "height_shift_range": 0.2, "shear_range": 0.2,
                "zoom_range": 0.2, "fill_mode": "nearest"}
DIGITS_VARIANTS = {"augmentation": {"augmentation": AUGMENTATION}, "batch norm": {"batch_norm": True}}


def seed_model() -> Sequential:
    """The lesson's model, compiled as the lesson compiles it."""
    model = Sequential([Dense(64, input_dim=100, activation="relu"), Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return model


def digits_cnn() -> Sequential:
    """A small CNN for 8x8 digits."""
    model = Sequential([Conv2D(16, 3, activation="relu", padding="same", input_shape=(8, 8, 1)), MaxPooling2D(2),
                        Flatten(), Dense(32, activation="relu"), Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def run_demo(seeds: int = 5, epochs: int = 100, cnn_epochs: int = 30, output: str | Path = "regulab-report",
             verbose: int = 1):
    """Both studies; returns ``(seed_result, digits_result)``. Reports go to ``output``."""
    output = Path(output)
    seed = study(seed_model, datasets.seed_task(seed=0), SEED_VARIANTS, seeds=seeds, epochs=epochs,
                 output_dir=output, title="The lesson's model on the lesson's task", verbose=verbose)
    x, y = datasets.load_digits()
    digits = study(digits_cnn, (x, y), DIGITS_VARIANTS, seeds=seeds, epochs=cnn_epochs,
                   output_dir=output / "digits", title="A small CNN on 8x8 digits", verbose=verbose)
    return seed, digits


def main(seeds: int = 5, epochs: int = 100, cnn_epochs: int = 30, output: str = "regulab-report") -> tuple:
    from regulab.lab._result import console as wide_console

    console = wide_console()
    console.print("The regularization lesson, every technique side by side over "
                  f"{seeds} seeds (variants that share an architecture train together as one stacked model).")
    start = time.perf_counter()
    seed, digits = run_demo(seeds=seeds, epochs=epochs, cnn_epochs=cnn_epochs, output=output)
    for result in (seed, digits):
        console.print(result.table())
        for note in result.notes:
            console.print(f"[dim]{note}[/dim]")
    plain = seed.variants["baseline"]["diagnosis"] or {}
    console.print(f"The plain model: verdict [bold]{plain.get('verdict', 'unknown')}[/bold] "
                  f"(train-val accuracy gap {100 * seed.variants['baseline']['gap_summary']['mean']:.1f} points).")
    console.print(f"The lesson's model: {seed.summary_sentence()}")
    console.print(f"The digits CNN: {digits.summary_sentence()}")
    console.print(f"Report: {Path(output) / 'index.html'} and {Path(output) / 'digits' / 'index.html'}. "
                  f"Done in {time.perf_counter() - start:.0f} s.")
    return seed, digits
