"""The training state by path: ``split(model)`` into a static structure and a state of tensors,
``merge`` them back.

``TrainState`` holds every tensor a training step reads or writes, keyed by each variable's path
in the model (``encoder/dense_1/kernel``): parameters, non-trainable buffers (BatchNorm's moving
statistics), each optimizer's slots and step count, and hyper-parameters (the learning rate). It
is a plain structure of dicts, the shape ``torch.func.functional_call`` takes and the one
``torch.compile`` and ``torch.func.vmap`` see through, so one pure step function
``train_step(state, batch, key) -> (state, stats)`` serves the eager, compiled, CUDA-captured and
stacked engines (the idea of Flax NNX's ``split``/``merge``).

Hyper-parameters are state too: the learning rate, every regularizer's factors
(``dense/kernel/regularizer/l2``) and every layer's ``hyper_parameters`` (``dropout/rate``). The
step reads them from the state, not from the layers, so one compiled step serves every value and a
stacked step gives each variant its own (a rate of 0 is off). They are read from the layers and
regularizers at every ``split``, so changing ``layer.rate`` between fits or epochs takes effect.
"""
from __future__ import annotations

from typing import NamedTuple

import torch

from regulab.layers._structure import layer_paths
from regulab.training._batch_mix import MIX_ALPHA

#: the optimizer entry of the standard step, and the key of its learning rate in ``hyper``
OPTIMIZER = "optimizer"
LEARNING_RATE = "optimizer/learning_rate"


class TrainState(NamedTuple):
    """``params``/``buffers``: ``{path: tensor}``; ``opt``: ``{optimizer: {"iterations": t,
    "slots": {slot: {path: tensor}}}}``; ``hyper``: ``{name: float or 0-d tensor}``."""

    params: dict
    buffers: dict
    opt: dict
    hyper: dict


class Structure:
    """The static half of a split model: which variable lies at which path, which train.

    Attributes:
        paths: ``{variable: path}`` for every variable, in the model's weight order.
        trainable, buffers: ``[(path, variable)]`` of trained and of non-trainable variables.
        streams: ``{layer: random stream}``.
    """

    def __init__(self, model):
        self.paths = model.variable_paths()
        trainable = {id(v) for v in model.trainable_weights}
        self.trainable = [(p, v) for v, p in self.paths.items() if id(v) in trainable]
        self.buffers = [(p, v) for v, p in self.paths.items() if id(v) not in trainable]
        self.trainable_paths = tuple(p for p, _ in self.trainable)
        self.buffer_paths = tuple(p for p, _ in self.buffers)
        self.trainable_vars = [v for _, v in self.trainable]
        self.streams = model.layer_streams()
        # hyper-parameters by path: [(path, owner, attribute)], owners being layers and regularizers
        self.hyper: list[tuple[str, object, str]] = []
        #: {(layer, attribute): path} for the layers' own hyper-parameters (read through the context)
        self.hyper_paths: dict = {}
        for layer, path in [(model, ""), *layer_paths(model).items()]:
            for name in type(layer).hyper_parameters:
                key = f"{path}/{name}" if path else name
                self.hyper.append((key, layer, name))
                self.hyper_paths[(layer, name)] = key
        #: {variable path: [(factor, hyper path)]} for regularized variables
        self.regularizer_factors: dict[str, list[tuple[str, str]]] = {}
        for v, p in self.paths.items():
            if v.regularizer is not None:
                entries = []
                for name in v.regularizer.hyper_parameters():
                    key = f"{p}/regularizer/{name}"
                    self.hyper.append((key, v.regularizer, name))
                    entries.append((name, key))
                self.regularizer_factors[p] = entries
        # layers whose input is a model input that fit, evaluate and predict check as a whole
        # (Embedding's indices), so the steps need not check it batch by batch
        consumers = getattr(model, "_index_consumers", None)
        self.checked_inputs = frozenset(layer for _, layer in consumers()) if consumers else frozenset()

    @property
    def layout_key(self) -> tuple:
        """What a compiled step's code depends on: the paths and which of them train."""
        return self.trainable_paths, self.buffer_paths, tuple(p for p, _, _ in self.hyper)

    def hyper_values(self) -> dict:
        """``{path: value}`` of the layers' and regularizers' hyper-parameters now."""
        return {key: getattr(owner, name) for key, owner, name in self.hyper}

    def factors(self, path: str, hyper: dict) -> dict:
        """The keyword factors of the regularizer of the variable at ``path``, from ``hyper``."""
        return {name: hyper[key] for name, key in self.regularizer_factors.get(path, ())}


