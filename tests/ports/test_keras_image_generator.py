"""``width_shift_range`` and ``height_shift_range`` of ImageDataGenerator, as Keras 3 reads them.

Keras 3 ships no tests of these arguments (its legacy generator's tests were dropped), so these
follow ``get_random_transform`` in ``keras/src/legacy/preprocessing/image.py`` and the documented
meaning: a float is a fraction of the size when below 1 and pixels otherwise, drawn uniformly in
[-r, r); an int n draws whole pixels from {-(n-1), ..., n-1} (``np.random.choice(n)`` with a random
sign); a list (or 1-D array) draws one of its values with a random sign, as fractions of the size
when all are below 1. One documented difference: in regulab ``width_shift_range`` moves images
horizontally and ``height_shift_range`` vertically (Keras's code swaps them), and ``tx``/``ty``
of the parameter dict are the horizontal/vertical shifts in pixels.
"""
import re

import numpy as np
import pytest

from regulab.preprocessing.image import ImageDataGenerator

HEIGHT, WIDTH = 10, 20
SHAPE = (HEIGHT, WIDTH, 1)


def _shifts(seeds=400, **kwargs):
    """The (tx, ty) that get_random_transform draws for ``seeds`` seeds."""
    gen = ImageDataGenerator(**kwargs)
    draws = [gen.get_random_transform(SHAPE, seed=s) for s in range(seeds)]
    return np.array([d["tx"] for d in draws]), np.array([d["ty"] for d in draws])


def test_a_float_below_one_is_a_fraction_of_the_size():
    tx, ty = _shifts(width_shift_range=0.2)
    assert -4.0 <= tx.min() < -3.8 and 3.8 < tx.max() < 4.0  # 0.2 * width 20, uniform in [-4, 4)
    assert len(np.unique(tx)) > 300  # continuous, not whole pixels
    assert (ty == 0).all()
    _, ty = _shifts(height_shift_range=0.2)
    assert -2.0 <= ty.min() < -1.9 and 1.9 < ty.max() < 2.0  # 0.2 * height 10


def test_a_float_of_one_or_more_is_pixels():
    tx, _ = _shifts(width_shift_range=3.0)
    assert -3.0 <= tx.min() < -2.9 and 2.9 < tx.max() < 3.0  # not scaled by the width
    assert len(np.unique(tx)) > 300
    tx, _ = _shifts(width_shift_range=1.0)  # 1.0 is pixels too: np.max(1.0) < 1 is false
    assert -1.0 <= tx.min() < -0.95 and 0.95 < tx.max() < 1.0


def test_an_int_draws_whole_pixels_below_it():
    tx, _ = _shifts(width_shift_range=3)
    assert sorted(set(tx.tolist())) == [-2.0, -1.0, 0.0, 1.0, 2.0]  # as width_shift_range=[-1, 0, 1, 2]
    _, ty = _shifts(height_shift_range=2)
    assert sorted(set(ty.tolist())) == [-1.0, 0.0, 1.0]  # Keras's docs: 2 gives -1, 0, +1
    tx, _ = _shifts(width_shift_range=1)  # np.random.choice(1) is always 0
    assert set(tx.tolist()) == {0.0}


def test_a_list_draws_one_of_its_values_with_a_random_sign():
    tx, _ = _shifts(width_shift_range=[4, 7])
    assert sorted(set(tx.tolist())) == [-7.0, -4.0, 4.0, 7.0]
    _, ty = _shifts(height_shift_range=(1, 3))
    assert sorted(set(ty.tolist())) == [-3.0, -1.0, 1.0, 3.0]
    tx, _ = _shifts(width_shift_range=[-1, 0, 1])  # Keras's documented equivalent of the int 2
    assert sorted(set(tx.tolist())) == [-1.0, 0.0, 1.0]


def test_a_list_below_one_is_fractions_of_the_size():
    tx, _ = _shifts(width_shift_range=np.array([0.1, 0.25]))
    assert sorted(set(np.round(tx, 6).tolist())) == [-5.0, -2.0, 2.0, 5.0]
    _, ty = _shifts(height_shift_range=[0.5])
    assert sorted(set(np.round(ty, 6).tolist())) == [-5.0, 5.0]
    tx, _ = _shifts(width_shift_range=[0.5, 2])  # not all below 1: pixels
    assert sorted(set(tx.tolist())) == [-2.0, -0.5, 0.5, 2.0]


def _dot():
    image = np.zeros((1, 9, 9, 1), dtype="float32")
    image[0, 4, 4, 0] = 1.0
    return image


def _where(image):
    rows, cols = np.nonzero(image[0, :, :, 0] > 0.5)
    return int(rows[0]), int(cols[0])


@pytest.mark.parametrize("seed", range(4))
def test_width_moves_images_sideways_and_height_up_or_down(seed):
    kwargs = dict(fill_mode="constant", interpolation_order=0)
    row, col = _where(ImageDataGenerator(width_shift_range=[3], **kwargs).random_transform(_dot(), seed=seed))
    assert row == 4 and abs(col - 4) == 3
    row, col = _where(ImageDataGenerator(height_shift_range=[2], **kwargs).random_transform(_dot(), seed=seed))
    assert col == 4 and abs(row - 4) == 2
    # a fraction of the size: 1/3 of 9 pixels
    row, col = _where(ImageDataGenerator(width_shift_range=[1 / 3], **kwargs).random_transform(_dot(), seed=seed))
    assert row == 4 and abs(col - 4) == 3


def test_flow_shifts_every_image_of_a_batch_on_its_own():
    images = np.repeat(_dot(), 64, axis=0)
    gen = ImageDataGenerator(width_shift_range=2, fill_mode="constant", interpolation_order=0)
    batch = next(gen.flow(images, batch_size=64, shuffle=False, seed=0)).numpy()
    cols = {_where(b[None])[1] for b in batch}
    assert cols == {3, 4, 5}  # shifts -1, 0, +1, each drawn per image


EXPECTED = "expected a float >= 0, an int >= 0 or a non-empty list of numbers"


@pytest.mark.parametrize("value", [["a", 1], [[1, 2], [3, 4]], [], [np.nan], [1, True]])
def test_lists_must_be_flat_lists_of_numbers(value):
    # Keras's np.random.choice refuses nested lists; regulab refuses every malformed list up front
    with pytest.raises(ValueError, match=re.escape(
            f"Invalid value for argument `width_shift_range` of ImageDataGenerator: {EXPECTED}. "
            f"Received: width_shift_range={value!r}")):
        ImageDataGenerator(width_shift_range=value)


def test_negative_ranges_are_errors():
    # Keras draws uniform(0.1, -0.1) for -0.1, the same as 0.1; a negative range is a mistake
    with pytest.raises(ValueError, match=re.escape(
            "Invalid value for argument `height_shift_range` of ImageDataGenerator: expected a float "
            "in [0, inf). Received: height_shift_range=-0.1")):
        ImageDataGenerator(height_shift_range=-0.1)
    with pytest.raises(ValueError, match=re.escape(
            "Invalid value for argument `width_shift_range` of ImageDataGenerator: expected a float "
            ">= 0, an int >= 0 or a list of numbers. Received: width_shift_range=-2")):
        ImageDataGenerator(width_shift_range=-2)
