"""Layers that resize the steps or the image of each sample without weights: upsampling, zero
padding, cropping, and repeating a vector into a sequence. Channels-last, with Keras's arguments
and output shapes (an unknown size stays unknown)."""
from __future__ import annotations

import torch.nn.functional as F

from regulab._validation import check_choice, check_int, invalid
from regulab.layers._base import Layer
from regulab.layers._conv import check_data_format, conv_tuple
from regulab.layers._pooling import check_ndim

_PAIR = "a non-negative integer or a tuple of 2 non-negative integers"
_PAIRS = ("a non-negative integer, a tuple of 2 non-negative integers (symmetric height, width) or a tuple "
          "of 2 tuples of 2 non-negative integers ((top, bottom), (left, right))")


def _non_negative(v) -> bool:
    return not isinstance(v, bool) and hasattr(v, "__index__") and int(v) >= 0


def amount_pair(name: str, value, where: str, expected: str = _PAIR) -> tuple[int, int]:
    """``value`` (an int n, or ``(before, after)``) as ``(before, after)`` non-negative ints."""
    items = (value, value) if _non_negative(value) else value
    if not isinstance(items, (tuple, list)) or len(items) != 2 or not all(_non_negative(v) for v in items):
        raise invalid(name, expected, value, where)
    return int(items[0]), int(items[1])


def amount_pairs(name: str, value, where: str) -> tuple[tuple[int, int], tuple[int, int]]:
    """``value`` (an int, ``(height, width)`` or ``((top, bottom), (left, right))``) as two pairs."""
    items = (value, value) if _non_negative(value) else value
    if not isinstance(items, (tuple, list)) or len(items) != 2:
        raise invalid(name, _PAIRS, value, where)
    try:
        return amount_pair(name, items[0], where), amount_pair(name, items[1], where)
    except ValueError:
        raise invalid(name, _PAIRS, value, where) from None


class _Resizing(Layer):
    """A weightless layer over inputs of ``rank`` spatial axes, of any size."""

    rank = 1

    def build(self, input_shape):
        self.compute_output_shape(input_shape)

    def _check_input_shape(self, shape) -> None:
        check_ndim(self, shape, self.rank)


class UpSampling1D(_Resizing):
    """Repeats each step of ``(batch, steps, channels)`` inputs ``size`` times.

    Args:
        size: the repetition factor, a positive integer (default 2).

    >>> from regulab.layers import UpSampling1D
    >>> UpSampling1D(2)(np.array([[[1.0], [2.0]]], dtype="float32"))[0, :, 0]
    tensor([1., 1., 2., 2.])
    """

    def __init__(self, size: int = 2, **kwargs):
        super().__init__(**kwargs)
        self.size = check_int("size", size, low=1, where="UpSampling1D")

    def compute_output_shape(self, input_shape):
        check_ndim(self, input_shape, 1)
        steps, channels = input_shape
        return (None if steps is None else steps * self.size, channels)

    def call(self, x, ctx):
        return x.repeat_interleave(self.size, dim=1)

    def get_config(self):
        return {**super().get_config(), "size": self.size}


