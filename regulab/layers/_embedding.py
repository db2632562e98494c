"""Embedding (token indices to dense vectors) and Masking (skipping padded time steps)."""
from __future__ import annotations

import torch
from torch._C._functorch import is_functorch_wrapped_tensor

from regulab import initializers
from regulab import regularizers as _regularizers
from regulab._validation import check_float, check_int, invalid
from regulab.layers._base import Layer
from regulab.regularizers import get_argument as _regularizer_argument


def _checkable(x: torch.Tensor) -> bool:
    """Whether a value check (one host read) may run on ``x`` here: not while torch.compile traces,
    not on vmapped or otherwise transformed tensors, not while a CUDA graph is being captured."""
    if torch.compiler.is_compiling() or is_functorch_wrapped_tensor(x):
        return False
    return not (x.is_cuda and torch.cuda.is_current_stream_capturing())


class Embedding(Layer):
    """Turns non-negative integer indices into dense vectors: row ``i`` of ``embeddings`` for
    index ``i``, so ``(batch, steps)`` indices become ``(batch, steps, output_dim)``.

    Training and inference compute the same thing. With ``mask_zero=True`` index 0 is padding: the
    layer's mask (``compute_mask``) is ``x != 0`` and layers that use masks skip those steps; the
    vocabulary then takes indices 1 .. input_dim - 1.

    Indices are checked in eager calls: an index outside ``[0, input_dim)`` raises a ValueError
    naming it (torch would raise a bare IndexError, and on a GPU a device-side assert). The check
    is one fused comparison, skipped where it would cost a host synchronisation in a fast path:
    inside ``torch.compile`` (``jit_compile=True``), in stacked fits (vmap) and in CUDA-graph
    capture. There a bad index raises torch's own error on the CPU and is undefined on a GPU, so
    check data once before a compiled fit (``check_indices``).

    Args:
        input_dim: size of the vocabulary (largest index + 1), a positive integer; at least 2
            with ``mask_zero=True``.
        output_dim: size of each vector.
        embeddings_initializer: default ``'uniform'`` (U(-0.05, 0.05), Keras's default).
        embeddings_regularizer: penalty on the embedding matrix (``'l2'``, ``regularizers.l1(...)``).
        embeddings_constraint: only ``None`` (regulab has no weight constraints).
        mask_zero: treat index 0 as padding (default False).
        input_length: Keras 2's argument, the number of steps: the same as
            ``input_shape=(input_length,)``. Keras 3 removed it; regulab keeps it for course code.
        activity_regularizer: penalty on the output, divided by the batch size.

    >>> from regulab.layers import Embedding
    >>> layer = Embedding(1000, 64, input_length=10)
    >>> layer(np.random.randint(1000, size=(32, 10))).shape
    torch.Size([32, 10, 64])
    >>> layer.count_params()
    64000
    """

    integer_inputs = True
    output_dtype = torch.float32

    def __init__(self, input_dim: int, output_dim: int, embeddings_initializer="uniform",
                 embeddings_regularizer=None, embeddings_constraint=None, mask_zero: bool = False,
                 input_length: int | None = None, activity_regularizer=None, **kwargs):
        if input_length is not None:
            length = check_int("input_length", input_length, low=1, where="Embedding")
            given = kwargs.get("input_shape")
            if given is not None and tuple(given) != (length,):
                raise ValueError(f"Arguments `input_length` and `input_shape` of Embedding disagree: "
                                 f"input_length={length}, input_shape={tuple(given)}. Pass one of them.")
            kwargs["input_shape"] = (length,)
        super().__init__(**kwargs)
        self.input_dim = check_int("input_dim", input_dim, low=1, where="Embedding")
        self.output_dim = check_int("output_dim", output_dim, low=1, where="Embedding")
        self.mask_zero = bool(mask_zero)
        if self.mask_zero and self.input_dim < 2:
            raise invalid("input_dim", "an integer in [2, inf) with mask_zero=True (index 0 is padding, "
                          "so input_dim is the vocabulary size + 1)", input_dim, "Embedding")
        if embeddings_constraint is not None:
            raise ValueError(f"Argument `embeddings_constraint` of Embedding is not supported: regulab has "
                             f"no weight constraints. Received: embeddings_constraint={embeddings_constraint!r}. "
                             f"Remove it (an `embeddings_regularizer` penalizes large weights instead).")
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.embeddings_regularizer = _regularizer_argument(embeddings_regularizer, "embeddings_regularizer", "Embedding")
        self.activity_regularizer = _regularizer_argument(activity_regularizer, "activity_regularizer", "Embedding")
        self.embeddings_constraint = None
        self.supports_masking = self.creates_mask = self.mask_zero
        self.embeddings = None

    def build(self, input_shape):
        self.embeddings = self.add_weight("embeddings", (self.input_dim, self.output_dim),
                                          self.embeddings_initializer, self.embeddings_regularizer)

    def compute_output_shape(self, input_shape):
        return (*input_shape, self.output_dim)

    def compute_mask(self, x, mask=None):
        """``x != 0`` with ``mask_zero``, else None."""
        if not self.mask_zero:
            return None
        return torch.as_tensor(x) != 0

    def _check_dtype(self, x: torch.Tensor) -> None:
        if x.is_floating_point() or x.is_complex() or x.dtype == torch.bool:
            raise TypeError(f"Layer '{self.name}' expects integer indices; received {str(x.dtype)[6:]} values. "
                            f"Pass token ids as an integer array (e.g. np.int64), or start the model with "
                            f"Input(shape, dtype='int32').")

    def check_indices(self, x) -> None:
        """Raise if ``x`` is not integer (TypeError) or holds an index outside ``[0, input_dim)``
        (ValueError, naming the first such value)."""
        x = torch.as_tensor(x)
        self._check_dtype(x)
        bad = (x < 0) | (x >= self.input_dim)
        if bool(bad.any()):
            value = int(x[bad][0])
            raise ValueError(f"Layer '{self.name}' received index {value}, outside [0, {self.input_dim}) "
                             f"(input_dim={self.input_dim}). Every index must be below input_dim: make "
                             f"input_dim the vocabulary size (largest index + 1).")

    def call(self, x, ctx):
        if self not in ctx.checked_inputs and _checkable(x):
            self.check_indices(x)
        else:  # the dtype is known while tracing, so this check costs nothing
            self._check_dtype(x)
        if x.dtype not in (torch.int64, torch.int32):
            x = x.long()
        out = torch.nn.functional.embedding(x, ctx[self.embeddings])
        if self.activity_regularizer is not None:
            ctx.penalties.append(self.activity_regularizer(out) / out.shape[0])
        return out

    def get_config(self):
        return {**super().get_config(), "input_dim": self.input_dim, "output_dim": self.output_dim,
                "embeddings_initializer": initializers.serialize(self.embeddings_initializer),
                "embeddings_regularizer": _regularizers.serialize(self.embeddings_regularizer),
                "activity_regularizer": _regularizers.serialize(self.activity_regularizer),
                "embeddings_constraint": None, "mask_zero": self.mask_zero}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("embeddings_regularizer", "activity_regularizer"):
            config[key] = _regularizers.deserialize(config.get(key))
        return cls(**config)


