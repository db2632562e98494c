"""Shared pytest set-up: doctests see NumPy as ``np``; tests run on few threads (CI has 2 cores)."""
import numpy as np
import pytest
import torch

torch.set_num_threads(min(2, torch.get_num_threads()))


@pytest.fixture(autouse=True)
def _doctest_namespace(doctest_namespace):
    doctest_namespace["np"] = np
