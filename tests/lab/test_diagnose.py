import json
import math
import re

import numpy as np
import pytest
from scipy.stats import entropy

import regulab
from regulab.callbacks import CSVLogger, History
from regulab.lab._diagnose import VERDICTS, Diagnosis, diagnose, reference_levels
from regulab.lab._diagnose_rules import GAP_OVERFIT, NOISE_UNSTABLE, RISE_OVERFIT, UNDER_LEVEL, patience_for
from regulab.layers import Dense
from regulab.models import Sequential

LN2 = math.log(2.0)
BALANCED = np.array([0, 1] * 50)  # prior loss ln 2, chance accuracy 0.5
# the settings lab.study accepts
VOCABULARY = {"l1", "l1_proximal", "l2", "dropout", "batch_norm", "gaussian_noise", "augmentation",
              "early_stopping", "mixup", "learning_rate", "width", "epochs"}

e40 = np.arange(40.0)


def widening_gap():
    """Training falls to zero, validation bottoms at epoch 8 and climbs: overfitting."""
    train = 0.69 * np.exp(-e40 / 6)
    val = 0.45 + 0.25 * np.exp(-e40 / 3) + 0.004 * np.maximum(e40 - 8, 0) ** 1.2
    return {"loss": train.tolist(), "val_loss": val.tolist()}


def flat_gap():
    """Training falls to zero while validation stays flat far above it: overfitting without a rise."""
    train = 0.69 * np.exp(-e40 / 4)
    val = 0.35 + 0.3 * np.exp(-e40 / 2)
    return {"loss": train.tolist(), "val_loss": val.tolist()}


def high_flat():
    """Both curves stay at the prior loss: underfitting."""
    rng = np.random.default_rng(0)
    train = LN2 - 0.002 * (1 - np.exp(-e40 / 3)) + 0.0005 * rng.standard_normal(40)
    val = LN2 + 0.003 + 0.0005 * rng.standard_normal(40)
    return {"loss": train.tolist(), "val_loss": val.tolist()}


def converging():
    """Both curves level off close together, well below the prior: a good fit."""
    train = 0.20 + 0.5 * np.exp(-e40 / 4)
    val = 0.215 + 0.45 * np.exp(-e40 / 4)
    return {"loss": train.tolist(), "val_loss": val.tolist()}


def still_falling():
    """Ten epochs, both curves still going down steadily: still improving."""
    e = np.arange(10.0)
    train = 0.69 - 0.025 * e
    val = 0.68 - 0.022 * e
    return {"loss": train.tolist(), "val_loss": val.tolist()}


def noisy():
    """Validation jumps by a tenth of the prior from epoch to epoch: unstable."""
    rng = np.random.default_rng(1)
    train = 0.3 + 0.4 * np.exp(-e40 / 4)
    val = 0.35 + 0.35 * np.exp(-e40 / 4) + 0.07 * rng.standard_normal(40)
    return {"loss": train.tolist(), "val_loss": val.tolist()}


SCRIPTED = [(widening_gap, "overfitting"), (flat_gap, "overfitting"), (high_flat, "underfitting"),
            (converging, "good fit"), (still_falling, "still improving"), (noisy, "unstable")]


@pytest.mark.parametrize("make, verdict", SCRIPTED, ids=[f.__name__ for f, _ in SCRIPTED])
def test_scripted_histories_get_their_verdict(make, verdict):
    assert diagnose(make(), y_train=BALANCED).verdict == verdict


@pytest.mark.parametrize("make, verdict", SCRIPTED, ids=[f.__name__ for f, _ in SCRIPTED])
def test_verdicts_do_not_need_the_labels(make, verdict):
    # without y_train the scale is the first epoch's loss, here close to the prior
    assert diagnose(make()).verdict == verdict


