"""The Model class: a layer of layers, with a training API (``_trainer.py``).

``Model(inputs, outputs)`` builds a functional graph (``_functional.py``); ``Sequential`` stacks
layers (``_sequential.py``); a subclass of ``Model`` defines its layers as attributes and its
forward pass in ``call(self, inputs, training=None)``, as in Keras. Whatever the kind, a model
is a layer: it can be used inside another model, its weights are those of the layers it contains
(each once), and ``trainable`` applies to all of them.
"""
from __future__ import annotations

import inspect

import numpy as np
import torch

from regulab._device import resolve_device
from regulab.layers import Layer, Variable
from regulab.layers._variable import assign_arrays
from regulab.layers._context import activate, active_context
from regulab.layers._symbolic import any_symbolic, call_symbolic
from regulab.models._trainer import Trainer
from regulab.training import _data


class Model(Trainer, Layer):
    """A model: ``Model(inputs, outputs)`` (functional API), or a subclass with its own ``call``.

    >>> from regulab.layers import Input, Dense, concatenate
    >>> from regulab.models import Model
    >>> a, b = Input((3,), name="a"), Input((2,), name="b")
    >>> out = Dense(1, activation="sigmoid")(concatenate([Dense(4)(a), b]))
    >>> model = Model([a, b], out)
    >>> model.count_params()  # (3*4 + 4) + ((4+2)*1 + 1)
    23
    """

    def __new__(cls, *args, **kwargs):
        graph = "inputs" in kwargs or "outputs" in kwargs or (args and any_symbolic(args[0]))
        if cls._graph_from_arguments and (graph or (cls is Model and args)):
            from regulab.models._functional import Functional

            if not issubclass(cls, Functional):
                # Model(inputs, outputs), or a subclass built the same way (a custom train_step on
                # a graph, as Keras's guides do): the instance is a functional model of that class
                return object.__new__(Model._functional_class(cls))
        return object.__new__(cls)

    _functional_classes: dict = {}
    #: ``cls(inputs, outputs)`` makes a functional model of this class (Sequential takes layers)
    _graph_from_arguments = True

    @staticmethod
    def _functional_class(cls):
        """``cls`` with the functional machinery mixed in (Keras does the same)."""
        from regulab.models._functional import Functional

        if cls is Model:
            return Functional
        made = Model._functional_classes.get(cls)
        if made is None:
            made = Model._functional_classes[cls] = type(cls.__name__, (cls, Functional),
                                                         {"__module__": cls.__module__, "_functional_of": cls})
        return made

    def __init__(self, *args, name: str | None = None, trainable: bool = True, **kwargs):
        if args:
            raise TypeError(f"{type(self).__name__}.__init__ takes keyword arguments only (name=..., "
                            f"trainable=...); received {len(args)} positional arguments.")
        Layer.__init__(self, name=name, trainable=trainable, **kwargs)
        Trainer.__init__(self)
        self.device = resolve_device(None)

    # -- structure (Sequential and Functional override these)
    @property
    def layers(self) -> list[Layer]:
        """The layers this model holds directly, in order."""
        return self._sublayers

    @property
    def input_names(self) -> list[str]:
        return ["input"]

    @property
    def output_names(self) -> list[str]:
        """The names of the outputs (history keys and loss dicts use them)."""
        return ["output"]

    @property
    def output_shapes(self) -> list[tuple] | None:
        """Shape of each output without the batch axis, or None while unbuilt."""
        return None if self.output_shape is None else [tuple(self.output_shape)]

    def input_dtypes(self) -> list[torch.dtype] | None:
        return None

    def _index_consumers(self) -> list:
        """``[(input position, layer)]`` for layers that read a model input as indices
        (``check_indices``: Embedding), so that fit checks the whole data once."""
        return []

    @property
    def multiple_inputs(self) -> bool:
        return False

    def output_activations(self) -> list:
        """The activation each output ends with (the stable logits path of the losses uses it)."""
        from regulab import activations

        return [activations.linear] * len(self.output_names)

    def call(self, inputs, training=None):
        """The forward pass of a subclassed model, Keras's signature: ``call(self, inputs,
        training=None)``, calling its layers as functions."""
        raise TypeError(f"Model '{self.name}' ({type(self).__name__}) has no forward pass: define "
                        f"`call(self, inputs, training=None)`, or build it as Model(inputs, outputs) or "
                        f"Sequential([...]).")

    def forward(self, x, ctx, logits=False):
        """The model's forward pass in context ``ctx`` (what a containing model or the training
        step runs). A subclassed model runs its ``call`` with ``ctx`` active, so the layers it calls
        read their weights (and the training mode) from ``ctx``."""
        with activate(ctx):
            if _takes_training(type(self)):
                return self.call(x, training=ctx.training)
            return self.call(x)

    def _run(self, x, ctx, logits=False):
        """``forward`` at the model's precision; outputs are always float32."""
        if self.precision == "mixed_bfloat16":
            device = (x[0] if isinstance(x, (list, tuple)) else x).device
            with torch.autocast(device.type, dtype=torch.bfloat16):
                out = self.forward(x, ctx, logits)
            return out.float() if isinstance(out, torch.Tensor) else [o.float() for o in out]
        return self.forward(x, ctx, logits)

    def build(self, input_shape) -> None:
        """Build a subclassed model by running ``call`` once on zeros of ``input_shape``."""
        shapes = input_shape if isinstance(input_shape, list) else [tuple(input_shape)]
        xs = [torch.zeros((2, *s), device=self.device) for s in shapes]
        x = xs if isinstance(input_shape, list) else xs[0]
        with torch.no_grad():
            out = self.forward(x, self.live_context(training=False), False)
        self.input_shape = input_shape
        self.output_shape = tuple(out.shape[1:]) if isinstance(out, torch.Tensor) else [tuple(o.shape[1:]) for o in out]
        self.built = True
        self.to(self.device)

    def compute_output_shape(self, input_shape):
        if not self.built or self.output_shape is None:
            self.build(input_shape)
        return self.output_shape

    def build_for(self, input_shape):
        if not self.built:
            self.build(input_shape)
        return self.compute_output_shape(input_shape)

    # -- weights
    def count_params(self) -> int:
        self._require_built("count_params")
        return super().count_params()

    def get_weights(self) -> list[np.ndarray]:
        """All weights as NumPy arrays, layer by layer (Keras's order)."""
        return [v.numpy() for v in self.weights]

    def set_weights(self, weights) -> None:
        """Set all weights from arrays in ``get_weights``'s order (shapes are checked first)."""
        assign_arrays(self.weights, weights, f"Model '{self.name}'")

    @property
    def losses(self) -> list[torch.Tensor]:
        """The current regularization penalty of each regularized weight, as Keras's ``model.losses``."""
        return [v.regularizer(v.value) for v in self.weights if v.regularizer is not None]

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        """A layer of this model by name or by index in ``layers`` (Keras's ``get_layer``)."""
        if (name is None) == (index is None):
            raise ValueError("Provide exactly one of `name` or `index` to get_layer. "
                             f"Received: name={name!r}, index={index!r}")
        layers = self.layers
        if index is not None:
            if not -len(layers) <= index < len(layers):
                raise ValueError(f"Was asked to retrieve layer at index {index} but model '{self.name}' only "
                                 f"has {len(layers)} layers.")
            return layers[index]
        for layer in layers:
            if layer.name == name:
                return layer
        raise ValueError(f"No such layer: {name}. Existing layers are: {[layer.name for layer in layers]}.")

    def _require_built(self, what: str) -> None:
        if not self.built:
            raise ValueError(f"Model '{self.name}' is not built yet, so `{what}` is unknown: give the first "
                             f"layer `input_shape`/`input_dim`, start with `Input(shape)`, or call "
                             f"`build(input_shape)` or `fit` first.")

    def to(self, device=None) -> "Model":
        """Move the weights (and optimizer state) to ``device``."""
        self.device = resolve_device(device)
        for var in self.weights:
            var.value = var.value.to(self.device)
        opt = getattr(self, "optimizer", None)
        if opt is not None:
            opt.slots = {v: {k: t.to(self.device) for k, t in s.items()} for v, s in opt.slots.items()}
            for name in ("_iterations", "_learning_rate"):
                value = getattr(opt, name)
                if isinstance(value, torch.Tensor):
                    setattr(opt, name, value.to(self.device))
        return self

    # -- calling
    def _inputs(self, x, what: str = "x", check_finite: bool = True):
        """The user's inputs as device tensors: one tensor, or a tuple in input order for a
        model with several inputs (from a list, or a dict by input name)."""
        dtypes = self.input_dtypes()
        if self.multiple_inputs:
            xs = _data.align_structure(x, self.input_names, "x", "inputs")
            tensors = tuple(_data.to_tensor(v, f"{what}[{n!r}]", self.device, dtype=d, check_finite=check_finite)
                            for v, n, d in zip(xs, self.input_names, dtypes))
            _data.check_lengths(**{f"{what}[{n!r}]": t for n, t in zip(self.input_names, tensors)})
            shapes = [tuple(t.shape[1:]) for t in tensors]
        elif _is_several(x) and type(self).forward is Model.forward:
            # a subclassed model whose call takes several tensors (``a, b = inputs``)
            tensors = tuple(_data.to_tensor(v, f"{what}[{i}]", self.device, check_finite=check_finite)
                            for i, v in enumerate(x))
            shapes = [tuple(t.shape[1:]) for t in tensors]
        else:
            if isinstance(x, dict) and len(x) == 1:
                x = next(iter(x.values()))
            tensors = _data.to_tensor(x, what, self.device, dtype=dtypes[0] if dtypes else torch.float32,
                                      check_finite=check_finite)
            shapes = tuple(tensors.shape[1:])
        if not self.built:
            self.build(list(shapes) if isinstance(shapes, list) else shapes)
            self.to(self.device)
        self._check_input_shape(shapes)
        if check_finite:  # the whole data, once: the steps do not check indices batch by batch
            for i, layer in self._index_consumers():
                layer.check_indices(tensors[i] if isinstance(tensors, tuple) else tensors)
        return tensors

    def __call__(self, inputs, training: bool | None = None, **kwargs):
        """The forward pass on a batch; returns a tensor (a list for several outputs).

        ``training=True`` uses batch statistics and dropout, with fresh random masks on every call,
        and updates BatchNorm's moving statistics, as a Keras model does when called eagerly.
        On symbolic tensors (``Input``) it records the model as one layer of a larger graph.
        """
        if kwargs:
            bad = next(iter(kwargs))
            raise TypeError(f"Model '{self.name}' was called with an unexpected keyword argument '{bad}'.")
        if any_symbolic(inputs):
            return call_symbolic(self, list(inputs) if isinstance(inputs, tuple) else inputs)
        outer = active_context()
        if outer is not None:  # inside another model's call: run in its context
            if not self.built:
                self.build(_sample_shapes(inputs))
                outer.adopt(self)
            return self.forward(inputs, outer)
        xt = self._inputs(inputs, check_finite=False)
        ctx = self.live_context(training=bool(training))
        out = self._run(xt, ctx, False)
        self._last_penalties = ctx.penalties
        if training:
            self.apply_updates(ctx)
        return self.structure_outputs(out)

    def structure_outputs(self, outputs):
        """Outputs as the user declared them (a dict for ``Model(x, {"a": ..., "b": ...})``);
        the engine works with lists in output order."""
        return outputs

    def _check_input_shape(self, shape) -> None:
        pass

    # -- reporting and saving
    def summary(self, print_fn=None, expand_nested: bool = False, line_length: int | None = None) -> None:
        """Print a Keras-style table of layers, output shapes and parameter counts (with a
        "Connected to" column for graphs; ``expand_nested`` lists the layers of nested models)."""
        from regulab.models._summary import print_summary

        print_summary(self, print_fn, expand_nested=expand_nested, line_length=line_length)

    def save(self, filepath) -> None:
        """Save architecture, compile settings and weights to one file (a zip of JSON and
        safetensors; loading it never unpickles or executes anything)."""
        from regulab.models._saving import save_model

        save_model(self, filepath)

    def save_weights(self, filepath) -> None:
        """Save the weights alone as a safetensors file, keyed by their paths."""
        from regulab.models._saving import save_weights

        save_weights(self, filepath)

    def load_weights(self, filepath, skip_mismatch: bool = False) -> None:
        """Load weights saved by ``save_weights`` or ``save``, matched by path
        (``encoder/dense_1/kernel``). ``skip_mismatch=True`` skips weights whose shape differs
        (a new head on a pretrained body) instead of raising."""
        from regulab.models._saving import load_weights

        load_weights(self, filepath, skip_mismatch=skip_mismatch)

    def get_config(self) -> dict:
        """A subclassed model's constructor arguments (override it, with ``from_config``, to save
        one; the class must be registered with ``regulab.saving.register_serializable``)."""
        return {"name": self.name, **({"trainable": False} if not self.trainable else {})}

    @classmethod
    def from_config(cls, config: dict, custom_objects=None) -> "Model":
        if isinstance(config, dict) and "nodes" in config and "layers" in config:  # a functional graph
            from regulab.models._functional import Functional

            return Functional.from_config.__func__(Model._functional_class(cls), config, custom_objects)
        return cls(**config)


_TAKES_TRAINING: dict[type, bool] = {}


def _takes_training(cls) -> bool:
    """Whether ``cls.call`` has a ``training`` argument (Keras allows ``call(self, inputs)``)."""
    known = _TAKES_TRAINING.get(cls)
    if known is None:
        params = inspect.signature(cls.call).parameters
        known = _TAKES_TRAINING[cls] = "training" in params or any(
            p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    return known


def _is_several(x) -> bool:
    """A list or tuple of arrays (several inputs), not a nested list of numbers."""
    return isinstance(x, (list, tuple)) and len(x) > 0 and all(
        isinstance(v, (np.ndarray, torch.Tensor)) or hasattr(v, "to_numpy") for v in x)


def _sample_shapes(x):
    if isinstance(x, (list, tuple)):
        return [tuple(t.shape[1:]) for t in x]
    return tuple(x.shape[1:])


__all__ = ["Model", "Variable"]
