"""``lab.study`` against references: each variant's seeds trained alone with ``fit``, NumPy and the
stats helpers for the summaries, and the lesson's claim on the lesson's task."""
from __future__ import annotations

import json
import re

import numpy as np
import pytest
import scipy.stats

import regulab
from regulab import datasets, optimizers, regularizers
from regulab.layers import Conv2D, Dense, Dropout, Flatten
from regulab.lab import StudyResult, sparsity, study
from regulab.lab import _stats
from regulab.lab import _study as study_module
from regulab.lab._settings import check_variants
from regulab.lab._study import prepare_data
from regulab.lab._transform import build_variant, group_variants
from regulab.models import Sequential
from tests.helpers import linear_data

D = 60  # features of the small task: 100 samples of 60 features overfit within a few epochs


def _mlp(kernel_regularizer=None, dropout: float = 0.0, metrics=None):
    """Dense(32, relu) -> Dense(1, sigmoid) with SGD: Adam divides tiny gradients by their tiny root
    mean square, which magnifies float rounding between a stacked and a separate run."""
    layers = [Dense(32, input_dim=D, activation="relu", kernel_regularizer=kernel_regularizer)]
    if dropout:
        layers.append(Dropout(dropout))
    model = Sequential([*layers, Dense(1, activation="sigmoid")])
    model.compile(optimizers.SGD(0.2), "binary_crossentropy", metrics=metrics or [])
    return model


def _data():
    return linear_data(100, d=D)


def _fit_alone(model, split, seed, epochs, callbacks=()):
    return model.fit(split.x_train, split.y_train, epochs=epochs, seed=seed, verbose=0,
                     validation_data=(split.x_val, split.y_val), callbacks=list(callbacks))


def _assert_history(expected: dict, got: dict):
    assert set(expected) == set(got)
    for key in expected:
        np.testing.assert_allclose(got[key], expected[key], rtol=1e-4, atol=1e-6, err_msg=key)


def _first_kernel(model) -> np.ndarray:
    return next(layer.kernel.numpy() for layer in model.layers if getattr(layer, "kernel", None) is not None)


# -- 1. a stacked study is the separate fits it stands for
KEY_VARIANTS = {"L2": {"l2": 0.01}, "L1": {"l1": 0.001}, "dropout": {"dropout": 0.3},
                "early stopping": {"early_stopping": 1}, "short": {"epochs": 4},
                "slow": {"learning_rate": 0.05}, "noise": {"gaussian_noise": 0.1},
                "proximal": {"l1_proximal": 0.06}}
SEEDS = [0, 1]
EPOCHS = 15


@pytest.fixture(scope="module")
def key_study():
    x, y = _data()
    return study(_mlp, (x, y), KEY_VARIANTS, seeds=SEEDS, epochs=EPOCHS, verbose=0), prepare_data((x, y), 0.2, 0)


def test_stacked_study_equals_each_variant_fitted_alone(key_study):
    result, split = key_study
    assert [(g["variants"][-1], g["mode"]) for g in result.groups] == [("noise", "stacked"), ("proximal", "stacked")]
    assert result.metric == "loss" and result.to_json()["higher_is_better"] is False
    checked = check_variants(KEY_VARIANTS)
    groups = group_variants(checked)
    for name, settings in checked.items():
        group = next(g for g in groups if name in g.variants)
        got = result.variants[name]
        kernels = []
        for i, seed in enumerate(SEEDS):
            model, callbacks, epochs = build_variant(_mlp, name, settings, group, seed)
            history = _fit_alone(model, split, seed, epochs or EPOCHS, callbacks)
            _assert_history(history.history, got["histories"][i])
            assert got["epochs"][i] == len(history.epoch)
            for part, (x, y) in (("train", (split.x_train, split.y_train)), ("val", (split.x_val, split.y_val)),
                                 ("test", (split.x_test, split.y_test))):
                np.testing.assert_allclose(got[part][i], model.evaluate(x, y, verbose=0), rtol=1e-4, err_msg=part)
            kernels.append(_first_kernel(model))
            assert got["zero_fraction"][i] == pytest.approx(sparsity(model).zero_fraction)
        # the pooled first-kernel histogram is the separate models' weights
        counts, edges = np.histogram(np.concatenate([k.ravel() for k in kernels]), bins=40)
        np.testing.assert_allclose(got["weights"]["edges"], edges, rtol=1e-4, atol=1e-6)
        assert np.abs(np.subtract(got["weights"]["counts"], counts)).sum() <= 2
        # a loss: the gap is validation minus training
        np.testing.assert_allclose(got["gap"], np.subtract(got["val"], got["train"]))
        if name in ("L1", "proximal"):  # per input, the fraction of seeds whose kernel row is not all zero
            used = np.mean([(k != 0).any(axis=1) for k in kernels], axis=0)
            np.testing.assert_allclose(got["surviving_inputs"], used)
        else:
            assert got["surviving_inputs"] is None
    proximal = result.variants["proximal"]
    assert min(proximal["zero_fraction"]) > 0.2 and min(proximal["surviving_inputs"]) < 1  # exact zeros, whole inputs
    assert result.variants["L1"]["zero_fraction"] == [0.0, 0.0]  # the subgradient sets none exactly


