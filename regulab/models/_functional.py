"""Functional models: a graph of layers from ``Input`` tensors to outputs, as Keras's API.

``Model(inputs, outputs)`` walks back from the outputs through the nodes that calling layers on
symbolic tensors recorded (``layers/_symbolic.py``) and keeps them in topological order; the
forward pass runs them in that order on real tensors. Inputs and outputs may be one tensor, a
list, or a dict by name. A layer called more than once (shared) has one set of weights.
"""
from __future__ import annotations

from regulab import activations
from regulab.layers import Layer
from regulab.layers._core import InputLayer
from regulab.layers._symbolic import map_structure
from regulab.models._graph import as_list, check_symbolic, gather, map_refs, walk
from regulab.models._model import Model
from regulab.models._specs import layer_from_spec, layer_spec


class Functional(Model):
    """A model defined by its inputs and outputs (``Model(inputs, outputs)``).

    >>> from regulab.layers import Input, Dense, Dropout, add
    >>> from regulab.models import Model
    >>> x = Input((8,), name="x")
    >>> h = Dense(8, activation="relu")(x)
    >>> out = Dense(1)(add([Dropout(0.2)(h), Dense(8)(x)]))
    >>> model = Model(x, out, name="residual")
    >>> [type(layer).__name__ for layer in model.layers]
    ['InputLayer', 'Dense', 'Dropout', 'Dense', 'Add', 'Dense']
    """

    def __init__(self, inputs=None, outputs=None, name: str | None = None, trainable: bool = True):
        Model.__init__(self, name=name, trainable=trainable)
        flat_in, self._input_kind, self._input_keys = as_list(inputs, "inputs")
        flat_out, self._output_kind, self._output_keys = as_list(outputs, "outputs")
        check_symbolic(flat_in, "inputs")
        check_symbolic(flat_out, "outputs")
        if not flat_out:
            raise ValueError("A functional Model needs at least one output.")
        for t in flat_in:
            if not isinstance(t.node.layer, InputLayer):
                raise ValueError(f"The inputs of a functional Model must come from `Input`; received the output "
                                 f"of layer '{t.node.layer.name}'.")
        self._graph_inputs = flat_in
        self._graph_outputs = flat_out
        self._nodes = walk(flat_out, flat_in)
        self._input_layers = [t.node.layer for t in flat_in]
        names: dict[str, Layer] = {}
        for layer in [*self._input_layers, *(n.layer for n in self._nodes)]:
            other = names.get(layer.name)
            if other is not None and other is not layer:
                raise ValueError(f'The name "{layer.name}" is used by 2 layers in the model ({type(other).__name__} '
                                 f'and {type(layer).__name__}). All layer names should be unique.')
            names[layer.name] = layer
        self._out_names = self._name_outputs()
        self._consumed = {id(t) for n in self._nodes for t in n.input_tensors}
        self._plan = self._make_plan()
        self._follows_masks = any(n.layer.creates_mask for n in self._nodes)
        self.input_shape = (flat_in[0].sample_shape if self._input_kind == "single"
                            else [t.sample_shape for t in flat_in])
        shapes = [t.sample_shape for t in flat_out]
        self.output_shape = shapes[0] if self._output_kind == "single" else shapes
        self.built = True

    def _name_outputs(self) -> list[str]:
        if self._output_keys is not None:
            return [str(k) for k in self._output_keys]
        names = []
        for t in self._graph_outputs:
            base = t.node.layer.name
            name, i = base, 1
            while name in names:
                name, i = f"{base}_{i}", i + 1
            names.append(name)
        return names

    # -- structure
    @property
    def layers(self) -> list[Layer]:
        out: list[Layer] = []
        for layer in [*self._input_layers, *(n.layer for n in self._nodes)]:
            if not any(layer is o for o in out):
                out.append(layer)
        return out

    @property
    def _sublayers(self) -> list[Layer]:
        return [layer for layer in self.layers if not isinstance(layer, InputLayer)]

    @property
    def inputs(self):
        return self._structure(self._graph_inputs, self._input_kind, self._input_keys)

    @property
    def outputs(self):
        return self._structure(self._graph_outputs, self._output_kind, self._output_keys)

    def structure_outputs(self, outputs):
        if self._output_kind == "dict":
            return dict(zip(self._output_keys, outputs))
        return outputs

    @staticmethod
    def _structure(flat, kind, keys):
        if kind == "single":
            return flat[0]
        if kind == "dict":
            return dict(zip(keys, flat))
        return list(flat)

    @property
    def input_names(self) -> list[str]:
        if self._input_keys is not None:
            return [str(k) for k in self._input_keys]
        return [layer.name for layer in self._input_layers]

    @property
    def output_names(self) -> list[str]:
        return list(self._out_names)

    @property
    def output_shapes(self) -> list[tuple]:
        return [t.sample_shape for t in self._graph_outputs]

    @property
    def multiple_inputs(self) -> bool:
        return self._input_kind != "single"

    def input_dtypes(self):
        return [layer.dtype for layer in self._input_layers]

    def output_activations(self):
        acts = []
        for t in self._graph_outputs:
            layer = t.node.layer
            ok = (hasattr(layer, "pre_activation") and id(t) not in self._consumed and len(t.node.outputs) == 1
                  and getattr(layer, "activity_regularizer", None) is None
                  and sum(1 for o in self._graph_outputs if o is t) == 1)
            acts.append(layer.activation if ok else activations.linear)
        return acts

    def _check_input_shape(self, shape) -> None:
        shapes = shape if isinstance(shape, list) else [shape]
        for t, s, layer in zip(self._graph_inputs, shapes, self._input_layers):
            expected = t.sample_shape
            if len(s) != len(expected) or any(e is not None and e != r for e, r in zip(expected, s)):
                raise ValueError(f"Input '{layer.name}' of model '{self.name}' is incompatible: expected shape "
                                 f"{(None, *expected)}, but received input with shape {(None, *s)}.")

    def build(self, input_shape) -> None:
        self._check_input_shape(input_shape)

    def build_for(self, input_shape):
        if isinstance(input_shape, list) != self.multiple_inputs or (
                isinstance(input_shape, list) and len(input_shape) != len(self._graph_inputs)):
            raise ValueError(f"Model '{self.name}' takes {len(self._graph_inputs)} input(s) "
                             f"({', '.join(repr(n) for n in self.input_names)}); received {input_shape!r}.")
        self._check_input_shape(input_shape)
        return self.compute_output_shape(input_shape)

    def compute_output_shape(self, input_shape):
        return self.output_shape

    # -- computing
    def _make_plan(self):
        """The graph as a list of slots: each tensor gets a position in one list of values, each
        node reads its inputs from positions and writes its outputs to others (the forward pass
        runs every step: no look-ups by identity there)."""
        slot: dict[int, int] = {}
        for t in self._graph_inputs:
            slot.setdefault(id(t), len(slot))
        plan = []
        for node in self._nodes:
            ins = map_structure(lambda t: slot[id(t)], node.inputs)
            outs = []
            for t in node.outputs:
                slot[id(t)] = len(slot)
                outs.append(slot[id(t)])
            plan.append((node, ins, outs[0] if len(outs) == 1 else outs))
        outputs = [slot[id(t)] for t in self._graph_outputs]
        return plan, [slot[id(t)] for t in self._graph_inputs], outputs, len(slot)

    def stacks(self) -> bool:
        return not self._follows_masks and all(layer.stacks() for layer in self._sublayers)

    def forward(self, x, ctx, logits=False):
        if self._follows_masks:
            return self._forward_masked(x, ctx, logits, None)[0]
        xs = list(x) if self.multiple_inputs else [x]
        if isinstance(x, dict):
            xs = [x[n] for n in self.input_names]
        plan, input_slots, output_slots, size = self._plan
        values = [None] * size
        for i, v in zip(input_slots, xs):
            values[i] = v
        as_logits = ()
        if logits:
            flags = logits if isinstance(logits, tuple) else (logits,) * len(self._graph_outputs)
            as_logits = {id(t.node) for t, f in zip(self._graph_outputs, flags) if f}
        for node, ins, outs in plan:
            args = values[ins] if isinstance(ins, int) else gather(values, ins)
            if as_logits and id(node) in as_logits:
                out = node.layer.pre_activation(args, ctx)
            else:
                out = node.layer.forward(args, ctx)
            if isinstance(outs, int):
                values[outs] = out
            else:
                for i, o in zip(outs, out):
                    values[i] = o
        if self._output_kind == "single":
            return values[output_slots[0]]
        return [values[i] for i in output_slots]

    def _index_consumers(self):
        plan, input_slots, _, _ = self._plan
        position = {slot: i for i, slot in enumerate(input_slots)}
        return [(position[ins], node.layer) for node, ins, _ in plan
                if isinstance(ins, int) and ins in position and hasattr(node.layer, "check_indices")]

    @property
    def creates_mask(self) -> bool:
        """Its outputs may carry masks (one of its layers makes one): a model around it follows them."""
        return self._follows_masks

    def forward_masked(self, x, ctx, mask):
        # nested in a model that follows masks: take its masks in, hand this model's out
        return self._forward_masked(x, ctx, False, mask)

    def _forward_masked(self, x, ctx, logits, in_masks):
        """``(outputs, masks)``: the forward pass following masks along the graph, as Keras does:
        each tensor's mask sits in the same slot of a second list."""
        xs = list(x) if self.multiple_inputs else [x]
        if isinstance(x, dict):
            xs = [x[n] for n in self.input_names]
        plan, input_slots, output_slots, size = self._plan
        values, masks = [None] * size, [None] * size
        given = in_masks if isinstance(in_masks, (list, tuple)) else [in_masks] * len(input_slots)
        for i, v, m in zip(input_slots, xs, given):
            values[i], masks[i] = v, m
        flags = logits if isinstance(logits, tuple) else (bool(logits),) * len(self._graph_outputs)
        as_logits = {id(t.node) for t, f in zip(self._graph_outputs, flags) if f}
        for node, ins, outs in plan:
            args = gather(values, ins)
            in_mask = gather(masks, ins)
            if id(node) in as_logits and not node.layer.takes_mask:
                out, mask = node.layer.pre_activation(args, ctx), None
            else:
                out, mask = node.layer.forward_masked(args, ctx, in_mask)
            if isinstance(outs, int):
                values[outs], masks[outs] = out, mask
            else:
                out_masks = mask if isinstance(mask, list) else [mask] + [None] * (len(outs) - 1)
                for i, o, m in zip(outs, out, out_masks):
                    values[i], masks[i] = o, m
        if self._output_kind == "single":
            return values[output_slots[0]], masks[output_slots[0]]
        return [values[i] for i in output_slots], [masks[i] for i in output_slots]

    def call(self, inputs, training=None):
        return self(inputs, training=training)

    # -- configuration
    def get_config(self) -> dict:
        written: set = set()
        layers = [layer_spec(layer, written) for layer in self.layers]
        node_ids: dict[int, tuple[str, int]] = {}
        per_layer: dict[str, int] = {}
        for layer in self._input_layers:
            node_ids[id(layer.output.node)] = (layer.name, 0)
        nodes = []
        for node in self._nodes:
            k = per_layer.get(node.layer.name, 0)
            per_layer[node.layer.name] = k + 1
            node_ids[id(node)] = (node.layer.name, k)

            def ref(t):
                name, idx = node_ids[id(t.node)]
                return [name, idx, t.index]

            nodes.append({"layer": node.layer.name, "inputs": map_structure(ref, node.inputs)})

        def out_ref(t):
            name, idx = node_ids[id(t.node)]
            return [name, idx, t.index]

        cfg = {"name": self.name, "layers": [s for s in layers if "shared" not in s], "nodes": nodes,
               "input_layers": [layer.name for layer in self._input_layers],
               "input_keys": self._input_keys if self._input_kind == "dict" else None,
               "input_kind": self._input_kind,
               "output_layers": [out_ref(t) for t in self._graph_outputs], "output_kind": self._output_kind,
               "output_keys": self._output_keys}
        if not self.trainable:
            cfg["trainable"] = False
        return cfg

    @classmethod
    def from_config(cls, config: dict, custom_objects=None) -> "Functional":
        built: dict = {}
        for spec in config.get("layers", []):
            layer_from_spec(spec, built, custom_objects)
        produced: dict[tuple, list] = {}
        for name in config.get("input_layers", []):
            layer = built.get(name)
            if not isinstance(layer, InputLayer):
                raise ValueError(f"the input layer {name!r} is missing")
            produced[(name, 0)] = [layer.output]
        counts: dict[str, int] = {}
        for entry in config.get("nodes", []):
            layer = built.get(entry.get("layer"))
            if layer is None:
                raise ValueError(f"a node names the unknown layer {entry.get('layer')!r}")

            def lookup(ref):
                if not (isinstance(ref, list) and len(ref) == 3):
                    raise ValueError(f"a node input is malformed: {ref!r}")
                outs = produced.get((ref[0], ref[1]))
                if outs is None or not isinstance(ref[2], int) or not 0 <= ref[2] < len(outs):
                    raise ValueError(f"a node input refers to an unknown tensor {ref!r}")
                return outs[ref[2]]

            inputs = map_refs(lookup, entry.get("inputs"))
            out = layer(inputs)
            k = counts.get(layer.name, 0)
            counts[layer.name] = k + 1
            produced[(layer.name, k)] = out if isinstance(out, list) else [out]
        outs = []
        for ref in config.get("output_layers", []):
            got = produced.get((ref[0], ref[1]))
            if got is None:
                raise ValueError(f"an output refers to an unknown tensor {ref!r}")
            outs.append(got[ref[2]])
        ins = [built[n].output for n in config.get("input_layers", [])]
        inputs = cls._structure(ins, config.get("input_kind", "list"), config.get("input_keys"))
        outputs = cls._structure(outs, config.get("output_kind", "list"), config.get("output_keys"))
        # a subclass built as Model(inputs, outputs) may add its own constructor arguments
        extra = {} if cls is Functional else {k: v for k, v in config.items() if k not in _GRAPH_KEYS}
        model = cls(inputs, outputs, name=config.get("name"), **extra)
        if config.get("trainable") is False:
            model.trainable = False
        return model


#: the keys of a functional model's configuration
_GRAPH_KEYS = frozenset({"name", "layers", "nodes", "input_layers", "input_keys", "input_kind", "output_layers",
                         "output_kind", "output_keys", "trainable"})
