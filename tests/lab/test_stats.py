import re

import numpy as np
import pytest
from scipy import stats

from regulab.lab._stats import (FEW_SEEDS, bootstrap_ci, few_seeds_note, is_fraction_metric,
                                min_detectable_difference, one_standard_error_choice,
                                paired_comparison, prob_improvement, summarize, too_few_seeds)


# --- bootstrap -------------------------------------------------------------------------------------

def test_bootstrap_interval_covers_the_true_mean_at_about_its_nominal_rate():
    # 400 simulated studies of 10 seeds; the percentile bootstrap of the mean undercovers a little at
    # n = 10 (its width uses the ddof=0 spread and normal, not t, quantiles): about 0.91 for 0.95
    true_mean = 0.8
    samples = np.random.default_rng(1).normal(true_mean, 0.02, size=(400, 10))
    covered = [lo <= true_mean <= hi
               for lo, hi in (bootstrap_ci(x, n_resamples=2000, seed=i) for i, x in enumerate(samples))]
    assert 0.88 <= np.mean(covered) <= 0.97


def test_a_lower_confidence_gives_a_lower_coverage():
    true_mean = 0.0
    samples = np.random.default_rng(2).normal(true_mean, 1.0, size=(300, 20))
    covered = [lo <= true_mean <= hi for lo, hi in
               (bootstrap_ci(x, confidence=0.5, n_resamples=1000, seed=i) for i, x in enumerate(samples))]
    assert 0.40 <= np.mean(covered) <= 0.60


def test_bootstrap_on_a_large_sample_agrees_with_the_normal_theory_interval():
    x = np.random.default_rng(3).normal(0.5, 1.0, size=500)
    half = stats.norm.ppf(0.975) * x.std(ddof=1) / np.sqrt(x.size)
    lo, hi = bootstrap_ci(x, n_resamples=4000)
    # the endpoints' Monte Carlo error at 4000 resamples is about 3% of the half-width
    assert lo == pytest.approx(x.mean() - half, abs=0.1 * half)
    assert hi == pytest.approx(x.mean() + half, abs=0.1 * half)


def test_bootstrap_equals_a_reference_loop_over_the_same_resamples():
    x = np.array([0.71, 0.74, 0.69, 0.80, 0.77, 0.73])
    rng = np.random.default_rng(7)
    index = rng.integers(0, x.size, size=(500, x.size))
    for statistic, reduce in [("mean", np.mean), ("median", np.median),
                              ("iqm", lambda s: stats.trim_mean(s, 0.25))]:
        ref = np.quantile([reduce(x[row]) for row in index], [0.05, 0.95])
        got = bootstrap_ci(x, confidence=0.9, n_resamples=500, statistic=statistic, seed=7)
        np.testing.assert_allclose(got, ref, rtol=0, atol=1e-12)


def test_bootstrap_is_deterministic_given_the_seed_and_returns_floats():
    x = np.random.default_rng(0).normal(0.8, 0.02, size=12).tolist()
    a, b = bootstrap_ci(x, n_resamples=300, seed=5), bootstrap_ci(x, n_resamples=300, seed=5)
    assert a == b and type(a[0]) is float and type(a[1]) is float
    assert bootstrap_ci(x, n_resamples=300, seed=6) != a


def test_one_value_gives_a_point_interval():
    assert bootstrap_ci([0.7]) == (0.7, 0.7)
    assert summarize([0.7]) == {"mean": 0.7, "std": 0.0, "ci": [0.7, 0.7]}


def test_summarize_reports_mean_sample_std_and_the_bootstrap_interval():
    x = [0.80, 0.83, 0.79, 0.85]
    s = summarize(x, seed=3)
    assert s["mean"] == pytest.approx(np.mean(x))
    assert s["std"] == pytest.approx(np.std(x, ddof=1))
    assert s["ci"] == list(bootstrap_ci(x, seed=3))


# --- paired comparison -----------------------------------------------------------------------------

def _brute_force_prob_improvement(x, y):
    total = 0.0
    for a in x:
        for b in y:
            total += 1.0 if a > b else 0.5 if a == b else 0.0
    return total / (len(x) * len(y))