def test_early_stopping_stops_each_seed_on_its_own_and_restores_its_best_weights(key_study):
    result, _ = key_study
    early = result.variants["early stopping"]
    assert min(early["epochs"]) < EPOCHS  # patience 1 stops on this overfitting task
    assert early["epochs"][0] != early["epochs"][1]
    for i, history in enumerate(early["histories"]):
        # the restored weights are the best epoch's: their validation loss is the history's minimum
        np.testing.assert_allclose(early["val"][i], min(history["val_loss"]), rtol=1e-4)
    assert result.variants["short"]["epochs"] == [4, 4]
    assert result.variants["baseline"]["epochs"] == [EPOCHS, EPOCHS]


def test_study_variants_equal_models_built_by_hand(key_study):
    """Independent of the study's model transforms: the union's idle layers (Dropout 0, noise 0,
    an L1L2 of 0) change nothing, and the L2 variant is the model one would write."""
    result, split = key_study
    by_hand = {"baseline": lambda: _mlp(), "L2": lambda: _mlp(regularizers.l2(0.01))}
    for name, make in by_hand.items():
        for i, seed in enumerate(SEEDS):
            regulab.set_random_seed(seed)
            model = make()
            history = _fit_alone(model, split, seed, EPOCHS).history
            got = result.variants[name]["histories"][i]
            # the group's idle L1L2 of 0 adds its (equal) data_loss entries to the baseline's history
            _assert_history(history, {k: got[k] for k in history})
            np.testing.assert_allclose(result.variants[name]["test"][i],
                                       model.evaluate(split.x_test, split.y_test, verbose=0), rtol=1e-4)


def test_a_variant_trains_the_same_whatever_else_its_group_holds():
    """Adding a noise variant puts an idle GaussianNoise(0) in front of every model of the group;
    the dropout variant still draws the same masks (layers a study adds take their random streams
    apart from the model's own), so its results do not depend on the other variants."""
    x, y = _data()
    alone = study(_mlp, (x, y), {"dropout": {"dropout": 0.3}}, seeds=[0], epochs=3, verbose=0)
    with_noise = study(_mlp, (x, y), {"dropout": {"dropout": 0.3}, "noise": {"gaussian_noise": 0.1}},
                       seeds=[0], epochs=3, verbose=0)
    assert with_noise.groups[0]["variants"] == ["baseline", "dropout", "noise"]
    for name in ("baseline", "dropout"):
        _assert_history(alone.variants[name]["histories"][0], with_noise.variants[name]["histories"][0])
    # and the baseline, with its idle layers, trains as the model written without them
    split = prepare_data((x, y), 0.2, 0)
    regulab.set_random_seed(0)
    expected = _fit_alone(_mlp(), split, 0, 3).history
    got = {k: v for k, v in with_noise.variants["baseline"]["histories"][0].items() if k in expected}
    _assert_history(expected, got)



class HalvedSGD(optimizers.SGD):
    """A user's optimizer: its own update rule, not in regulab's registry."""

    def _update(self, params, grads, state, lr, t):
        return [p - 0.5 * lr * g for p, g in zip(params, grads)], {}


