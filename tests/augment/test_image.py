"""ImageAugmenter: Keras's transform matrix and photometric formulas, and the random draws."""
import numpy as np
import pytest
import scipy.ndimage as ndi
import torch

from regulab.augment import ImageAugmenter, Sampler


def keras_apply_affine_transform(x, theta=0, tx=0, ty=0, shear=0, zx=1, zy=1,
                                 fill_mode="nearest", cval=0.0, order=1):
    """Keras's apply_affine_transform for one channels-last image (keras/src/legacy/
    preprocessing/image.py), transcribed: the reference regulab reproduces."""
    m = np.eye(3)
    t = np.deg2rad(theta)
    m = m @ np.array([[np.cos(t), -np.sin(t), 0], [np.sin(t), np.cos(t), 0], [0, 0, 1]])
    m = m @ np.array([[1, 0, tx], [0, 1, ty], [0, 0, 1]])
    s = np.deg2rad(shear)
    m = m @ np.array([[1, -np.sin(s), 0], [0, np.cos(s), 0], [0, 0, 1]])
    m = m @ np.array([[zx, 0, 0], [0, zy, 0], [0, 0, 1]])
    h, w = x.shape[0], x.shape[1]
    ox, oy = h / 2 - 0.5, w / 2 - 0.5
    m = np.array([[1, 0, ox], [0, 1, oy], [0, 0, 1]]) @ m @ np.array(
        [[1, 0, -ox], [0, 1, -oy], [0, 0, 1]])
    m[:, [0, 1]] = m[:, [1, 0]]
    m[[0, 1]] = m[[1, 0]]
    channels = [ndi.affine_transform(x[..., c], m[:2, :2], m[:2, 2], order=order, mode=fill_mode,
                                     cval=cval) for c in range(x.shape[-1])]
    return np.stack(channels, axis=-1)


@pytest.mark.parametrize("fill_mode", ["nearest", "constant", "reflect"])
def test_square_images_match_keras(fill_mode):
    rng = np.random.default_rng(0)
    x = rng.random((9, 9, 2))
    aug = ImageAugmenter(fill_mode=fill_mode, cval=0.3)
    for _ in range(4):
        p = dict(theta=rng.uniform(-40, 40), tx=rng.uniform(-3, 3), ty=rng.uniform(-3, 3),
                 shear=rng.uniform(-20, 20), zx=rng.uniform(0.7, 1.3), zy=rng.uniform(0.7, 1.3))
        expected = keras_apply_affine_transform(x, **p, fill_mode=fill_mode, cval=0.3)
        got = aug.apply(torch.from_numpy(x)[None], p)[0].numpy()
        np.testing.assert_allclose(got, expected, atol=1e-12)


def test_wrap_repeats_with_the_image_period():
    # Keras documents wrap as abcd|abcd; a shift by one pixel brings the last column around
    x = torch.arange(4.0, dtype=torch.float64).reshape(1, 1, 4, 1).expand(1, 3, 4, 1)
    out = ImageAugmenter(fill_mode="wrap").apply(x, {"tx": 1.0})
    np.testing.assert_array_equal(out[0, 0, :, 0].numpy(), [1, 2, 3, 0])


def test_shift_directions_on_a_non_square_image():
    # tx is horizontal and ty vertical, whatever the aspect ratio (Keras swaps the ranges)
    x = torch.zeros(1, 4, 8, 1, dtype=torch.float64)
    x[0, 1, 2, 0] = 1
    aug = ImageAugmenter(fill_mode="constant")
    assert aug.apply(x, {"tx": 1.0})[0, :, :, 0].nonzero().tolist() == [[1, 1]]
    assert aug.apply(x, {"ty": 1.0})[0, :, :, 0].nonzero().tolist() == [[0, 2]]


def test_rotation_about_the_centre_of_a_non_square_image():
    x = torch.rand(1, 5, 9, 1, dtype=torch.float64)
    out = ImageAugmenter().apply(x, {"theta": 180.0})
    torch.testing.assert_close(out, x.flip(1).flip(2))


def test_flips_match_numpy():
    x = torch.rand(2, 4, 6, 3, dtype=torch.float64)
    aug = ImageAugmenter()
    out = aug.apply(x, {"flip_horizontal": torch.tensor([True, False]),
                        "flip_vertical": torch.tensor([True, True])})
    np.testing.assert_allclose(out[0].numpy(), x[0].numpy()[::-1, ::-1], atol=1e-12)
    np.testing.assert_allclose(out[1].numpy(), x[1].numpy()[::-1], atol=1e-12)


def test_channel_shift_and_brightness_follow_keras_formulas():
    rng = np.random.default_rng(1)
    x = rng.uniform(10, 200, (2, 5, 5, 3))
    aug = ImageAugmenter()
    out = aug.apply(torch.from_numpy(x), {"channel_shift_intensity": torch.tensor([30.0, -30.0])})
    for i, s in enumerate([30.0, -30.0]):
        np.testing.assert_allclose(out[i].numpy(), np.clip(x[i] + s, x[i].min(), x[i].max()))
    out = aug.apply(torch.from_numpy(x), {"brightness": 1.5})
    np.testing.assert_allclose(out.numpy(), np.clip(x * 1.5, 0, 255))
    signed = rng.uniform(-1, 1, (1, 4, 4, 1))  # outside [0, 255]: scaled about its minimum
    out = aug.apply(torch.from_numpy(signed), {"brightness": 0.5})
    lo, hi = signed.min(), signed.max()
    np.testing.assert_allclose(out.numpy(), lo + np.clip((signed - lo) * 0.5, 0, hi - lo))