def as_tensor_scalar(value, device) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        return value
    return torch.tensor(float(value), dtype=torch.float32, device=device)


def split(structure: Structure, optimizer=None, scalar_tensors: bool = False, mix=None) -> TrainState:
    """The model's current state (the variables' values; the optimizer's slots for the trained
    variables, created fresh for variables it has not updated yet). ``scalar_tensors`` turns the
    learning rate, step count and hyper-parameters into 0-d tensors, as compiled steps need.
    ``mix`` is the fit's ``BatchMix``, whose alpha is state too."""
    params = {p: v.value for p, v in structure.trainable}
    buffers = {p: v.value for p, v in structure.buffers}
    opt, hyper = {}, {}
    layer_hyper = structure.hyper_values()
    if mix is not None:
        layer_hyper[MIX_ALPHA] = mix.alpha
    if scalar_tensors and layer_hyper:
        device = next(iter(params.values())).device if params else torch.device("cpu")
        layer_hyper = {k: as_tensor_scalar(v, device) for k, v in layer_hyper.items()}
    if optimizer is not None:
        slots = optimizer.slots_for(structure.trainable_vars)
        iterations, lr = optimizer._iterations, optimizer._learning_rate
        if scalar_tensors:
            device = next(iter(params.values())).device if params else torch.device("cpu")
            iterations, lr = as_tensor_scalar(iterations, device), as_tensor_scalar(lr, device)
            optimizer._iterations, optimizer._learning_rate = iterations, lr
        opt[OPTIMIZER] = {"iterations": iterations,
                          "slots": {slot: dict(zip(structure.trainable_paths, values)) for slot, values in slots.items()}}
        hyper[LEARNING_RATE] = lr
    hyper.update(layer_hyper)
    return TrainState(params, buffers, opt, hyper)


def merge(structure: Structure, state: TrainState, optimizer=None) -> None:
    """Write ``state`` back: values into the variables, slots and step count into the optimizer."""
    for p, v in structure.trainable:
        v.value = state.params[p]
    for p, v in structure.buffers:
        v.value = state.buffers[p]
    if optimizer is not None and OPTIMIZER in state.opt:
        entry = state.opt[OPTIMIZER]
        paths = structure.trainable_paths
        optimizer.store(structure.trainable_vars,
                        {slot: [values[p] for p in paths] for slot, values in entry["slots"].items()},
                        entry["iterations"], state.hyper.get(LEARNING_RATE))


def flatten_state(state: TrainState) -> list[torch.Tensor]:
    """Every tensor of ``state`` in a fixed order (``unflatten_state`` inverts it with the same
    ``template``): what a compiled step updates in place."""
    flat = [*state.params.values(), *state.buffers.values()]
    for name in state.opt:
        entry = state.opt[name]
        flat.append(entry["iterations"])
        for slot in entry["slots"]:
            flat.extend(entry["slots"][slot].values())
    flat.extend(state.hyper.values())
    return flat


def unflatten_state(template: TrainState, flat) -> TrainState:
    it = iter(flat)
    params = {p: next(it) for p in template.params}
    buffers = {p: next(it) for p in template.buffers}
    opt = {}
    for name, entry in template.opt.items():
        iterations = next(it)
        opt[name] = {"iterations": iterations,
                     "slots": {slot: {p: next(it) for p in values} for slot, values in entry["slots"].items()}}
    hyper = {k: next(it) for k in template.hyper}
    return TrainState(params, buffers, opt, hyper)


def map_state(fn, state: TrainState) -> TrainState:
    """``state`` with ``fn`` applied to every tensor."""
    return unflatten_state(state, [fn(t) for t in flatten_state(state)])
