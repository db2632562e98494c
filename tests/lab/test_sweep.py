import re

import numpy as np
import pytest

from regulab import optimizers
from regulab.lab import sweep
from regulab.layers import Dense
from regulab.models import Sequential
from tests.helpers import linear_data


def _mlp():
    model = Sequential([Dense(16, input_dim=20, activation="relu"), Dense(1, activation="sigmoid")])
    model.compile(optimizers.SGD(0.1), "binary_crossentropy", metrics=["accuracy"])
    return model


@pytest.fixture(scope="module")
def l2_sweep():
    x, y = linear_data(120, d=20)
    return sweep(_mlp, (x, y), "l2", [1e-3, 1e-2, 1e-1, 1.0], seeds=3, epochs=5, verbose=0)


def test_sweep_trains_every_value_stacked_and_gives_the_curve(l2_sweep):
    r = l2_sweep
    assert r.values == [1e-3, 1e-2, 1e-1, 1.0]
    assert [g["mode"] for g in r.study.groups] == ["stacked"]
    for v, mean, (lo, hi) in zip(r.values, r.val_mean, r.val_ci):
        seeds = r.study.variants[f"l2 {v:g}"]["val"]
        assert mean == pytest.approx(np.mean(seeds))
        assert lo <= mean <= hi
    # the best value maximizes the validation accuracy; the one-SE choice is the largest factor
    # whose mean is within one standard error (of the best value's mean) of the best
    means = np.array(r.val_mean)
    best = int(np.argmax(means))
    assert r.best == r.values[best]
    sem = np.std(r.study.variants[f"l2 {r.best:g}"]["val"], ddof=1) / np.sqrt(3)
    within = [v for v, m in zip(r.values, means) if m >= means[best] - sem]
    assert r.one_se == max(within)
    assert r.study.to_json()["sweep"]["one_se"] == r.one_se
    assert "<- best" in str(r)


def test_sweep_rejects_bad_arguments():
    x, y = linear_data(40, d=20)
    with pytest.raises(ValueError, match=re.escape("Invalid value for argument `param` of sweep: expected one of")):
        sweep(_mlp, (x, y), "l3", [0.1, 0.2])
    with pytest.raises(ValueError, match=re.escape("Argument `values` of sweep needs at least 2 values; "
                                                   "received [0.1].")):
        sweep(_mlp, (x, y), "l2", [0.1])
    with pytest.raises(ValueError, match=re.escape("Argument `values` of sweep has repeated values: [0.1, 0.1].")):
        sweep(_mlp, (x, y), "l2", [0.1, 0.1])
