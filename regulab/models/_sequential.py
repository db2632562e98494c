"""Sequential: a plain stack of layers, each feeding the next."""
from __future__ import annotations

from typing import Sequence

import torch

from regulab import activations
from regulab.layers import Layer
from regulab.layers._structure import structure_changed
from regulab.layers._core import InputLayer
from regulab.layers._symbolic import SymbolicTensor, dtype_name, resolve_dtype
from regulab.models._model import Model
from regulab.models._specs import layer_from_spec, layer_spec


class Sequential(Model):
    """A linear stack of layers (or models), built from a list or with ``add``.

    The model builds as soon as the input shape is known (from ``Input``, or ``input_shape`` /
    ``input_dim`` on the first layer), otherwise on the first ``fit``/``predict``. The same layer
    may appear twice: it is one set of weights, applied twice.

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

    _graph_from_arguments = False

    def __init__(self, layers: Sequence[Layer] | None = None, name: str | None = None, trainable: bool = True):
        super().__init__(name=name, trainable=trainable)
        self._layers: list[Layer] = []
        self._built_layers = 0  # how many of the layers the last build built, in order
        self.input_shape: tuple | None = None
        self.output_shape: tuple | None = None
        self._input_dtype = torch.float32
        self._follows_masks = False  # a layer creates masks (Embedding(mask_zero=True), Masking)
        for layer in layers or []:
            self.add(layer)

    @property
    def layers(self) -> list[Layer]:
        return list(self._layers)

    @property
    def _sublayers(self) -> list[Layer]:
        out: list[Layer] = []
        for layer in self._layers:
            if not any(layer is o for o in out):
                out.append(layer)
        return out

    def add(self, layer) -> None:
        """Append a layer or a model (an ``Input`` only as the first element)."""
        if isinstance(layer, SymbolicTensor) and isinstance(layer.node.layer, InputLayer):
            layer = layer.node.layer
        if not isinstance(layer, Layer):
            raise TypeError(f"Sequential.add expects a Layer; received {type(layer).__name__}: {layer!r}")
        if isinstance(layer, InputLayer):
            if self._layers or self.input_shape is not None:
                raise ValueError("An Input can only be the first element of a Sequential model.")
            self.input_shape = layer.shape
            self._input_dtype = layer.dtype
            return
        for other in self._layers:
            if other.name == layer.name and other is not layer:
                raise ValueError(f"All layers added to a Sequential model should have unique names. Name "
                                 f"'{layer.name}' is already the name of a layer in this model. Update the "
                                 f"`name` argument to pass a unique name.")
        if not self._layers and self.input_shape is None:
            if layer._input_shape_arg is not None:
                self.input_shape = layer._input_shape_arg
            elif isinstance(layer, Model) and layer.built and isinstance(layer.input_shape, tuple):
                self.input_shape = layer.input_shape  # a built model first: its input shape
        self._layers.append(layer)
        structure_changed()
        if self.input_shape is None:
            return
        if self._built_layers == len(self._layers) - 1 and self.output_shape is not None:
            # the layers before are built for this input: build only the new one (rebuilding them
            # all on every add made a model of n layers cost n^2 builds, loading one too)
            self.output_shape = layer.build_for(self.output_shape)
            self._built_layers += 1
            self._follows_masks = self._follows_masks or layer.creates_mask
            for var in layer.weights:
                var.value = var.value.to(self.device)
        else:
            self.build(self.input_shape)

    def pop(self) -> Layer:
        """Remove and return the last layer."""
        if not self._layers:
            raise TypeError("There are no layers in the model.")
        layer = self._layers.pop()
        structure_changed()
        self.output_shape = None
        self._built_layers = 0
        if self.input_shape is not None and self._layers:
            self.build(self.input_shape)
        return layer

    @property
    def built(self) -> bool:
        return self.output_shape is not None and all(layer.built for layer in self._layers)

    @built.setter
    def built(self, value) -> None:  # built follows the layers
        pass

    def build(self, input_shape) -> None:
        """Build every layer for samples of ``input_shape`` (without the batch axis)."""
        shape = tuple(input_shape)
        self.input_shape = shape
        for layer in self._layers:
            shape = layer.build_for(shape)
        self.output_shape = shape if self._layers else None
        self._built_layers = len(self._layers)
        # decided here, not while a step is traced: torch.compile would see the decision change
        self._follows_masks = any(layer.creates_mask for layer in self._layers)
        self.to(self.device)

    def input_dtypes(self):
        # a first layer that takes indices (Embedding) keeps them integers without an Input
        if self._input_dtype == torch.float32 and self._layers and self._layers[0].integer_inputs:
            return [torch.int64]
        return [self._input_dtype]

    @property
    def input_names(self) -> list[str]:
        return ["input"]

    @property
    def output_names(self) -> list[str]:
        return [self._layers[-1].name] if self._layers else ["output"]

    def _check_input_shape(self, shape):
        if not self._layers:
            raise ValueError(f"Model '{self.name}' has no layers; add some before training.")
        expected = self.input_shape
        ok = expected is None or (not isinstance(shape, list) and len(shape) == len(expected) and all(
            e is None or e == s for e, s in zip(expected, shape)))
        if not ok:
            raise ValueError(
                f"Input 0 of layer '{self._layers[0].name}' is incompatible with the layer: expected shape "
                f"{(None, *expected)}, but received input with shape {(None, *shape)}.")

    def stacks(self) -> bool:
        return not self._follows_masks and all(layer.stacks() for layer in self._sublayers)

    def forward(self, x, ctx, logits=False):
        last = len(self._layers) - 1
        if self._follows_masks:
            return self._forward_masked(x, ctx, logits, None)[0]
        for i, layer in enumerate(self._layers):
            if logits and i == last:
                return layer.pre_activation(x, ctx)
            x = layer.forward(x, ctx)
        return x

    def _index_consumers(self):
        first = self._layers[0] if self._layers else None
        return [(0, first)] if hasattr(first, "check_indices") else []

    @property
    def creates_mask(self) -> bool:
        """Its output may carry a mask (one of its layers makes one): a model around it follows it."""
        return self._follows_masks

    def forward_masked(self, x, ctx, mask):
        # nested in a model that follows masks: take its mask in, hand this model's out
        return self._forward_masked(x, ctx, False, mask)

    def _forward_masked(self, x, ctx, logits, mask):
        """``(output, mask)``: the forward pass following a mask from layer to layer, as Keras does."""
        last = len(self._layers) - 1
        for i, layer in enumerate(self._layers):
            if logits and i == last and not layer.takes_mask:
                return layer.pre_activation(x, ctx), None
            x, mask = layer.forward_masked(x, ctx, mask)
        return x, mask

    def call(self, inputs, training=None):
        return self(inputs, training=training)

    def output_activations(self):
        last = self._layers[-1] if self._layers else None
        # the stable logits path skips the last layer's activation, and so the penalty on its
        # output: keep the plain path when there is one
        if (last is not None and hasattr(last, "pre_activation")
                and getattr(last, "activity_regularizer", None) is None):
            return [last.activation]
        return [activations.linear]

    def get_config(self) -> dict:
        written: set = set()
        cfg = {"name": self.name, "input_shape": None if self.input_shape is None else list(self.input_shape),
               "layers": [layer_spec(layer, written) for layer in self._layers]}
        if self._input_dtype != torch.float32:
            cfg["input_dtype"] = dtype_name(self._input_dtype)
        if not self.trainable:
            cfg["trainable"] = False
        return cfg

    @classmethod
    def from_config(cls, config: dict, custom_objects=None) -> "Sequential":
        built: dict = {}
        layers = [layer_from_spec(spec, built, custom_objects) for spec in config.get("layers", [])]
        model = cls(name=config.get("name"))
        if config.get("input_dtype"):
            model._input_dtype = resolve_dtype(config["input_dtype"])
        if config.get("input_shape") is not None:
            model.input_shape = tuple(config["input_shape"])
        for layer in layers:
            model.add(layer)
        if config.get("trainable") is False:
            model.trainable = False
        return model