def test_prob_improvement_matches_a_double_loop_and_mann_whitney():
    rng = np.random.default_rng(4)
    x = rng.integers(0, 6, size=7).astype(float)  # small integers, so ties occur
    y = rng.integers(0, 6, size=5).astype(float)
    u = stats.mannwhitneyu(x, y).statistic
    assert prob_improvement(x, y) == pytest.approx(_brute_force_prob_improvement(x, y))
    assert prob_improvement(x, y) == pytest.approx(u / (x.size * y.size))
    # lower is better: improvement is the variant below the baseline
    u_lower = stats.mannwhitneyu(y, x).statistic
    assert prob_improvement(x, y, higher_is_better=False) == pytest.approx(u_lower / (x.size * y.size))


def test_paired_comparison_against_scipy_and_numpy():
    variant = np.array([0.84, 0.86, 0.83, 0.88, 0.85, 0.87, 0.82])
    baseline = np.array([0.82, 0.83, 0.84, 0.84, 0.81, 0.85, 0.80])
    r = paired_comparison(variant, baseline, seed=1)
    assert r["difference"] == pytest.approx(np.mean(variant - baseline))
    assert r["ci"] == list(bootstrap_ci(variant - baseline, seed=1))
    assert r["prob_improvement"] == pytest.approx(
        stats.mannwhitneyu(variant, baseline).statistic / variant.size ** 2)
    assert r["wilcoxon_p"] == pytest.approx(stats.wilcoxon(variant, baseline).pvalue)
    assert set(r) == {"difference", "ci", "prob_improvement", "wilcoxon_p"}


def test_paired_comparison_flips_the_sign_for_a_loss():
    variant, baseline = [0.30, 0.28, 0.35, 0.31], [0.34, 0.33, 0.36, 0.30]
    r = paired_comparison(variant, baseline, higher_is_better=False)
    assert r["difference"] == pytest.approx(np.mean(np.subtract(baseline, variant)))
    assert r["difference"] > 0  # a lower loss is better
    lo, hi = bootstrap_ci(np.subtract(baseline, variant))
    assert r["ci"] == [lo, hi]
    assert r["prob_improvement"] == pytest.approx(_brute_force_prob_improvement(
        -np.array(variant), -np.array(baseline)))
    assert r["wilcoxon_p"] == pytest.approx(stats.wilcoxon(variant, baseline).pvalue)


@pytest.mark.parametrize("variant, baseline", [
    ([0.8, 0.8, 0.8], [0.8, 0.8, 0.8]),      # all differences zero
    ([0.9, 0.8, 0.8], [0.8, 0.8, 0.8]),      # one nonzero difference
    ([0.9], [0.8]),                          # one seed
])
def test_wilcoxon_p_is_none_without_two_nonzero_differences(variant, baseline):
    assert paired_comparison(variant, baseline)["wilcoxon_p"] is None


def test_wilcoxon_p_with_two_nonzero_differences_is_scipys():
    variant, baseline = [0.9, 0.7, 0.8], [0.8, 0.8, 0.8]
    assert paired_comparison(variant, baseline)["wilcoxon_p"] == pytest.approx(
        stats.wilcoxon(variant, baseline).pvalue)


# --- what a study can detect -----------------------------------------------------------------------

def test_min_detectable_difference_matches_the_closed_form():
    base = np.array([0.80, 0.83, 0.79, 0.85, 0.82])
    s = np.std(base, ddof=1)
    z = stats.norm.ppf(0.975) + stats.norm.ppf(0.8)
    assert min_detectable_difference(base) == pytest.approx(z * np.sqrt(2) * s / np.sqrt(5))
    z90 = stats.norm.ppf(0.95) + stats.norm.ppf(0.9)
    assert min_detectable_difference(base, n_seeds=20, confidence=0.9, power=0.9) == pytest.approx(
        z90 * np.sqrt(2) * s / np.sqrt(20))


def test_too_few_seeds_is_below_five():
    assert FEW_SEEDS == 5
    assert [too_few_seeds(n) for n in (1, 2, 4, 5, 10)] == [True, True, True, False, False]


