"""A study's cost: V variants of the seed lesson's model (V L2 strengths, log-spaced 1e-4..1e-1, the
same epochs) trained as one stacked model (``regulab.lab.fit_variants``) against V ``fit`` calls one
after another, in one process, alternating, several repeats.

The task is the lesson's (``regulab.datasets.seed_task()``: 400 samples x 100 features) with a
fixed stratified 20% validation split (seed 0), as ``lab.study`` makes it: 320 training samples,
10 batches of 32 per epoch, validation after every epoch. Each repeat builds every variant afresh
from the same seeds (variant ``i``: ``set_random_seed(i)``, then ``fit(seed=i)``), outside the
timing. The sequential fits are compiled with ``jit_compile=False``, eager: ``"auto"`` (compile's
default) times a fit's first steps and compiles when the rest of the fit would repay it, so it
could compile some of the 1000-step fits and not others; forcing eager keeps every fit alike and
is how a study's unstacked groups run. The stacked run is eager as well. ``--compile`` adds the
stacked step compiled (``jit_compile=True, steps_per_execution=--k``, default 8) on fresh models,
as two lines: end to end, compile included (its first epoch, which compiles, is printed beside
it), and steady state (the epochs after the first, scaled to all). With 10 batches an epoch and K=8, two batches of each epoch run eagerly.

The first repeat also checks that the eager runs train the same models: every variant's final
``val_loss`` stacked and alone agree within 5e-3: the stack's batched matmuls sum in another order
than one model's, and over 1000 Adam steps that rounding drifts the strongest-L2 variants by up
to ~2e-3 (the step mapped whole with ``vmap`` gives the same stacked values bit for bit; the
tests check stacked against alone at 1e-5 on short fits). The last line is the ratio (sequential seconds /
stacked eager seconds, median over repeats) for the last ``--variants`` value, as ``NN.Nx``.

A third column is the same study written by hand in PyTorch as one stacked model (batched
matmuls and ``torch.optim.Adam``, as ``anchors/stacked_study.py``), validation included: the
reference for how close the framework's stacked step comes to what hand-written code reaches.

On a GPU (``--device cuda``) the default is 16 and 256 variants; with ``--sequential N`` only N of
the sequential fits are timed and their time is scaled to all V (the fits are alike, so the
cost is linear in V), which the output says.

Usage: python benchmarks/study_speed.py [--variants 16 [256 ...]] [--epochs 100] [--repeats 3]
       [--compile] [--k 8] [--device cpu|cuda] [--sequential N]
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

import regulab
from regulab import regularizers
from regulab.callbacks import Callback
from regulab.datasets import seed_task
from regulab.lab import fit_variants
from regulab.layers import Dense
from regulab.models import Sequential

BS = 32


def split_task():
    """The seed task's training data with ``lab.study``'s fixed stratified 20% validation split."""
    from sklearn.model_selection import train_test_split

    task = seed_task()
    x, xv, y, yv = train_test_split(task.x_train, task.y_train, test_size=0.2, random_state=0,
                                    stratify=task.y_train)
    return x, y, xv, yv


def seed_model(seed: int, l2: float, device: str) -> Sequential:
    regulab.set_random_seed(seed)
    model = Sequential([Dense(64, input_dim=100, activation="relu", kernel_regularizer=regularizers.l2(l2)),
                        Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"], jit_compile=False,
                  device=device)
    return model


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


class _EpochClock(Callback):
    """Notes when each epoch ends (on one variant: the stack ends its epochs together)."""

    def __init__(self):
        super().__init__()
        self.ends: list[float] = []

    def on_epoch_end(self, epoch, logs=None):
        self.ends.append(time.perf_counter())


class Runs:
    """The runs compared for ``v`` variants; each call builds fresh models, then times the run."""

    def __init__(self, v: int, data, epochs: int, device: str, sequential: int | None, k: int = 8):
        self.strengths = np.logspace(-4, -1, v).tolist()
        self.seeds = list(range(v))
        self.data, self.epochs, self.device, self.k = data, epochs, device, k
        self.timed = v if sequential is None else min(sequential, v)

    def models(self, n: int | None = None):
        return [seed_model(s, l2, self.device) for s, l2 in zip(self.seeds[:n], self.strengths[:n])]

    def sequential(self):
        """(seconds for all V, histories of the fits run); only ``self.timed`` fits are run."""
        x, y, xv, yv = self.data
        models = self.models(self.timed)
        sync(self.device)
        t = time.perf_counter()
        hs = [m.fit(x, y, epochs=self.epochs, batch_size=BS, validation_data=(xv, yv), verbose=0, seed=s)
              for m, s in zip(models, self.seeds)]
        sync(self.device)
        return (time.perf_counter() - t) * len(self.seeds) / self.timed, hs

    def hand_stacked(self):
        """(seconds, None, None): the same study written by hand in PyTorch as one stacked model
        (``anchors/stacked_study.py``'s batched matmuls, ``torch.optim.Adam``, each variant's own
        L2 strength and shuffle, validation loss and accuracy read every epoch): what a
        framework's stacked step could at best approach."""
        x, y, xv, yv = (torch.as_tensor(a, dtype=torch.float32, device=self.device) for a in self.data)
        y, yv = y.reshape(-1, 1), yv.reshape(-1, 1)
        models = self.models()
        w1, b1, w2, b2 = (torch.stack([torch.as_tensor(m.get_weights()[i]) for m in models]).to(self.device)
                          for i in range(4))
        params = [w1.requires_grad_(), b1.unsqueeze(1).requires_grad_(), w2.requires_grad_(),
                  b2.unsqueeze(1).requires_grad_()]
        lam = torch.tensor(self.strengths, device=self.device).reshape(-1, 1, 1)
        opt = torch.optim.Adam(params, lr=1e-3, eps=1e-7)
        gens = [torch.Generator().manual_seed(s) for s in self.seeds]
        n, v = len(x), len(models)
        sync(self.device)
        t = time.perf_counter()
        for _ in range(self.epochs):
            perm = torch.stack([torch.randperm(n, generator=g) for g in gens]).to(self.device)
            for i in range(0, n, BS):
                idx = perm[:, i:i + BS]
                out = torch.baddbmm(params[3], torch.relu(torch.baddbmm(params[1], x[idx], params[0])), params[2])
                loss = torch.nn.functional.binary_cross_entropy_with_logits(out, y[idx], reduction="none")
                loss = (loss.mean((1, 2)) + (lam * params[0].square()).sum((1, 2))).sum()
                opt.zero_grad()
                loss.backward()
                opt.step()
            with torch.no_grad():
                out = torch.baddbmm(params[3], torch.relu(torch.baddbmm(params[1], xv.expand(v, -1, -1), params[0])),
                                    params[2])
                val = torch.nn.functional.binary_cross_entropy_with_logits(out, yv.expand(v, -1, -1), reduction="none")
                torch.stack([val.mean((1, 2)), ((out > 0) == (yv > 0.5)).float().mean((1, 2))]).tolist()
        sync(self.device)
        return time.perf_counter() - t, None, None

    def stacked(self, jit: bool = False):
        """(seconds, histories, seconds of the first epoch); compiled, the first epoch compiles."""
        x, y, xv, yv = self.data
        models = self.models()
        clock = _EpochClock()
        sync(self.device)
        t = time.perf_counter()
        hs = fit_variants(models, x, y, seeds=self.seeds, epochs=self.epochs, batch_size=BS,
                          validation_data=(xv, yv), jit_compile=jit, steps_per_execution=self.k if jit else 1,
                          callbacks=lambda i: [clock] if i == 0 else [])
        sync(self.device)
        return time.perf_counter() - t, hs, clock.ends[0] - t