def test_evidence_against_direct_computation():
    h = widening_gap()
    t, v = np.array(h["loss"]), np.array(h["val_loss"])
    ev = diagnose(h, y_train=BALANCED).evidence
    best = int(np.argmin(v))
    assert ev["best_epoch"] == best
    assert ev["best_value"] == pytest.approx(v[best], rel=1e-4)
    assert ev["gap_at_best"] == pytest.approx(v[best] - t[best], rel=1e-3)
    assert ev["gap_at_last"] == pytest.approx(v[-1] - t[-1], rel=1e-3)
    assert ev["relative_gap_at_last"] == pytest.approx((v[-1] - t[-1]) / LN2, rel=1e-3)
    assert ev["scale"] == pytest.approx(LN2)
    # trends: least-squares slope over the last 30% of epochs (12), times max(epochs, 20)
    k = 12
    slope = np.polyfit(np.arange(k), v[-k:] / LN2, 1)[0]
    assert ev["val_trend"] == pytest.approx(slope * 40, rel=1e-3)
    assert ev["rise_after_best"] > RISE_OVERFIT
    assert ev["epochs"] == 40


def test_noise_is_the_residual_std_of_white_noise():
    rng = np.random.default_rng(3)
    sigma = 0.02
    val = 0.4 + 0.3 * np.exp(-np.arange(200) / 30) + sigma * rng.standard_normal(200)
    train = 0.3 + 0.3 * np.exp(-np.arange(200) / 30)
    ev = diagnose({"loss": train.tolist(), "val_loss": val.tolist()}, y_train=BALANCED).evidence
    assert ev["noise"] == pytest.approx(sigma / LN2, rel=0.15)
    assert ev["train_noise"] < 1e-3


@pytest.mark.parametrize("labels", [[0, 0, 0, 1], [0, 1, 2, 2, 2, 1, 0, 2], ["cat", "dog", "dog"]])
def test_reference_levels_match_the_closed_forms(labels):
    _, counts = np.unique(labels, return_counts=True)
    p = counts / counts.sum()
    levels = reference_levels(labels)
    assert levels["chance_accuracy"] == pytest.approx(p.max())
    assert levels["prior_loss"] == pytest.approx(entropy(p))  # natural log: nats
    assert levels["classes"] == len(p)


def test_reference_levels_of_one_hot_and_column_labels():
    y = np.array([0, 1, 1, 2, 2, 2])
    one_hot = np.eye(3)[y]
    assert reference_levels(one_hot)["prior_loss"] == pytest.approx(entropy([1, 2, 3]))
    assert reference_levels(y[:, None].astype(float))["chance_accuracy"] == pytest.approx(0.5)


def test_reference_level_of_a_regression_is_the_variance():
    y = np.random.default_rng(0).normal(2.0, 3.0, 500)
    levels = reference_levels(y)
    assert levels["prior_loss"] == pytest.approx(np.var(y))
    assert "chance_accuracy" not in levels


def test_labels_set_the_scale_and_the_reference_levels():
    y = np.array([0] * 80 + [1] * 20)
    ev = diagnose(converging(), y_train=y).evidence
    assert ev["prior_loss"] == pytest.approx(entropy([0.8, 0.2]))
    assert ev["scale"] == pytest.approx(entropy([0.8, 0.2]))
    assert ev["chance_accuracy"] == pytest.approx(0.8)


def _write_csv(path, history, separator=","):
    log = CSVLogger(path, separator=separator)
    log.on_train_begin()
    names = list(history)
    for epoch in range(len(history[names[0]])):
        log.on_epoch_end(epoch, {k: history[k][epoch] for k in names if history[k][epoch] is not None})
    log.on_train_end()


@pytest.mark.parametrize("separator", [",", ";"])
def test_csv_round_trip_gives_the_same_diagnosis(tmp_path, separator):
    h = widening_gap()
    path = tmp_path / "log.csv"
    _write_csv(str(path), h, separator)
    from_file = diagnose(path, y_train=BALANCED).to_json()
    from_dict = diagnose(h, y_train=BALANCED).to_json()
    assert from_file["verdict"] == from_dict["verdict"] == "overfitting"
    for key in ("best_epoch", "gap_at_best", "gap_at_last", "val_trend", "noise"):
        assert from_file["evidence"][key] == pytest.approx(from_dict["evidence"][key], rel=1e-6)
    assert diagnose(str(path), y_train=BALANCED).verdict == "overfitting"


