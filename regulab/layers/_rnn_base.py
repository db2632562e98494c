"""What SimpleRNN, LSTM and GRU share: arguments, weights, masks, dropout masks and the time loop.

A recurrent layer reads (batch, timesteps, features) and runs its cell over the steps, carrying
its states (h, and c for an LSTM). Each layer computes, as Keras does:

- the input projection ``x @ kernel (+ bias)`` for every step at once, before the loop;
- per step, the cell (``_step``) on that projection and ``h @ recurrent_kernel``;
- with a mask, a masked step keeps the states of the step before it and outputs the previous
  output (zeros with ``zero_output_for_mask=True``; zeros before the first unmasked step);
- with ``go_backwards``, the steps in reverse order, and the output sequence in that order.

Dropout follows Gal & Ghahramani (2016) as Keras 3 does: one mask per sequence, the same at every
step, on the inputs (``dropout``) and on h where it enters the recurrent projection
(``recurrent_dropout``). With ``recurrent_dropout`` > 0, LSTM and GRU draw one mask per gate for
each of the two (Keras 3's implementation 1, as in Keras 2); otherwise one input mask serves every
gate. Masks are drawn only when ``ctx.stochastic``.

Default configurations run PyTorch's fused kernels (``_fused_rnn``); the rest, and every layer
under vmap or the compiler, runs the Python loop here.
"""
from __future__ import annotations

import torch

from regulab import _random, activations, initializers
from regulab import regularizers as _regularizers
from regulab._validation import check_float, check_int, invalid
from regulab.layers import _fused_rnn
from regulab.layers._structure import shapes_match
from regulab.layers._context import STREAM_SPACE
from regulab.layers._dropout import _RandomLayer
from regulab.regularizers import get_argument as _regularizer_argument

_REGULARIZERS = ("kernel_regularizer", "recurrent_regularizer", "bias_regularizer", "activity_regularizer")


