"""One call to make weight initialization and unseeded fits repeatable."""
from __future__ import annotations

import random

import numpy as np
import torch

from regulab._validation import check_int


def set_random_seed(seed: int) -> None:
    """Seed Python's, NumPy's and torch's generators (as ``keras.utils.set_random_seed``).

    Weight initializers draw from torch's generator, and ``fit(seed=None)`` draws its seed from it,
    so after this call a whole script repeats.
    """
    seed = check_int("seed", seed, low=0)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
