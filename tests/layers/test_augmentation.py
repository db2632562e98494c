"""Augmentation layers: training-only, per sample, seeded, and equal to reference transforms."""
import numpy as np
import pytest
import scipy.ndimage as ndi
import torch

from regulab.layers import (RandomBrightness, RandomContrast, RandomCrop,
                                          RandomFlip, RandomRotation, RandomShift,
                                          RandomTranslation, RandomZoom)


def _train(layer, x, key=0):
    layer.build_for(tuple(x.shape[1:]))
    return layer.call(x, layer.live_context(training=True, key=key))


LAYERS = [
    lambda: RandomFlip(),
    lambda: RandomRotation(0.1),
    lambda: RandomTranslation(0.2, 0.2),
    lambda: RandomZoom(0.2),
    lambda: RandomContrast(0.5, value_range=(0, 1)),
    lambda: RandomBrightness(0.2, value_range=(0, 1)),
]


@pytest.mark.parametrize("make", LAYERS)
def test_identity_in_inference_per_sample_and_repeatable_in_training(make):
    x = torch.rand(1, 12, 12, 3).expand(16, 12, 12, 3).contiguous()
    layer = make()
    assert torch.equal(layer(x), x)
    out = _train(layer, x, key=1)
    assert out.shape == x.shape
    assert len({tuple(o.flatten()[:20].tolist()) for o in out}) > 2  # samples differ
    torch.testing.assert_close(_train(layer, x, key=1), out, rtol=0, atol=0)
    assert not torch.equal(_train(layer, x, key=2), out)


@pytest.mark.parametrize("make", LAYERS + [lambda: RandomCrop(5, 6), lambda: RandomShift(0.1)])
def test_config_round_trip(make):
    layer = make()
    clone = type(layer).from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()


def test_rotation_by_a_quarter_turn_is_counter_clockwise():
    x = torch.rand(2, 7, 7, 1, dtype=torch.float64)
    out = _train(RandomRotation((0.25, 0.25), interpolation="nearest"), x)
    np.testing.assert_allclose(out.numpy(), np.rot90(x.numpy(), 1, axes=(1, 2)))


def test_translation_moves_down_and_right_with_reflect_filling():
    x = torch.arange(16.0, dtype=torch.float64).reshape(1, 4, 4, 1)
    out = _train(RandomTranslation((0.25, 0.25), (0.5, 0.5)), x)[0, :, :, 0].numpy()
    expected = np.pad(x[0, :, :, 0].numpy(), ((1, 0), (2, 0)), mode="symmetric")[:4, :4]
    np.testing.assert_allclose(out, expected, atol=1e-12)


def test_zoom_matches_scipy_about_the_centre():
    x = torch.rand(1, 9, 11, 2, dtype=torch.float64)
    out = _train(RandomZoom((0.5, 0.5), (-0.25, -0.25), fill_mode="constant", fill_value=0.5), x)
    zy, zx = 1.5, 0.75
    cy, cx = 4.0, 5.0
    expected = np.stack([ndi.affine_transform(x[0, ..., c].numpy(), [zy, zx],
                                              [cy * (1 - zy), cx * (1 - zx)], order=1,
                                              mode="grid-constant", cval=0.5)
                         for c in range(2)], axis=-1)
    np.testing.assert_allclose(out[0].numpy(), expected, atol=1e-12)


def test_zoom_keeps_the_aspect_ratio_without_width_factor():
    x = torch.zeros(64, 21, 21, 1)
    x[:, 10, :, 0] = 1  # a horizontal line through the centre: its length shows the x zoom
    x[:, :, 10, 0] += 1
    out = _train(RandomZoom(0.5, fill_mode="constant", interpolation="nearest"), x)
    row = (out[:, 10, :, 0] > 0).sum(1)
    col = (out[:, :, 10, 0] > 0).sum(1)
    torch.testing.assert_close(row, col)


def test_flip_modes_draw_independent_flips():
    x = torch.rand(1, 4, 5, 1).expand(400, 4, 5, 1)
    out = _train(RandomFlip("horizontal_and_vertical"), x)
    kinds = {"none": x[0], "h": x[0].flip(1), "v": x[0].flip(0), "hv": x[0].flip(0).flip(1)}
    counts = {k: int(sum(torch.equal(o, ref) for o in out)) for k, ref in kinds.items()}
    assert sum(counts.values()) == 400 and min(counts.values()) > 60
    only_h = _train(RandomFlip("horizontal"), x)
    assert all(torch.equal(o, x[0]) or torch.equal(o, x[0].flip(1)) for o in only_h)


