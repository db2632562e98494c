"""Bidirectional and TimeDistributed: layers that run another layer in a new way."""
from __future__ import annotations

import torch

from regulab._validation import suggest
from regulab.layers._base import Layer
from regulab.layers._structure import snake_case

_MERGE_MODES = ("concat", "sum", "mul", "ave", None)


def _removeprefix(name: str, prefix: str) -> str:
    return name[len(prefix):] if name.startswith(prefix) else name


def _state_names(layer) -> tuple:
    return getattr(layer, "state_names", ("h",))


def _check_recurrent(name: str, value) -> None:
    if not isinstance(value, Layer) or not all(hasattr(value, a) for a in ("go_backwards", "return_sequences",
                                                                            "return_state")):
        raise ValueError(f"Argument `{name}` of Bidirectional must be a recurrent layer (SimpleRNN, LSTM, GRU). "
                         f"Received: {name}={value!r}")


def _copy(layer: Layer, **changes) -> Layer:
    if hasattr(layer, "clone"):
        return layer.clone(**changes)
    return type(layer).from_config({**layer.get_config(), **changes})


class Bidirectional(Layer):
    """Runs a recurrent layer forwards and a copy of it backwards, and merges their outputs.

    The forward layer is a fresh copy of ``layer`` named ``forward_<name>``; the backward one is
    ``backward_layer`` or a copy with ``go_backwards=True`` named ``backward_<name>`` (both from
    the layer's configuration, as Keras does, so their weights are new). With ``return_sequences``
    the backward outputs are put back in time order before merging, and masked steps output zeros
    (Keras sets ``zero_output_for_mask``). With ``return_state`` the output is followed by the
    forward states, then the backward ones; ``initial_state`` takes them in the same order.

    Args:
        layer: a ``SimpleRNN``, ``LSTM`` or ``GRU`` (any layer with ``go_backwards``,
            ``return_sequences`` and ``return_state``).
        merge_mode: ``'concat'`` (default), ``'sum'``, ``'mul'``, ``'ave'`` or None (a list of
            the two outputs).
        backward_layer: the layer to run backwards (``go_backwards`` opposite to ``layer``'s).

    >>> from regulab.layers import Bidirectional, LSTM
    >>> bi = Bidirectional(LSTM(8, return_sequences=True, name="encoder"))
    >>> bi(np.zeros((2, 5, 3), dtype="float32")).shape
    torch.Size([2, 5, 16])
    >>> bi.count_params() == 2 * bi.forward_layer.count_params()
    True
    >>> [layer.name for layer in (bi.forward_layer, bi.backward_layer)]
    ['forward_encoder', 'backward_encoder']
    """

    takes_mask = True

    def __init__(self, layer, merge_mode="concat", backward_layer=None, **kwargs):
        super().__init__(**kwargs)
        _check_recurrent("layer", layer)
        if backward_layer is not None:
            _check_recurrent("backward_layer", backward_layer)
        if merge_mode not in _MERGE_MODES:
            raise ValueError(f"Invalid value for argument `merge_mode` of Bidirectional: expected one of 'concat', "
                             f"'sum', 'mul', 'ave', None. Received: merge_mode={merge_mode!r}."
                             f"{suggest(str(merge_mode), [m for m in _MERGE_MODES if m])}")
        self.merge_mode = merge_mode
        # an automatic name (lstm_7) depends on what the process built before, and the copies'
        # names are in the weights' paths (load_weights matches by path): use the class then
        base = (snake_case(type(layer).__name__) if getattr(layer, "_auto_named", False)
                else _removeprefix(_removeprefix(layer.name, "forward_"), "backward_"))
        self.forward_layer = _copy(layer, name=f"forward_{base}")
        if backward_layer is None:
            backward_layer = _copy(layer, name=f"backward_{base}", go_backwards=True)
        self.backward_layer = backward_layer
        fwd, bwd = self.forward_layer, self.backward_layer
        if fwd.go_backwards == bwd.go_backwards:
            raise ValueError(f"Bidirectional: the forward and backward layers must have opposite `go_backwards`; "
                             f"both have go_backwards={fwd.go_backwards}.")
        for a in ("return_sequences", "return_state"):
            if getattr(fwd, a) != getattr(bwd, a):
                raise ValueError(f"Bidirectional: the forward and backward layers must have the same `{a}`; "
                                 f"received {getattr(fwd, a)} and {getattr(bwd, a)}.")
        self.return_sequences, self.return_state = fwd.return_sequences, fwd.return_state
        for sub in (fwd, bwd):
            if hasattr(sub, "zero_output_for_mask"):
                sub.zero_output_for_mask = sub.return_sequences

    def __call__(self, inputs, training=None, initial_state=None, **kwargs):
        if initial_state is not None:
            states = list(initial_state) if isinstance(initial_state, (list, tuple)) else [initial_state]
            inputs = [inputs, *states]
        return super().__call__(inputs, training=training, **kwargs)

    def _split(self, x):
        """(inputs of the forward layer, inputs of the backward layer)."""
        if not isinstance(x, list):  # one input: a tensor, or a shape (a tuple)
            return x, x
        seq, states = x[0], list(x[1:])
        n_fwd = len(_state_names(self.forward_layer))
        if len(states) != n_fwd + len(_state_names(self.backward_layer)):
            raise ValueError(f"Layer '{self.name}' takes the initial states of its forward layer, then those of "
                             f"its backward layer; received {len(states)} states.")
        return [seq, *states[:n_fwd]], [seq, *states[n_fwd:]]

    def _check_input_shape(self, shape) -> None:
        # called with or without initial states: the sub-layers compare their sequences
        for layer, part in zip((self.forward_layer, self.backward_layer), self._split(shape)):
            layer._check_input_shape(part)

    def build(self, input_shape):
        fwd_shape, bwd_shape = self._split(input_shape)
        self.forward_layer.build_for(fwd_shape)
        self.backward_layer.build_for(bwd_shape)

    def compute_output_shape(self, input_shape):
        fwd_shape, bwd_shape = self._split(input_shape)
        fwd = self.forward_layer.compute_output_shape(fwd_shape)
        bwd = self.backward_layer.compute_output_shape(bwd_shape)
        states = []
        if self.return_state:
            (fwd, *f_states), (bwd, *b_states) = fwd, bwd
            states = f_states + b_states
        if self.merge_mode is None:
            return [fwd, bwd, *states]
        out = (*fwd[:-1], fwd[-1] * 2) if self.merge_mode == "concat" else fwd
        return [out, *states] if self.return_state else out

    def compute_mask(self, x, mask=None):
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        out = mask if self.return_sequences else None
        outs = [out, out] if self.merge_mode is None else [out]
        if self.return_state:
            outs += [None] * (len(_state_names(self.forward_layer)) + len(_state_names(self.backward_layer)))
        return outs if len(outs) > 1 else outs[0]

    def _run(self, layer, x, ctx, mask):
        if getattr(layer, "takes_mask", False) and mask is not None:
            return layer.call(x, ctx, mask=mask)
        return layer.forward(x, ctx)

    def call(self, x, ctx, mask=None):
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        fwd_in, bwd_in = self._split(x)
        y, y_rev = self._run(self.forward_layer, fwd_in, ctx, mask), self._run(self.backward_layer, bwd_in, ctx, mask)
        states = []
        if self.return_state:
            (y, *f_states), (y_rev, *b_states) = y, y_rev
            states = f_states + b_states
        if self.return_sequences:
            y_rev = y_rev.flip(1)
        if self.merge_mode is None:
            return [y, y_rev, *states]
        if self.merge_mode == "concat":
            out = torch.cat([y, y_rev], dim=-1)
        elif self.merge_mode == "sum":
            out = y + y_rev
        elif self.merge_mode == "ave":
            out = (y + y_rev) / 2
        else:
            out = y * y_rev
        return [out, *states] if self.return_state else out

    def get_config(self):
        from regulab.models._specs import layer_spec

        return {**super().get_config(), "merge_mode": self.merge_mode, "layer": layer_spec(self.forward_layer),
                "backward_layer": layer_spec(self.backward_layer)}

    @classmethod
    def from_config(cls, config):
        from regulab.models._specs import layer_from_spec

        config = dict(config)
        config["layer"] = layer_from_spec(config["layer"], {})
        if config.get("backward_layer") is not None:
            config["backward_layer"] = layer_from_spec(config["backward_layer"], {})
        return cls(**config)


