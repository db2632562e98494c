"""``TorchModuleWrapper``: any ``torch.nn.Module`` as a regulab layer (transfer learning).

The module's parameters become the layer's weights and its buffers (BatchNorm's running
statistics) non-trainable variables. In a training step the module runs through
``torch.func.functional_call`` on the tensors of the step's state, so it is compiled, captured and
stacked like any layer; buffers it updates in place (``running_mean``) are reported back through
the call's context instead of changing the module.
"""
from __future__ import annotations

import torch

from regulab.layers._base import Layer


class TorchModuleWrapper(Layer):
    """Wraps ``module`` as a layer, as Keras 3's ``TorchModuleWrapper``.

    Training mode follows the call (``module.train()``/``.eval()`` for the pass), so dropout and
    BatchNorm in the module behave as in PyTorch (integer buffers such as BatchNorm's
    ``num_batches_tracked`` are not tracked: a BatchNorm with ``momentum=None`` is not supported); a frozen wrapper (``trainable = False``) runs the
    module in eval mode and leaves its running statistics alone, as a frozen Keras BatchNorm does.

    Args:
        module: the ``torch.nn.Module`` (its parameters are copied into the layer's weights).
        channels_last_input: the module takes NCHW (or NCL) input, but the model's data is
            channels-last as in Keras: move the last axis to position 1 before the module, and
            back after it when the output has the same rank as the input.
        output_shape: the output shape without the batch axis; default: inferred by running the
            module on shape-only (meta) tensors.

    >>> import torch
    >>> from regulab.layers import TorchModuleWrapper
    >>> layer = TorchModuleWrapper(torch.nn.Linear(4, 2))
    >>> layer(torch.zeros(3, 4)).shape, layer.count_params()
    (torch.Size([3, 2]), 10)
    """

    def __init__(self, module, channels_last_input: bool = False, output_shape=None, **kwargs):
        if not isinstance(module, torch.nn.Module):
            raise TypeError(f"Invalid value for argument `module` of TorchModuleWrapper: expected a "
                            f"torch.nn.Module. Received: {type(module).__name__}: {module!r}")
        super().__init__(**kwargs)
        self._module = module  # its own tensors are written only when read through `module`
        self.channels_last_input = bool(channels_last_input)
        self._output_shape_arg = None if output_shape is None else tuple(output_shape)
        self._params = []
        self._buffers = []

    @property
    def module(self) -> torch.nn.Module:
        """The wrapped module, holding the layer's current (trained) weights and statistics."""
        with torch.no_grad():
            for name, var in self._params:
                target = self._module.get_parameter(name)
                target.copy_(var.value.detach().to(target.device, target.dtype))
            for name, var in self._buffers:
                target = self._module.get_buffer(name)
                target.copy_(var.value.detach().to(target.device, target.dtype))
        return self._module

    def build(self, input_shape):
        # names are the module's own (`0.weight`); '/' is the path separator, so it never appears
        for name, p in self._module.named_parameters():
            self._params.append((name, self.add_weight(name, tuple(p.shape), p.detach().float(), trainable=True)))
        for name, b in self._module.named_buffers():
            if b.is_floating_point():
                self._buffers.append((name, self.add_weight(name, tuple(b.shape), b.detach().float(), trainable=False)))

    def compute_output_shape(self, input_shape):
        if self._output_shape_arg is not None:
            return self._output_shape_arg
        x = torch.zeros((2, *input_shape), device="meta")
        module = self._module
        was = module.training
        # the module's own tensors live on a device; meta stand-ins of them keep the whole call on
        # meta tensors (a device mismatch would fail, and the fallback costs a real forward pass)
        stand_ins = {name: torch.empty_like(t, device="meta")
                     for name, t in [*module.named_parameters(), *module.named_buffers()]}
        try:
            module.eval()
            with torch.no_grad():
                out = self._apply(module, x, stand_ins)
        except Exception:  # noqa: BLE001 - meta tensors unsupported by some op: run on zeros instead
            with torch.no_grad():
                out = self._apply(module, torch.zeros((2, *input_shape)), None)
        finally:
            module.train(was)
        return tuple(out.shape[1:])

    def _apply(self, module, x, tensors):
        if self.channels_last_input:
            x = x.movedim(-1, 1)
        out = module(x) if tensors is None else torch.func.functional_call(module, tensors, (x,))
        if self.channels_last_input and out.dim() == x.dim():
            out = out.movedim(1, -1)
        return out

    def call(self, x, ctx):
        tensors = {name: ctx[var] for name, var in self._params}
        training = ctx.training and self.trainable
        buffers = {}
        for name, var in self._buffers:
            # a copy, so that in-place buffer updates of the module (running_mean.mul_) land on it
            # and never on the state's tensor
            buffers[name] = ctx[var].clone() if training else ctx[var]
        tensors.update(buffers)
        # integer buffers (BatchNorm's num_batches_tracked) are not variables; a copy takes their
        # in-place updates, which a traced or transformed step must not make on the module itself
        for name, b in self._module.named_buffers():
            if not b.is_floating_point():
                tensors[name] = b.clone() if training else b
        module = self._module
        was = module.training
        module.train(training)
        try:
            out = self._apply(module, x, tensors)
        finally:
            module.train(was)
        if training:
            for name, var in self._buffers:
                ctx.assign(var, buffers[name])
        return out

    def get_config(self):
        raise ValueError(f"Cannot save TorchModuleWrapper '{self.name}' as a model file: a torch module "
                         f"is code, and loading never runs code. Save the weights with "
                         f"`model.save_weights(path)` and rebuild the model before `load_weights(path)`.")
