"""SimpleRNN, LSTM and GRU with Keras's arguments, weights and equations.

Weights are stored as Keras stores them, on the layer itself (``lstm/kernel``; Keras 3 keeps them
on a cell, ``lstm/lstm_cell/kernel``): ``kernel (features, gates * units)``,
``recurrent_kernel (units, gates * units)`` and ``bias``, with the gates in Keras's order
(LSTM: i, f, c, o; GRU: z, r, h), so ``get_weights``/``set_weights`` exchange arrays with Keras.
Shared behaviour (masks, dropout, the loop, fused kernels) lives in ``_rnn_base``.
"""
from __future__ import annotations

import torch

from regulab import activations
from regulab.layers._rnn_base import RecurrentLayer


class SimpleRNN(RecurrentLayer):
    """Fully connected recurrent layer: ``h_t = activation(x_t W + h_{t-1} U + b)``.

    ``W``, ``U`` and ``b`` are ``kernel``, ``recurrent_kernel`` and ``bias``. Input (batch,
    timesteps, features); output (batch, units), or (batch, timesteps, units) with
    ``return_sequences``; with ``return_state`` a list ``[output, h]``. Dropout acts in training
    only, with one mask per sequence, the same at every step (Gal & Ghahramani, 2016). A mask
    (from ``Embedding(mask_zero=True)`` or ``Masking``) skips steps: they keep the state.

    Args:
        units: size of the state and the output (a positive integer).
        activation: default ``'tanh'``; ``'tanh'`` and ``'relu'`` run PyTorch's fused kernel.
        use_bias: add a bias (default True).
        kernel_initializer, recurrent_initializer, bias_initializer: defaults ``'glorot_uniform'``,
            ``'orthogonal'``, ``'zeros'``.
        kernel_regularizer, recurrent_regularizer, bias_regularizer, activity_regularizer: penalties.
        dropout: fraction of the inputs dropped, one mask per sequence (default 0).
        recurrent_dropout: fraction of the state dropped in the recurrent product (default 0).
        seed: fixes the dropout stream.
        return_sequences: return every step's output (default False: the last one).
        return_state: also return the final state.
        go_backwards: read the sequence from its end; the output sequence is in that order.
        stateful: only False (a clear error otherwise).
        unroll: accepted for Keras compatibility; the time loop is the same either way.
        zero_output_for_mask: masked steps output zeros instead of the previous output.

    >>> from regulab.layers import SimpleRNN
    >>> layer = SimpleRNN(4)
    >>> layer(np.zeros((2, 5, 3), dtype="float32")).shape
    torch.Size([2, 4])
    >>> layer.count_params()  # 3*4 + 4*4 + 4
    32
    """

    def __init__(self, units, activation="tanh", use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros", kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, activity_regularizer=None, dropout=0.0,
                 recurrent_dropout=0.0, seed=None, return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, unroll=False, **kwargs):
        super().__init__(units, activation, use_bias, kernel_initializer, recurrent_initializer,
                         bias_initializer, kernel_regularizer, recurrent_regularizer, bias_regularizer,
                         activity_regularizer, dropout, recurrent_dropout, seed, return_sequences, return_state,
                         go_backwards, stateful, unroll, **kwargs)

    def _fused_mode(self):
        return {activations.tanh: "RNN_TANH", activations.relu: "RNN_RELU"}.get(self.activation)

    def _step(self, xw, states, p):
        return (self.activation(self._recurrent(states[0], p, add=xw)),)