def test_a_study_takes_a_users_own_optimizer_class():
    x, y = _data()

    def build():
        model = _mlp()
        model.compile(HalvedSGD(0.4), "binary_crossentropy")
        return model

    result = study(build, (x, y), {"L2": {"l2": 0.01}}, seeds=[0], epochs=2, verbose=0)
    # each variant's model got a fresh optimizer of the user's class: the baseline trains as alone
    split = prepare_data((x, y), 0.2, 0)
    regulab.set_random_seed(0)
    expected = _fit_alone(build(), split, 0, 2).history
    got = {k: v for k, v in result.variants["baseline"]["histories"][0].items() if k in expected}
    _assert_history(expected, got)

# -- 2. grouping
def test_variants_are_grouped_by_architecture_and_l1_kind():
    variants = check_variants({"L1": {"l1": 0.001}, "L2": {"l2": 0.01}, "dropout": {"dropout": 0.5},
                               "early stopping": {"early_stopping": 5}, "proximal": {"l1_proximal": 0.001},
                               "batch norm": {"batch_norm": True}, "mixup": {"mixup": 0.2},
                               "proximal + dropout": {"l1_proximal": 0.01, "dropout": 0.2},
                               "batch norm + L2": {"batch_norm": True, "l2": 0.01}})
    groups = group_variants(variants)
    # mixup's alpha is state: it stacks with the baseline (alpha 0 for the others)
    assert [(g.variants, g.mode) for g in groups] == [
        (["baseline", "L1", "L2", "dropout", "early stopping", "mixup"], "stacked"),
        (["proximal", "proximal + dropout"], "stacked"),
        (["batch norm", "batch norm + L2"], "stacked"),
    ]
    assert [g.reason for g in groups] == ["", "", ""]
    assert [g.l1_mode for g in groups] == ["subgradient", "proximal", None]


def test_settings_that_are_off_train_with_the_baseline():
    # batch_norm False and width 1.0 build the baseline's architecture: no group of their own
    groups = group_variants(check_variants({"no batch norm": {"batch_norm": False}, "same width": {"width": 1.0},
                                            "no mixup": {"mixup": 0.0}}))
    assert [g.variants for g in groups] == [["baseline", "no batch norm", "same width", "no mixup"]]


def test_study_reports_how_each_group_ran_and_mixup_stacks_with_the_baseline(capsys):
    x, y = _data()
    variants = {"L2": {"l2": 0.01}, "batch norm": {"batch_norm": True}, "mixup": {"mixup": 0.4}}
    result = study(_mlp, (x, y), variants, seeds=[0, 1], epochs=3, verbose=1)
    # one progress bar per group, counting variant-epochs: 3 variants x 2 seeds x 3 epochs
    printed = capsys.readouterr().out
    assert "group 1: baseline, L2, mixup" in printed and "18/18" in printed
    assert "group 2: batch norm" in printed and "6/6" in printed
    groups = result.groups
    assert [(g["name"], g["variants"], g["mode"], g["reason"]) for g in groups] == [
        ("group 1", ["baseline", "L2", "mixup"], "stacked", ""), ("group 2", ["batch norm"], "stacked", "")]
    assert all(g["seconds"] > 0 for g in groups)
    assert [result.variants[n]["group"] for n in result.variants] == ["group 1", "group 1", "group 2", "group 1"]
    # in the stack, the mixup variant is fit(mixup=0.4) of each seed and the baseline is unmixed
    split = prepare_data((x, y), 0.2, 0)
    checked = check_variants(variants)
    group = group_variants(checked)[0]
    for name, mix in (("mixup", 0.4), ("baseline", None)):
        for i, seed in enumerate([0, 1]):
            model, _, _ = build_variant(_mlp, name, checked[name], group, seed)
            history = model.fit(split.x_train, split.y_train, epochs=3, seed=seed, verbose=0, mixup=mix,
                                validation_data=(split.x_val, split.y_val))
            _assert_history(history.history, result.variants[name]["histories"][i])
    # batch norm trains with other weights than the baseline
    assert result.variants["batch norm"]["histories"][0]["loss"] != result.variants["baseline"]["histories"][0]["loss"]