def test_csv_na_cells_are_left_out_and_said(tmp_path):
    h = converging()
    h["val_loss"][7] = None  # CSVLogger writes NA for a name an epoch did not log
    path = tmp_path / "log.csv"
    _write_csv(str(path), h)
    assert "\n7,{:},NA\n".format(h["loss"][7]) in path.read_text()
    d = diagnose(str(path), y_train=BALANCED)
    assert d.verdict == "good fit"
    assert any("1 epoch(s) without a value of loss or val_loss were left out" in m for m in d.missing)


def test_several_seeds_give_the_majority_and_its_agreement():
    rng = np.random.default_rng(0)
    seeds = []
    for _ in range(4):
        h = widening_gap()
        h["val_loss"] = (np.array(h["val_loss"]) + 0.002 * rng.standard_normal(40)).tolist()
        seeds.append(h)
    seeds.append(converging())
    d = diagnose(seeds, y_train=BALANCED)
    assert d.verdict == "overfitting"
    assert d.agreement == pytest.approx(0.8)
    assert d.per_history == ["overfitting"] * 4 + ["good fit"]
    assert d.evidence["histories"] == 5
    # the evidence is the median over the histories
    best = [int(np.argmin(h["val_loss"])) for h in seeds]
    assert d.evidence["best_epoch"] == int(np.median(best))
    assert "agreement: 4 of 5 histories (80%)" in str(d)


def test_a_tie_goes_to_the_verdict_that_calls_for_action():
    d = diagnose([converging(), widening_gap()], y_train=BALANCED)
    assert d.verdict == "overfitting" and d.agreement == pytest.approx(0.5)


def test_one_history_has_no_agreement():
    d = diagnose(converging())
    assert d.agreement is None and d.per_history == ["good fit"]


def test_history_object_gives_directions_and_learning_rate():
    h = History()
    h.on_train_begin()
    data = noisy()
    for epoch in range(40):
        h.on_epoch_end(epoch, {"loss": data["loss"][epoch], "val_loss": data["val_loss"][epoch]})
    h.model = type("M", (), {"optimizer": regulab.optimizers.Adam(learning_rate=0.02)})()
    d = diagnose(h, y_train=BALANCED)
    assert d.verdict == "unstable"
    assert d.recommendations[0].technique == "lower learning rate"
    assert d.recommendations[0].settings == {"learning_rate": 0.0067}  # a third, to 2 significant digits


def test_data_loss_is_preferred_to_the_penalized_loss():
    h = converging()
    h["data_loss"], h["val_data_loss"] = h["loss"], h["val_loss"]
    h["loss"] = [x + 0.5 for x in h["loss"]]  # the L2 penalty is in the reported loss, as in Keras
    h["val_loss"] = [x + 0.5 for x in h["val_loss"]]
    d = diagnose(h, y_train=BALANCED)
    assert d.evidence["metric"] == "data_loss" and d.verdict == "good fit"


def test_monitor_on_accuracy():
    e = np.arange(30.0)
    h = {"loss": (0.69 * np.exp(-e / 5)).tolist(), "val_loss": (0.5 + 0.01 * e).tolist(),
         "accuracy": (1 - 0.5 * np.exp(-e / 3)).tolist(), "val_accuracy": (0.75 + 0.0 * e).tolist()}
    d = diagnose(h, monitor="val_accuracy", y_train=BALANCED)
    ev = d.evidence
    assert ev["metric"] == "accuracy" and ev["higher_is_better"] is True
    assert ev["scale"] == pytest.approx(0.5)  # the error of guessing the majority class
    assert ev["gap_at_last"] == pytest.approx(h["accuracy"][-1] - 0.75, rel=1e-3)
    assert d.verdict == "overfitting"
    # by default the loss is judged and the accuracy reported beside it
    ev = diagnose(h, y_train=BALANCED).evidence
    assert ev["metric"] == "loss" and ev["val_accuracy"] == pytest.approx(0.75)