class LSTM(RecurrentLayer):
    """Long short-term memory (Hochreiter & Schmidhuber, 1997), Keras's equations and gate order.

    With ``z = x_t @ kernel + h_{t-1} @ recurrent_kernel + bias`` split into i, f, c, o:
    ``c_t = σ(f) * c_{t-1} + σ(i) * tanh(c)``, ``h_t = σ(o) * tanh(c_t)`` (σ is
    ``recurrent_activation``, tanh is ``activation``). Output h; with ``return_state`` a list
    ``[output, h, c]``. The default configuration runs PyTorch's fused LSTM kernel, also with
    input dropout and with right-padded masks.

    Args:
        units, activation, use_bias, initializers, regularizers, dropout, recurrent_dropout, seed,
            return_sequences, return_state, go_backwards, stateful, unroll, zero_output_for_mask:
            as for ``SimpleRNN``.
        recurrent_activation: the gates' activation (default ``'sigmoid'``).
        unit_forget_bias: start the forget gate's bias at 1 (Jozefowicz et al., 2015; default True).

    >>> from regulab.layers import LSTM
    >>> layer = LSTM(64, return_sequences=True)
    >>> layer(np.zeros((2, 10, 32), dtype="float32")).shape
    torch.Size([2, 10, 64])
    >>> layer.count_params()  # 4 * (32*64 + 64*64 + 64)
    24832
    >>> out, h, c = LSTM(8, return_state=True)(np.zeros((2, 10, 32), dtype="float32"))
    """

    gates = 4
    state_names = ("h", "c")

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 unit_forget_bias=True, kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, dropout=0.0, recurrent_dropout=0.0, seed=None, return_sequences=False,
                 return_state=False, go_backwards=False, stateful=False, unroll=False, **kwargs):
        super().__init__(units, activation, use_bias, kernel_initializer, recurrent_initializer,
                         bias_initializer, kernel_regularizer, recurrent_regularizer, bias_regularizer,
                         activity_regularizer, dropout, recurrent_dropout, seed, return_sequences, return_state,
                         go_backwards, stateful, unroll, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.unit_forget_bias = bool(unit_forget_bias)

    def _bias_init(self):
        if not self.unit_forget_bias:
            return self.bias_initializer
        init, u = self.bias_initializer, self.units
        return lambda shape: torch.cat([init((u,)), torch.ones(u), init((2 * u,))])

    def _fused_mode(self):
        default = self.activation is activations.tanh and self.recurrent_activation is activations.sigmoid
        return "LSTM" if default else None

    def _step(self, xw, states, p):
        h, c = states
        z = self._recurrent(h, p, add=xw)
        # one activation call for the gates (the c slice is not used): fewer ops per step
        i, f, _, o = self.recurrent_activation(z).chunk(4, dim=1)
        u = self.units
        c = f * c + i * self.activation(z[:, 2 * u:3 * u])
        return o * self.activation(c), c

    def _arguments(self):
        return {**super()._arguments(), "recurrent_activation": self.recurrent_activation,
                "unit_forget_bias": self.unit_forget_bias}


class GRU(RecurrentLayer):
    """Gated recurrent unit (Cho et al., 2014), Keras's equations and gate order (z, r, h).

    ``z = σ(x W_z + h W'_z)``, ``r = σ(x W_r + h W'_r)``, ``h_t = z * h_{t-1} + (1 - z) * hh``
    with ``hh = tanh(x W_h + r * (h W'_h + b'_h))`` when ``reset_after`` (Keras's default and
    PyTorch's GRU: bias of shape (2, 3 * units), input and recurrent) and
    ``hh = tanh(x W_h + (r * h) W'_h)`` otherwise (bias (3 * units,)). ``reset_after=True`` with
    the default activations runs PyTorch's fused GRU kernel.

    Args:
        units, activation, use_bias, initializers, regularizers, dropout, recurrent_dropout, seed,
            return_sequences, return_state, go_backwards, stateful, unroll, zero_output_for_mask:
            as for ``SimpleRNN``.
        recurrent_activation: the gates' activation (default ``'sigmoid'``).
        reset_after: apply the reset gate after the recurrent product (default True).

    >>> from regulab.layers import GRU
    >>> layer = GRU(16)
    >>> layer(np.zeros((2, 10, 8), dtype="float32")).shape
    torch.Size([2, 16])
    >>> layer.count_params()  # 3 * (8*16 + 16*16 + 2*16)
    1248
    """

    gates = 3

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, dropout=0.0, recurrent_dropout=0.0, seed=None, return_sequences=False,
                 return_state=False, go_backwards=False, stateful=False, unroll=False, reset_after=True, **kwargs):
        super().__init__(units, activation, use_bias, kernel_initializer, recurrent_initializer,
                         bias_initializer, kernel_regularizer, recurrent_regularizer, bias_regularizer,
                         activity_regularizer, dropout, recurrent_dropout, seed, return_sequences, return_state,
                         go_backwards, stateful, unroll, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.reset_after = bool(reset_after)

    def _bias_shape(self):
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def _input_bias(self, ctx):
        if not self.use_bias:
            return None
        return ctx[self.bias][0] if self.reset_after else ctx[self.bias]

    def _fused_mode(self):
        default = self.activation is activations.tanh and self.recurrent_activation is activations.sigmoid
        return "GRU" if default and self.reset_after else None

    def _fused_weights(self, ctx):
        # torch orders the gates r, z, n; Keras z, r, h
        def reorder(w):
            u = self.units
            return torch.cat([w[..., u:2 * u], w[..., :u], w[..., 2 * u:]], dim=-1)

        w = [reorder(ctx[self.kernel]).T, reorder(ctx[self.recurrent_kernel]).T]
        if self.use_bias:
            b = reorder(ctx[self.bias])
            w += [b[0], b[1]]
        return w

    def _prepare(self, ctx, rec_mask):
        p = super()._prepare(ctx, rec_mask)
        p["bias"] = ctx[self.bias][1] if self.use_bias and self.reset_after else None
        return p

    def _step(self, xw, states, p):
        h = states[0]
        u, gate = self.units, self.recurrent_activation
        x_h = xw[:, 2 * u:]
        if self.reset_after:
            rec = self._recurrent(h, p, add=p["bias"])
            z, r = gate(xw[:, :2 * u] + rec[:, :2 * u]).chunk(2, dim=1)
            hh = self.activation(x_h + r * rec[:, 2 * u:])
        else:
            z, r = gate(self._recurrent(h, p, gates=2, add=xw[:, :2 * u])).chunk(2, dim=1)
            mask = p["mask"]
            h_h = h if mask is None else h * (mask if mask.dim() == 2 else mask[2])
            hh = self.activation(torch.addmm(x_h, r * h_h, p["r"][:, 2 * u:]))
        return (z * h + (1 - z) * hh,)

    def _arguments(self):
        return {**super()._arguments(), "recurrent_activation": self.recurrent_activation,
                "reset_after": self.reset_after}

