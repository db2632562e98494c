"""Images/s of the seed's ImageDataGenerator settings: regulab (batched, per-sample transforms)
against a one-image-at-a-time SciPy loop (what Keras's ImageDataGenerator does per image), and
against Keras's ImageDataGenerator itself when TensorFlow imports. Runs alternate within one
process and the medians are compared; absolute figures drift with machine load, ratios hold.

    python benchmarks/augment_throughput.py                 # CPU
    python benchmarks/augment_throughput.py --device cuda   # regulab on the GPU
"""
from __future__ import annotations

import argparse
import math
import os
import statistics
import time

import numpy as np
import scipy.ndimage as ndi
import torch

from regulab.preprocessing.image import ImageDataGenerator

SEED_SETTINGS = dict(rotation_range=20, width_shift_range=0.2, height_shift_range=0.2,
                     shear_range=0.2, zoom_range=0.2, horizontal_flip=True, fill_mode="nearest")


def scipy_one_at_a_time(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Keras's per-image path: draw parameters, compose the matrix, one SciPy call per channel."""
    out = np.empty_like(x)
    h, w = x.shape[1], x.shape[2]
    for i in range(len(x)):
        theta = np.deg2rad(rng.uniform(-20, 20))
        tx, ty = rng.uniform(-0.2, 0.2) * h, rng.uniform(-0.2, 0.2) * w
        shear = np.deg2rad(rng.uniform(-0.2, 0.2))
        zx, zy = rng.uniform(0.8, 1.2, 2)
        m = (np.array([[np.cos(theta), -np.sin(theta), 0], [np.sin(theta), np.cos(theta), 0],
                       [0, 0, 1]])
             @ np.array([[1, 0, tx], [0, 1, ty], [0, 0, 1]])
             @ np.array([[1, -np.sin(shear), 0], [0, np.cos(shear), 0], [0, 0, 1]])
             @ np.diag([zx, zy, 1.0]))
        ox, oy = h / 2 - 0.5, w / 2 - 0.5
        m = (np.array([[1, 0, ox], [0, 1, oy], [0, 0, 1]]) @ m
             @ np.array([[1, 0, -ox], [0, 1, -oy], [0, 0, 1]]))
        img = x[i]
        for c in range(img.shape[-1]):
            out[i, ..., c] = ndi.affine_transform(img[..., c], m[:2, :2], m[:2, 2], order=1,
                                                  mode="nearest")
        if rng.random() < 0.5:
            out[i] = out[i, :, ::-1]
    return out


def time_regulab(x: np.ndarray, batch_size: int, device: str) -> float:
    it = ImageDataGenerator(**SEED_SETTINGS).flow(x, batch_size=batch_size, shuffle=False, seed=0)
    it.device = device
    for _ in range(2):  # warm-up (and the one-off copy to the device)
        next(it)
    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
    it.reset()
    sync()
    start = time.perf_counter()
    n = sum(len(next(it)) for _ in range(math.ceil(len(x) / batch_size)))
    sync()
    return n / (time.perf_counter() - start)


def time_scipy(x: np.ndarray, rng: np.random.Generator) -> float:
    start = time.perf_counter()
    scipy_one_at_a_time(x, rng)
    return len(x) / (time.perf_counter() - start)


def keras_timer():
    try:
        from tensorflow.keras.preprocessing.image import ImageDataGenerator as KerasIDG
    except Exception:  # TensorFlow absent or broken: the column is left out
        return None

    def run(x: np.ndarray, batch_size: int) -> float:
        it = KerasIDG(**SEED_SETTINGS).flow(x, batch_size=batch_size, shuffle=False)
        start = time.perf_counter()
        n = sum(len(next(it)) for _ in range(math.ceil(len(x) / batch_size)))
        return n / (time.perf_counter() - start)
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--images", type=int, default=2048, help="images per timed run")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None,
                        help="torch CPU threads (default: torch's choice); on a CPU shared with "
                             "other jobs, 1 avoids threads waiting for each other")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        parser.error("--device cuda: no CUDA device is available")
    keras = keras_timer()
    rng = np.random.default_rng(0)
    print(f"device={args.device} torch_threads={torch.get_num_threads()} "
          f"batch_size={args.batch_size} images={args.images} repeats={args.repeats} "
          f"load_average={os.getloadavg()[0]:.2f} cpus={os.cpu_count()}")
    header = f"{'shape':>10} {'regulab':>12} {'scipy loop':>12} {'ratio':>7}"
    print(header + (f" {'keras IDG':>12} {'ratio':>7}" if keras else ""))
    for shape in [(32, 32, 3), (8, 8, 1)]:
        x = rng.random((args.images, *shape), dtype=np.float32)
        ours, loop, theirs = [], [], []
        for _ in range(args.repeats):
            ours.append(time_regulab(x, args.batch_size, args.device))
            loop.append(time_scipy(x, rng))
            if keras:
                theirs.append(keras(x, args.batch_size))
        a, b = statistics.median(ours), statistics.median(loop)
        line = f"{'x'.join(map(str, shape)):>10} {a:12,.0f} {b:12,.0f} {a / b:6.1f}x"
        if keras:
            c = statistics.median(theirs)
            line += f" {c:12,.0f} {a / c:6.1f}x"
        print(line)


if __name__ == "__main__":
    main()
