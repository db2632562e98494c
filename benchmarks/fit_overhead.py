"""Per-step overhead of training the seed lesson's model: regulab ``fit`` (eager, and compiled with
1 and K steps per call) against a hand-written eager PyTorch loop (index slicing, the fastest plain
loop), in one process, alternating, several repeats.

The model: Dense(64, relu, l2 0.01) -> Dense(1, sigmoid), Adam, binary cross-entropy, batch 32,
20,000 samples x 100 features. Small models are bound by per-step overhead, not arithmetic, so this
measures what a framework adds (or removes) per step. Keras is a third column when installed.

Compiled columns are steady state (the model is compiled by a warm-up fit first; compile seconds
are printed separately); the end-to-end line times a whole 20-epoch fit of a fresh model, compile
included, against the hand-written loop's 20 epochs. On a GPU the compiled step is a CUDA
graph captured once per fit and replayed per call.

The functional columns run the same arithmetic as a graph with two inputs (50 + 50 features,
concatenated). The last line compares the custom-``train_step`` path (Keras's GAN example, eager by
design) with the same GAN written by hand in PyTorch.

Usage: python benchmarks/fit_overhead.py [--device cpu|cuda] [--repeats 5] [--epochs 3] [--n 20000]
       [--k 8 [16 ...]] [--bf16] [--no-compile] [--end-to-end] [--no-gan]
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch
from torch import nn

BS = 32


def make_data(n: int):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, 100)).astype("float32")
    w = rng.standard_normal(100).astype("float32")
    y = (x @ w + 0.5 * rng.standard_normal(n) > 0).astype("float32")
    return x, y


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def hand_loop(x, y, epochs, device) -> float:
    """The hand-written loop of anchors/seed_mlp_anchors.py ('torch_slices'); returns seconds."""
    torch.manual_seed(0)
    xt, yt = torch.from_numpy(x).to(device), torch.from_numpy(y)[:, None].to(device)
    model = nn.Sequential(nn.Linear(100, 64), nn.ReLU(), nn.Linear(64, 1)).to(device)
    first = model[0]
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    lossf = nn.BCEWithLogitsLoss()
    n = xt.shape[0]
    sync(device)
    t = time.perf_counter()
    for _ in range(epochs):
        perm = torch.randperm(n, device=device)
        correct = torch.zeros((), device=device)
        for i in range(0, n, BS):
            idx = perm[i:i + BS]
            xb, yb = xt[idx], yt[idx]
            opt.zero_grad(set_to_none=True)
            out = model(xb)
            loss = lossf(out, yb) + 0.01 * first.weight.pow(2).sum()
            loss.backward()
            opt.step()
            correct += ((out > 0).float() == yb).sum()
        correct.item()  # the loop reads its metric once per epoch, like fit
    sync(device)
    return time.perf_counter() - t


def seed_model(device, jit=False, k=1, precision="float32"):
    import regulab
    from regulab.layers import Dense
    from regulab.models import Sequential

    regulab.set_random_seed(0)
    model = Sequential([Dense(64, input_dim=100, activation="relu",
                              kernel_regularizer=regulab.regularizers.l2(0.01)),
                        Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"], device=device,
                  jit_compile=jit, steps_per_execution=k, precision=precision)
    return model


def functional_model(device, jit=False, k=1):
    """The seed model as a functional graph with two inputs of 50 features, concatenated: the same
    arithmetic as the seed model, through the graph machinery."""
    import regulab
    from regulab.layers import Dense, Input, concatenate
    from regulab.models import Model

    regulab.set_random_seed(0)
    a, b = Input((50,), name="a"), Input((50,), name="b")
    h = Dense(64, activation="relu", kernel_regularizer=regulab.regularizers.l2(0.01))(concatenate([a, b]))
    model = Model([a, b], Dense(1, activation="sigmoid")(h))
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"], device=device,
                  jit_compile=jit, steps_per_execution=k)
    return model


def functional_runner(k: int, x, y, device, jit: bool):
    model = functional_model(device, jit=jit, k=k)
    h = model.fit([x[:BS * k * 4, :50], x[:BS * k * 4, 50:]], y[:BS * k * 4], batch_size=BS, epochs=1, verbose=0, seed=0)
    halves = [x[:, :50], x[:, 50:]]

    def run(x_, y_, epochs, device_):
        return timed_fit(model, halves, y_, epochs, device_)

    return run, h.params["compile_seconds"]


def timed_fit(model, x, y, epochs, device) -> float:
    sync(device)
    t = time.perf_counter()
    model.fit(x, y, batch_size=BS, epochs=epochs, verbose=0, seed=0)
    sync(device)
    return time.perf_counter() - t


def regulab_fit(x, y, epochs, device) -> float:
    return timed_fit(seed_model(device), x, y, epochs, device)


def compiled_runner(k: int, x, y, device, precision="float32"):
    """A model compiled once by a warm-up fit; returns (run, compile seconds)."""
    model = seed_model(device, jit=True, k=k, precision=precision)
    h = model.fit(x[:BS * k * 4], y[:BS * k * 4], batch_size=BS, epochs=1, verbose=0, seed=0)
    return (lambda x, y, epochs, device: timed_fit(model, x, y, epochs, device)), h.params["compile_seconds"]


def keras_fit(x, y, epochs, device) -> float | None:
    import os

    # Keras 3 on the same engine when no backend is chosen (TensorFlow is rarely installed beside torch)
    os.environ.setdefault("KERAS_BACKEND", "torch")
    try:
        import keras
    except ImportError:
        return None
    from keras import layers, regularizers
    m = keras.Sequential([keras.Input((100,)),
                          layers.Dense(64, activation="relu", kernel_regularizer=regularizers.l2(0.01)),
                          layers.Dense(1, activation="sigmoid")])
    m.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    m.fit(x[:BS * 10], y[:BS * 10], epochs=1, batch_size=BS, verbose=0)  # trace outside the timing
    t = time.perf_counter()
    m.fit(x, y, epochs=epochs, batch_size=BS, verbose=0)
    return time.perf_counter() - t


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="cpu")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--n", type=int, default=20000)
    p.add_argument("--k", type=int, nargs="+", default=None,
                   help="steps per call besides 1 (default 8 on CPU, 10 on GPU)")
    p.add_argument("--bf16", action="store_true", help="also the largest K with precision='mixed_bfloat16'")
    p.add_argument("--no-compile", action="store_true", help="only the eager columns")
    p.add_argument("--end-to-end", action="store_true", help="also time a whole 20-epoch fit")
    p.add_argument("--no-gan", action="store_true", help="skip the custom-train_step (GAN) comparison")
    args = p.parse_args(argv)
    device = torch.device(args.device)
    x, y = make_data(args.n)
    samples = args.n * args.epochs
    # warm both paths (allocator, lazy imports) before timing; Keras first, as importing it
    # registers pytree types, which would make the compiled steps recompile once
    if device.type == "cpu":
        keras_fit(x[:2000], y[:2000], 1, device)
    hand_loop(x[:2000], y[:2000], 1, device)
    regulab_fit(x[:2000], y[:2000], 1, device)
    runners = [("hand-written loop", hand_loop), ("regulab fit", regulab_fit)]
    compile_s = {}
    run, _ = functional_runner(1, x, y, device, jit=False)
    runners.append(("functional, 2 inputs", run))
    if not args.no_compile:
        ks = args.k or [10 if device.type == "cuda" else 8]
        word = "captured" if device.type == "cuda" else "compiled"
        configs = [(kk, "float32") for kk in [1, *ks]] + ([(max(ks), "mixed_bfloat16")] if args.bf16 else [])
        for kk, precision in configs:
            run, secs = compiled_runner(kk, x, y, device, precision)
            name = f"regulab {word} K={kk}" + (" bf16" if precision != "float32" else "")
            compile_s[name] = secs
            runners.append((name, run))
        kk = max(ks)
        run, secs = functional_runner(kk, x, y, device, jit=True)
        name = f"functional {word} K={kk}"
        compile_s[name] = secs
        runners.append((name, run))
    times: dict[str, list[float]] = {name: [] for name, _ in runners}
    times["keras fit"] = []  # Keras 3, backend from KERAS_BACKEND (default here: torch)
    for r in range(args.repeats):
        # alternate the order so drift on a noisy machine hits every column equally
        runs = list(runners)
        if r % 2:
            runs.reverse()
        for name, fn in runs:
            times[name].append(fn(x, y, args.epochs, device))
        if device.type == "cpu":
            kt = keras_fit(x, y, args.epochs, device)
            if kt is not None:
                times["keras fit"].append(kt)
    base = statistics.median(times["hand-written loop"])
    print(f"seed model, batch {BS}, {args.n} samples x {args.epochs} epochs, device={device}, "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads, {args.repeats} repeats (median)")
    print(f"{'':29s} {'samples/s':>12s} {'steps/s':>10s} {'ratio vs hand loop':>20s}")
    result = {}
    for name, ts in times.items():
        if not ts:
            continue
        med = statistics.median(ts)
        pair = [b / t for b, t in zip(times["hand-written loop"], ts)]
        result[name] = base / med
        extra = f", compile {compile_s[name]:.1f} s" if name in compile_s else ""
        print(f"{name:29s} {samples / med:12,.0f} {samples / BS / med:10,.0f} {base / med:12.2f}x "
              f"(per-pair {min(pair):.2f}-{max(pair):.2f}{extra})")
    if args.end_to_end:
        result.update(end_to_end(x, y, device, max(args.k or [10 if device.type == "cuda" else 8])))
    if not args.no_gan:
        result.update(gan_section(device, args.repeats))
    return result


# -- a custom train_step: Keras's GAN example (with Dense layers) against the same GAN by hand ----

LATENT = 4


def gan_data(n: int = 4096):
    rng = np.random.default_rng(0)
    return (rng.standard_normal((n, 2)) * 0.3 + np.array([3.0, -2.0])).astype("float32")  # keras_gan.points


def hand_gan(real: np.ndarray, epochs: int, device, batch: int = 64) -> float:
    """The GAN step written in plain PyTorch: two optimizers, two backward passes per batch."""
    torch.manual_seed(0)
    disc = nn.Sequential(nn.Linear(2, 32), nn.LeakyReLU(0.2), nn.Linear(32, 32), nn.LeakyReLU(0.2),
                         nn.Linear(32, 1), nn.Sigmoid()).to(device)
    gen = nn.Sequential(nn.Linear(LATENT, 32), nn.LeakyReLU(0.2), nn.Linear(32, 2)).to(device)
    d_opt = torch.optim.Adam(disc.parameters(), lr=0.003)
    g_opt = torch.optim.Adam(gen.parameters(), lr=0.003)
    def bce(p, t):  # Keras's formula (clipped probabilities): the noisy labels exceed 1, which BCELoss refuses
        p = p.clamp(1e-7, 1 - 1e-7)
        return -(t * torch.log(p) + (1 - t) * torch.log1p(-p)).mean()

    data = torch.from_numpy(real).to(device)
    n = data.shape[0]
    sync(device)
    t = time.perf_counter()
    for _ in range(epochs):
        perm = torch.randperm(n, device=device)
        total = torch.zeros((), device=device)
        for i in range(0, n, batch):
            real_b = data[perm[i:i + batch]]
            b = real_b.shape[0]
            fake = gen(torch.randn(b, LATENT, device=device))
            labels = torch.cat([torch.ones(b, 1, device=device), torch.zeros(b, 1, device=device)])
            labels = labels + 0.05 * torch.rand(labels.shape, device=device)
            d_opt.zero_grad()
            d_loss = bce(disc(torch.cat([fake.detach(), real_b])), labels)
            d_loss.backward()
            d_opt.step()
            g_opt.zero_grad()
            g_loss = bce(disc(gen(torch.randn(b, LATENT, device=device))), torch.zeros(b, 1, device=device))
            g_loss.backward()
            g_opt.step()
            total += d_loss.detach() + g_loss.detach()
        total.item()
    sync(device)
    return time.perf_counter() - t


def regulab_gan(device):
    """Keras's GAN example as examples/keras_gan.py has it, on ``device``."""
    import os
    import sys

    import regulab

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    from examples import keras_gan

    regulab.set_random_seed(0)
    regulab.set_device(device)
    return keras_gan.build(LATENT)