class UpSampling2D(_Resizing):
    """Enlarges ``(batch, height, width, channels)`` images by integer factors.

    ``'nearest'`` repeats rows and columns; ``'bilinear'`` interpolates between pixel centres, as
    TensorFlow's ``resize`` with half-pixel centres (torch's ``align_corners=False``).

    Args:
        size: the factors for rows and columns, an int or a pair (default ``(2, 2)``).
        data_format: ``'channels_last'`` or None; regulab's layers are channels-last.
        interpolation: ``'nearest'`` (default) or ``'bilinear'``.

    >>> from regulab.layers import UpSampling2D
    >>> x = np.array([[[[0.0], [1.0]]]], dtype="float32")  # one row of two pixels
    >>> UpSampling2D((1, 2))(x)[0, 0, :, 0]
    tensor([0., 0., 1., 1.])
    >>> UpSampling2D((1, 2), interpolation="bilinear")(x)[0, 0, :, 0]
    tensor([0.0000, 0.2500, 0.7500, 1.0000])
    """

    rank = 2

    def __init__(self, size=(2, 2), data_format=None, interpolation: str = "nearest", **kwargs):
        super().__init__(**kwargs)
        self.size = conv_tuple("size", size, 2, "UpSampling2D")
        self.data_format = check_data_format(data_format, "UpSampling2D")
        self.interpolation = check_choice(
            "interpolation", interpolation.lower() if isinstance(interpolation, str) else interpolation,
            ("nearest", "bilinear"), "UpSampling2D")

    def compute_output_shape(self, input_shape):
        check_ndim(self, input_shape, 2)
        h, w, channels = input_shape
        return (None if h is None else h * self.size[0], None if w is None else w * self.size[1], channels)

    def call(self, x, ctx):
        n, h, w, c = x.shape
        sh, sw = self.size
        if self.interpolation == "nearest":
            # one copy: each pixel broadcast over an (sh, sw) block
            return x[:, :, None, :, None, :].expand(-1, -1, sh, -1, sw, -1).reshape(n, h * sh, w * sw, c)
        y = F.interpolate(x.permute(0, 3, 1, 2), size=(h * sh, w * sw), mode="bilinear", align_corners=False)
        return y.permute(0, 2, 3, 1)

    def get_config(self):
        return {**super().get_config(), "size": list(self.size), "data_format": self.data_format,
                "interpolation": self.interpolation}


