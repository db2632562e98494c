"""from_csv / from_npz: round trips, target encoding, the stratified split, and every error message."""
from __future__ import annotations

import re

import numpy as np
import pytest
from sklearn.model_selection import train_test_split

from regulab.datasets._files import FileData, from_arrays, from_csv, from_npz


def exact(message: str) -> str:
    return "^" + re.escape(message) + "$"


def write_csv(path, header, rows, delimiter=","):
    path.write_text("\n".join([delimiter.join(header)] + [delimiter.join(str(v) for v in r) for r in rows]) + "\n")
    return path


@pytest.fixture
def labelled(tmp_path):
    """100 rows, 3 features, a string target: 60 'cat', 40 'dog', sorted by class (a trap for a tail split)."""
    rng = np.random.default_rng(1)
    x = rng.normal(size=(100, 3)).round(4)
    labels = ["cat"] * 60 + ["dog"] * 40
    path = write_csv(tmp_path / "pets.csv", ["a", "b", "kind", "c"],
                     [[r[0], r[1], lab, r[2]] for r, lab in zip(x, labels)])
    return path, x, labels


def test_csv_string_target_round_trip_and_stratified_split(labelled):
    path, x, labels = labelled
    data = from_csv(path, "kind")
    assert isinstance(data, FileData)
    assert data.classes == ["cat", "dog"] and data.task == "classification"
    assert data.feature_names == ["a", "b", "c"]
    assert data.description == ("pets.csv: 100 rows, 3 features, target 'kind' (2 classes: cat, dog); "
                                "held-out split: 20% stratified (20 rows), seed 0")
    # stratified: each side keeps the 60/40 proportion exactly
    assert np.bincount(data.y_test).tolist() == [12, 8]
    assert np.bincount(data.y_train).tolist() == [48, 32]
    # the same split scikit-learn makes, and every row keeps its label
    ref_tr, ref_te = train_test_split(x.astype(np.float32), test_size=0.2, random_state=0,
                                      stratify=np.array(labels))
    np.testing.assert_array_equal(data.x_train, ref_tr)
    np.testing.assert_array_equal(data.x_test, ref_te)
    by_row = {tuple(r): lab for r, lab in zip(x.astype(np.float32).tolist(), labels)}
    for xs, ys in ((data.x_train, data.y_train), (data.x_test, data.y_test)):
        assert [by_row[tuple(r)] for r in xs.tolist()] == [data.classes[i] for i in ys]
    assert data.x_train.dtype == np.float32 and data.y_train.dtype == np.int64


def test_csv_integer_target_classes_and_delimiter(tmp_path):
    rows = [[i, [9, 3, 5][i % 3]] for i in range(30)]
    path = write_csv(tmp_path / "d.csv", ["f", "y"], rows, delimiter=";")
    data = from_csv(path, "y", delimiter=";", test_size=0.3, seed=4)
    assert data.classes == [3, 5, 9]
    assert np.bincount(data.y_test).tolist() == [3, 3, 3]
    assert data.description == ("d.csv: 30 rows, 1 feature, target 'y' (3 classes: 3, 5, 9); held-out split: "
                                "30% stratified (9 rows), seed 4")
    codes = {3: 0, 5: 1, 9: 2}
    for xs, ys in ((data.x_train, data.y_train), (data.x_test, data.y_test)):
        assert [codes[[9, 3, 5][int(v) % 3]] for v in xs[:, 0]] == ys.tolist()


def test_csv_float_target_is_regression_without_split(tmp_path):
    y = np.linspace(0.0, 1.0, 12) ** 2
    path = write_csv(tmp_path / "r.csv", ["x", "price"], [[i, v] for i, v in enumerate(y)])
    data = from_csv(path, "price", test_size=0)
    assert data.classes is None and data.task == "regression"
    assert data.x_test is None and data.y_test is None
    np.testing.assert_allclose(data.y_train, y.astype(np.float32))
    assert data.description == "r.csv: 12 rows, 1 feature, target 'price' (regression); no held-out split"


def test_csv_regression_split_is_random(tmp_path):
    path = write_csv(tmp_path / "r.csv", ["x", "t"], [[i, i + 0.5] for i in range(10)])
    data = from_csv(path, "t", task="regression", test_size=0.2, seed=3)
    assert data.description.endswith("held-out split: 20% random (2 rows), seed 3")
    np.testing.assert_allclose(data.y_test, data.x_test[:, 0] + 0.5)


def test_many_whole_number_values_are_regression_unless_told(tmp_path):
    path = write_csv(tmp_path / "c.csv", ["x", "count"], [[i, i] for i in range(60)])
    assert from_csv(path, "count").classes is None
    assert from_csv(path, "count", task="classification", test_size=0).classes == list(range(60))


