"""A text corpus that every Python has: the documentation topics that ``help()`` shows.

CPython ships them as ``pydoc_data.topics`` (about 80 topics, some 460,000 characters of English
prose and code in Python 3.11): enough for a character-level language model, and no download.
"""
from __future__ import annotations

import sys

import numpy as np

from regulab._validation import check_float, check_int


def _topics() -> dict[str, str]:
    try:
        from pydoc_data.topics import topics
    except ImportError as e:
        version = f"{sys.version_info.major}.{sys.version_info.minor}"
        raise ImportError(
            "load_python_docs reads the standard-library module `pydoc_data.topics`, which this Python "
            f"installation lacks. Install the complete standard library (Debian/Ubuntu: "
            f"`apt-get install libpython{version}-stdlib`), or use a python.org or conda build.") from e
    return topics


def load_python_docs(validation_fraction: float = 0.1, seed: int = 0) -> tuple[str, str]:
    """The Python documentation topics as training and validation text.

    The corpus is split by whole topics, so no topic is cut in two: a seeded draw of topics goes
    to validation until they hold ``validation_fraction`` of the characters (a little more, as the
    last topic is kept whole); the rest is training text. Each split joins its topics in sorted
    order of their names, separated by a blank line. Every topic lands in exactly one split.

    Args:
        validation_fraction: share of the characters for validation, in [0, 1) (default 0.1); 0
            gives the whole corpus as training text and an empty validation text.
        seed: chooses which topics go to validation.

    Returns:
        ``(train_text, validation_text)``, two strings.

    >>> train, val = load_python_docs()
    >>> 0.1 <= len(val) / (len(train) + len(val)) < 0.3
    True
    >>> train == load_python_docs()[0]
    True
    """
    validation_fraction = check_float("validation_fraction", validation_fraction, low=0.0, high=1.0,
                                      high_open=True, where="load_python_docs")
    seed = check_int("seed", seed, low=0, where="load_python_docs")
    topics = _topics()
    names = sorted(topics)
    wanted = validation_fraction * sum(len(topics[name]) for name in names)
    validation, chars = set(), 0
    for i in np.random.default_rng(seed).permutation(len(names)):
        if chars >= wanted:
            break
        validation.add(names[i])
        chars += len(topics[names[i]])
    # every topic ends with a newline, so joining with one more leaves a blank line between
    train_text = "\n".join(topics[name] for name in names if name not in validation)
    validation_text = "\n".join(topics[name] for name in names if name in validation)
    return train_text, validation_text