def test_models_that_cannot_stack_train_one_by_one_and_the_result_says_why():
    x, y = _data()
    built = []

    def alternating():  # a build_model whose hidden width changes from call to call
        built.append(1)
        model = Sequential([Dense(16 if len(built) % 2 else 24, input_dim=D, activation="relu"),
                            Dense(1, activation="sigmoid")])
        model.compile(optimizers.SGD(0.2), "binary_crossentropy")
        return model

    result = study(alternating, (x, y), {"L2": {"l2": 0.01}}, seeds=[0, 1], epochs=2, verbose=0)
    (group,) = result.groups
    assert group["mode"] == "one by one"
    assert group["reason"].startswith("fit_variants trains models of one configuration together")
    assert any(note.startswith("group 1 (baseline, L2) trained one model at a time: fit_variants trains")
               for note in result.notes)
    assert all(len(h["loss"]) == 2 for v in result.variants.values() for h in v["histories"])


def test_the_baseline_comes_first():
    variants = check_variants({"L2": {"l2": 0.01}, "baseline": {}, "dropout": {"dropout": 0.5}})
    assert list(variants) == ["baseline", "L2", "dropout"]
    assert list(check_variants({"L2": {"l2": 0.01}})) == ["baseline", "L2"]


def test_l1_and_proximal_l1_in_one_variant_is_an_error():
    x, y = _data()
    with pytest.raises(ValueError, match=re.escape(
            "Variant 'both' of study sets both `l1` and `l1_proximal`: L1 is applied either through its "
            "subgradient or by soft-thresholding; pick one.")):
        study(_mlp, (x, y), {"both": {"l1": 0.001, "l1_proximal": 0.001}}, seeds=2, epochs=1, verbose=0)


# -- 3. bad input
_KNOWN = ("l1, l1_proximal, l2, dropout, batch_norm, gaussian_noise, augmentation, early_stopping, mixup, "
          "learning_rate, width, epochs, label_smoothing")


@pytest.mark.parametrize("change, message", [
    ({"variants": {}}, "Argument `variants` of study is empty: give at least one variant, e.g. "
                       "{'L2 0.01': {'l2': 0.01}}."),
    ({"variants": [("L2", {"l2": 0.01})]}, "Argument `variants` of study maps a name to its settings, e.g. "
                                           "{'L2 0.01': {'l2': 0.01}}. Received: list"),
    ({"seeds": 0}, "Invalid value for argument `seeds` of study: expected an integer in [1, inf). Received: seeds=0"),
    ({"seeds": []}, "Argument `seeds` of study is empty: give a number of seeds or a list of them."),
    ({"seeds": [0, -1]}, "Invalid value for argument `seeds` of study: expected an integer in [0, inf). "
                         "Received: seeds=-1"),
    ({"epochs": 0}, "Invalid value for argument `epochs` of study: expected an integer in [1, inf). "
                    "Received: epochs=0"),
    ({"variants": {"x": {"dropuot": 0.5}}}, f"Variant 'x' of study has an unknown setting 'dropuot'. Did you mean "
                                            f"'dropout'? Known settings: {_KNOWN}."),
    ({"variants": {"x": 0.5}}, "Variant 'x' of study: expected a dict of settings, e.g. {'dropout': 0.5}. "
                               "Received: 0.5"),
    ({"variants": {"x": {"dropout": 1.0}}}, "Invalid value for argument `dropout`: expected a float in [0, 1). "
                                            "Received: dropout=1.0"),
    ({"variants": {"x": {"batch_norm": 1}}}, "Invalid value for argument `batch_norm`: expected true or false. "
                                             "Received: batch_norm=1"),
    ({"variants": {"x": {"augmentation": {"rotaton_range": 20}}}},
     "Variant 'x' of study: unknown augmentation setting 'rotaton_range'. Did you mean 'rotation_range'?"),
    ({"build_model": lambda: "a model"}, "Argument `build_model` of study must return a compiled regulab model; "
                                         "it returned str."),
    ({"data": np.zeros((10, 3))}, "Argument `data` of study takes (x, y), (x_train, y_train, x_test, y_test) or "
                                  "an object with x_train, y_train, x_test and y_test. Received: ndarray"),
    ({"data": (np.zeros((10, D)), np.zeros(9))}, "Argument `data` of study: x has 10 samples and y 9."),
])
def test_bad_input_is_named(change, message):
    x, y = _data()
    kwargs = {"build_model": _mlp, "data": (x, y), "variants": {"L2": {"l2": 0.01}}, "seeds": 2, "epochs": 1,
              "verbose": 0, **change}
    with pytest.raises(ValueError, match=re.escape(message)):
        study(kwargs.pop("build_model"), kwargs.pop("data"), kwargs.pop("variants"), **kwargs)