def check_agreement(seq_hs, stacked_hs, tol: float = 5e-3) -> str:
    finals = [(a.history["val_loss"][-1], b.history["val_loss"][-1]) for a, b in zip(seq_hs, stacked_hs)]
    diffs = [abs(a - b) for a, b in finals]
    worst = int(np.argmax(diffs))
    verdict = "agree" if diffs[worst] <= tol else "DISAGREE"
    return (f"sanity: final val_loss of {len(diffs)} variants, stacked against alone: {verdict} "
            f"(largest difference {diffs[worst]:.2e}, variant {worst}: {finals[worst][0]:.4f} alone, "
            f"{finals[worst][1]:.4f} stacked; tolerance {tol:g})")


def measure(v: int, args, data) -> float:
    runs = Runs(v, data, args.epochs, args.device, args.sequential, args.k)
    seq, eager, jit = "one after another", "stacked, eager", f"stacked, compiled K={args.k}"
    hand = "hand-written stacked loop"
    names = [seq, eager, hand] + ([jit] if args.compile else [])
    fns = {seq: lambda: (*runs.sequential(), None), eager: runs.stacked, jit: lambda: runs.stacked(jit=True),
           hand: runs.hand_stacked}
    times: dict[str, list[float]] = {n: [] for n in names}
    steady, first_epoch = [], []  # compiled: the run without its first (compiling) epoch, scaled
    histories = {}
    for r in range(args.repeats):
        # alternate the order so drift on a shared machine hits every column alike
        for name in (names if r % 2 == 0 else names[::-1]):
            secs, hs, first = fns[name]()
            times[name].append(secs)
            if hs is not None:
                histories.setdefault(name, hs)
            if name == jit:
                first_epoch.append(first)
                steady.append((secs - first) * args.epochs / max(args.epochs - 1, 1))
    if args.compile and args.epochs > 1:  # one epoch has no steady state
        times[f"{jit}, steady state"] = steady
    steps = v * args.epochs * -(-len(data[0]) // BS)
    scaled = "" if runs.timed == v else f"; {runs.timed} of the {v} sequential fits timed, scaled to {v}"
    print(f"{v} variants (L2 1e-4..1e-1) of the seed model, {len(data[0])} samples x {args.epochs} epochs, "
          f"batch {BS}, validation {len(data[2])} samples, device={args.device}, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads, {args.repeats} repeats (median){scaled}")
    print(check_agreement(histories[seq], histories[eager][:runs.timed]))
    base = statistics.median(times[seq])
    for name, ts in times.items():
        med = statistics.median(ts)
        pair = [b / t for b, t in zip(times[seq], ts)]
        extra = ""
        if name == jit:
            extra = f", end to end; first epoch, compile included, {statistics.median(first_epoch):.1f} s"
        elif name.startswith(jit):
            extra = ", the epochs after the first, scaled to all"
        print(f"{name:36s} {med:8.2f} s {steps / med:10,.0f} model-steps/s {base / med:8.1f}x "
              f"(per-pair {min(pair):.1f}-{max(pair):.1f}{extra})")
    return base / statistics.median(times[eager])


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--variants", type=int, nargs="+", default=None,
                   help="variant counts (default 16; 16 256 with --device cuda)")
    p.add_argument("--epochs", type=int, default=100)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--compile", action="store_true",
                   help="also the stacked step compiled (jit_compile=True, steps_per_execution=--k)")
    p.add_argument("--k", type=int, default=8, help="steps per compiled call (default 8)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--sequential", type=int, default=None,
                   help="time only this many of the sequential fits and scale their time to all "
                        "variants (default all; 16 with --device cuda)")
    args = p.parse_args(argv)
    gpu = args.device.startswith("cuda")
    counts = args.variants or ([16, 256] if gpu else [16])
    if gpu and args.sequential is None:
        args.sequential = 16  # 256 eager fits one after another would take most of an hour
    data = split_task()
    # warm both paths (lazy imports, the allocator, vmap's first use) outside the timing
    warm = Runs(2, data, 1, args.device, None, args.k)
    warm.sequential()
    warm.stacked()
    out = {v: measure(v, args, data) for v in counts}
    print(f"{out[counts[-1]]:.1f}x")
    return out


if __name__ == "__main__":
    main()
