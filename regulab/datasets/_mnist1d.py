"""MNIST-1D (Greydanus & Kobak, "Scaling Down Deep Learning with MNIST-1D", ICML 2024), made here.

The ``mnist1d`` package generates the data from ten 1-D digit templates (padding, shear,
translation, correlated and i.i.d. noise) in about a second; the result is cached as an ``.npz``
file so later calls only read it. Nothing is downloaded: ``mnist1d.get_dataset`` tries the
network first, so only ``mnist1d.data.make_dataset`` is called.
"""
from __future__ import annotations

import hashlib
import json
import random
import warnings
import zipfile
from importlib import metadata
from pathlib import Path

import numpy as np

from regulab._atomic import atomic_write
from regulab._cache import cache_dir
from regulab._validation import check_int, invalid

_KEYS = ("x_train", "y_train", "x_test", "y_test")
_FORMAT = 1  # bump when the cached arrays change meaning
_INSTALL = "pip install mnist1d (or pip install regulab[data])"


def _version() -> str:
    try:
        return metadata.version("mnist1d")
    except metadata.PackageNotFoundError:
        raise ImportError(f"load_mnist1d needs the mnist1d package, which is not installed: {_INSTALL}.") from None


def _default_cache_dir() -> Path:
    return cache_dir()


def _checksum(arrays: dict) -> str:
    digest = hashlib.sha256()
    for key in _KEYS:
        a = np.ascontiguousarray(arrays[key])
        digest.update(f"{key}:{a.dtype.str}:{a.shape}".encode())
        digest.update(a.tobytes())
    return digest.hexdigest()


def _read(path: Path) -> dict | None:
    """The arrays cached at ``path``, or None when the file is missing, unreadable or altered."""
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {key: f[key] for key in _KEYS}
            stored = str(f["checksum"])
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None
    return arrays if _checksum(arrays) == stored else None


def _write(path: Path, arrays: dict, args: dict) -> None:
    try:
        atomic_write(path, lambda f: np.savez(f, **arrays, checksum=np.array(_checksum(arrays)),
                                              args=np.array(json.dumps(args, sort_keys=True))))
    except OSError as e:
        warnings.warn(f"load_mnist1d could not cache the data at {path} ({e}); it will be generated again "
                      "next time. Set REGULAB_CACHE_DIR to a writable folder, or pass cache=False.",
                      RuntimeWarning, stacklevel=3)


def _generate(n_samples: int, seed: int) -> tuple[dict, dict]:
    try:
        from mnist1d import data as mnist1d_data
    except ImportError as e:
        missing = getattr(e, "name", None)
        what = "it" if missing in (None, "mnist1d") else f"`{missing}`, which it imports,"
        raise ImportError(f"load_mnist1d could not import the mnist1d package: {what} is missing. "
                          f"{_INSTALL}.") from e
    args = mnist1d_data.get_dataset_args()
    args.num_samples, args.seed = n_samples, seed
    # the package seeds Python's and NumPy's global generators: leave the caller's as they were
    python_state, numpy_state = random.getstate(), np.random.get_state()
    try:
        made = mnist1d_data.make_dataset(args)
    finally:
        random.setstate(python_state)
        np.random.set_state(numpy_state)
    arrays = {"x_train": made["x"].astype(np.float32)[..., None], "y_train": made["y"].astype(np.int64),
              "x_test": made["x_test"].astype(np.float32)[..., None], "y_test": made["y_test"].astype(np.int64)}
    return arrays, {k: v for k, v in vars(args).items() if k != "url"}


def load_mnist1d(n_samples: int = 5000, seed: int = 42, cache: bool | str = True):
    """MNIST-1D: ten classes of 1-D signals of 40 steps, split 80/20 into training and test sets.

    The defaults are the package's and the paper's data set (5,000 samples, seed 42): 4,000 to
    train on, 1,000 to test. Reported test accuracies: logistic regression 32%, MLP 68%, CNN 94%,
    GRU 91%, human 96%; chance is 10%. The signals are standardized (mean 0, standard deviation 1
    over the whole set) and channels-last, ``(N, 40, 1)``, for Conv1D or GRU layers;
    ``x.reshape(len(x), -1)`` gives the ``(N, 40)`` features for an MLP.

    The generated arrays are cached as an ``.npz`` file in ``$REGULAB_CACHE_DIR`` (default
    ``~/.cache/regulab``), named after the arguments and the mnist1d version, and checked against
    a stored checksum on reading: a damaged file is generated again. Python's and NumPy's global
    random generators are left as they were.

    Args:
        n_samples: samples in all, a multiple of 10 (the package makes ``n_samples // 10`` of each
            digit).
        seed: seeds the generation; the same seed gives the same arrays.
        cache: True to use the default cache folder, a folder path to use that one, False to
            generate without reading or writing a file.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: ``x`` float32 of shape ``(N, 40, 1)``, ``y``
        int64 digit labels 0-9.

    Raises:
        ImportError: the mnist1d package is not installed (``pip install mnist1d``).

    >>> (x_train, y_train), (x_test, y_test) = load_mnist1d(n_samples=200, cache=False)
    >>> x_train.shape, x_train.dtype, y_test.shape, y_test.dtype
    ((160, 40, 1), dtype('float32'), (40,), dtype('int64'))
    >>> x_train.reshape(len(x_train), -1).shape
    (160, 40)
    """
    n_samples = check_int("n_samples", n_samples, low=10, where="load_mnist1d")
    if n_samples % 10:
        raise invalid("n_samples", "a multiple of 10 (the same number of each digit)", n_samples, "load_mnist1d")
    seed = check_int("seed", seed, low=0, where="load_mnist1d")
    if not isinstance(cache, (bool, str)) and not hasattr(cache, "__fspath__"):
        raise invalid("cache", "True, False or a folder path", cache, "load_mnist1d")
    key = json.dumps({"n_samples": n_samples, "seed": seed, "mnist1d": _version(), "format": _FORMAT},
                     sort_keys=True)
    path = None
    if cache is not False:
        folder = _default_cache_dir() if cache is True else Path(cache)
        path = folder / f"mnist1d-{n_samples}-seed{seed}-{hashlib.sha256(key.encode()).hexdigest()[:12]}.npz"
        arrays = _read(path)
        if arrays is not None:
            return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])
    arrays, args = _generate(n_samples, seed)
    if path is not None:
        _write(path, arrays, args)
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])