def test_build_model_must_return_a_compiled_built_model():
    x, y = _data()

    def uncompiled():
        return Sequential([Dense(4, input_dim=D), Dense(1)])

    def unbuilt():
        model = Sequential([Dense(4), Dense(1)])
        model.compile("sgd", "mse")
        return model

    with pytest.raises(ValueError, match=re.escape("You must call `compile(optimizer, loss, metrics)` on model")):
        study(uncompiled, (x, y), {"L2": {"l2": 0.01}}, seeds=1, epochs=1, verbose=0)
    with pytest.raises(ValueError, match=re.escape("Argument `build_model` of study must return a built model: "
                                                   "give its first layer `input_shape` (or start it with `Input`).")):
        study(unbuilt, (x, y), {"L2": {"l2": 0.01}}, seeds=1, epochs=1, verbose=0)


# -- 4. resume
RESUME_VARIANTS = {"L2": {"l2": 0.01}, "batch norm": {"batch_norm": True}}


def _resumable(path, **kwargs):
    x, y = _data()
    return study(_mlp, (x, y), RESUME_VARIANTS, seeds=2, epochs=2, verbose=0, output_dir=path, **kwargs)


def test_a_rerun_trains_nothing_and_returns_the_same_result(tmp_path, monkeypatch):
    first = _resumable(tmp_path)
    assert (tmp_path / "index.html").read_text().lstrip().lower().startswith("<!doctype html")
    saved = json.loads((tmp_path / "study.json").read_text())
    assert saved == json.loads(json.dumps(first.to_json()))
    assert len(list((tmp_path / "groups").glob("*.json"))) == 2

    def no_training(*args, **kwargs):
        raise AssertionError("a finished group was trained again")

    monkeypatch.setattr(study_module, "_train_group", no_training)
    second = _resumable(tmp_path)
    assert second.to_json() == first.to_json()


def test_a_study_killed_inside_a_group_resumes_it_bit_for_bit(tmp_path, monkeypatch):
    # every run of a group backs up after each epoch: the rerun continues the group where it was
    x, y = _data()

    def run(path):
        return study(_mlp, (x, y), {"L2": {"l2": 0.01}, "dropout": {"dropout": 0.3}}, seeds=2, epochs=4,
                     verbose=0, output_dir=path)

    fresh = run(tmp_path / "fresh")
    real = study_module._Progress.on_epoch_end
    calls = []

    def crash_at_the_fourteenth_variant_epoch(self, epoch, logs=None):
        calls.append(epoch)
        if len(calls) == 14:  # 6 runs (3 variants x 2 seeds): in the third epoch, after the second's backups
            raise KeyboardInterrupt
        real(self, epoch, logs)

    monkeypatch.setattr(study_module._Progress, "on_epoch_end", crash_at_the_fourteenth_variant_epoch)
    with pytest.raises(KeyboardInterrupt):
        run(tmp_path / "run")
    assert list((tmp_path / "run" / "groups").glob("*.backup"))  # the group's backups, left by the crash
    calls.clear()
    monkeypatch.setattr(study_module._Progress, "on_epoch_end", lambda self, epoch, logs=None: calls.append(epoch))
    resumed = run(tmp_path / "run")
    assert sorted(set(calls)) == [2, 3]  # only the epochs after the backups ran again
    for name in fresh.variants:
        assert resumed.variants[name]["histories"] == fresh.variants[name]["histories"]
        assert resumed.variants[name]["test"] == fresh.variants[name]["test"]
    assert not list((tmp_path / "run" / "groups").glob("*.backup"))  # replaced by the group's record