class RecurrentLayer(_RandomLayer):
    """Base of the recurrent layers; subclasses define the gates and the cell (``_step``)."""

    takes_mask = True
    supports_masking = True
    #: gates in the kernels (their columns: ``gates * units``) and state tensors (h, c)
    gates = 1
    state_names: tuple = ("h",)

    def __init__(self, units, activation="tanh", use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros", kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 dropout=0.0, recurrent_dropout=0.0, seed=None, return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, unroll=False, zero_output_for_mask=False, **kwargs):
        super().__init__(seed=seed, **kwargs)
        where = type(self).__name__
        self.units = check_int("units", units, low=1, where=where)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        for name, value in zip(_REGULARIZERS, (kernel_regularizer, recurrent_regularizer, bias_regularizer,
                                               activity_regularizer)):
            setattr(self, name, _regularizer_argument(value, name, where))
        self.dropout = check_float("dropout", dropout, low=0.0, high=1.0, high_open=True, where=where)
        self.recurrent_dropout = check_float("recurrent_dropout", recurrent_dropout, low=0.0, high=1.0,
                                             high_open=True, where=where)
        if stateful:
            raise invalid("stateful", "False (stateful layers are not supported: return the states with "
                          "return_state=True and pass them back with initial_state=...)", stateful, where)
        self.stateful = False
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.unroll = bool(unroll)  # the loop is a Python loop either way
        self.zero_output_for_mask = bool(zero_output_for_mask)
        self.kernel = self.recurrent_kernel = self.bias = None

    # -- shapes
    def __call__(self, inputs, training=None, initial_state=None, **kwargs):
        """Apply the layer; ``initial_state`` is a tensor or list of tensors (batch, units) to start
        from instead of zeros (LSTM: ``[h, c]``), symbolic or not."""
        if initial_state is not None:
            states = list(initial_state) if isinstance(initial_state, (list, tuple)) else [initial_state]
            inputs = [inputs, *states]
        return super().__call__(inputs, training=training, **kwargs)

    def _sequence_shape(self, input_shape) -> tuple:
        """The (steps, features) shape of the sequence input, after checking every input."""
        shapes = list(input_shape) if isinstance(input_shape, list) else [input_shape]
        seq = tuple(shapes[0])
        if len(seq) != 2:
            raise ValueError(f"Input 0 of layer '{self.name}' is incompatible with the layer: expected a 3-D "
                             f"input (batch, timesteps, features), found ndim={len(seq) + 1}. Full shape "
                             f"received: {(None, *seq)}")
        if len(shapes) > 1:
            n = len(self.state_names)
            if len(shapes) - 1 != n:
                raise ValueError(f"Layer '{self.name}' takes {n} initial state{'s' if n > 1 else ''} "
                                 f"({', '.join(self.state_names)}); received {len(shapes) - 1}.")
            for s in shapes[1:]:
                if tuple(s) != (self.units,):
                    raise ValueError(f"Layer '{self.name}': an initial state must have shape (batch, "
                                     f"{self.units}); received shape {(None, *s)}.")
        return seq

    def _check_input_shape(self, shape) -> None:
        # the same layer may be called with and without initial states: compare the sequences
        seq = self._sequence_shape(shape)
        built = self.input_shape[0] if isinstance(self.input_shape, list) else self.input_shape
        if built is not None and not shapes_match(tuple(built), seq):
            raise ValueError(f"Input 0 of layer '{self.name}' is incompatible with the layer: expected shape "
                             f"{(None, *built)}, but received input with shape {(None, *seq)}.")

    def build(self, input_shape):
        features = self._sequence_shape(input_shape)[1]
        if features is None:
            raise ValueError(f"Layer '{self.name}' needs a known number of features (last input axis).")
        width = self.gates * self.units
        self.kernel = self.add_weight("kernel", (features, width), self.kernel_initializer,
                                      self.kernel_regularizer)
        self.recurrent_kernel = self.add_weight("recurrent_kernel", (self.units, width),
                                                self.recurrent_initializer, self.recurrent_regularizer)
        if self.use_bias:
            self.bias = self.add_weight("bias", self._bias_shape(), self._bias_init(), self.bias_regularizer)

    def _bias_shape(self) -> tuple:
        return (self.gates * self.units,)

    def _bias_init(self):
        return self.bias_initializer

    def compute_output_shape(self, input_shape):
        steps = self._sequence_shape(input_shape)[0]
        out = (steps, self.units) if self.return_sequences else (self.units,)
        if self.return_state:
            return [out] + [(self.units,)] * len(self.state_names)
        return out

    def compute_mask(self, x, mask=None):
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        out = mask if self.return_sequences else None
        if self.return_state:
            return [out] + [None] * len(self.state_names)
        return out

    @property
    def runs_faster_eagerly(self) -> bool:
        # compiled, the step runs the loop over time steps: Inductor cannot trace PyTorch's fused
        # RNN kernels under torch.func, and the unrolled loop is ~3x slower than them on a CPU
        return self._fused_mode() is not None and self.recurrent_dropout == 0.0

    # -- the cell (subclasses)
    def _fused_mode(self) -> str | None:
        """torch's kernel for this configuration (``'LSTM'``, ...), or None if it has none."""
        return None

    def _fused_weights(self, ctx) -> list:
        """The weights in torch's layout: transposed kernels; torch adds an input and a recurrent
        bias where Keras has one. (LSTM: torch's gates i, f, g, o are Keras's i, f, c, o.)"""
        w = [ctx[self.kernel].T, ctx[self.recurrent_kernel].T]
        if self.use_bias:
            b = ctx[self.bias]
            w += [b, torch.zeros_like(b)]
        return w

    def _input_bias(self, ctx):
        return ctx[self.bias] if self.use_bias else None

    def _step(self, xw: torch.Tensor, states: tuple, p: dict) -> tuple:
        """New states from one step's input projection ``xw`` (batch, gates * units); ``p`` holds
        the recurrent kernel and masks (see ``_recurrent``)."""
        raise NotImplementedError  # abstract: each recurrent layer defines its cell

    def _prepare(self, ctx, rec_mask) -> dict:
        r = ctx[self.recurrent_kernel]
        p = {"r": r, "mask": rec_mask}
        if rec_mask is not None and rec_mask.dim() == 3:  # one mask per gate: a batched product
            p["r_gates"] = r.reshape(self.units, self.gates, self.units).transpose(0, 1)
        return p

    def _recurrent(self, h: torch.Tensor, p: dict, gates: int | None = None, add=None) -> torch.Tensor:
        """``add + h @ recurrent_kernel`` for the first ``gates`` gates, with recurrent dropout."""
        gates = self.gates if gates is None else gates
        r, mask = p["r"], p["mask"]
        if mask is not None and mask.dim() == 3:
            per_gate = torch.bmm(h.unsqueeze(0) * mask[:gates], p["r_gates"][:gates])
            out = per_gate.transpose(0, 1).reshape(h.shape[0], gates * self.units)
            return out if add is None else out + add
        if gates != self.gates:
            r = r[:, :gates * self.units]
        if mask is not None:
            h = h * mask
        return h @ r if add is None else torch.addmm(add, h, r)

    # -- the pass
    def _dropout_masks(self, ctx, batch: int, features: int, device):
        """Input and recurrent dropout masks (inverted scaling), or None: (batch, n) for one mask,
        (gates, batch, n) for one per gate."""
        if not ctx.stochastic or (self.dropout == 0.0 and self.recurrent_dropout == 0.0):
            return None, None
        per_gate = self.recurrent_dropout > 0.0 and self.gates > 1
        lead = (self.gates,) if per_gate else ()
        stream = self.stream(ctx)
        masks = []
        for i, (rate, n) in enumerate(((self.dropout, features), (self.recurrent_dropout, self.units))):
            if rate == 0.0:
                masks.append(None)
                continue
            s = stream if i == 0 else _random.fold_in(stream, 1) % STREAM_SPACE
            keep = ctx.uniform((*lead, batch, n), s, device) >= rate
            masks.append(keep * (1.0 / (1.0 - rate)))
        return masks[0], masks[1]

    def _input_projection(self, x, ctx, in_mask):
        k = ctx[self.kernel]
        bias = self._input_bias(ctx)
        if in_mask is not None and in_mask.dim() == 3:  # one input mask per gate
            xs = x.unsqueeze(0) * in_mask[:, :, None, :]
            kg = k.reshape(k.shape[0], self.gates, self.units).transpose(0, 1)
            xw = torch.matmul(xs, kg[:, None]).permute(1, 2, 0, 3).reshape(*x.shape[:2], -1)
            return xw if bias is None else xw + bias
        if in_mask is not None:
            x = x * in_mask[:, None, :]
        return torch.matmul(x, k) if bias is None else torch.matmul(x, k) + bias

    def _scan(self, xw, states, p, mask):
        """The outputs (every step's with ``return_sequences``, else the last one) and the final
        states, in processing order."""
        outs = []
        if mask is not None:
            masks = mask.unbind(1)
            prev = zeros = torch.zeros_like(states[0])
        for t, xw_t in enumerate(xw.unbind(1)):
            new = self._step(xw_t, states, p)
            if mask is None:
                states, out = new, new[0]
            else:
                m = masks[t][:, None]
                states = tuple(torch.where(m, n, s) for n, s in zip(new, states))
                out = prev = torch.where(m, new[0], zeros if self.zero_output_for_mask else prev)
            if self.return_sequences:
                outs.append(out)
        return (torch.stack(outs, 1) if self.return_sequences else out), list(states)

    def call(self, x, ctx, mask=None):
        states = None
        if isinstance(x, (list, tuple)):
            x, states = x[0], list(x[1:])
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        if x.dim() != 3:
            self._sequence_shape(tuple(x.shape[1:]))
        batch, steps, features = x.shape
        if steps == 0:
            raise ValueError(f"Layer '{self.name}' received a sequence of 0 time steps; it needs at least one.")
        if mask is not None:
            if tuple(mask.shape) != (batch, steps):
                raise ValueError(f"Layer '{self.name}': the mask must have shape (batch, timesteps) = "
                                 f"{(batch, steps)}; received shape {tuple(mask.shape)}.")
            mask = mask.to(x.device, torch.bool)
        if states is None:
            states = [x.new_zeros(batch, self.units) for _ in self.state_names]
        in_mask, rec_mask = self._dropout_masks(ctx, batch, features, x.device)
        fused = (self._fused_mode() is not None and rec_mask is None
                 and (in_mask is None or in_mask.dim() == 2) and _fused_rnn.available())
        lengths = _fused_rnn.right_padded_lengths(mask) if fused and mask is not None else None
        if lengths is not None and bool((lengths == steps).all()):  # nothing masked
            mask = lengths = None
        if fused and (mask is None or lengths is not None):
            seq, states = self._run_fused(x, states, ctx, in_mask, lengths)
            out = seq if self.return_sequences else seq[:, -1]
        else:
            if self.go_backwards:
                x = x.flip(1)
                mask = None if mask is None else mask.flip(1)
            out, states = self._scan(self._input_projection(x, ctx, in_mask), tuple(states),
                                     self._prepare(ctx, rec_mask), mask)
        outputs = [out, *states] if self.return_state else out
        if self.activity_regularizer is not None:
            for o in (outputs if self.return_state else [outputs]):
                ctx.penalties.append(self.activity_regularizer(o) / o.shape[0])
        return outputs

    def _run_fused(self, x, states, ctx, in_mask, lengths):
        if in_mask is not None:
            x = x * in_mask[:, None, :]
        mode, weights = self._fused_mode(), self._fused_weights(ctx)
        if lengths is None:
            seq, states = _fused_rnn.run(mode, x.flip(1) if self.go_backwards else x, states, weights)
            return seq, states
        if self.go_backwards:
            x = _fused_rnn.reverse_within(x, lengths)
        seq, states = _fused_rnn.run(mode, x, states, weights, lengths)
        return _fused_rnn.masked_outputs(seq, lengths, self.go_backwards, self.zero_output_for_mask), states

    # -- configuration
    def _arguments(self) -> dict:
        """The constructor's arguments as the objects this layer holds (not serialized)."""
        return {**_RandomLayer.get_config(self), "units": self.units, "activation": self.activation,
                "use_bias": self.use_bias, "kernel_initializer": self.kernel_initializer,
                "recurrent_initializer": self.recurrent_initializer, "bias_initializer": self.bias_initializer,
                **{name: getattr(self, name) for name in _REGULARIZERS},
                "dropout": self.dropout, "recurrent_dropout": self.recurrent_dropout,
                "return_sequences": self.return_sequences, "return_state": self.return_state,
                "go_backwards": self.go_backwards, "stateful": self.stateful, "unroll": self.unroll,
                "zero_output_for_mask": self.zero_output_for_mask}

    def clone(self, **changes) -> "RecurrentLayer":
        """A new, unbuilt layer with this one's arguments (custom activations and initializers
        included), updated by ``changes``."""
        return type(self)(**{**self._arguments(), **changes})

    def get_config(self):
        config = self._arguments()
        for key, value in config.items():
            if key.endswith("activation"):
                config[key] = activations.serialize(value)
            elif key.endswith("initializer"):
                config[key] = initializers.serialize(value)
            elif key in _REGULARIZERS:
                config[key] = _regularizers.serialize(value)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in _REGULARIZERS:
            config[key] = _regularizers.deserialize(config.get(key))
        return cls(**config)
