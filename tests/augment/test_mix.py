"""Mixup and CutMix: samples and labels mixed by the same weight, for every kind of label."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from regulab.augment import SparseMix, cutmix, mixup


def _batch(n=64, classes=5):
    # image i is constant i: a mixed image tells which two samples and which weight went in
    x = torch.arange(n, dtype=torch.float32).view(n, 1, 1, 1).expand(n, 4, 4, 1).clone()
    y = torch.arange(n) % classes
    return x, y


def test_mixup_mixes_one_hot_labels_with_the_pixel_weight():
    x, y = _batch()
    onehot = F.one_hot(y, 5).float()
    xm, ym = mixup(x, onehot, source=0, alpha=1.0)
    assert (xm == xm[:, :1, :1]).all()  # every pixel of an image mixed alike
    # recover the partner from the labels' second class, then check the weight on x
    for i in range(len(x)):
        own = ym[i, y[i]]
        if torch.isclose(own, torch.tensor(1.0)):
            continue  # the partner shares the class: nothing to recover
        partner_value = (xm[i, 0, 0, 0] - own * i) / (1 - own)
        j = int(round(float(partner_value)))
        assert ym[i, y[j]] == pytest.approx(1 - float(own), abs=1e-5)
    assert torch.allclose(ym.sum(dim=1), torch.ones(len(x)))


def test_mixup_weights_are_per_sample_and_repeat_with_a_key():
    x, y = _batch()
    xm, ym = mixup(x, y.float(), source=3)
    xm2, ym2 = mixup(x, y.float(), source=3)
    torch.testing.assert_close(xm, xm2)
    assert len(torch.unique(ym)) > 10


def test_binary_labels_become_soft_targets():
    x = torch.stack([torch.zeros(3), torch.ones(3)])
    y = torch.tensor([[0.0], [1.0]])
    xm, ym = mixup(x, y, source=1, alpha=1.0)
    torch.testing.assert_close(xm[:, :1], ym)  # x is 0 or 1 exactly as its label


def test_sparse_labels_give_the_loss_of_the_mixed_one_hot_target():
    x, y = _batch(32)
    xm, mixed = mixup(x, y, source=2, alpha=0.4)
    assert isinstance(mixed, SparseMix)
    logits = torch.randn(32, 5)

    def sparse_ce(y_true, y_pred):
        return F.cross_entropy(y_pred, y_true, reduction="none")
    expected = F.cross_entropy(logits, mixed.one_hot(5), reduction="none")
    torch.testing.assert_close(mixed.loss(sparse_ce, logits), expected)
    _, onehot = mixup(x, y, source=2, alpha=0.4, num_classes=5)
    torch.testing.assert_close(onehot, mixed.one_hot(5))


def _yun_kept_fraction(size, rng, draws=20000):
    """The kept area of Yun et al.'s reference rand_bbox (lam ~ Beta(1, 1))."""
    lam = rng.beta(1.0, 1.0, draws)
    cut = (size * np.sqrt(1 - lam)).astype(int)
    cx, cy = rng.integers(0, size, draws), rng.integers(0, size, draws)
    w = np.clip(cx + cut // 2, 0, size) - np.clip(cx - cut // 2, 0, size)
    h = np.clip(cy + cut // 2, 0, size) - np.clip(cy - cut // 2, 0, size)
    return 1 - w * h / size**2


def test_cutmix_pastes_a_box_and_mixes_labels_by_its_area():
    n = 2048
    x = torch.arange(n, dtype=torch.float32).view(n, 1, 1, 1).expand(n, 16, 16, 1).clone()
    y = F.one_hot(torch.arange(n) % 8, 8).float()
    xm, ym = cutmix(x, y, source=0)
    kept = (xm == x).float().mean(dim=(1, 2, 3))
    for i in range(64):
        region = xm[i, :, :, 0] != i
        if region.any():
            rows, cols = region.any(1).nonzero(), region.any(0).nonzero()
            box = (rows.max() - rows.min() + 1) * (cols.max() - cols.min() + 1)
            assert int(box) == int(region.sum())  # a rectangle
            j = int(xm[i][region][0])
            torch.testing.assert_close(ym[i], kept[i] * y[i] + (1 - kept[i]) * y[j])
    reference = _yun_kept_fraction(16, np.random.default_rng(0))
    assert float(kept.mean()) == pytest.approx(reference.mean(), abs=0.02)


def test_cutmix_on_signals_cuts_a_segment():
    x = torch.arange(8, dtype=torch.float32).view(8, 1).expand(8, 20).clone()
    xm, ym = cutmix(x, torch.arange(8) % 2, source=5)
    for i in range(8):
        changed = (xm[i] != i).nonzero().flatten()
        if len(changed):
            assert changed.tolist() == list(range(changed.min(), changed.max() + 1))
            assert float(ym.lam[i]) == pytest.approx(1 - len(changed) / 20)


def test_bad_arguments():
    with pytest.raises(ValueError) as e:
        mixup(torch.zeros(4, 3), torch.zeros(3))
    assert str(e.value) == ("Invalid value for argument `y` of mixup: expected 4 labels, one per "
                            "sample of `x`. Received: y with shape (3,)")
    with pytest.raises(ValueError) as e:
        cutmix(torch.zeros(4, 3), torch.zeros(4), alpha=0)
    assert str(e.value) == ("Invalid value for argument `alpha` of cutmix: expected a float in "
                            "(0, inf). Received: alpha=0")


@pytest.mark.parametrize("kind, shape", [("mixup", (6, 5)), ("cutmix", (6, 4, 3, 2)), ("cutmix", (6, 7))])
def test_draws_made_ahead_for_many_keys_give_each_keys_own_mix(kind, shape):
    # a compiled step makes the draws of its steps at once, outside its graph: row i must be
    # what key i alone draws, and mixing with them what mixing with the key gives
    from regulab.augment._mix import draw

    fn = mixup if kind == "mixup" else cutmix
    x = torch.randn(shape)
    y = torch.eye(3)[torch.arange(6) % 3]
    keys = torch.tensor([11, 12, 2**32 - 1])
    alpha = torch.tensor([[0.3], [2.0], [0.0]])  # both sampler branches, and no mixing
    spatial = shape[1:3] if len(shape) == 4 else shape[1:2]
    ahead = draw(kind, keys, 6, alpha, spatial)
    for i, key in enumerate(keys):
        alone = fn(x, y, source=key, alpha=alpha[i, 0])
        made = type(ahead)(*(None if t is None else t[i] for t in ahead))
        with_draws = fn(x, y, source=None, alpha=alpha[i, 0], draws=made)
        assert torch.equal(alone[0], with_draws[0]) and torch.equal(alone[1], with_draws[1])
    assert torch.equal(ahead.lam[2], torch.ones(6))  # alpha 0: the batch as it is