def test_an_interrupted_study_keeps_its_finished_groups(tmp_path, monkeypatch):
    real = study_module._train_group
    trained = []

    def interrupt_second(build_model, variants, group, *args, **kwargs):
        if trained:
            raise KeyboardInterrupt
        trained.append(group.variants)
        return real(build_model, variants, group, *args, **kwargs)

    monkeypatch.setattr(study_module, "_train_group", interrupt_second)
    with pytest.raises(KeyboardInterrupt):
        _resumable(tmp_path)
    assert trained == [["baseline", "L2"]]
    assert len(list((tmp_path / "groups").glob("*.json"))) == 1
    assert not (tmp_path / "study.json").exists()

    rerun = []

    def count(build_model, variants, group, *args, **kwargs):
        rerun.append(group.variants)
        return real(build_model, variants, group, *args, **kwargs)

    monkeypatch.setattr(study_module, "_train_group", count)
    resumed = _resumable(tmp_path)
    assert rerun == [["batch norm"]]
    assert list(resumed.variants) == ["baseline", "L2", "batch norm"]
    # the resumed group is what a full run gives
    monkeypatch.setattr(study_module, "_train_group", real)
    fresh = _resumable(None)
    for name in resumed.variants:
        np.testing.assert_allclose(resumed.variants[name]["test"], fresh.variants[name]["test"], rtol=1e-6)


def _changed(units: int = 32, learning_rate: float = 0.2, metrics=None):
    model = Sequential([Dense(units, input_dim=D, activation="relu"), Dense(1, activation="sigmoid")])
    model.compile(optimizers.SGD(learning_rate), "binary_crossentropy", metrics=metrics or [])
    return model


@pytest.mark.parametrize("change", [{"units": 16}, {"learning_rate": 0.05}, {"metrics": ["accuracy"]}],
                         ids=["narrower", "learning rate", "metric"])
def test_a_changed_build_model_trains_again(tmp_path, monkeypatch, change):
    monkeypatch.setattr(StudyResult, "report", lambda self, path: path)  # not what is tested here
    first = _resumable(tmp_path)
    x, y = _data()
    second = study(lambda: _changed(**change), (x, y), RESUME_VARIANTS, seeds=2, epochs=2, verbose=0,
                   output_dir=tmp_path)
    assert len(list((tmp_path / "groups").glob("*.json"))) == 4  # its own files beside the first model's
    assert second.variants["baseline"]["histories"] != first.variants["baseline"]["histories"]


# -- 5. the result
_TOP_KEYS = {"title", "metric", "higher_is_better", "seeds", "baseline", "data", "groups", "variants", "sweep", "notes"}
_VARIANT_KEYS = {"settings", "group", "test", "train", "val", "gap", "epochs", "zero_fraction", "histories", "summary",
                 "gap_summary", "vs_baseline", "diagnosis", "weights", "surviving_inputs"}


@pytest.fixture(scope="module")
def accuracy_study():
    x, y = linear_data(400, d=D)  # 100 to train on (80 + 20 for validation), 300 held out
    variants = {"L2": {"l2": 0.01}, "L1": {"l1": 0.01}, "dropout": {"dropout": 0.3}}
    return study(lambda: _mlp(metrics=["accuracy"]), (x[:100], y[:100], x[100:], y[100:]), variants, seeds=2,
                 epochs=8, verbose=0, title="small study")


