"""Sequential: a plain stack of layers, each feeding the next."""
from __future__ import annotations

from typing import Sequence

from regulab import activations
from regulab.layers import Input, Layer
from regulab.models._model import Model


class Sequential(Model):
    """A linear stack of layers, built from a list or with ``add``.

    The model builds as soon as the input shape is known (from ``Input``, or ``input_shape`` /
    ``input_dim`` on the first layer), otherwise on the first ``fit``/``predict``.

    >>> from regulab.models import Sequential
    >>> from regulab.layers import Dense
    >>> from regulab import regularizers
    >>> model = Sequential([
    ...     Dense(64, input_dim=100, activation='relu', kernel_regularizer=regularizers.l2(0.01)),
    ...     Dense(1, activation='sigmoid')])
    >>> model.compile(optimizer='adam', loss='binary_crossentropy', metrics=['accuracy'])
    >>> model.count_params()
    6529
    """

    def __init__(self, layers: Sequence[Layer] | None = None, name: str | None = None):
        super().__init__(name or "sequential")
        self._layers: list[Layer] = []
        self.input_shape: tuple | None = None
        self.output_shape: tuple | None = None
        for layer in layers or []:
            self.add(layer)

    @property
    def layers(self) -> list[Layer]:
        return list(self._layers)

    def add(self, layer: Layer) -> None:
        """Append a layer (an ``Input`` only as the first element)."""
        if not isinstance(layer, Layer):
            raise TypeError(f"Sequential.add expects a Layer; received {type(layer).__name__}: {layer!r}")
        if isinstance(layer, Input):
            if self._layers or self.input_shape is not None:
                raise ValueError("An Input can only be the first element of a Sequential model.")
            self.input_shape = layer.shape
            return
        if not self._layers and self.input_shape is None and layer._input_shape_arg is not None:
            self.input_shape = layer._input_shape_arg
        self._layers.append(layer)
        layer._stream = len(self._layers)
        if self.input_shape is not None:
            self.build(self.input_shape)

    @property
    def built(self) -> bool:
        return self.output_shape is not None and all(layer.built for layer in self._layers)

    def build(self, input_shape) -> None:
        """Build every layer for samples of ``input_shape`` (without the batch axis)."""
        shape = tuple(input_shape)
        self.input_shape = shape
        for layer in self._layers:
            shape = layer.build_for(shape)
        self.output_shape = shape if self._layers else None
        self.to(self.device)

    def _check_input_shape(self, shape):
        if not self._layers:
            raise ValueError(f"Model '{self.name}' has no layers; add some before training.")
        expected = self.input_shape
        ok = expected is None or (len(shape) == len(expected) and all(
            e is None or e == s for e, s in zip(expected, shape)))
        if not ok:
            raise ValueError(
                f"Input 0 of layer '{self._layers[0].name}' is incompatible with the layer: expected shape "
                f"{(None, *expected)}, but received input with shape {(None, *shape)}.")

    def _forward(self, x, ctx, logits=False):
        last = len(self._layers) - 1
        for i, layer in enumerate(self._layers):
            if logits and i == last:
                return layer.pre_activation(x, ctx)
            x = layer.call(x, ctx)
        return x

    def _output_activation(self):
        last = self._layers[-1] if self._layers else None
        # the stable logits path skips the last layer's activation, and so the penalty on its
        # output: keep the plain path when there is one
        if (last is not None and hasattr(last, "pre_activation")
                and getattr(last, "activity_regularizer", None) is None):
            return last.activation
        return activations.linear

    def get_config(self) -> dict:
        from regulab.models._saving import layer_spec

        return {"name": self.name, "input_shape": None if self.input_shape is None else list(self.input_shape),
                "layers": [layer_spec(layer) for layer in self._layers]}