class Masking(Layer):
    """Masks the time steps whose features all equal ``mask_value``: their output is 0 and the
    layer's mask (``compute_mask``) is False there, so layers that use masks (recurrent layers)
    skip them. Input ``(batch, steps, features)``; the mask is ``(batch, steps)``.

    Training and inference compute the same thing.

    Args:
        mask_value: the padding value (default 0.0).

    >>> from regulab.layers import Masking
    >>> x = np.array([[[0.0, 0.0], [1.0, 2.0]]], dtype="float32")
    >>> Masking()(x).tolist()
    [[[0.0, 0.0], [1.0, 2.0]]]
    >>> Masking().compute_mask(x).tolist()
    [[False, True]]
    """

    supports_masking = True
    creates_mask = True

    def __init__(self, mask_value: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        if isinstance(mask_value, torch.Tensor) or hasattr(mask_value, "shape"):
            values = torch.as_tensor(mask_value).reshape(-1)
            if values.numel() != 1:
                raise invalid("mask_value", "a number", mask_value, "Masking")
            mask_value = values.item()
        self.mask_value = check_float("mask_value", mask_value, where="Masking")

    def compute_mask(self, x, mask=None):
        """True at the steps where some feature differs from ``mask_value``."""
        return (torch.as_tensor(x) != self.mask_value).any(dim=-1)

    def call(self, x, ctx):
        keep = (x != self.mask_value).any(dim=-1, keepdim=True)
        return x * keep.to(x.dtype)

    def get_config(self):
        return {**super().get_config(), "mask_value": self.mask_value}