def test_to_json_follows_the_schema_and_its_figures_match_references(accuracy_study):
    payload = accuracy_study.to_json()
    assert json.loads(json.dumps(payload)) == payload
    assert set(payload) == _TOP_KEYS
    assert payload["title"] == "small study" and payload["metric"] == "accuracy" and payload["higher_is_better"]
    assert payload["seeds"] == [0, 1] and payload["baseline"] == "baseline" and payload["sweep"] is None
    assert (payload["data"]["train"], payload["data"]["val"], payload["data"]["test"]) == (80, 20, 300)
    assert payload["data"]["description"].startswith("80 training, 20 validation and 300 held-out test samples "
                                                     "of shape (60,); validation: 20% of the training data "
                                                     "(stratified), seed 0")
    assert set(payload["groups"][0]) == {"name", "variants", "mode", "reason", "seconds"}
    assert list(payload["variants"]) == ["baseline", "L2", "L1", "dropout"]
    base = payload["variants"]["baseline"]
    assert base["vs_baseline"] is None
    for name, v in payload["variants"].items():
        assert set(v) == _VARIANT_KEYS, name
        assert all(len(v[k]) == 2 for k in ("test", "train", "val", "gap", "epochs", "zero_fraction", "histories"))
        assert set(v["histories"][0]) >= {"loss", "accuracy", "val_loss", "val_accuracy"}
        np.testing.assert_allclose(v["gap"], np.subtract(v["train"], v["val"]))
        assert v["summary"]["mean"] == pytest.approx(np.mean(v["test"]))
        assert v["summary"]["std"] == pytest.approx(np.std(v["test"], ddof=1))
        assert v["summary"]["ci"] == pytest.approx(list(_stats.bootstrap_ci(v["test"])))
        assert v["gap_summary"]["mean"] == pytest.approx(np.mean(v["gap"]))
        assert isinstance(v["diagnosis"]["verdict"], str)
        assert sum(v["weights"]["counts"]) == 2 * D * 32 and v["weights"]["layer"]
        assert len(v["weights"]["edges"]) == 41
        if name == "baseline":
            continue
        cmp = v["vs_baseline"]
        expected = _stats.paired_comparison(v["test"], base["test"])
        for key in ("difference", "prob_improvement", "wilcoxon_p"):
            assert cmp[key] == pytest.approx(expected[key]), key
        assert cmp["ci"] == pytest.approx(expected["ci"])
        assert cmp["difference"] == pytest.approx(np.mean(np.subtract(v["test"], base["test"])))
        u = scipy.stats.mannwhitneyu(v["test"], base["test"], alternative="two-sided").statistic
        assert cmp["prob_improvement"] == pytest.approx(u / 4)  # U / (n m), rliable's probability of improvement
        gap_diffs = np.subtract(v["gap"], base["gap"])
        assert cmp["gap_difference"] == pytest.approx(gap_diffs.mean())
        assert cmp["gap_ci"] == pytest.approx(list(_stats.bootstrap_ci(gap_diffs)))
    # L1 gets the inputs that survive; the others do not
    assert len(payload["variants"]["L1"]["surviving_inputs"]) == D
    assert all(payload["variants"][n]["surviving_inputs"] is None for n in ("baseline", "L2", "dropout"))


def test_table_frame_html_and_sentences(accuracy_study):
    from rich.console import Console

    console = Console(record=True, width=200)
    console.print(accuracy_study.table())
    text = console.export_text()
    for name in ("baseline", "L2", "L1", "dropout", "small study", "accuracy %", "held-out accuracy over 2 seeds"):
        assert name in text
    base = accuracy_study.variants["baseline"]["summary"]
    assert f"{100 * base['mean']:.1f} ± {100 * base['std']:.1f}" in text

    frame = accuracy_study.to_frame()
    assert list(frame.index) == ["baseline", "L2", "L1", "dropout"]
    assert frame.loc["L2", "accuracy mean"] == pytest.approx(accuracy_study.variants["L2"]["summary"]["mean"])
    assert frame.loc["L2", "difference"] == pytest.approx(accuracy_study.variants["L2"]["vs_baseline"]["difference"])
    assert np.isnan(frame.loc["baseline", "difference"])

    html = accuracy_study._repr_html_()
    assert isinstance(html, str) and "<table" in html and "dropout" in html

    mdd = _stats.min_detectable_difference(accuracy_study.variants["baseline"]["test"])
    assert accuracy_study.notes == [_stats.few_seeds_note(2, mdd, "accuracy")]
    assert accuracy_study.notes[0].startswith("With 2 seeds the intervals are too wide to rank variants")
    best = accuracy_study.best()
    shown = {n: v["vs_baseline"] for n, v in accuracy_study.variants.items()
             if v["vs_baseline"] is not None and v["vs_baseline"]["ci"][0] > 0}
    if shown:
        name = max(shown, key=lambda n: shown[n]["difference"])
        assert best == (name, shown[name])
        assert accuracy_study.summary_sentence().startswith(f"'{name}' helped most: held-out accuracy ")
    else:
        assert best is None
        assert accuracy_study.summary_sentence() == ("No variant improved held-out accuracy over the baseline with "
                                                     "a 95% interval that excludes zero.")
    assert repr(accuracy_study) == "<StudyResult 'small study': 4 variants, 2 seeds>"