def gan_section(device, repeats: int, epochs: int = 2) -> dict:
    """The custom-train_step path: Keras's GAN on regulab against the same GAN written by hand."""
    real = gan_data()
    gan = regulab_gan(device)
    gan.fit(real[:256], batch_size=64, epochs=1, verbose=0)  # warm-up
    hand_gan(real[:256], 1, device)
    hand, ours = [], []
    for r in range(repeats):
        order = (0, 1) if r % 2 == 0 else (1, 0)
        for which in order:
            if which == 0:
                hand.append(hand_gan(real, epochs, device))
            else:
                sync(device)
                t = time.perf_counter()
                gan.fit(real, batch_size=64, epochs=epochs, verbose=0)
                sync(device)
                ours.append(time.perf_counter() - t)
    ratio = statistics.median(hand) / statistics.median(ours)
    pair = [h / o for h, o in zip(hand, ours)]
    steps = epochs * len(real) / 64
    print(f"custom train_step (Keras's GAN, {len(real)} points x {epochs} epochs, batch 64): "
          f"{steps / statistics.median(ours):,.0f} steps/s against the hand-written GAN loop's "
          f"{steps / statistics.median(hand):,.0f}: {ratio:.2f}x (per-pair {min(pair):.2f}-{max(pair):.2f})")
    return {"custom train_step GAN": ratio}


def end_to_end(x, y, device, k: int, epochs: int = 20) -> dict:
    """A whole fit of a fresh model, compile included, against the hand loop, 20 epochs each."""
    hand = hand_loop(x, y, epochs, device)
    out = {}
    for label, jit in (("auto", "auto"), ("compiled", True)):
        t = timed_fit(seed_model(device, jit=jit, k=k), x, y, epochs, device)
        out[f"end-to-end {label}"] = hand / t
        print(f"end-to-end {x.shape[0]} samples x {epochs} epochs, jit_compile={jit!r}, K={k}: "
              f"{t:.1f} s against the hand loop's {hand:.1f} s: {hand / t:.2f}x")
    return out


if __name__ == "__main__":
    main()