def test_few_seeds_note_in_points_for_fractions_and_units_otherwise():
    assert few_seeds_note(2, 0.0312, "accuracy") == (
        "With 2 seeds the intervals are too wide to rank variants; the smallest difference this study "
        "could detect is about 3.1 points of accuracy.")
    assert few_seeds_note(3, 0.04563, "loss") == (
        "With 3 seeds the intervals are too wide to rank variants; the smallest difference this study "
        "could detect is about 0.0456 in loss.")
    assert few_seeds_note(4, 0.5, "score", fraction=True).endswith("about 50.0 points of score.")
    assert few_seeds_note(1, None, "accuracy") == (
        "With 1 seed the intervals are too wide to rank variants; the seed spread cannot be estimated, "
        "so the smallest difference this study could detect in accuracy is unknown.")
    assert [is_fraction_metric(m) for m in ("val_accuracy", "AUC", "f1_score", "mse", "loss")] == [
        True, True, True, False, False]


# --- one-standard-error rule -----------------------------------------------------------------------

def test_one_standard_error_rule_on_a_scripted_curve():
    strengths = [1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0]
    acc = [0.800, 0.815, 0.830, 0.822, 0.818, 0.60]
    se = [0.005, 0.005, 0.010, 0.005, 0.005, 0.005]
    # best at 1e-3; within 0.830 - 0.010 = 0.820: 1e-3 and 1e-2 (0.822), not 1e-1 (0.818)
    assert one_standard_error_choice(strengths, acc, se) == (1e-3, 1e-2)
    # the smallest end as the most regularized one (e.g. a width): 1e-3 itself is the smallest within
    assert one_standard_error_choice(strengths, acc, se, prefer="smallest") == (1e-3, 1e-3)
    loss = [0.50, 0.42, 0.40, 0.41, 0.45, 0.90]
    se_loss = [0.02, 0.02, 0.02, 0.02, 0.02, 0.02]
    # best at 1e-3; within 0.40 + 0.02 = 0.42: 1e-4, 1e-3 and 1e-2 -> the largest is 1e-2
    assert one_standard_error_choice(strengths, loss, se_loss, higher_is_better=False) == (1e-3, 1e-2)
    assert one_standard_error_choice(strengths, loss, se_loss, higher_is_better=False,
                                     prefer="smallest") == (1e-3, 1e-4)


# --- bad input -------------------------------------------------------------------------------------

_PER_SEED = "expected a non-empty 1-D sequence of finite numbers (one per seed)"


@pytest.mark.parametrize("values, shown", [
    ([], "[]"), ([0.8, float("nan")], "[0.8, nan]"), ([0.8, float("inf")], "[0.8, inf]"),
    ("abc", "'abc'"), ([[0.8, 0.9]], "[[0.8, 0.9]]"), (["a", "b"], "['a', 'b']"),
])
def test_bad_values_name_the_argument(values, shown):
    msg = f"Invalid value for argument `values` of bootstrap_ci: {_PER_SEED}. Received: values={shown}"
    with pytest.raises(ValueError, match=f"^{re.escape(msg)}$"):
        bootstrap_ci(values)


@pytest.mark.parametrize("confidence", [0.0, 1.0, 1.5, -0.1])
def test_confidence_must_lie_in_the_open_unit_interval(confidence):
    for fn, args in [(bootstrap_ci, ([1.0, 2.0],)), (summarize, ([1.0, 2.0],)),
                     (paired_comparison, ([1.0, 2.0], [1.0, 3.0])),
                     (min_detectable_difference, ([1.0, 2.0],))]:
        msg = (f"Invalid value for argument `confidence` of {fn.__name__}: expected a float in (0, 1). "
               f"Received: confidence={confidence!r}")
        with pytest.raises(ValueError, match=f"^{re.escape(msg)}$"):
            fn(*args, confidence=confidence)


def test_other_bootstrap_arguments_are_checked():
    with pytest.raises(ValueError, match=re.escape(
            "Invalid value for argument `n_resamples` of bootstrap_ci: expected an integer in [1, inf). "
            "Received: n_resamples=0")):
        bootstrap_ci([1.0, 2.0], n_resamples=0)
    with pytest.raises(ValueError, match=re.escape(
            "Invalid value for argument `statistic` of bootstrap_ci: expected one of 'mean', 'median', "
            "'iqm'. Received: statistic='meen'. Did you mean 'mean'?")):
        bootstrap_ci([1.0, 2.0], statistic="meen")
    with pytest.raises(ValueError, match=re.escape(
            "Invalid value for argument `seed` of summarize: expected an integer in [0, inf). "
            "Received: seed=-1")):
        summarize([1.0, 2.0], seed=-1)


