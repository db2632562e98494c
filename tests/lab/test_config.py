"""Study files: loading, building the model, every error message, and ``regulab study`` in-process."""
from __future__ import annotations

import argparse
import re
import textwrap
from pathlib import Path

import numpy as np
import pytest

import regulab.lab
from regulab.lab._config import StudyConfig, load_study_config
from regulab.lab._study_cli import QUICK_EPOCHS, QUICK_SEEDS, add_parser, run
from regulab.models import Sequential

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "study.toml"

MODEL = """
[model]
layers = [
  { type = "Dense", units = 8, activation = "relu" },
  { type = "Dense", units = 3, activation = "softmax" },
]
"""
VARIANTS = """
[variants]
baseline = {}
"L2 0.01" = { l2 = 0.01 }
"""


def exact(message: str) -> str:
    return "^" + re.escape(message) + "$"


@pytest.fixture
def folder(tmp_path):
    """A CSV of 60 rows, 4 features and a 3-class string target, beside the study files."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 4)).round(3)
    names = ["low", "mid", "high"]
    lines = ["f1,f2,f3,f4,grade"] + [",".join(map(str, r)) + f",{names[i % 3]}" for i, r in enumerate(x)]
    (tmp_path / "grades.csv").write_text("\n".join(lines) + "\n")
    return tmp_path


def write(folder: Path, text: str, name: str = "study.toml") -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text))
    return path


def csv_study(folder: Path, top: str = "", data: str = "", model: str = MODEL, variants: str = VARIANTS) -> Path:
    return write(folder, f'{top}\n[data]\ncsv = "grades.csv"\ntarget = "grade"\n{data}\n{model}\n{variants}')


def test_csv_study_loads_with_defaults_and_builds_new_models(folder):
    config = load_study_config(csv_study(folder))
    assert isinstance(config, StudyConfig)
    assert (config.title, config.seeds, config.epochs, config.batch_size) == ("study", 5, 100, 32)
    assert config.output == folder / "regulab-report" and config.path == folder / "study.toml"
    assert config.data.classes == ["high", "low", "mid"]
    assert np.bincount(config.data.y_test).tolist() == [4, 4, 4]
    assert config.variants == {"baseline": {}, "L2 0.01": {"l2": 0.01}}
    assert config.loss == "sparse_categorical_crossentropy" and config.metrics == ["accuracy"]
    first, second = config.build_model(), config.build_model()
    assert isinstance(first, Sequential) and first is not second
    assert first.count_params() == (4 * 8 + 8) + (8 * 3 + 3)
    assert not all(np.array_equal(a, b) for a, b in zip(first.get_weights(), second.get_weights()))
    history = first.fit(config.data.x_train, config.data.y_train, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0]) and "accuracy" in history.history


def test_top_level_values_and_relative_paths(folder, monkeypatch):
    sub = folder / "configs"
    sub.mkdir()
    (sub / "grades.csv").write_text((folder / "grades.csv").read_text())
    monkeypatch.chdir(folder.parent)
    path = csv_study(sub, top='title = "Grades"\nseeds = 3\nepochs = 7\nbatch_size = 16\noutput = "out"',
                     data="test_size = 0.5\nseed = 2\nstandardize = true")
    config = load_study_config(path)
    assert (config.title, config.seeds, config.epochs, config.batch_size) == ("Grades", 3, 7, 16)
    assert config.output == sub / "out"
    assert len(config.data.y_test) == 30
    np.testing.assert_allclose(config.data.x_train.mean(axis=0), 0.0, atol=1e-6)
    assert config.data.description.startswith("grades.csv: 60 rows, 4 features, target 'grade' (3 classes: "
                                              "high, low, mid); held-out split: 50% stratified (30 rows), seed 2")


def test_the_example_file_loads_and_trains():
    config = load_study_config(EXAMPLE)
    assert config.data.x_train.shape == (400, 100) and config.data.x_test.shape == (2000, 100)
    assert config.loss == "binary_crossentropy" and config.data.description.startswith(
        "seed_task: 400 training rows, 100 features, target 'y' (2 classes: 0, 1); held-out set: 2000 rows")
    assert list(config.variants)[0] == "baseline" and config.variants["all together"] == {
        "l2": 0.01, "dropout": 0.5, "batch_norm": True, "early_stopping": 5}
    model = config.build_model()
    assert model.count_params() == 6529  # the lesson's model: 100*64+64 + 64+1
    model.fit(config.data.x_train, config.data.y_train, epochs=1, verbose=0)


def test_npz_data_with_keys_and_inferred_binary_loss(tmp_path):
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "d.npz", features=rng.normal(size=(40, 5)), label=np.array([0, 1] * 20))
    path = write(tmp_path, """
        [data]
        npz = "d.npz"
        x_key = "features"
        y_key = "label"
        [model]
        optimizer = { type = "SGD", learning_rate = 0.05 }
        metrics = []
        layers = [{ type = "Dense", units = 1, activation = "sigmoid", kernel_regularizer = { l1 = 0.01 } }]
        [variants]
        dropout = { dropout = 0.2 }
    """)
    config = load_study_config(path)
    assert config.loss == "binary_crossentropy" and config.data.feature_names[0] == "features[0]"
    a, b = config.build_model(), config.build_model()
    assert a.optimizer is not b.optimizer and type(a.optimizer).__name__ == "SGD"
    assert a.layers[0].kernel_regularizer is not b.layers[0].kernel_regularizer
    assert float(a.optimizer.learning_rate) == pytest.approx(0.05)
    a.fit(config.data.x_train, config.data.y_train, epochs=1, verbose=0)


def test_bundled_digits_with_a_cnn_and_augmentation(tmp_path):
    path = write(tmp_path, """
        epochs = 2
        [data]
        name = "digits"
        test_size = 0.25
        [model]
        layers = [
          { type = "Conv2D", filters = 4, kernel_size = [3, 3], activation = "relu" },
          { type = "Flatten" },
          { type = "Dense", units = 10, activation = "softmax" },
        ]
        [variants]
        augmented = { augmentation = { rotation_range = 20, zoom_range = 0.2 }, batch_norm = true }
    """)
    config = load_study_config(path)
    assert config.data.x_train.shape == (1347, 8, 8, 1) and config.data.classes == list(range(10))
    assert config.data.description == ("digits: 1797 rows, features of shape 8x8x1, target 'digit' (10 classes: "
                                       "0, 1, 2, 3, 4, 5, 6, 7, 8, 9); held-out split: 25% stratified (450 rows), "
                                       "seed 0")
    assert config.variants["augmented"]["augmentation"] == {"rotation_range": 20, "zoom_range": 0.2}
    config.build_model().fit(config.data.x_train[:64], config.data.y_train[:64], epochs=1, verbose=0)


def test_bundled_breast_cancer_is_binary(tmp_path):
    path = write(tmp_path, """
        [data]
        name = "breast_cancer"
        [model]
        layers = [{ type = "Dense", units = 2, activation = "softmax" }]
        [variants]
        l2 = { l2 = 0.001 }
    """)
    config = load_study_config(path)
    assert config.data.classes == [0, 1] and len(config.data.y_test) == 114
    assert config.loss == "sparse_categorical_crossentropy"


def test_regression_target_infers_mse(tmp_path):
    lines = ["x,price"] + [f"{i},{i * 1.5 + 0.25}" for i in range(20)]
    (tmp_path / "r.csv").write_text("\n".join(lines))
    body = '[data]\ncsv = "r.csv"\ntarget = "price"\n[model]\nlayers = [{ type = "Dense", units = UNITS }]\n' + VARIANTS
    config = load_study_config(write(tmp_path, body.replace("UNITS", "1")))
    assert (config.loss, config.metrics, config.data.classes) == ("mse", [], None)
    config.build_model().fit(config.data.x_train, config.data.y_train, epochs=1, verbose=0)
    path = write(tmp_path, body.replace("UNITS", "2"))
    with pytest.raises(ValueError, match=exact(f"{path}, [model]: the last layer has 2 units, but the target is one "
                                               f"number per row: give it 1 unit.")):
        load_study_config(path)


# ---- errors: every message names the file, the section and the key --------------------------------------


def test_unknown_keys_in_every_section(folder):
    path = csv_study(folder, top="sedes = 3")
    with pytest.raises(ValueError, match=exact(f"{path}, top level: unknown key 'sedes'. Did you mean 'seeds'? "
                                               f"Allowed keys: title, seeds, epochs, batch_size, output, data, "
                                               f"model, variants.")):
        load_study_config(path)
    path = csv_study(folder, data="test_sise = 0.3")
    with pytest.raises(ValueError, match=exact(f"{path}, [data]: unknown key 'test_sise'. Did you mean "
                                               f"'test_size'? Allowed keys: csv, npz, name, target, delimiter, "
                                               f"x_key, y_key, test_size, seed, task, standardize.")):
        load_study_config(path)
    path = csv_study(folder, model=MODEL + 'optimiser = "sgd"\n')
    with pytest.raises(ValueError, match=exact(f"{path}, [model]: unknown key 'optimiser'. Did you mean "
                                               f"'optimizer'? Allowed keys: layers, loss, optimizer, metrics.")):
        load_study_config(path)
    path = csv_study(folder, variants='[variants]\nsmall = { drop_out = 0.5 }')
    with pytest.raises(ValueError, match=exact(f"{path}, [variants] 'small': unknown key 'drop_out'. Did you mean "
                                               f"'dropout'? Allowed keys: l1, l1_proximal, l2, dropout, batch_norm, "
                                               f"gaussian_noise, augmentation, early_stopping, mixup, "
                                               f"learning_rate, width, epochs, label_smoothing.")):
        load_study_config(path)


def test_missing_data_file_names_the_resolved_path(folder, monkeypatch):
    monkeypatch.chdir(folder.parent)
    sub = folder / "sub"
    sub.mkdir()
    path = csv_study(sub)
    with pytest.raises(FileNotFoundError, match=exact(f"{path}, [data]: data file not found: "
                                                      f"{sub / 'grades.csv'}")):
        load_study_config(path)
    with pytest.raises(FileNotFoundError, match=exact(f"Study file not found: {folder / 'none.toml'}")):
        load_study_config(folder / "none.toml")


def test_bad_toml_gives_line_and_column(folder):
    path = write(folder, "seeds = 5\nepochs = \n")
    with pytest.raises(ValueError, match=exact(f"{path}: invalid TOML: Invalid value (at line 2, column 10)")):
        load_study_config(path)


def test_bad_top_level_values(folder):
    path = csv_study(folder, top="seeds = 0")
    with pytest.raises(ValueError, match=exact(f"{path}, top level: Invalid value for argument `seeds`: expected "
                                               f"an integer in [1, inf). Received: seeds=0")):
        load_study_config(path)
    path = write(folder, 'seeds = 2\n[data]\ncsv = "grades.csv"\ntarget = "grade"\n' + MODEL)
    with pytest.raises(ValueError, match=exact(f"{path}, top level: missing the [variants] section.")):
        load_study_config(path)
    path = csv_study(folder, variants="[variants]\n")
    with pytest.raises(ValueError, match=exact(f"{path}, [variants]: no variants: add at least one, e.g. "
                                               f"\"L2 0.01\" = {{ l2 = 0.01 }}.")):
        load_study_config(path)


def test_bad_data_sections(folder):
    path = csv_study(folder, data='name = "digits"')
    with pytest.raises(ValueError, match=exact(f"{path}, [data]: give exactly one of `csv`, `npz` or `name`. "
                                               f"Received: csv, name.")):
        load_study_config(path)
    path = csv_study(folder, data='x_key = "a"')
    with pytest.raises(ValueError, match=exact(f"{path}, [data]: `x_key` applies to npz files only, and this "
                                               f"data is given by `csv`.")):
        load_study_config(path)
    path = write(folder, '[data]\ncsv = "grades.csv"\ntarget = "grad"\n' + MODEL + VARIANTS)
    with pytest.raises(ValueError, match=exact(f"{path}, [data]: {folder / 'grades.csv'} has no column 'grad'. "
                                               f"Did you mean 'grade'? Available columns: f1, f2, f3, f4, grade.")):
        load_study_config(path)
    path = write(folder, '[data]\ncsv = "grades.csv"\n' + MODEL + VARIANTS)
    with pytest.raises(ValueError, match=exact(f"{path}, [data]: a CSV file needs `target`, the name of its label "
                                               f"column.")):
        load_study_config(path)
    path = write(folder, '[data]\nname = "seed_task"\ntest_size = 0.3\n' + MODEL + VARIANTS)
    with pytest.raises(ValueError, match=exact(f"{path}, [data]: `test_size` and `task` do not apply to name = "
                                               f"\"seed_task\", which has its own held-out set.")):
        load_study_config(path)
    path = write(folder, '[data]\nname = "mnist"\n' + MODEL + VARIANTS)
    with pytest.raises(ValueError, match=exact(f"{path}, [data]: Invalid value for argument `name`: expected one "
                                               f"of 'seed_task', 'digits', 'breast_cancer'. Received: "
                                               f"name='mnist'.")):
        load_study_config(path)


def test_unknown_layer_type_lists_close_matches(folder):
    model = '[model]\nlayers = [{ type = "Dens", units = 3 }]\n'
    path = csv_study(folder, model=model)
    with pytest.raises(ValueError, match=exact(f"{path}, [model] layer 1: unknown layer type 'Dens'. Close "
                                               f"matches: Dense.")):
        load_study_config(path)
    path = csv_study(folder, model='[model]\nlayers = [{ type = "dropout" }]\n')
    with pytest.raises(ValueError, match=r"unknown layer type 'dropout'\. Close matches: Dropout, "):
        load_study_config(path)
    path = csv_study(folder, model='[model]\nlayers = [{ units = 3 }]\n')
    with pytest.raises(ValueError, match=exact(f"{path}, [model] layer 1: missing `type`, the layer's class name, "
                                               f"e.g. type = \"Dense\".")):
        load_study_config(path)


def test_wrong_layer_argument_names_layer_and_argument(folder):
    model = '[model]\nlayers = [{ type = "Dense", units = 8 }, { type = "Dense", unit = 3 }]\n'
    path = csv_study(folder, model=model)
    with pytest.raises(ValueError, match=exact(
            f"{path}, [model] layer 2 (Dense): Dense has no argument 'unit'. Did you mean 'units'? Its arguments: "
            f"units, activation, use_bias, kernel_initializer, bias_initializer, kernel_regularizer, "
            f"bias_regularizer, activity_regularizer, name, trainable, input_shape, input_dim, dtype.")):
        load_study_config(path)
    model = '[model]\nlayers = [{ type = "Dense", units = 3, activation = "softmx" }]\n'
    path = csv_study(folder, model=model)
    with pytest.raises(ValueError, match="^" + re.escape(f"{path}, [model] layer 1 (Dense): Unknown activation "
                                                         f"'softmx'. Did you mean 'softmax'? Known activations: ")):
        load_study_config(path)
    model = '[model]\nlayers = [{ type = "Dense", units = 3, input_dim = 5 }]\n'
    path = csv_study(folder, model=model)
    with pytest.raises(ValueError, match=exact(f"{path}, [model] layer 1 (Dense): the layer says input shape (5,), "
                                               f"but the data's rows have shape (4,); remove the input shape, it "
                                               f"comes from the data.")):
        load_study_config(path)


def test_bad_regularizer_and_optimizer_tables(folder):
    model = '[model]\nlayers = [{ type = "Dense", units = 3, kernel_regularizer = { l3 = 0.1 } }]\n'
    path = csv_study(folder, model=model)
    with pytest.raises(ValueError, match=exact(f"{path}, [model] layer 1 (Dense): Unknown key 'l3' in "
                                               f"`kernel_regularizer`. Did you mean 'l2'? Allowed keys: l1, l2, "
                                               f"proximal, e.g. kernel_regularizer = {{ l2 = 0.01 }}.")):
        load_study_config(path)
    path = csv_study(folder, model=MODEL + 'optimizer = { type = "Adamm" }\n')
    with pytest.raises(ValueError, match=exact(f"{path}, [model]: unknown optimizer type 'Adamm'. Did you mean "
                                               f"'Adam'? Known types: SGD, Adam, AdamW, RMSprop, Adagrad.")):
        load_study_config(path)


def test_output_layer_must_fit_the_target(folder):
    model = '[model]\nlayers = [{ type = "Dense", units = 2, activation = "softmax" }]\n'
    path = csv_study(folder, model=model)
    with pytest.raises(ValueError, match=exact(f"{path}, [model]: the last layer has 2 units but the target has 3 "
                                               f"classes: use 3 units with activation = \"softmax\" (loss "
                                               f"sparse_categorical_crossentropy).")):
        load_study_config(path)
    path = csv_study(folder, model=MODEL + 'loss = "categorical_crossentropy"\n')
    with pytest.raises(ValueError, match=exact(f"{path}, [model]: loss 'categorical_crossentropy' needs one-hot "
                                               f"labels, but the target's classes are integers 0..K-1: use "
                                               f"'sparse_categorical_crossentropy'.")):
        load_study_config(path)
    path = csv_study(folder, model=MODEL + 'loss = "binary_crossentropy"\n')
    with pytest.raises(ValueError, match=exact(f"{path}, [model]: loss 'binary_crossentropy' needs 2 classes and 1 "
                                               f"output unit; the target has 3 classes and the last layer 3 units: "
                                               f"use 3 units with activation = \"softmax\" (loss "
                                               f"sparse_categorical_crossentropy).")):
        load_study_config(path)
    path = csv_study(folder, model=MODEL + 'loss = "hinge_los"\n')
    with pytest.raises(ValueError, match=f"^{re.escape(str(path))}, \\[model\\]: Unknown loss 'hinge_los'"):
        load_study_config(path)


def test_bad_variant_values(folder):
    path = csv_study(folder, variants="[variants]\ndrop = { dropout = 1.5 }")
    with pytest.raises(ValueError, match=exact(f"{path}, [variants] 'drop': Invalid value for argument `dropout`: "
                                               f"expected a float in [0, 1). Received: dropout=1.5")):
        load_study_config(path)
    path = csv_study(folder, variants="[variants]\ndrop = 0.5")
    with pytest.raises(ValueError, match=exact(f"{path}, [variants] 'drop': a variant is a table of settings, e.g. "
                                               f"\"drop\" = {{ dropout = 0.5 }}. Received: 0.5")):
        load_study_config(path)
    path = csv_study(folder, variants="[variants]\naug = { augmentation = { rotation_range = 20 } }")
    with pytest.raises(ValueError, match=exact(f"{path}, [variants] 'aug': augmentation applies to images, rows of "
                                               f"shape (height, width, channels); the data's rows have shape "
                                               f"(4,).")):
        load_study_config(path)
    path = csv_study(folder, variants="[variants]\naug = { augmentation = { rotation = 20 } }")
    with pytest.raises(ValueError, match=f"^{re.escape(str(path))}, \\[variants\\] 'aug' augmentation: unknown key "
                                         f"'rotation'\\. Did you mean 'rotation_range'\\? Allowed keys: "
                                         f"featurewise_center, "):
        load_study_config(path)


# ---- regulab study, in-process --------------------------------------------------------------------------


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="regulab")
    add_parser(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(["study", *argv])


class FakeResult:
    def __init__(self):
        self.reports = []

    def table(self):
        return "TABLE"

    def report(self, path):
        self.reports.append(Path(path))


def test_run_reports_config_errors_without_traceback(folder, capsys):
    path = csv_study(folder, top="sedes = 3")
    assert run(parse(str(path))) == 2
    err = capsys.readouterr().err
    assert err == (f"regulab study: error: {path}, top level: unknown key 'sedes'. Did you mean 'seeds'? Allowed "
                   f"keys: title, seeds, epochs, batch_size, output, data, model, variants.\n")
    assert run(parse(str(folder / "none.toml"))) == 2
    assert capsys.readouterr().err == f"regulab study: error: Study file not found: {folder / 'none.toml'}\n"
    assert run(parse(str(csv_study(folder)), "--seeds", "0")) == 2
    assert capsys.readouterr().err == "regulab study: error: --seeds must be at least 1. Received: --seeds 0\n"


def test_run_calls_study_with_the_file_and_the_overrides(folder, capsys, monkeypatch):
    calls, results = [], []

    def fake_study(build_model, data, variants, **kwargs):
        calls.append((build_model, data, variants, kwargs))
        results.append(FakeResult())
        return results[-1]

    monkeypatch.setattr(regulab.lab, "study", fake_study, raising=False)
    path = csv_study(folder, top='title = "T"\nseeds = 4\nepochs = 9',
                     variants='[variants]\nbaseline = {}\nlong = { epochs = 20 }')
    assert run(parse(str(path))) == 0
    build_model, data, variants, kwargs = calls[-1]
    assert isinstance(build_model(), Sequential) and data.classes == ["high", "low", "mid"]
    assert variants == {"baseline": {}, "long": {"epochs": 20}}
    assert kwargs == {"seeds": 4, "epochs": 9, "batch_size": 32, "output_dir": folder / "regulab-report",
                      "title": "T"}
    out = capsys.readouterr().out
    assert "TABLE" in out and out.endswith(f"report: {folder / 'regulab-report' / 'index.html'}\n")
    assert results[-1].reports == [folder / "regulab-report" / "index.html"]

    assert run(parse(str(path), "--quick", "--output", str(folder / "r"))) == 0
    _, _, variants, kwargs = calls[-1]
    assert (kwargs["seeds"], kwargs["epochs"], kwargs["output_dir"]) == (QUICK_SEEDS, QUICK_EPOCHS, folder / "r")
    assert variants["long"] == {"epochs": QUICK_EPOCHS}

    assert run(parse(str(path), "--seeds", "6", "--epochs", "2")) == 0
    assert (calls[-1][3]["seeds"], calls[-1][3]["epochs"]) == (6, 2)