SEED_SETTINGS = dict(rotation_range=20, width_shift_range=0.2, height_shift_range=0.1,
                     shear_range=0.2, zoom_range=0.2, horizontal_flip=True, vertical_flip=True,
                     channel_shift_range=10.0, brightness_range=(0.5, 1.5))


def test_draws_stay_inside_their_ranges_and_cover_them():
    p = ImageAugmenter(**SEED_SETTINGS).draw(20000, 10, 30, Sampler(0))
    bounds = {"theta": (-20, 20), "tx": (-6, 6), "ty": (-1, 1), "shear": (-0.2, 0.2),
              "zx": (0.8, 1.2), "zy": (0.8, 1.2), "channel_shift_intensity": (-10, 10),
              "brightness": (0.5, 1.5)}
    for key, (lo, hi) in bounds.items():
        v = p[key].double()
        assert lo <= v.min() and v.max() <= hi, key
        assert v.min() < lo + 0.01 * (hi - lo) and v.max() > hi - 0.01 * (hi - lo), key
    assert 0.48 < p["flip_horizontal"].float().mean() < 0.52
    assert 0.48 < p["flip_vertical"].float().mean() < 0.52
    assert abs(float(torch.corrcoef(torch.stack([p["zx"], p["zy"]]))[0, 1])) < 0.03


def test_shift_ranges_as_keras_reads_them():
    def draws(value, size=10):
        aug = ImageAugmenter(width_shift_range=value)
        return aug.draw(5000, 4, size, Sampler(0))["tx"].unique().tolist()
    assert draws(3) == [-2.0, -1.0, 0.0, 1.0, 2.0]  # an int: whole pixels in (-3, 3)
    assert draws([4, 7]) == [-7.0, -4.0, 4.0, 7.0]  # choices with a random sign
    assert draws([0.1, 0.2]) == pytest.approx([-2.0, -1.0, 1.0, 2.0])  # fractions of the width
    wide = ImageAugmenter(width_shift_range=2.5).draw(5000, 4, 10, Sampler(0))["tx"]
    assert -2.5 <= wide.min() < -2.4 and 2.4 < wide.max() <= 2.5  # a float >= 1: pixels


def test_each_sample_gets_its_own_transform_and_a_key_repeats_them():
    aug = ImageAugmenter(**SEED_SETTINGS)
    x = torch.rand(4, 12, 12, 3)
    a = aug.apply(x.expand(4, 12, 12, 3), aug.draw(4, 12, 12, Sampler(7)))
    b = aug.apply(x.expand(4, 12, 12, 3), aug.draw(4, 12, 12, Sampler(7)))
    torch.testing.assert_close(a, b, rtol=0, atol=0)
    same_image = x[:1].expand(4, 12, 12, 3)
    out = aug.apply(same_image, aug.draw(4, 12, 12, Sampler(8)))
    assert not torch.allclose(out[0], out[1])


def test_a_torch_generator_is_a_source_too():
    aug = ImageAugmenter(rotation_range=30)
    a = aug.draw(6, 8, 8, Sampler(torch.Generator().manual_seed(3)))["theta"]
    b = aug.draw(6, 8, 8, Sampler(torch.Generator().manual_seed(3)))["theta"]
    torch.testing.assert_close(a, b)
    assert len(set(a.tolist())) == 6


@pytest.mark.parametrize("kwargs, message", [
    ({"rotation_range": -5}, "Invalid value for argument `rotation_range` of ImageAugmenter: "
                             "expected a float in [0, inf). Received: rotation_range=-5"),
    ({"width_shift_range": -0.1}, "Invalid value for argument `width_shift_range` of "
                                  "ImageAugmenter: expected a float in [0, inf). "
                                  "Received: width_shift_range=-0.1"),
    ({"height_shift_range": -2}, "Invalid value for argument `height_shift_range` of "
                                 "ImageAugmenter: expected a float >= 0, an int >= 0 or a list "
                                 "of numbers. Received: height_shift_range=-2"),
    ({"shear_range": -1.0}, "Invalid value for argument `shear_range` of ImageAugmenter: "
                            "expected a float in [0, inf). Received: shear_range=-1.0"),
    ({"channel_shift_range": -3}, "Invalid value for argument `channel_shift_range` of "
                                  "ImageAugmenter: expected a float in [0, inf). "
                                  "Received: channel_shift_range=-3"),
    ({"zoom_range": 1.0}, "Invalid value for argument `zoom_range` of ImageAugmenter: expected "
                          "a float in [0, 1) or a pair [lower, upper] with 0 < lower <= upper. "
                          "Received: zoom_range=1.0"),
    ({"zoom_range": [0.0, 1.2]}, "Invalid value for argument `zoom_range` of ImageAugmenter: "
                                 "expected a float in [0, 1) or a pair [lower, upper] with "
                                 "0 < lower <= upper. Received: zoom_range=[0.0, 1.2]"),
    ({"brightness_range": (1.2, 0.8)}, "Invalid value for argument `brightness_range` of "
                                       "ImageAugmenter: expected None or a pair [lower, upper] "
                                       "with 0 <= lower <= upper. "
                                       "Received: brightness_range=(1.2, 0.8)"),
    ({"fill_mode": "nearst"}, "Invalid value for argument `fill_mode` of ImageAugmenter: "
                              "expected one of 'nearest', 'constant', 'reflect', 'wrap'. "
                              "Received: fill_mode='nearst'. Did you mean 'nearest'?"),
    ({"interpolation_order": 3}, "Invalid value for argument `interpolation_order` of "
                                 "ImageAugmenter: expected 0 (nearest) or 1 (bilinear); spline "
                                 "orders 2 to 5 are not supported. Received: "
                                 "interpolation_order=3"),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError) as e:
        ImageAugmenter(**kwargs)
    assert str(e.value) == message
