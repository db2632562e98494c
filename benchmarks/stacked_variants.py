"""Training V seeds of the seed lesson's model one after another (``fit(seed=s)`` each) against all of
them at once as one stacked model (``regulab.lab.fit_variants``), eager and compiled, in one process.

Usage: python benchmarks/stacked_variants.py [--variants 16] [--n 4000] [--epochs 3] [--repeats 3]
       [--device cuda] [--k 1]
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import regulab
from regulab.layers import Dense
from regulab.lab import fit_variants
from regulab.models import Sequential


def seed_model(seed: int, device: str = "cpu") -> Sequential:
    regulab.set_random_seed(seed)
    model = Sequential([Dense(64, input_dim=100, activation="relu", kernel_regularizer=regulab.regularizers.l2(0.01)),
                        Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"], jit_compile=False,
                  device=device)
    return model


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--variants", type=int, default=16)
    p.add_argument("--n", type=int, default=4000)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--device", default="cpu")
    p.add_argument("--k", type=int, default=1, help="steps per compiled call")
    args = p.parse_args(argv)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((args.n, 100)).astype("float32")
    y = (x @ rng.standard_normal(100) > 0).astype("float32")
    seeds = list(range(args.variants))

    def one_by_one():
        for s in seeds:
            seed_model(s, args.device).fit(x, y, epochs=args.epochs, verbose=0, seed=s)

    def stacked(jit):
        models = [seed_model(s, args.device) for s in seeds]  # kept: later calls reuse the compiled step
        return lambda: fit_variants(models, x, y, seeds=seeds, epochs=args.epochs, jit_compile=jit,
                                    steps_per_execution=args.k if jit else 1)

    runs = {"one after another": one_by_one, "stacked, eager": stacked(False),
            f"stacked, compiled K={args.k}": stacked(True)}
    t = time.perf_counter()
    runs[f"stacked, compiled K={args.k}"]()  # compiles (and on a GPU captures) the stacked step
    compile_s = time.perf_counter() - t
    times = {k: [] for k in runs}
    for r in range(args.repeats):
        for name in (list(runs) if r % 2 == 0 else list(runs)[::-1]):
            t = time.perf_counter()
            runs[name]()
            times[name].append(time.perf_counter() - t)
    base = statistics.median(times["one after another"])
    steps = args.variants * args.epochs * -(-args.n // 32)
    print(f"{args.variants} seeds of the seed model, {args.n} samples x {args.epochs} epochs, batch 32, "
          f"device={args.device}, "
          f"{args.repeats} repeats (median); first call of the compiled step (compile included) {compile_s:.1f} s")
    out = {}
    for name, ts in times.items():
        med = statistics.median(ts)
        out[name] = base / med
        print(f"{name:22s} {steps / med:10,.0f} model-steps/s {base / med:8.2f}x")
    return out


if __name__ == "__main__":
    main()
