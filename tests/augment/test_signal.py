"""1-D signals: per-sample shifts against torch.roll and padding, time scaling against SciPy."""
import numpy as np
import pytest
import scipy.ndimage as ndi
import torch

from regulab.augment import SignalAugmenter, transform_signals


def test_wrap_is_a_per_sample_roll():
    x = torch.randn(3, 10, 2)
    shifts = [3, -4, 0]
    out = transform_signals(x, torch.tensor(shifts))
    for i, s in enumerate(shifts):
        torch.testing.assert_close(out[i], torch.roll(x[i], s, dims=0), rtol=0, atol=0)


def test_constant_pads_with_cval():
    x = torch.arange(1.0, 6.0).reshape(1, 5)
    out = transform_signals(x, 2, fill_mode="constant", cval=-1.0)
    np.testing.assert_array_equal(out.numpy(), [[-1, -1, 1, 2, 3]])


def test_scale_matches_scipy_zoom_about_the_centre():
    x = np.random.default_rng(0).random((2, 12))
    scale = torch.tensor([0.8, 1.25], dtype=torch.float64)
    out = transform_signals(torch.from_numpy(x), 0, scale=scale, fill_mode="nearest")
    for i, s in enumerate([0.8, 1.25]):
        c = (12 - 1) / 2
        expected = ndi.affine_transform(x[i], [s], offset=c * (1 - s), order=1, mode="nearest")
        np.testing.assert_allclose(out[i].numpy(), expected, atol=1e-12)


def test_augmenter_shifts_are_whole_steps_in_range_and_repeat_with_a_key():
    x = torch.zeros(2000, 40)
    x[:, 0] = 1  # the position of the 1 reveals the shift
    aug = SignalAugmenter(shift_range=0.25)
    out = aug(x, 11)
    shift = out.argmax(dim=1)
    shift = torch.where(shift > 20, shift - 40, shift)
    assert shift.min() == -10 and shift.max() == 10
    assert len(shift.unique()) == 21
    torch.testing.assert_close(aug(x, 11), out)


def test_noise_has_the_requested_stddev():
    out = SignalAugmenter(noise_stddev=0.3)(torch.zeros(100, 50), 0)
    assert float(out.std()) == pytest.approx(0.3, rel=0.05)


def test_bad_input():
    with pytest.raises(ValueError) as e:
        SignalAugmenter(shift_range=0.1)(torch.zeros(2, 3, 4, 5), 0)
    assert str(e.value) == ("Invalid value for argument `x` of SignalAugmenter: expected signals "
                            "of shape (N, L) or (N, L, C). Received: x with shape (2, 3, 4, 5)")
    with pytest.raises(ValueError, match="Did you mean 'wrap'"):
        SignalAugmenter(fill_mode="warp")
    with pytest.raises(ValueError, match=r"`scale_range` of SignalAugmenter: expected a float in "
                                         r"\[0, 1\)"):
        SignalAugmenter(scale_range=-0.1)


@pytest.mark.parametrize("fill_mode, scipy_mode", [("wrap", "grid-wrap"), ("nearest", "nearest"),
                                                   ("constant", "grid-constant"),
                                                   ("reflect", "reflect")])
def test_shifts_match_scipy_shift(fill_mode, scipy_mode):
    x = torch.rand(1, 9, 2, dtype=torch.float64)
    for s in [-20, -3, 0, 2, 11, 25]:
        out = transform_signals(x, s, fill_mode=fill_mode, cval=-1.0)
        expected = np.stack([ndi.shift(x[0, :, c].numpy(), s, order=0, mode=scipy_mode, cval=-1.0)
                             for c in range(2)], axis=-1)
        np.testing.assert_array_equal(out[0].numpy(), expected)
