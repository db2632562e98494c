"""One call to make weight initialization and unseeded fits repeatable."""
from __future__ import annotations

import random

import numpy as np
import torch

from regulab._validation import check_int


_seeded = False


def set_random_seed(seed: int) -> None:
    """Seed Python's, NumPy's and torch's generators (as ``keras.utils.set_random_seed``).

    Weight initializers draw from torch's generator, and ``fit(seed=None)`` draws its seed from it,
    so after this call a whole script repeats: initial weights, shuffles, dropout masks, and the
    engine ``jit_compile="auto"`` picks (from the fit's length, not from timing).
    """
    global _seeded
    seed = check_int("seed", seed, low=0)
    _seeded = True
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def global_seed_set() -> bool:
    """Whether ``set_random_seed`` was called in this process."""
    return _seeded