def test_npz_images_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.random((40, 4, 4, 1)).astype(np.float32)
    y = np.array([0, 1, 2, 3] * 10)
    np.savez(tmp_path / "img.npz", images=x, labels=y[:, None])
    data = from_npz(tmp_path / "img.npz", "images", "labels", test_size=0.25, seed=1)
    assert data.x_train.shape == (30, 4, 4, 1) and data.x_test.shape == (10, 4, 4, 1)
    assert data.feature_names is None and data.classes == [0, 1, 2, 3]
    assert data.description == ("img.npz: 40 rows, features of shape 4x4x1, target 'labels' (4 classes: 0, 1, "
                                "2, 3); held-out split: 25% stratified (10 rows), seed 1")
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=0.25, random_state=1, stratify=y)
    np.testing.assert_array_equal(data.x_train, x_tr)
    np.testing.assert_array_equal(data.y_test, y_te)
    assert sorted(np.bincount(data.y_test).tolist()) == [2, 2, 3, 3]


def test_npz_table_with_string_labels(tmp_path):
    np.savez(tmp_path / "t.npz", x=np.arange(20.0).reshape(10, 2), y=np.array(["b", "a"] * 5))
    data = from_npz(tmp_path / "t.npz", test_size=0)
    assert data.feature_names == ["x[0]", "x[1]"] and data.classes == ["a", "b"]
    assert data.y_train.tolist() == [1, 0] * 5


def test_standardized_uses_training_statistics(labelled):
    data = from_csv(labelled[0], "kind").standardized()
    np.testing.assert_allclose(data.x_train.mean(axis=0), 0.0, atol=1e-6)
    np.testing.assert_allclose(data.x_train.std(axis=0), 1.0, atol=1e-5)
    raw = from_csv(labelled[0], "kind")
    np.testing.assert_allclose(data.x_test, (raw.x_test - raw.x_train.mean(0)) / raw.x_train.std(0), atol=1e-5)
    assert data.description.endswith("; features standardized with the training rows' mean and standard deviation")


# ---- errors -------------------------------------------------------------------------------------------


def test_missing_files_name_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match=exact(f"Data file not found: {tmp_path / 'no.csv'}")):
        from_csv(tmp_path / "no.csv", "y")
    with pytest.raises(FileNotFoundError, match=exact(f"Data file not found: {tmp_path / 'no.npz'}")):
        from_npz(tmp_path / "no.npz")


def test_missing_target_column_lists_the_columns(labelled):
    path = labelled[0]
    with pytest.raises(ValueError, match=exact(f"{path} has no column 'knd'. Did you mean 'kind'? "
                                               f"Available columns: a, b, kind, c.")):
        from_csv(path, "knd")
    with pytest.raises(ValueError, match=exact(f"{path} has no column 'zzz'. Available columns: a, b, kind, c.")):
        from_csv(path, "zzz")


@pytest.mark.parametrize("text", ["", "\n\n  \n"])
def test_empty_csv(tmp_path, text):
    path = tmp_path / "e.csv"
    path.write_text(text)
    with pytest.raises(ValueError, match=exact(f"{path} is empty: expected a header row with the column names, "
                                               f"then one row per sample.")):
        from_csv(path, "y")


def test_header_without_rows(tmp_path):
    path = write_csv(tmp_path / "h.csv", ["x", "y"], [])
    with pytest.raises(ValueError, match=exact(f"{path} has a header but no data rows.")):
        from_csv(path, "y")


def test_ragged_rows_name_the_line(tmp_path):
    path = tmp_path / "rag.csv"
    path.write_text("x,z,y\n1,2,a\n\n3,4,b\n5,b\n")
    with pytest.raises(ValueError, match=exact(f"{path} line 5 has 2 values but the header has 3 columns.")):
        from_csv(path, "y")


@pytest.mark.parametrize("cell", ["", "nan", "NA", "inf"])
def test_missing_feature_values_name_the_column(tmp_path, cell):
    path = tmp_path / "n.csv"
    path.write_text(f"x,age,y\n1,2,a\n1,{cell},b\n1,{cell},b\n")
    with pytest.raises(ValueError, match=exact(f"Column 'age' of {path} has 2 missing or non-finite values "
                                               f"(empty, NaN or inf), the first at line 3; fill or drop them "
                                               f"before loading.")):
        from_csv(path, "y")


def test_missing_target_value(tmp_path):
    path = tmp_path / "n.csv"
    path.write_text("x,y\n1,a\n2,\n")
    with pytest.raises(ValueError, match=exact(f"Column 'y' of {path} has 1 missing or non-finite value "
                                               f"(empty, NaN or inf), the first at line 3; fill or drop them "
                                               f"before loading.")):
        from_csv(path, "y")


def test_non_numeric_feature_names_the_column_and_values(tmp_path):
    path = write_csv(tmp_path / "s.csv", ["color", "y"], [["red", 0], ["blue", 1], ["red", 1]])
    with pytest.raises(ValueError, match=exact(f"Column 'color' of {path} is not numeric (values such as 'red', "
                                               f"'blue'); only numeric features can be loaded: encode the column "
                                               f"as numbers or drop it.")):
        from_csv(path, "y")


