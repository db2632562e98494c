"""Speed of convolutional and recurrent models: regulab ``fit`` (eager, and compiled with 1 and K
steps per call) against a hand-written eager PyTorch loop on the same kernels (``torch.nn.LSTM``,
``torch.nn.Conv1d``), in one process, alternating, several repeats.

Two models:

- **text**: Embedding(1000, 32) -> LSTM(32) -> Dense(1, sigmoid) on 40-token sequences (a binary
  task: does token 7 occur more often than token 8), batch 32;
- **MNIST-1D CNN**: Conv1D(25, 5, strides=2) -> Conv1D(25, 3, strides=2) -> Conv1D(25, 3, strides=2)
  -> Flatten -> Dense(10) with ReLUs, on MNIST-1D's 4,000 training signals (generated offline),
  batch 32. 'valid' padding in both, so both loops compute the same arithmetic.

Both loops use Adam and read their metric once per epoch. The hand loop feeds the layouts PyTorch
wants (channels first); regulab gets Keras's (channels last), as its users have them.

Usage: python benchmarks/layers_speed.py [--repeats 5] [--epochs 2] [--k 8] [--device cpu|cuda]
       [--no-compile] [--only text|cnn]
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch
from torch import nn

BS = 32
VOCAB, STEPS, EMBED, UNITS = 1000, 40, 32, 32


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


# -- data ----------------------------------------------------------------------------------------

def text_data(n: int = 8000):
    rng = np.random.default_rng(0)
    x = rng.integers(1, VOCAB, size=(n, STEPS))
    x[rng.random((n, STEPS)) < 0.1] = 7
    x[rng.random((n, STEPS)) < 0.1] = 8
    y = ((x == 7).sum(1) > (x == 8).sum(1)).astype("float32")
    return x.astype("int64"), y


def cnn_data():
    import regulab

    (x, y), _ = regulab.datasets.load_mnist1d()
    return x.astype("float32"), y.astype("int64")


# -- the hand-written loops ------------------------------------------------------------------------

class _TextNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, EMBED)
        self.lstm = nn.LSTM(EMBED, UNITS, batch_first=True)
        self.out = nn.Linear(UNITS, 1)

    def forward(self, x):
        _, (h, _) = self.lstm(self.embed(x))
        return self.out(h[-1])


def _cnn_net():
    return nn.Sequential(nn.Conv1d(1, 25, 5, stride=2), nn.ReLU(), nn.Conv1d(25, 25, 3, stride=2), nn.ReLU(),
                         nn.Conv1d(25, 25, 3, stride=2), nn.ReLU(), nn.Flatten(), nn.Linear(75, 10))


def hand_loop(kind: str, x, y, epochs: int, device) -> float:
    """A plain PyTorch loop: index slicing of device tensors, Adam, metric read once per epoch."""
    torch.manual_seed(0)
    if kind == "text":
        net, lossf = _TextNet().to(device), nn.BCEWithLogitsLoss()
        xt, yt = torch.from_numpy(x).to(device), torch.from_numpy(y)[:, None].to(device)
    else:
        net, lossf = _cnn_net().to(device), nn.CrossEntropyLoss()
        xt = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 2, 1))).to(device)  # (N, 1, 40)
        yt = torch.from_numpy(y).to(device)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
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
            out = net(xb)
            loss = lossf(out, yb)
            loss.backward()
            opt.step()
            if kind == "text":
                correct += ((out > 0).float() == yb).sum()
            else:
                correct += (out.argmax(1) == yb).sum()
        correct.item()
    sync(device)
    return time.perf_counter() - t


# -- regulab --------------------------------------------------------------------------------------

def regulab_model(kind: str, device, jit=False, k=1):
    import regulab
    from regulab.layers import LSTM, Conv1D, Dense, Embedding, Flatten, Input
    from regulab.models import Sequential

    regulab.set_random_seed(0)
    if kind == "text":
        model = Sequential([Input((STEPS,), dtype="int64"), Embedding(VOCAB, EMBED), LSTM(UNITS),
                            Dense(1, activation="sigmoid")])
        model.compile("adam", "binary_crossentropy", metrics=["accuracy"], device=device, jit_compile=jit,
                      steps_per_execution=k)
    else:
        model = Sequential([Input((40, 1)), Conv1D(25, 5, strides=2, activation="relu"),
                            Conv1D(25, 3, strides=2, activation="relu"), Conv1D(25, 3, strides=2, activation="relu"),
                            Flatten(), Dense(10)])
        model.compile("adam", regulab.losses.SparseCategoricalCrossentropy(from_logits=True),
                      metrics=["accuracy"], device=device, jit_compile=jit, steps_per_execution=k)
    return model


def timed_fit(model, x, y, epochs, device) -> float:
    sync(device)
    t = time.perf_counter()
    model.fit(x, y, batch_size=BS, epochs=epochs, verbose=0, seed=0)
    sync(device)
    return time.perf_counter() - t


def runner(kind: str, x, y, device, jit: bool, k: int):
    """A model trained once (compiling it, if asked) before timing; returns (run, compile seconds)."""
    model = regulab_model(kind, device, jit=jit, k=k)
    h = model.fit(x[:BS * k * 4], y[:BS * k * 4], batch_size=BS, epochs=1, verbose=0, seed=0)
    return (lambda x_, y_, e, d: timed_fit(model, x_, y_, e, d)), h.params.get("compile_seconds", 0.0)


def bench(kind: str, args, device) -> dict:
    x, y = text_data() if kind == "text" else cnn_data()
    hand_loop(kind, x[:1000], y[:1000], 1, device)  # warm-up
    runners = [("hand-written loop", lambda x_, y_, e, d: hand_loop(kind, x_, y_, e, d))]
    compile_s = {}
    run, _ = runner(kind, x, y, device, jit=False, k=1)
    runners.append(("regulab fit (eager)", run))
    if not args.no_compile:
        for k in (1, args.k):
            run, secs = runner(kind, x, y, device, jit=True, k=k)
            name = f"regulab compiled K={k}"
            compile_s[name] = secs
            runners.append((name, run))
    times: dict[str, list[float]] = {name: [] for name, _ in runners}
    for r in range(args.repeats):
        runs = runners if r % 2 == 0 else runners[::-1]  # alternate: drift hits every column alike
        for name, fn in runs:
            times[name].append(fn(x, y, args.epochs, device))
    samples = len(x) * args.epochs
    base = statistics.median(times["hand-written loop"])
    label = "Embedding+LSTM text classifier" if kind == "text" else "MNIST-1D CNN"
    print(f"{label}: {len(x)} samples x {args.epochs} epochs, batch {BS}, device={device}, "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads, {args.repeats} repeats (median)")
    print(f"{'':26s} {'samples/s':>12s} {'ratio vs hand loop':>20s}")
    result = {}
    for name, ts in times.items():
        med = statistics.median(ts)
        pair = [b / t for b, t in zip(times["hand-written loop"], ts)]
        result[f"{kind} {name}"] = base / med
        extra = f", compile {compile_s[name]:.1f} s" if name in compile_s else ""
        print(f"{name:26s} {samples / med:12,.0f} {base / med:12.2f}x "
              f"(per-pair {min(pair):.2f}-{max(pair):.2f}{extra})")
    return result


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="cpu")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--k", type=int, default=8)
    p.add_argument("--no-compile", action="store_true")
    p.add_argument("--only", choices=["text", "cnn"])
    args = p.parse_args(argv)
    device = torch.device(args.device)
    result = {}
    for kind in ("text", "cnn"):
        if args.only in (None, kind):
            result.update(bench(kind, args, device))
    return result


if __name__ == "__main__":
    main()