def test_contrast_and_brightness_formulas():
    checker = (torch.arange(4).view(4, 1) + torch.arange(4).view(1, 4)) % 2 * 2 - 1.0
    x = (0.5 + 0.1 * checker).view(1, 4, 4, 1).expand(64, 4, 4, 3)  # channel means 0.5
    out = _train(RandomContrast(0.5, value_range=(0, 1)), x)
    factor = (out[:, 0, 0, 0] - 0.5) / (x[:, 0, 0, 0] - 0.5)
    assert 0.5 <= float(factor.min()) < 0.55 and 1.45 < float(factor.max()) <= 1.5
    torch.testing.assert_close(out, (x - 0.5) * factor.view(-1, 1, 1, 1) + 0.5)
    clipped = _train(RandomContrast((0.5, 0.5), value_range=(0.45, 0.55)), x)
    assert clipped.unique().tolist() == pytest.approx([0.45, 0.55])
    x = 60 + 100 * torch.rand(64, 5, 5, 3)  # far enough from 0 and 255 to stay unclipped
    out = _train(RandomBrightness(0.2, value_range=(0, 255)), x)
    delta = (out - x)[:, 0, 0, 0]
    assert -0.2 * 255 <= float(delta.min()) < -0.15 * 255 and 0.15 * 255 < float(delta.max())
    torch.testing.assert_close(out, x + delta.view(-1, 1, 1, 1))
    bright = _train(RandomBrightness((1.0, 1.0), value_range=(0, 255)), x)
    assert bright.eq(255).all()


def test_random_crop_takes_per_sample_windows_and_the_centre_in_inference():
    x = torch.arange(10 * 12, dtype=torch.float32).reshape(1, 10, 12, 1).expand(64, 10, 12, 1)
    layer = RandomCrop(6, 5)
    assert layer.compute_output_shape((10, 12, 1)) == (6, 5, 1)
    out = _train(layer, x)
    tops, lefts = out[:, 0, 0, 0] // 12, out[:, 0, 0, 0] % 12
    for o, t, l in zip(out, tops.long(), lefts.long()):
        torch.testing.assert_close(o, x[0, t:t + 6, l:l + 5])
    assert tops.unique().tolist() == list(range(5)) and lefts.unique().tolist() == list(range(8))
    torch.testing.assert_close(layer(x[:1]), x[:1, 2:8, 3:8])


def test_random_crop_resizes_smaller_inputs_keeping_the_aspect_ratio():
    x = torch.rand(2, 4, 8, 1)
    out = RandomCrop(6, 6)(x)
    # the largest central square (4 x 4) resized to 6 x 6 with half-pixel centres
    expected = torch.nn.functional.interpolate(x[:, :, 2:6].permute(0, 3, 1, 2), size=(6, 6),
                                               mode="bilinear", align_corners=False)
    torch.testing.assert_close(out, expected.permute(0, 2, 3, 1))


def test_random_shift_is_a_circular_shift_per_sample():
    x = torch.randn(200, 40)
    out = _train(RandomShift(0.25), x)
    shifts = set()
    for o, xi in zip(out, x):
        s = next(k for k in range(-10, 11) if torch.equal(o, torch.roll(xi, k)))
        shifts.add(s)
    assert shifts == set(range(-10, 11))
    assert torch.equal(RandomShift(0.25)(x), x)
    padded = _train(RandomShift((0.1, 0.1), fill_mode="constant"), torch.ones(2, 20, 3))
    assert padded[:, :2].eq(0).all() and padded[:, 2:].eq(1).all()


def test_bad_arguments_and_inputs():
    def message(fn):
        with pytest.raises(ValueError) as e:
            fn()
        return str(e.value)
    assert message(lambda: RandomRotation(0.1, fill_mode="reflection")) == (
        "Invalid value for argument `fill_mode` of RandomRotation: expected one of 'reflect', "
        "'wrap', 'constant', 'nearest'. Received: fill_mode='reflection'. Did you mean 'reflect'?")
    assert message(lambda: RandomZoom(0.1, interpolation="bilnear")) == (
        "Invalid value for argument `interpolation` of RandomZoom: expected one of 'bilinear', "
        "'nearest'. Received: interpolation='bilnear'. Did you mean 'bilinear'?")
    assert message(lambda: RandomFlip("horizontally")) == (
        "Invalid value for argument `mode` of RandomFlip: expected one of 'horizontal', "
        "'vertical', 'horizontal_and_vertical'. Received: mode='horizontally'. "
        "Did you mean 'horizontal'?")
    assert message(lambda: RandomTranslation(1.5, 0.1)) == (
        "Invalid value for argument `height_factor` of RandomTranslation: expected a float in "
        "[-1, 1] or a pair of such floats. Received: height_factor=1.5")
    assert message(lambda: RandomContrast(-0.2)) == (
        "Invalid value for argument `factor` of RandomContrast: expected a float in [0, 1] or a "
        "pair of such floats. Received: factor=-0.2")
    assert message(lambda: RandomBrightness(0.1, value_range=(1, 0))) == (
        "Invalid value for argument `value_range` of RandomBrightness: expected a pair "
        "[low, high] with low < high. Received: value_range=(1, 0)")
    assert message(lambda: RandomRotation(0.1, name="rot")(torch.zeros(2, 8, 8))) == (
        "Input 0 of layer 'rot' is incompatible with the layer: expected images "
        "of shape (None, height, width, channels), but received input with shape (None, 8, 8).")
    assert message(lambda: RandomShift(0.1, name="shift")(torch.zeros(2, 8, 8, 1))) == (
        "Input 0 of layer 'shift' is incompatible with the layer: expected signals of "
        "shape (None, length) or (None, length, channels), but received input with shape "
        "(None, 8, 8, 1).")
