"""The layer base class: configuration, weights, sub-layers, and how a call runs.

A layer owns Keras-style configuration and its weights (``Variable``), tracks the layers assigned
to its attributes (so a model is a layer of layers), and computes its output with
``call(x, ctx)`` as a pure function of ``x`` and the call's context (``_context.CallContext``).

Calling a layer:

- on symbolic tensors (``Input(...)``) records a node of a functional graph and returns symbolic
  outputs (``_symbolic.py``);
- on arrays or tensors runs it eagerly on its current weights, drawing fresh randomness from
  torch's global generator when ``training=True``;
- inside a model's call (a subclassed model calling its layers) runs it in that call's context.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import torch

from regulab import initializers
from regulab._validation import check_int
from regulab.layers import _structure, _symbolic
from regulab.layers._context import CallContext, active_context, fresh_key, in_gradient_scope
from regulab.layers._structure import (batched, cached, normalize_shape, shapes_match, snake_case,
                                       structure_changed, unique_name)
from regulab.layers._variable import Variable, assign_arrays

Shape = tuple  # without the batch axis, e.g. (100,) or (28, 28, 1)

def _sample_shapes(x):
    """Shapes without the batch axis of a tensor or a list/tuple of tensors."""
    if isinstance(x, (list, tuple)):
        return [tuple(t.shape[1:]) for t in x]
    return tuple(x.shape[1:])


class Layer:
    """Base class of all layers (and of models, which are layers of layers).

    Args:
        name: the layer's name (default: its class in snake case, numbered).
        trainable: whether its weights are trained; setting it on a model sets it on every layer
            the model contains.
        input_shape: shape of one sample, without the batch axis (first layer of a Sequential).
        input_dim: shorthand for ``input_shape=(input_dim,)``.
    """

    #: inputs are integer indices (kept as integers when called eagerly on arrays)
    integer_inputs = False
    #: masks (Keras's masking of padded time steps, a bool ``(batch, steps)`` tensor): the layer
    #: passes an incoming mask through unchanged (``supports_masking``), its ``call`` takes
    #: ``mask=`` (``takes_mask``: recurrent layers, masked pooling), or it may make a mask from
    #: its input (``creates_mask``: ``Embedding(mask_zero=True)``, ``Masking``). Models follow
    #: masks only when one of their layers creates one, so unmasked models pay nothing.
    supports_masking = False
    takes_mask = False
    creates_mask = False
    #: the layer runs a fused kernel eagerly that a compiled step cannot use (LSTM/GRU on
    #: PyTorch's RNN kernels): ``jit_compile="auto"`` then keeps the model eager
    runs_faster_eagerly = False
    #: attributes whose values a training step reads from its state rather than from the layer
    #: (dropout rates, noise levels): one compiled step serves every value, and stacked variants
    #: each train with their own. A layer reads them with ``ctx.hyper(self, name)``.
    hyper_parameters: tuple[str, ...] = ()
    #: added to a model by ``lab.study`` (its random stream then leaves the model's own layers' alone)
    _added_layer = False
    #: ``call`` also runs on stacked variants (see ``stacks``)
    stacks_variants = False

    def __init__(self, name: str | None = None, trainable: bool = True, input_shape=None,
                 input_dim: int | None = None, dtype=None, **kwargs):
        if kwargs:
            bad = next(iter(kwargs))
            raise TypeError(f"{type(self).__name__} got an unexpected keyword argument '{bad}'.")
        if "_layer_attrs" not in self.__dict__:
            object.__setattr__(self, "_layer_attrs", {})
        structure_changed()
        if name is not None and (not isinstance(name, str) or not name or "/" in name):
            raise ValueError(f"Invalid value for argument `name` of {type(self).__name__}: expected a "
                             f"non-empty string without '/'. Received: name={name!r}")
        self.name = name or unique_name(snake_case(type(self).__name__))
        #: the name was numbered automatically (``dense_7``): paths then use the layer's place
        #: among its siblings instead, which does not depend on what the process built before
        self._auto_named = name is None
        self._variables: list[Variable] = []
        self._frozen_names: set[str] = set()  # weights that are never trained (moving statistics)
        self._trainable = bool(trainable)
        if input_dim is not None:
            input_shape = (check_int("input_dim", input_dim, low=1, where=type(self).__name__),)
        self._input_shape_arg = (None if input_shape is None
                                 else normalize_shape(input_shape, "input_shape", type(self).__name__))
        self._built = False
        self.input_shape: Shape | None = None
        self.output_shape: Shape | None = None
        self._inbound_nodes: list = []

    # -- sub-layers
    def __setattr__(self, name: str, value) -> None:
        # remember the attributes that may hold layers (a layer, or a container that may hold
        # some now or later), so that finding sub-layers never scans every attribute
        holders = self.__dict__.get("_layer_attrs")
        if holders is None and isinstance(value, Layer):
            raise RuntimeError(f"{type(self).__name__}.{name} was set to a layer before the layer's own "
                               f"__init__ ran: call super().__init__() first in {type(self).__name__}.__init__.")
        if holders is not None and name not in _UNTRACKED:
            if isinstance(value, (Layer, list, tuple, dict)):
                holders[name] = None
                structure_changed()
            elif holders.pop(name, False) is None:
                structure_changed()
        object.__setattr__(self, name, value)

    @property
    def _sublayers(self) -> list["Layer"]:
        """The layers this one contains directly: those held by its attributes (alone, or in a
        list, tuple or dict), in assignment order, each once."""
        out: list[Layer] = []
        attrs = self.__dict__
        for name in self._layer_attrs:
            for layer in _layers_in(attrs.get(name)):
                if layer is not self and not any(layer is o for o in out):
                    out.append(layer)
        return out

    def _flatten_layers(self) -> list["Layer"]:
        """This layer and every layer inside it, each once, depth first."""
        seen, out = set(), []

        def walk(layer):
            if id(layer) in seen:
                return
            seen.add(id(layer))
            out.append(layer)
            for child in layer._sublayers:
                walk(child)

        walk(self)
        return out

    # -- building
    @property
    def built(self) -> bool:
        return self._built

    @built.setter
    def built(self, value: bool) -> None:
        self._built = bool(value)

    def build(self, input_shape: Shape) -> None:
        """Create the weights for inputs of ``input_shape`` (no batch axis)."""

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return input_shape

    def build_for(self, input_shape) -> Shape:
        """Check the input shape, build if needed, and return the output shape."""
        input_shape = [tuple(s) for s in input_shape] if isinstance(input_shape, list) else tuple(input_shape)
        if self.built and self.input_shape is not None:
            self._check_input_shape(input_shape)
        elif not self.built:
            self.build(input_shape)
            self.input_shape = input_shape
            self.built = True
        out = self.compute_output_shape(input_shape)
        self.output_shape = [tuple(s) for s in out] if isinstance(out, list) else tuple(out)
        return self.output_shape

    def _check_input_shape(self, shape) -> None:
        expected = self.input_shape
        if expected is None:
            return
        if not shapes_match(expected, shape):
            raise ValueError(
                f"Input 0 of layer '{self.name}' is incompatible with the layer: expected shape "
                f"{batched(expected)}, but received input with shape {batched(shape)}."
            )

    def add_weight(self, name: str, shape: Sequence[int], initializer="glorot_uniform",
                   regularizer=None, trainable: bool = True) -> Variable:
        if isinstance(initializer, torch.Tensor):  # an existing tensor (a wrapped torch module's)
            value = initializer.detach().clone()
        else:
            value = initializers.get(initializer)(tuple(shape)).to(torch.float32)
        var = Variable(f"{self.name}/{name}", value, trainable and self._trainable, regularizer, layer=self)
        if not trainable:
            self._frozen_names.add(var.name)
        self._variables.append(var)
        structure_changed()
        return var

    @property
    def trainable(self) -> bool:
        """Whether fit updates this layer's weights. Setting it freezes or unfreezes them and every
        layer inside it; it takes effect at the next ``fit`` (the optimizer keeps the moments of
        weights that stay trainable). A frozen BatchNormalization runs in inference mode, as in
        Keras. Moving statistics are never trained."""
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        value = bool(value)
        self._trainable = value
        structure_changed()
        for var in self._variables:
            var.trainable = value and var.name not in self._frozen_names
        for layer in self._sublayers:
            layer.trainable = value

    # -- weights
    @property
    def weights(self) -> list[Variable]:
        """Every weight of this layer and the layers inside it, each once (a layer used twice
        has one set of weights)."""
        return list(cached(self, "weights", self._collect_weights))

    def _collect_weights(self) -> list[Variable]:
        seen, out = set(), []
        for layer in self._flatten_layers():
            for v in layer._variables:
                if id(v) not in seen:
                    seen.add(id(v))
                    out.append(v)
        return out

    variables = weights

    @property
    def trainable_weights(self) -> list[Variable]:
        if not self.trainable:
            return []
        return [v for v in self.weights if v.trainable]

    trainable_variables = trainable_weights

    @property
    def non_trainable_weights(self) -> list[Variable]:
        if not self.trainable:
            return self.weights
        return [v for v in self.weights if not v.trainable]

    non_trainable_variables = non_trainable_weights

    def count_params(self) -> int:
        return sum(v.value.numel() for v in self.weights)

    def get_weights(self) -> list:
        return [v.numpy() for v in self.weights]

    def set_weights(self, weights: Sequence) -> None:
        assign_arrays(self.weights, weights, f"Layer '{self.name}'")

    # -- paths: where each variable lies in the state of a call of this layer
    def variable_paths(self) -> dict[Variable, str]:
        """``{variable: path}`` for every weight: the chain of layer keys from this layer down to
        the one holding it (``encoder/dense_1/kernel``), the first one where a layer appears
        twice. A layer's key is its name if you gave one; an automatically numbered layer is
        keyed by its class, numbered among its siblings (the second unnamed Dense of a model is
        ``dense_1`` whatever the process built before), so paths are the same in every run.
        Raises if two layers side by side have the same name."""
        return dict(cached(self, "paths", lambda: _structure.variable_paths(self)))

    def sublayer_keys(self) -> list[tuple[str, "Layer"]]:
        """``[(key, layer)]`` for the layers directly inside this one (see ``variable_paths``)."""
        return _structure.sublayer_keys(self)

    def layer_streams(self) -> dict["Layer", int]:
        """``{layer: random stream}`` for this layer and every layer inside it, each from the
        layer's position in the tree (``0/2``) and class, not its name: auto-numbered names change
        with what a process built before, and a seeded fit must not. A layer used twice keeps its
        first position; a hash collision moves the later layer to the next free stream."""
        return cached(self, "streams", lambda: _structure.layer_streams(self))

    def live_context(self, training: bool = False, key=None, stochastic=None) -> CallContext:
        """A context over the current weights, for calling this layer eagerly. With gradients
        enabled, trainable values become autograd leaves (``v.value.grad`` after ``backward()``)
        inside a custom ``train_step`` and after ``Model.zero_grad()``."""
        paths = self.variable_paths()  # a copy: a first call may add the weights it builds
        if torch.is_grad_enabled():
            scope = in_gradient_scope()
            for v in paths:
                if (v.trainable and (scope or v.wants_grad) and not v.value.requires_grad and v.value.is_leaf
                        and v.value.is_floating_point()):
                    v.value.requires_grad_(True)
        values = {p: v.value for v, p in paths.items()}
        if key is None:
            key = fresh_key() if (training or stochastic) else 0
        return CallContext(values, paths, self.layer_streams(), training=training, key=key,
                           stochastic=stochastic)

    def apply_updates(self, ctx: CallContext) -> None:
        """Write the non-trainable updates an eager training call reported (BatchNorm's moving
        statistics) into the variables."""
        if not ctx.updates:
            return
        by_path = {p: v for v, p in ctx.paths.items()}
        for path, value in ctx.updates.items():
            by_path[path].value = value.detach()

    # -- computing
    def call(self, x: torch.Tensor, ctx: CallContext) -> torch.Tensor:
        """The layer's forward pass as a pure function of ``x`` and ``ctx``."""
        return x

    def stacks(self) -> bool:
        """Whether this layer, as configured, runs in a ``VariantContext`` (V stacked variants at
        once, every tensor with a leading variant axis): the stacked step then runs V variants
        of a model as one batch of batched operations; a model with any layer that does not is
        mapped over them with ``vmap``. Read from the class's own ``stacks_variants``, never
        inherited: a subclass may change what ``call`` does."""
        return type(self).__dict__.get("stacks_variants", False)

    def forward(self, x, ctx: CallContext):
        """What a model runs for this layer (models override it; layers compute ``call``)."""
        return self.call(x, ctx)

    def compute_mask(self, x, mask=None):
        """The mask of this layer's output, given its input ``x`` and the input's mask: the same
        mask for a layer that ``supports_masking``, else None (the mask stops here)."""
        if isinstance(mask, list):
            return None
        return mask if self.supports_masking else None

    def forward_masked(self, x, ctx: CallContext, mask):
        """``(output, output mask)``: what a model runs for this layer while it follows masks."""
        out = self.call(x, ctx, mask=mask) if self.takes_mask else self.forward(x, ctx)
        return out, self.compute_mask(x, mask)

    def _eager_inputs(self, x):
        if isinstance(x, (list, tuple)):
            return [self._eager_inputs(t) for t in x]
        if isinstance(x, torch.Tensor) and (self.integer_inputs or x.is_floating_point()):
            return x if x.dtype != torch.float64 else x.float()
        t = torch.as_tensor(np.asarray(x) if not isinstance(x, torch.Tensor) else x)
        if self.integer_inputs and not t.is_floating_point():
            return t
        return t.to(torch.float32)

    def __call__(self, inputs, training: bool | None = None, **kwargs):
        """Apply the layer: symbolically on ``Input`` tensors (recording a graph node), or eagerly
        on arrays/tensors (building it from their shape if needed)."""
        mask = kwargs.pop("mask", None) if self.takes_mask else None
        if kwargs:
            bad = next(iter(kwargs))
            raise TypeError(f"Layer '{self.name}' was called with an unexpected keyword argument '{bad}'.")
        if _symbolic.any_symbolic(inputs):
            if mask is not None:
                raise TypeError(f"Layer '{self.name}' was given `mask=` on symbolic inputs: in a model, "
                                f"masks come from Embedding(mask_zero=True) or Masking and follow the graph.")
            return _symbolic.call_symbolic(self, inputs)
        ctx = active_context()
        if ctx is not None:  # inside a model's call: run in its context
            if not self.built:  # first call of a subclassed model: build, then read the new weights
                self.build_for(_sample_shapes(inputs))
                ctx.adopt(self)
            return self.call(inputs, ctx, mask=mask) if mask is not None else self.forward(inputs, ctx)
        x = self._eager_inputs(inputs)
        self.build_for(_sample_shapes(x))
        ctx = self.live_context(training=bool(training))
        if mask is not None:
            mask = torch.as_tensor(np.asarray(mask) if not isinstance(mask, torch.Tensor) else mask).bool()
            out = self.call(x, ctx, mask=mask)
        else:
            out = self.forward(x, ctx)
        if training:
            self.apply_updates(ctx)
        return out

    # -- configuration
    def get_config(self) -> dict[str, Any]:
        cfg: dict[str, Any] = {"name": self.name}
        if not self.trainable:
            cfg["trainable"] = False
        if self._input_shape_arg is not None:
            cfg["input_shape"] = list(self._input_shape_arg)
        return cfg

    @classmethod
    def from_config(cls, config: dict) -> "Layer":
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}>"


#: attributes that never hold contained layers (or refer to layers without containing them)
_UNTRACKED = frozenset({"_inbound_nodes", "layer", "_variables", "_layer_attrs", "_structure_cache",
                        "_compiled_steps", "_metric_args",
                        "_last_penalties", "_metric_objects", "_params", "_buffers", "loss", "loss_weights"})


def _layers_in(value) -> list[Layer]:
    if isinstance(value, Layer):
        return [value]
    if isinstance(value, (list, tuple)):
        return [v for v in value if isinstance(v, Layer)]
    if isinstance(value, dict):
        return [v for v in value.values() if isinstance(v, Layer)]
    return []