class TimeDistributed(Layer):
    """Applies ``layer`` to every time step: (batch, steps, ...) -> (batch, steps, ...).

    The steps are folded into the batch (``(batch * steps, ...)``), ``layer`` runs once on them, and
    the result is unfolded, so every step uses the same weights. A mask is passed on unchanged
    (as Keras 3 does), and to ``layer`` too if it takes one.

    Args:
        layer: the layer to apply to each step.

    >>> from regulab.layers import Dense, TimeDistributed
    >>> td = TimeDistributed(Dense(8))
    >>> td(np.zeros((2, 10, 4), dtype="float32")).shape
    torch.Size([2, 10, 8])
    >>> td.count_params()  # one Dense: 4*8 + 8
    40
    """

    takes_mask = True

    def __init__(self, layer, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(layer, Layer):
            raise ValueError(f"Argument `layer` of TimeDistributed must be a layer. Received: layer={layer!r}")
        self.inner = layer

    @property
    def layer(self) -> Layer:
        """The layer applied to each step."""
        return self.inner

    def _step_shape(self, input_shape):
        if isinstance(input_shape, list) or len(input_shape) < 2:
            raise ValueError(f"Input 0 of layer '{self.name}' is incompatible with the layer: expected at least "
                             f"3 dimensions (batch, timesteps, ...). Full shape received: "
                             f"{(None, *input_shape) if not isinstance(input_shape, list) else input_shape}")
        return tuple(input_shape[1:])

    def build(self, input_shape):
        self.inner.build_for(self._step_shape(input_shape))

    def compute_output_shape(self, input_shape):
        out = self.inner.compute_output_shape(self._step_shape(input_shape))
        if isinstance(out, list):
            raise ValueError(f"Layer '{self.name}': TimeDistributed needs a layer with one output; "
                             f"'{self.inner.name}' has {len(out)}.")
        return (input_shape[0], *out)

    def compute_mask(self, x, mask=None):
        return mask

    def call(self, x, ctx, mask=None):
        batch, steps = x.shape[:2]
        if mask is not None and (mask.dim() < 2 or tuple(mask.shape[:2]) != (batch, steps)):
            raise ValueError(f"The `mask` passed to the `TimeDistributed` layer has a shape {tuple(mask.shape)} "
                             f"that is incompatible with the input shape {tuple(x.shape)}: its first two "
                             f"dimensions must be (batch_size, timesteps) = {(batch, steps)}.")
        flat = x.reshape(batch * steps, *x.shape[2:])
        if mask is not None and getattr(self.inner, "takes_mask", False):
            y = self.inner.call(flat, ctx, mask=mask.reshape(batch * steps, *mask.shape[2:]))
        else:
            y = self.inner.forward(flat, ctx)
        return y.reshape(batch, steps, *y.shape[1:])

    def get_config(self):
        from regulab.models._specs import layer_spec

        return {**super().get_config(), "layer": layer_spec(self.inner)}

    @classmethod
    def from_config(cls, config):
        from regulab.models._specs import layer_from_spec

        config = dict(config)
        config["layer"] = layer_from_spec(config["layer"], {})
        return cls(**config)