def test_paired_comparison_needs_matched_seeds():
    msg = ("Arguments `variant` and `baseline` of paired_comparison must hold one value per seed, "
           "matched by position: got 3 variant values and 2 baseline values.")
    with pytest.raises(ValueError, match=f"^{re.escape(msg)}$"):
        paired_comparison([0.8, 0.81, 0.82], [0.8, 0.79])
    with pytest.raises(ValueError, match=re.escape(
            f"Invalid value for argument `baseline` of paired_comparison: {_PER_SEED}. Received: baseline=[]")):
        paired_comparison([0.8], [])
    with pytest.raises(ValueError, match=re.escape(
            "Invalid value for argument `higher_is_better` of paired_comparison: expected a bool. "
            "Received: higher_is_better='yes'")):
        paired_comparison([0.8], [0.7], higher_is_better="yes")


def test_min_detectable_difference_arguments_are_checked():
    with pytest.raises(ValueError, match=re.escape(
            "Invalid value for argument `baseline_values` of min_detectable_difference: expected at least "
            "2 values to estimate the seed spread. Received: baseline_values=[0.8]")):
        min_detectable_difference([0.8])
    with pytest.raises(ValueError, match=re.escape(
            "Invalid value for argument `n_seeds` of min_detectable_difference: expected an integer in "
            "[1, inf). Received: n_seeds=0")):
        min_detectable_difference([0.8, 0.9], n_seeds=0)
    with pytest.raises(ValueError, match=re.escape(
            "Invalid value for argument `power` of min_detectable_difference: expected a float in (0, 1). "
            "Received: power=1.0")):
        min_detectable_difference([0.8, 0.9], power=1.0)


def test_seed_count_and_note_arguments_are_checked():
    with pytest.raises(ValueError, match=re.escape(
            "Invalid value for argument `n` of too_few_seeds: expected an integer in [0, inf). Received: n=-1")):
        too_few_seeds(-1)
    with pytest.raises(ValueError, match=re.escape(
            "Invalid value for argument `n` of few_seeds_note: expected an integer in [1, inf). Received: n=0")):
        few_seeds_note(0, 0.1, "accuracy")
    with pytest.raises(ValueError, match=re.escape(
            "Invalid value for argument `mdd` of few_seeds_note: expected a float in [0, inf). "
            "Received: mdd=-0.1")):
        few_seeds_note(2, -0.1, "accuracy")


def test_one_standard_error_arguments_are_checked():
    msg = ("Arguments `values`, `means` and `stds_of_mean` of one_standard_error_choice must have the same "
           "length: got 3, 2 and 3.")
    with pytest.raises(ValueError, match=f"^{re.escape(msg)}$"):
        one_standard_error_choice([1, 2, 3], [0.8, 0.9], [0.1, 0.1, 0.1])
    with pytest.raises(ValueError, match=re.escape(
            "Invalid value for argument `means` of one_standard_error_choice: expected a non-empty 1-D "
            "sequence of finite numbers (one per swept value). Received: means=[0.8, nan]")):
        one_standard_error_choice([1, 2], [0.8, float("nan")], [0.1, 0.1])
    with pytest.raises(ValueError, match=re.escape(
            "Invalid value for argument `stds_of_mean` of one_standard_error_choice: expected standard "
            "errors >= 0. Received: stds_of_mean=[0.1, -0.1]")):
        one_standard_error_choice([1, 2], [0.8, 0.9], [0.1, -0.1])
    with pytest.raises(ValueError, match=re.escape(
            "Invalid value for argument `prefer` of one_standard_error_choice: expected one of 'largest', "
            "'smallest'. Received: prefer='large'. Did you mean 'largest'?")):
        one_standard_error_choice([1, 2], [0.8, 0.9], [0.1, 0.1], prefer="large")
