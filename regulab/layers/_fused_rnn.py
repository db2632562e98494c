"""PyTorch's fused recurrent kernels (oneDNN on CPU, cuDNN on GPUs) for Keras-layout weights.

A recurrent layer runs through ``torch._VF.lstm``/``gru``/``rnn_tanh``/``rnn_relu`` (the functions
behind ``torch.nn.LSTM`` and friends) whenever its configuration has a fused form: eagerly, not
under ``torch.func.vmap`` (the ops have no batching rule) and not while ``torch.compile`` traces
(the CPU kernel does not trace). Elsewhere the layer scans the steps in Python, which vmap maps
and the compiler fuses.

A mask that only pads the end of each sequence (right padding, what ``Embedding(mask_zero=True)``
gives for padded batches) runs packed (``pack_padded_sequence``); the outputs are then laid out as
Keras lays them out for masked steps (see ``masked_outputs``).
"""
from __future__ import annotations

import warnings

import torch
from torch import _VF
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

_KERNELS = {"LSTM": _VF.lstm, "GRU": _VF.gru, "RNN_TANH": _VF.rnn_tanh, "RNN_RELU": _VF.rnn_relu}


def available() -> bool:
    """Whether the fused kernels may run here: not while compiling, not under vmap."""
    if torch.compiler.is_compiling():
        return False
    functorch = torch._C._functorch
    try:
        stack = functorch.get_interpreter_stack()
    except AttributeError:  # an older torch: avoid every transform, vmap or not
        return functorch.maybe_current_level() is None
    # under vmap(grad(f)) the weights are grad-tracking wrappers of batched tensors, so look at
    # the transforms running rather than at the tensors
    return not stack or all(level.key() != functorch.TransformType.Vmap for level in stack)


def right_padded_lengths(mask: torch.Tensor) -> torch.Tensor | None:
    """The lengths (on the CPU) if every row of ``mask`` is some True steps followed by False
    ones, else None. Reads the mask on the host once."""
    lengths = mask.sum(1)
    steps = torch.arange(mask.shape[1], device=mask.device)
    if not bool(torch.equal(mask, steps[None, :] < lengths[:, None])):
        return None
    return lengths.cpu()


def run(mode: str, x: torch.Tensor, states: list[torch.Tensor], weights: list[torch.Tensor],
        lengths: torch.Tensor | None = None) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """Run one fused layer over ``x`` (batch, steps, features) from ``states`` (each (batch, units)).

    ``weights`` are torch's ``[w_ih, w_hh]`` or ``[w_ih, w_hh, b_ih, b_hh]``. With ``lengths``
    the sequences are packed: outputs past a sequence's length are zeros and its final states are
    those at its last step (its initial states for a length of 0). Returns the output sequence and
    the final states.
    """
    kernel = _KERNELS[mode]
    has_biases = len(weights) == 4
    train = torch.is_grad_enabled()  # cuDNN keeps what backward needs only in training mode
    hx = tuple(s.unsqueeze(0) for s in states) if mode == "LSTM" else states[0].unsqueeze(0)
    if lengths is None:
        out, *final = _launch(kernel, x, hx, weights, has_biases, 1, 0.0, train, False, True)
        return out, [f[0] for f in final]
    empty = lengths == 0
    packed = pack_padded_sequence(x, lengths.clamp(min=1), batch_first=True, enforce_sorted=False)
    order = packed.sorted_indices
    if mode == "LSTM":
        hx = tuple(h.index_select(1, order) for h in hx)
    else:
        hx = hx.index_select(1, order)
    data, *final = _launch(kernel, packed.data, packed.batch_sizes, hx, weights, has_biases, 1, 0.0, train, False)
    out, _ = pad_packed_sequence(PackedSequence(data, packed.batch_sizes, order, packed.unsorted_indices),
                                 batch_first=True, total_length=x.shape[1])
    final = [f[0].index_select(0, packed.unsorted_indices) for f in final]
    if bool(empty.any()):  # packing needs a step: those sequences ran one, undo it
        keep = empty.to(x.device)[:, None]
        out = out.masked_fill(keep[:, :, None], 0.0)
        final = [torch.where(keep, s, f) for s, f in zip(states, final)]
    return out, final


def _launch(kernel, x, *args):
    if not x.is_cuda:
        return kernel(x, *args)
    with warnings.catch_warnings():
        # cuDNN copies weights that are not in one buffer into one: Keras's layout cannot be that
        # buffer, and the warning's advice (flatten_parameters) does not apply here
        warnings.filterwarnings("ignore", message="RNN module weights are not part of single contiguous")
        return kernel(x, *args)


def reverse_within(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Each sequence's first ``length`` steps in reverse order (the padding stays where it is)."""
    steps = torch.arange(x.shape[1], device=x.device)
    n = lengths.to(x.device)[:, None]
    index = torch.where(steps[None, :] < n, n - 1 - steps[None, :], steps[None, :])
    return x.gather(1, index[:, :, None].expand(-1, -1, x.shape[2]))


def masked_outputs(seq: torch.Tensor, lengths: torch.Tensor, backwards: bool,
                   zero_output_for_mask: bool) -> torch.Tensor:
    """The output sequence Keras gives for a right-padded mask, from the packed outputs ``seq``.

    Forwards, a masked step repeats the last output (zeros with ``zero_output_for_mask``).
    Backwards, Keras reverses the inputs and the mask, so the padding comes first and its
    outputs are zeros; the real steps follow, in reverse order, after it.
    """
    steps = torch.arange(seq.shape[1], device=seq.device)[None, :]
    n = lengths.to(seq.device)[:, None]
    if backwards:
        start = seq.shape[1] - n
        index = (steps - start).clamp(min=0)
        valid = steps >= start
    else:
        valid = steps < n
        if zero_output_for_mask:
            return seq * valid[:, :, None]
        index = torch.minimum(steps, (n - 1).clamp(min=0))
        valid = n > 0
    out = seq.gather(1, index[:, :, None].expand(-1, -1, seq.shape[2]))
    return out * valid[:, :, None]
