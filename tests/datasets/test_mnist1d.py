"""load_mnist1d: generated offline by the mnist1d package, cached, checked on reading."""
import builtins
import random
import re
from importlib import metadata

import numpy as np
import pytest

pytest.importorskip("mnist1d")
import mnist1d.data  # noqa: E402

from regulab.datasets import load_mnist1d  # noqa: E402


@pytest.fixture(scope="module")
def default_set(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cache")
    return folder, load_mnist1d(cache=str(folder))


def test_default_shapes_dtypes_and_labels(default_set):
    _, ((x_train, y_train), (x_test, y_test)) = default_set
    assert x_train.shape == (4000, 40, 1) and x_test.shape == (1000, 40, 1)
    assert x_train.dtype == np.float32 and y_train.dtype == np.int64 and y_test.dtype == np.int64
    assert y_train.shape == (4000,) and y_test.shape == (1000,)
    assert set(np.unique(y_train)) == set(range(10)) == set(np.unique(y_test))
    x = np.concatenate([x_train, x_test])
    np.testing.assert_allclose([x.mean(), x.std()], [0.0, 1.0], atol=1e-4)


def test_same_as_the_package_makes():
    (x_train, y_train), (x_test, y_test) = load_mnist1d(n_samples=200, seed=5, cache=False)
    args = mnist1d.data.get_dataset_args()
    args.num_samples, args.seed = 200, 5
    made = mnist1d.data.make_dataset(args)
    np.testing.assert_array_equal(x_train[..., 0], made["x"].astype(np.float32))
    np.testing.assert_array_equal(x_test[..., 0], made["x_test"].astype(np.float32))
    np.testing.assert_array_equal(y_train, made["y"])
    np.testing.assert_array_equal(y_test, made["y_test"])


def test_second_call_reads_the_cache(default_set, monkeypatch):
    folder, ((x_train, _), (_, y_test)) = default_set
    files = list(folder.glob("mnist1d-5000-seed42-*.npz"))
    assert len(files) == 1

    def no_generation(args):
        raise AssertionError("make_dataset called although the data are cached")

    monkeypatch.setattr(mnist1d.data, "make_dataset", no_generation)
    (x2, _), (_, y2) = load_mnist1d(cache=folder)
    np.testing.assert_array_equal(x2, x_train)
    np.testing.assert_array_equal(y2, y_test)


def test_the_environment_variable_chooses_the_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("REGULAB_CACHE_DIR", str(tmp_path))
    load_mnist1d(n_samples=20, seed=1)
    assert [p.name.startswith("mnist1d-20-seed1-") for p in tmp_path.iterdir()] == [True]


def test_seeded_and_repeatable(tmp_path):
    first = load_mnist1d(n_samples=100, seed=3, cache=False)
    second = load_mnist1d(n_samples=100, seed=3, cache=False)
    other = load_mnist1d(n_samples=100, seed=4, cache=False)
    for a, b in zip([a for pair in first for a in pair], [b for pair in second for b in pair]):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0][0], other[0][0])
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("damage", ["truncate", "garbage", "flip"])
def test_a_damaged_cache_file_is_generated_again(tmp_path, damage):
    expected = load_mnist1d(n_samples=50, seed=0, cache=False)
    load_mnist1d(n_samples=50, seed=0, cache=tmp_path)
    (path,) = tmp_path.glob("*.npz")
    raw = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(raw[:len(raw) // 2])
    elif damage == "garbage":
        path.write_bytes(b"not a zip file at all")
    else:  # a flipped byte inside the stored signals: only the checksum notices
        with np.load(path) as f:
            stored = dict(f)
        stored["x_train"] = stored["x_train"] + np.float32(1e-3)
        np.savez(path, **stored)
    (x, y), (xt, yt) = load_mnist1d(n_samples=50, seed=0, cache=tmp_path)
    np.testing.assert_array_equal(x, expected[0][0])
    np.testing.assert_array_equal(yt, expected[1][1])
    (x_again, _), _ = load_mnist1d(n_samples=50, seed=0, cache=tmp_path)  # the rewritten file is sound
    np.testing.assert_array_equal(x_again, expected[0][0])
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary left behind


def test_global_random_generators_are_left_alone():
    random.seed(7)
    np.random.seed(7)
    expected = (random.random(), np.random.rand())
    random.seed(7)
    np.random.seed(7)
    load_mnist1d(n_samples=20, cache=False)
    assert (random.random(), np.random.rand()) == expected


def test_learnable_beyond_chance():
    from sklearn.linear_model import LogisticRegression

    (x_train, y_train), (x_test, y_test) = load_mnist1d(n_samples=1000, cache=False)
    clf = LogisticRegression(max_iter=500).fit(x_train.reshape(len(x_train), -1), y_train)
    # the paper's logistic regression reaches 32% on the full set; chance is 10%
    assert clf.score(x_test.reshape(len(x_test), -1), y_test) > 0.22


def test_missing_package_says_how_to_install(monkeypatch):
    def not_installed(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "version", not_installed)
    with pytest.raises(ImportError, match=re.escape(
            "load_mnist1d needs the mnist1d package, which is not installed: pip install mnist1d "
            "(or pip install regulab[data]).")):
        load_mnist1d(cache=False)


def test_broken_dependency_is_named(monkeypatch):
    real_import = builtins.__import__

    def failing_import(name, *args, **kwargs):
        if name == "mnist1d":
            raise ModuleNotFoundError("No module named 'matplotlib'", name="matplotlib")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", failing_import)
    with pytest.raises(ImportError, match=re.escape(
            "load_mnist1d could not import the mnist1d package: `matplotlib`, which it imports, is missing. "
            "pip install mnist1d (or pip install regulab[data]).")):
        load_mnist1d(n_samples=10, cache=False)


@pytest.mark.parametrize("kwargs, msg", [
    ({"n_samples": 5}, "Invalid value for argument `n_samples` of load_mnist1d: expected an integer in [10, inf). "
                       "Received: n_samples=5"),
    ({"n_samples": 105}, "Invalid value for argument `n_samples` of load_mnist1d: expected a multiple of 10 "
                         "(the same number of each digit). Received: n_samples=105"),
    ({"seed": -1}, "Invalid value for argument `seed` of load_mnist1d: expected an integer in [0, inf). "
                   "Received: seed=-1"),
    ({"cache": 1}, "Invalid value for argument `cache` of load_mnist1d: expected True, False or a folder path. "
                   "Received: cache=1"),
])
def test_arguments_are_checked(kwargs, msg):
    with pytest.raises(ValueError, match=re.escape(msg)):
        load_mnist1d(**kwargs)


def test_an_unwritable_cache_warns_and_still_returns_the_data(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.warns(RuntimeWarning, match=re.escape("load_mnist1d could not cache the data at")):
        (x, _), _ = load_mnist1d(n_samples=20, cache=blocker / "cache")
    assert x.shape == (16, 40, 1)
