"""``Lambda``: a function of tensors as a layer."""
from __future__ import annotations

import torch

from regulab.layers._base import Layer
from regulab.layers._structure import normalize_shape


def _meta(shape, dtype=torch.float32):
    return torch.zeros((2, *[1 if d is None else d for d in shape]), dtype=dtype, device="meta")


class Lambda(Layer):
    """Wraps ``function(inputs, **arguments)`` (torch operations on tensors) as a layer. It has no
    weights; training and inference compute the same thing.

    Saving a model that holds one needs the function registered with
    ``@regulab.saving.register_serializable()``: loading never runs code a file names unless you
    registered it (or pass it in ``custom_objects``).

    Args:
        function: the function of the input tensor (or list of tensors).
        output_shape: the output's shape without the batch axis; default: inferred by running
            ``function`` on shape-only (meta) tensors.
        arguments: extra keyword arguments for ``function``.

    >>> import torch
    >>> from regulab.layers import Lambda
    >>> Lambda(lambda x: x ** 2)(torch.tensor([[3.0]])).tolist()
    [[9.0]]
    """

    def __init__(self, function, output_shape=None, arguments: dict | None = None, **kwargs):
        super().__init__(**kwargs)
        if not callable(function):
            raise TypeError(f"Invalid value for argument `function` of Lambda: expected a callable. "
                            f"Received: function={function!r}")
        self.function = function
        self._output_shape_arg = None if output_shape is None else normalize_shape(output_shape, "output_shape", "Lambda")
        self.arguments = dict(arguments or {})

    def compute_output_shape(self, input_shape):
        if self._output_shape_arg is not None:
            return self._output_shape_arg
        x = [_meta(s) for s in input_shape] if isinstance(input_shape, list) else _meta(input_shape)
        try:
            out = self.function(x, **self.arguments)
        except Exception as e:  # noqa: BLE001 - any failure means the shape cannot be inferred
            raise ValueError(f"Layer '{self.name}' (Lambda) could not infer its output shape by running its "
                             f"function on inputs of shape {input_shape} ({type(e).__name__}: {e}); pass "
                             f"`output_shape`.") from None
        if isinstance(out, (list, tuple)):
            return [tuple(o.shape[1:]) for o in out]
        return tuple(out.shape[1:])

    def call(self, x, ctx):
        return self.function(x, **self.arguments)

    def get_config(self):
        from regulab import saving

        name = saving.get_registered_name(self.function)
        if name is None:
            fn = getattr(self.function, "__qualname__", repr(self.function))
            raise ValueError(f"Cannot save Lambda layer '{self.name}': its function {fn} is not registered, and "
                             f"loading never runs unregistered code. Define it with `def`, decorate it with "
                             f"@regulab.saving.register_serializable(), and pass it in `custom_objects` when "
                             f"loading.")
        cfg = {**super().get_config(), "function": name, "arguments": self.arguments}
        if self._output_shape_arg is not None:
            cfg["output_shape"] = list(self._output_shape_arg)
        return cfg

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from regulab import saving

        config = dict(config)
        name = config.pop("function")
        fn = saving.get_registered_object(name, custom_objects)
        if fn is None:
            raise ValueError(f"Lambda layer {config.get('name')!r} names the function {name!r}, which is not "
                             f"registered; pass it in `custom_objects` or register it with "
                             f"@regulab.saving.register_serializable().")
        return cls(fn, **config)