def test_single_class_and_rare_class(tmp_path):
    path = write_csv(tmp_path / "one.csv", ["x", "y"], [[1, "a"], [2, "a"]])
    with pytest.raises(ValueError, match=exact("Target 'y' of one.csv has a single class ('a'): there is nothing "
                                               "to classify.")):
        from_csv(path, "y")
    path = write_csv(tmp_path / "rare.csv", ["x", "y"], [[i, "a"] for i in range(9)] + [[9, "b"]])
    with pytest.raises(ValueError, match=exact("Class 'b' of target 'y' in rare.csv has 1 row: a stratified "
                                               "held-out split needs at least 2 rows of every class. Add rows of "
                                               "that class, drop it, or make no split (test_size=0).")):
        from_csv(path, "y")
    assert from_csv(path, "y", test_size=0).classes == ["a", "b"]


def test_split_too_small_for_the_classes(tmp_path):
    path = write_csv(tmp_path / "k.csv", ["x", "y"], [[i, i % 4] for i in range(12)])
    with pytest.raises(ValueError, match=exact("A held-out split of 0.1 of k.csv's 12 rows leaves 2 held-out and "
                                               "10 training rows, fewer than the 4 classes of target 'y'; choose a "
                                               "test_size that leaves at least 4 rows on each side.")):
        from_csv(path, "y", test_size=0.1)


def test_bad_arguments(labelled):
    with pytest.raises(ValueError, match=exact("Invalid value for argument `test_size` of from_csv: expected a "
                                               "float in [0, 1). Received: test_size=1.0")):
        from_csv(labelled[0], "kind", test_size=1.0)
    with pytest.raises(ValueError, match=exact("Invalid value for argument `delimiter` of from_csv: expected one "
                                               "character. Received: delimiter=';;'")):
        from_csv(labelled[0], "kind", delimiter=";;")
    with pytest.raises(ValueError, match="Invalid value for argument `task` of from_npz: expected one of "
                                         "'classification', 'regression'. Received: task='regresion'"):
        from_npz(labelled[0], task="regresion")


def test_npz_missing_key_lists_the_keys(tmp_path):
    path = tmp_path / "k.npz"
    np.savez(path, features=np.zeros((4, 2)), y=np.arange(4))
    with pytest.raises(ValueError, match=exact(f"{path} has no array 'x' (argument `x_key`). Arrays in it: "
                                               f"features, y.")):
        from_npz(path)
    with pytest.raises(ValueError, match=exact(f"{path} has no array 'label' (argument `y_key`). Arrays in it: "
                                               f"features, y.")):
        from_npz(path, "features", "label")


def test_npz_shape_and_value_errors(tmp_path):
    path = tmp_path / "a.npz"
    np.savez(path, x=np.zeros((4, 2)), y=np.arange(3))
    with pytest.raises(ValueError, match=exact(f"Arrays of {path} disagree: 'x' has 4 rows but 'y' has 3.")):
        from_npz(path)
    np.savez(path, x=np.zeros((4, 2)), y=np.zeros((4, 3)))
    with pytest.raises(ValueError, match=exact(f"Array 'y' of {path} must hold one label per row, shape (N,) or "
                                               f"(N, 1). Received shape (4, 3).")):
        from_npz(path)
    x = np.zeros((6, 3))
    x[2, 1] = np.nan
    np.savez(path, x=x, y=np.arange(6) % 2)
    with pytest.raises(ValueError, match=exact(f"Array 'x' of {path} has 1 NaN or infinite values, in column 1; "
                                               f"fill or drop them before loading.")):
        from_npz(path)
    np.savez(path, x=np.zeros((0, 3)), y=np.zeros(0))
    with pytest.raises(ValueError, match=exact(f"{path} is empty: its arrays have 0 rows.")):
        from_npz(path)


def test_npz_not_an_archive(tmp_path):
    empty = tmp_path / "empty.npz"
    empty.write_bytes(b"")
    with pytest.raises(ValueError, match=exact(f"{empty} is empty.")):
        from_npz(empty)
    single = tmp_path / "one.npy"
    np.save(single, np.zeros(3))
    with pytest.raises(ValueError, match=exact(f"{single} holds a single array, not an .npz archive; save the "
                                               f"features and labels with np.savez(path, x=x, y=y).")):
        from_npz(single)
    junk = tmp_path / "junk.npz"
    junk.write_text("x,y\n1,2\n")
    with pytest.raises(ValueError, match=f"^{re.escape(str(junk))} is not a NumPy .npz archive"):
        from_npz(junk)


def test_from_arrays_checks_lengths():
    with pytest.raises(ValueError, match=exact("toy: expected one label per row of the features; received "
                                               "features of shape (3, 2) and labels of shape (2,).")):
        from_arrays(np.zeros((3, 2)), np.zeros(2), name="toy")
