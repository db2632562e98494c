"""load_python_docs: the documentation topics shipped with CPython, split by whole topics."""
import builtins
import re
import socket
import sys

import pytest
from pydoc_data.topics import topics

from regulab.datasets import load_python_docs


def topic_names(text):
    """The topics a split is made of, read back in the sorted order they are joined in."""
    names, position = [], 0
    for name in sorted(topics):
        if text.startswith(topics[name], position):
            names.append(name)
            position += len(topics[name]) + 1  # the joining newline
    assert position == (len(text) + 1 if text else 0)
    return names


def test_splits_are_disjoint_and_cover_every_topic():
    train, val = load_python_docs(validation_fraction=0.2, seed=3)
    in_train, in_val = topic_names(train), topic_names(val)
    assert not set(in_train) & set(in_val)
    assert sorted(in_train + in_val) == sorted(topics)
    total = len(train) + len(val)
    assert 0.2 <= len(val) / total < 0.2 + max(len(t) for t in topics.values()) / total


def test_deterministic_and_seeded():
    assert load_python_docs() == load_python_docs()
    assert load_python_docs(seed=0) != load_python_docs(seed=1)


def test_no_validation_gives_the_whole_corpus():
    train, val = load_python_docs(validation_fraction=0.0)
    assert val == ""
    assert train == "\n".join(topics[name] for name in sorted(topics))
    assert len(train) > 100_000 and "while" in train


def test_works_without_network(monkeypatch):
    def no_network(*args, **kwargs):
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket, "socket", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    train, val = load_python_docs()
    assert train and val


def test_missing_pydoc_data_names_the_module(monkeypatch):
    real_import = builtins.__import__

    def failing_import(name, *args, **kwargs):
        if name.startswith("pydoc_data"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", failing_import)
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    with pytest.raises(ImportError, match=re.escape(
            "load_python_docs reads the standard-library module `pydoc_data.topics`, which this Python "
            f"installation lacks. Install the complete standard library (Debian/Ubuntu: `apt-get install "
            f"libpython{version}-stdlib`), or use a python.org or conda build.")):
        load_python_docs()


@pytest.mark.parametrize("fraction", [1.0, -0.1, "0.1"])
def test_validation_fraction_is_checked(fraction):
    with pytest.raises(ValueError, match=re.escape(
            "Invalid value for argument `validation_fraction` of load_python_docs: expected a float in [0, 1). "
            f"Received: validation_fraction={fraction!r}")):
        load_python_docs(validation_fraction=fraction)