def test_without_validation_the_training_curve_is_judged():
    flat = {"loss": high_flat()["loss"]}
    d = diagnose(flat, y_train=BALANCED)
    assert d.verdict == "underfitting"
    assert d.missing[0] == (
        "No validation metrics (no 'val_loss'): only the training curve is judged, so the diagnosis can tell "
        "underfitting, training that is still improving and unstable training, but not overfitting from a good "
        "fit. Pass validation_data or validation_split to fit.")
    assert diagnose({"loss": still_falling()["loss"]}, y_train=BALANCED).verdict == "still improving"
    low = diagnose({"loss": converging()["loss"]}, y_train=BALANCED)
    assert low.verdict == "good fit"
    assert "says nothing about held-out data" in low.missing[1]
    assert "best_epoch" not in low.evidence


def test_a_diverged_history_is_unstable():
    h = converging()
    h["loss"][20:] = [float("nan")] * 20
    d = diagnose(h, y_train=BALANCED)
    assert d.verdict == "unstable" and d.evidence["diverged_at"] == 20
    assert d.recommendations[0].settings == {"learning_rate": 0.0001}
    assert d.recommendations[0].reason.startswith("training diverged")
    json.dumps(d.to_json(), allow_nan=False)
    d0 = diagnose({"loss": [float("inf"), 1.0], "val_loss": [1.0, 1.0]})
    assert d0.verdict == "unstable" and d0.evidence["diverged_at"] == 0


def test_empty_history_is_an_error():
    message = ("Cannot diagnose an empty history: history has no epochs. Pass the History that fit returns "
               "(or its .history dict, or a CSVLogger file) after at least one epoch.")
    for empty in ({}, {"loss": [], "val_loss": []}, History()):
        with pytest.raises(ValueError, match=re.escape(message)):
            diagnose(empty)