def test_best_and_sentence_name_the_variant_shown_to_help():
    def entry(test, cmp):
        return {"test": test, "vs_baseline": cmp}

    payload = {"metric": "accuracy", "variants": {
        "baseline": entry([0.8, 0.8], None),
        "small": entry([0.81, 0.81], {"difference": 0.01, "ci": [0.005, 0.015], "prob_improvement": 1.0}),
        "large": entry([0.9, 0.9], {"difference": 0.1, "ci": [0.08, 0.12], "prob_improvement": 0.75}),
        "unsure": entry([0.95, 0.6], {"difference": 0.2, "ci": [-0.2, 0.6], "prob_improvement": 0.5})}}
    result = StudyResult(payload)
    assert result.best() == ("large", payload["variants"]["large"]["vs_baseline"])
    assert result.summary_sentence() == ("'large' helped most: held-out accuracy +10.0 points over the baseline "
                                         "(95% interval +8.0 to +12.0; better in 75% of seed pairs).")


# -- 6. the lesson's claim on the lesson's task
def _lesson_model():
    """The lesson's model: Dense(64, relu) -> Dense(1, sigmoid), adam."""
    model = Sequential([Dense(64, input_dim=100, activation="relu"), Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return model


def test_the_plain_lesson_model_overfits_and_l2_shrinks_the_gap():
    result = study(_lesson_model, datasets.seed_task(), {"L2 0.01": {"l2": 0.01}}, seeds=3, epochs=40, verbose=0)
    assert result.variants["baseline"]["gap_summary"]["mean"] > 0.1
    cmp = result.variants["L2 0.01"]["vs_baseline"]
    assert cmp["gap_difference"] < 0 and cmp["gap_ci"][1] < 0


# -- 7. augmentation and width on images
def _cnn():
    model = Sequential([Conv2D(4, 3, activation="relu", input_shape=(8, 8, 1)), Flatten(),
                        Dense(8, activation="relu"), Dense(10, activation="softmax")])
    model.compile(optimizers.SGD(0.1), "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def test_augmentation_trains_stacked_as_its_own_fits_and_width_doubles_hidden_layers():
    x, y = datasets.load_digits()
    x, y = x[:300], y[:300]
    augmentation = {"rotation_range": 20, "width_shift_range": 0.2, "zoom_range": 0.2}
    variants = {"augmentation": {"augmentation": augmentation}, "wide": {"width": 2.0}}
    result = study(_cnn, (x, y), variants, seeds=2, epochs=4, verbose=0)
    # augmentation magnitudes are state: the baseline trains with the augmented variant, its
    # augmentation layer at magnitude 0 (the identity)
    assert [(g["variants"], g["mode"]) for g in result.groups] == [
        (["baseline", "augmentation"], "stacked"), (["wide"], "stacked")]
    plain = study(_cnn, (x, y), {"wide": {"width": 2.0}}, seeds=2, epochs=4, verbose=0)
    _assert_history(plain.variants["baseline"]["histories"][1], result.variants["baseline"]["histories"][1])
    aug, base = result.variants["augmentation"], result.variants["baseline"]
    # augmentation changes training only: other losses from the same initial weights
    assert not np.allclose(aug["histories"][0]["loss"], base["histories"][0]["loss"])
    # the stacked augmented models are the ones each seed gives fitted alone
    split = prepare_data((x, y), 0.2, 0)
    checked = check_variants(variants)
    groups = group_variants(checked)
    for i, seed in enumerate([0, 1]):
        model, _, _ = build_variant(_cnn, "augmentation", checked["augmentation"], groups[0], seed)
        _assert_history(_fit_alone(model, split, seed, 4).history, aug["histories"][i])
    # width 2: twice the filters and units of the hidden layers, the output layer unchanged
    wide, _, _ = build_variant(_cnn, "wide", checked["wide"], groups[1], 0)
    sizes = [getattr(layer, "filters", getattr(layer, "units", None)) for layer in wide.layers]
    assert sizes == [8, None, 16, 10]
    assert sum(base["weights"]["counts"]) == 2 * 3 * 3 * 1 * 4  # 2 seeds of a 3x3x1x4 kernel
    assert sum(result.variants["wide"]["weights"]["counts"]) == 2 * 3 * 3 * 1 * 8
