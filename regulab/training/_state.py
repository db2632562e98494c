"""The training state by path: ``split(model)`` into a static structure and a state of tensors,
``merge`` them back.

``TrainState`` holds every tensor a training step reads or writes, keyed by each variable's path
in the model (``encoder/dense_1/kernel``): parameters, non-trainable buffers (BatchNorm's moving
statistics), each optimizer's slots and step count, and hyper-parameters (the learning rate). It
is a plain structure of dicts, the shape ``torch.func.functional_call`` takes and the one
``torch.compile`` and ``torch.func.vmap`` see through, so one pure step function
``train_step(state, batch, key) -> (state, stats)`` serves the eager, compiled, CUDA-captured and
stacked engines (the idea of Flax NNX's ``split``/``merge``).
"""
from __future__ import annotations

from typing import NamedTuple

import torch

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
        # layers whose input is a model input that fit, evaluate and predict check as a whole
        # (Embedding's indices), so the steps need not check it batch by batch
        consumers = getattr(model, "_index_consumers", None)
        self.checked_inputs = frozenset(layer for _, layer in consumers()) if consumers else frozenset()

    @property
    def layout_key(self) -> tuple:
        """What a compiled step's code depends on: the paths and which of them train."""
        return self.trainable_paths, self.buffer_paths


def as_tensor_scalar(value, device) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        return value
    return torch.tensor(float(value), dtype=torch.float32, device=device)


def split(structure: Structure, optimizer=None, scalar_tensors: bool = False) -> TrainState:
    """The model's current state (the variables' values; the optimizer's slots for the trained
    variables, created fresh for variables it has not updated yet). ``scalar_tensors`` turns the
    learning rate and step count into 0-d tensors, as compiled steps need."""
    params = {p: v.value for p, v in structure.trainable}
    buffers = {p: v.value for p, v in structure.buffers}
    opt, hyper = {}, {}
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