def test_empty_csv_is_an_error(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("epoch,loss,val_loss\n")
    with pytest.raises(ValueError, match=re.escape(f"Cannot diagnose an empty history: history ('{path}') has "
                                                   "no epochs.")):
        diagnose(str(path))


def test_unknown_monitor_lists_the_logged_names():
    with pytest.raises(ValueError, match=re.escape(
            "Invalid value for argument `monitor` of diagnose: expected one of the logged metrics ('loss', "
            "'val_loss'). Received: monitor='val_los'. Did you mean 'val_loss'?")):
        diagnose(converging(), monitor="val_los")
    with pytest.raises(ValueError, match=re.escape("expected one of the logged metrics ('loss'). Received: "
                                                   "monitor='val_loss'.")):
        diagnose({"loss": [0.5, 0.4, 0.3]}, monitor="val_loss")


def test_mismatched_inputs_are_errors():
    with pytest.raises(ValueError, match=re.escape(
            "Invalid value for argument `history` of diagnose: every quantity needs one value per epoch, but the "
            "lengths differ: {'loss': 3, 'val_loss': 2}.")):
        diagnose({"loss": [0.5, 0.4, 0.3], "val_loss": [0.5, 0.4]})
    with pytest.raises(ValueError, match=re.escape(
            "The histories must come from one configuration and log the same quantities: history[0] logs "
            "['loss', 'val_loss'], history[1] logs ['loss'].")):
        diagnose([converging(), {"loss": converging()["loss"]}])
    with pytest.raises(ValueError, match=re.escape(
            "Invalid value for argument `history` of diagnose: 'loss' must hold numbers (or None where missing). "
            "Received at epoch 1: 'low'")):
        diagnose({"loss": [0.5, "low"]})
    with pytest.raises(ValueError, match=re.escape(
            "Invalid value for argument `history[1]` of diagnose: expected a History, a dict of per-epoch lists, "
            "a CSVLogger file path, or a list of those. Received: history[1]=42")):
        diagnose([converging(), 42])
    with pytest.raises(ValueError, match=re.escape(
            "Invalid value for argument `history['loss']` of diagnose: expected a list with one value per epoch. "
            "Received: history['loss']=0.5")):
        diagnose({"loss": 0.5})
    with pytest.raises(ValueError, match=re.escape("Invalid value for argument `history` of diagnose: expected a "
                                                   "History, a dict, a CSVLogger file, or a non-empty list of "
                                                   "them. Received: history=[]")):
        diagnose([])
    with pytest.raises(ValueError, match=re.escape("Invalid value for argument `y_train` of diagnose: expected a "
                                                   "non-empty array of labels. Received: y_train=[]")):
        diagnose(converging(), y_train=[])


def test_missing_file_names_the_path(tmp_path):
    path = tmp_path / "nope.csv"
    with pytest.raises(FileNotFoundError, match=re.escape(f"No history file at '{path}': expected a CSV file "
                                                          "written by CSVLogger.")):
        diagnose(path)


@pytest.mark.parametrize("make, verdict", SCRIPTED, ids=[f.__name__ for f, _ in SCRIPTED])
def test_to_json_round_trips_through_json(make, verdict):
    d = diagnose(make(), y_train=BALANCED)
    data = json.loads(json.dumps(d.to_json(), allow_nan=False))
    assert set(data) == {"verdict", "evidence", "recommendations", "missing", "agreement", "per_history"}
    assert data["verdict"] == verdict and data["evidence"]["best_epoch"] == d.evidence["best_epoch"]
    assert all(set(r) == {"technique", "settings", "reason"} for r in data["recommendations"])


@pytest.mark.parametrize("make, verdict", SCRIPTED, ids=[f.__name__ for f, _ in SCRIPTED])
def test_variants_are_study_settings(make, verdict):
    d = diagnose(make(), y_train=BALANCED)
    variants = d.variants()
    assert list(variants)[0] == "baseline" and variants["baseline"] == {}
    for name, settings in variants.items():
        assert set(settings) <= VOCABULARY, name
    if verdict != "good fit":
        assert len(variants) > 1


def test_recommendations_follow_the_evidence():
    over = diagnose(widening_gap(), y_train=BALANCED)
    assert over.recommendations[0].settings == {"early_stopping": patience_for(40)}
    assert over.recommendations[1].settings == {"l2": 0.01}  # a large gap: the strong setting
    assert over.variants()["l2=0.01+dropout=0.5+early_stopping=4"] == {"l2": 0.01, "dropout": 0.5,
                                                                      "early_stopping": 4}
    flat = diagnose(flat_gap(), y_train=BALANCED)  # validation is lowest at the end: stopping keeps nothing
    assert flat.recommendations[0].settings == {"l2": 0.01}
    assert {"early_stopping": 4} not in [r.settings for r in flat.recommendations]
    under = diagnose(high_flat(), y_train=BALANCED)
    assert under.recommendations[0].settings == {"width": 4.0}
    still = diagnose(still_falling(), y_train=BALANCED)
    assert still.recommendations[0].settings == {"epochs": 30, "early_stopping": 3}


def test_str_and_html():
    d = diagnose(widening_gap(), y_train=BALANCED)
    text = str(d)
    assert text.splitlines()[0] == "verdict: overfitting"
    assert "best epoch: " in text and "recommendations:" in text and "1. early stopping" in text
    page = d._repr_html_()
    assert "verdict: overfitting" in page and "<ol>" in page and "<script" not in page
    assert isinstance(d, Diagnosis) and d.verdict in VERDICTS


def test_thresholds_separate_the_scripted_cases():
    # the scripted cases sit clearly on their side of the thresholds, not on the edge
    ev = diagnose(converging(), y_train=BALANCED).evidence
    assert ev["relative_gap_at_last"] < GAP_OVERFIT / 2 and ev["train_level"] < UNDER_LEVEL / 1.5
    assert diagnose(noisy(), y_train=BALANCED).evidence["noise"] > 2 * NOISE_UNSTABLE


def test_a_large_model_on_few_samples_overfits():
    task = regulab.datasets.seed_task(n_train=400, n_test=500)
    regulab.set_random_seed(0)
    model = Sequential([Dense(512, input_dim=100, activation="relu"), Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(task.x_train, task.y_train, epochs=40, validation_data=(task.x_test, task.y_test),
                        verbose=0, seed=0)
    d = diagnose(history, y_train=task.y_train)
    assert d.verdict == "overfitting"
    assert d.evidence["best_epoch"] < 15 and d.evidence["train_accuracy"] == 1.0
    assert d.recommendations[0].technique == "early stopping"
