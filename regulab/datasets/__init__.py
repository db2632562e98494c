"""Offline data sets: nothing is downloaded.

- :func:`seed_task`: the lesson's exercise, a synthetic binary problem with 100 features.
- :func:`load_digits`, :func:`load_breast_cancer`: scikit-learn's bundled data.
"""
from regulab.datasets._bundled import load_breast_cancer, load_digits
from regulab.datasets._synthetic import SeedTask, seed_task

__all__ = ["seed_task", "SeedTask", "load_digits", "load_breast_cancer"]
