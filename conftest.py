"""Shared pytest set-up: doctests see NumPy as ``np``; tests run on few threads (CI has 2 cores)."""
import numpy as np
import pytest
import torch

torch.set_num_threads(min(2, torch.get_num_threads()))

# the course's lessons and exercise files are scripts: tests run them on purpose, collection must not
collect_ignore_glob = ["regulab/course/lessons/*", "regulab/course/exercises/*"]


@pytest.fixture(autouse=True)
def _doctest_namespace(doctest_namespace):
    doctest_namespace["np"] = np