class ZeroPadding1D(_Resizing):
    """Adds zero steps at the start and the end of ``(batch, steps, channels)`` inputs.

    Args:
        padding: an int (as many zeros at both ends, default 1) or ``(left, right)``.
        data_format: ``'channels_last'`` or None; regulab's layers are channels-last.

    >>> from regulab.layers import ZeroPadding1D
    >>> ZeroPadding1D((1, 2))(np.ones((1, 2, 1), dtype="float32"))[0, :, 0]
    tensor([0., 1., 1., 0., 0.])
    """

    def __init__(self, padding=1, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.padding = amount_pair("padding", padding, "ZeroPadding1D")
        self.data_format = check_data_format(data_format, "ZeroPadding1D")

    def compute_output_shape(self, input_shape):
        check_ndim(self, input_shape, 1)
        steps, channels = input_shape
        return (None if steps is None else steps + sum(self.padding), channels)

    def call(self, x, ctx):
        return F.pad(x, [0, 0, *self.padding])

    def get_config(self):
        return {**super().get_config(), "padding": list(self.padding), "data_format": self.data_format}


class ZeroPadding2D(_Resizing):
    """Adds rows and columns of zeros around ``(batch, height, width, channels)`` images.

    Args:
        padding: an int (the same on every side), ``(rows, cols)`` (``rows`` at top and bottom,
            ``cols`` at left and right) or ``((top, bottom), (left, right))``; default ``(1, 1)``.
        data_format: ``'channels_last'`` or None; regulab's layers are channels-last.

    >>> from regulab.layers import ZeroPadding2D
    >>> ZeroPadding2D(((1, 0), (0, 2)))(np.ones((1, 2, 2, 1), dtype="float32"))[0, :, :, 0]
    tensor([[0., 0., 0., 0.],
            [1., 1., 0., 0.],
            [1., 1., 0., 0.]])
    """

    rank = 2

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.padding = amount_pairs("padding", padding, "ZeroPadding2D")
        self.data_format = check_data_format(data_format, "ZeroPadding2D")

    def compute_output_shape(self, input_shape):
        check_ndim(self, input_shape, 2)
        h, w, channels = input_shape
        (top, bottom), (left, right) = self.padding
        return (None if h is None else h + top + bottom, None if w is None else w + left + right, channels)

    def call(self, x, ctx):
        (top, bottom), (left, right) = self.padding
        return F.pad(x, [0, 0, left, right, top, bottom])

    def get_config(self):
        return {**super().get_config(), "padding": [list(p) for p in self.padding], "data_format": self.data_format}


class _Cropping(_Resizing):
    """Cropping, with a check that something is left of every cropped axis."""

    _axis_names = ("steps",)
    _sizes_known = True

    def build(self, input_shape):
        self.compute_output_shape(input_shape)
        self._sizes_known = None not in input_shape[:-1]

    def _cropped(self, input_shape) -> tuple:
        check_ndim(self, input_shape, self.rank)
        out = []
        for n, (before, after), axis in zip(input_shape[:-1], self._crops, self._axis_names):
            if n is not None and before + after >= n:
                raise ValueError(
                    f"Layer '{self.name}': cropping {self.cropping} removes all of the {n} {axis} of the input; "
                    f"expected a total cropping of the {axis} smaller than {n}, received input shape "
                    f"{(None, *input_shape)}.")
            out.append(None if n is None else n - before - after)
        return (*out, input_shape[-1])

    def compute_output_shape(self, input_shape):
        return self._cropped(input_shape)

    def call(self, x, ctx):
        if not self._sizes_known:  # sizes that were None when the model was built
            self._cropped(tuple(x.shape[1:]))
        index = [slice(None)]
        for n, (before, after) in zip(x.shape[1:-1], self._crops):
            index.append(slice(before, n - after))
        return x[tuple(index)]


class Cropping1D(_Cropping):
    """Removes steps at the start and the end of ``(batch, steps, channels)`` inputs.

    Args:
        cropping: an int (as many steps at both ends) or ``(left, right)``; default ``(1, 1)``.

    >>> from regulab.layers import Cropping1D
    >>> Cropping1D((1, 2))(np.arange(5, dtype="float32").reshape(1, 5, 1))[0, :, 0]
    tensor([1., 2.])
    """

    def __init__(self, cropping=(1, 1), **kwargs):
        super().__init__(**kwargs)
        self.cropping = amount_pair("cropping", cropping, "Cropping1D")
        self._crops = (self.cropping,)

    def get_config(self):
        return {**super().get_config(), "cropping": list(self.cropping)}


class Cropping2D(_Cropping):
    """Removes rows and columns at the borders of ``(batch, height, width, channels)`` images.

    Args:
        cropping: an int (the same on every side), ``(rows, cols)`` (``rows`` at top and bottom,
            ``cols`` at left and right) or ``((top, bottom), (left, right))``; default
            ``((0, 0), (0, 0))``.
        data_format: ``'channels_last'`` or None; regulab's layers are channels-last.

    >>> from regulab.layers import Cropping2D
    >>> Cropping2D(((2, 2), (4, 4)))(np.zeros((1, 28, 28, 3), dtype="float32")).shape
    torch.Size([1, 24, 20, 3])
    """

    rank = 2
    _axis_names = ("rows", "columns")

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.cropping = amount_pairs("cropping", cropping, "Cropping2D")
        self.data_format = check_data_format(data_format, "Cropping2D")
        self._crops = self.cropping

    def get_config(self):
        return {**super().get_config(), "cropping": [list(c) for c in self.cropping],
                "data_format": self.data_format}


class RepeatVector(_Resizing):
    """Repeats each ``(batch, features)`` vector ``n`` times: ``(batch, n, features)``.

    The usual bridge from an encoder's final state to a decoder that outputs a sequence.

    Args:
        n: the number of repetitions, a positive integer.

    >>> from regulab.layers import RepeatVector
    >>> RepeatVector(3)(np.array([[1.0, 2.0]], dtype="float32"))
    tensor([[[1., 2.],
             [1., 2.],
             [1., 2.]]])
    """

    rank = 0

    def __init__(self, n: int, **kwargs):
        super().__init__(**kwargs)
        self.n = check_int("n", n, low=1, where="RepeatVector")

    def compute_output_shape(self, input_shape):
        check_ndim(self, input_shape, 0)
        return (self.n, input_shape[0])

    def call(self, x, ctx):
        return x.unsqueeze(1).expand(-1, self.n, -1)

    def get_config(self):
        return {**super().get_config(), "n": self.n}
