"""Multi-step recurrent layers (deep, optionally bidirectional) written from the equations.

``RNN``, ``LSTM`` and ``GRU`` are drop-in replacements for their ``torch.nn`` namesakes: the same
constructor arguments, parameter names and shapes (so ``load_state_dict`` works in both directions),
initialisation, call signature and return values. Two things are left out: packed sequences
(``PackedSequence``) and the LSTM's projection (``proj_size``); both are rejected with an error.

How a deep bidirectional layer is computed, for layer k = 0, ..., L-1::

    x^(0) = the input                                          (T, N, D)
    forward direction:  h_t  = cell(x^(k)_t, h_{t-1}),   t = 0, ..., T-1
    reverse direction:  h'_t = cell'(x^(k)_t, h'_{t+1}), t = T-1, ..., 0   (own weights, *_reverse)
    x^(k+1) = dropout([h_t ; h'_t])                            (T, N, H * num_directions)

The output is x^(L) without dropout; h_n stacks each layer's and direction's final state, in the
order (layer 0 forward, layer 0 reverse, layer 1 forward, ...). Dropout acts between layers only,
and only in training mode.

Shapes: T sequence length, N batch size, D input size, H hidden size, L = num_layers *
num_directions. Weights are stored as (out_features, in_features); the gates are stacked as in
PyTorch: LSTM (i, f, g, o), GRU (r, z, n).
"""

import math
import numbers
import warnings

import torch
from torch import nn

from rnnbook.modules._validation import check_layer_input, check_nonlinearity, check_sizes
from rnnbook.modules.cells import affine, gru_step, lstm_step, rnn_step
from rnnbook.modules.fused_lstm import fused_lstm_layer


class _RecurrentBase(nn.Module):
    """What RNN, LSTM and GRU share: parameters, argument checks and the loop over layers.

    A subclass sets ``num_gates`` and ``num_states`` (1 for hx, 2 for (h, c)) and implements
    :meth:`_step`, the recurrent update of one time step.
    """

    num_gates = 1
    num_states = 1

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__()
        check_sizes(input_size, hidden_size)
        if not isinstance(num_layers, int) or isinstance(num_layers, bool) or num_layers < 1:
            raise ValueError(f"num_layers: expected a positive integer, got {num_layers!r}")
        if (not isinstance(dropout, numbers.Real) or isinstance(dropout, bool)
                or not 0 <= dropout <= 1):
            raise ValueError(f"dropout: expected a probability in [0, 1], got {dropout!r}")
        if proj_size != 0:
            raise NotImplementedError(
                f"proj_size: LSTM projections are not supported by rnnbook.modules "
                f"(got proj_size={proj_size!r}); use torch.nn.LSTM or proj_size=0"
            )
        if dropout > 0 and num_layers == 1:
            warnings.warn(
                f"dropout={dropout} has no effect with num_layers=1: dropout acts between layers",
                UserWarning,
                stacklevel=3,
            )
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = 0
        self.num_directions = 2 if bidirectional else 1

        rows = self.num_gates * hidden_size
        factory = {"device": device, "dtype": dtype}
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else hidden_size * self.num_directions
            for suffix in self._suffixes(layer):
                self.register_parameter(
                    "weight_ih" + suffix, nn.Parameter(torch.empty(rows, layer_input, **factory))
                )
                self.register_parameter(
                    "weight_hh" + suffix, nn.Parameter(torch.empty(rows, hidden_size, **factory))
                )
                for name in ("bias_ih", "bias_hh"):
                    value = nn.Parameter(torch.empty(rows, **factory)) if bias else None
                    self.register_parameter(name + suffix, value)
        self.reset_parameters()

    def _suffixes(self, layer):
        """Parameter-name suffixes of one layer: '_l0' and, if bidirectional, '_l0_reverse'."""
        return [f"_l{layer}", f"_l{layer}_reverse"][: self.num_directions]

    def _weights(self, suffix):
        """(weight_ih, weight_hh, bias_ih, bias_hh) of one layer and direction (biases or None)."""
        return tuple(getattr(self, name + suffix)
                     for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))

    def reset_parameters(self):
        """Draw every parameter from U(-1/sqrt(H), 1/sqrt(H)), as torch.nn does."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for parameter in self.parameters():
            nn.init.uniform_(parameter, -bound, bound)

    def flatten_parameters(self):
        """Does nothing: present so that code written for torch.nn (which packs weights for cuDNN)
        runs unchanged."""

    def extra_repr(self):
        text = f"{self.input_size}, {self.hidden_size}"
        defaults = {"num_layers": 1, "nonlinearity": "tanh", "bias": True, "batch_first": False,
                    "dropout": 0.0, "bidirectional": False}
        for name, default in defaults.items():
            value = getattr(self, name, default)
            if value != default:
                text += f", {name}={value!r}"
        return text

    # ---------------------------------------------------------------------------------------------
    # The computation

    def forward(self, input, hx=None):
        """Run the layer over a sequence.

        Args:
            input: (T, N, D), or (N, T, D) if ``batch_first``, or (T, D) for one sequence.
            hx: initial state, zeros if omitted. RNN and GRU: a tensor (L, N, H) ((L, H) for one
                sequence). LSTM: a tuple (h_0, c_0) of two such tensors.

        Returns:
            ``(output, h_n)`` (RNN, GRU) or ``(output, (h_n, c_n))`` (LSTM). output has the shape
            of the input with D replaced by H * num_directions (forward and reverse hidden
            states concatenated); h_n and c_n have the shape of hx.
        """
        batched = check_layer_input(input, hx, self, self.num_states)
        # Work in the layout (T, N, D) with a batch axis; undo both at the end.
        x = input if batched else input.unsqueeze(1)  # (T, D) -> (T, 1, D)
        if batched and self.batch_first:
            x = x.transpose(0, 1)  # (N, T, D) -> (T, N, D)
        # states: (h,) or (h, c), each (L, N, H); row layer * num_directions + direction.
        if hx is None:
            L, N = self.num_layers * self.num_directions, x.shape[1]
            states = (x.new_zeros(L, N, self.hidden_size),) * self.num_states
        else:
            states = (hx,) if self.num_states == 1 else tuple(hx)
            states = tuple(s if batched else s.unsqueeze(1) for s in states)

        finals = []  # the final states of each layer and direction, in the order of h_n
        for layer in range(self.num_layers):
            outputs = []
            for direction, suffix in enumerate(self._suffixes(layer)):
                row = layer * self.num_directions + direction
                output, final = self._run_direction(
                    x, tuple(s[row] for s in states), self._weights(suffix), reverse=direction == 1
                )
                outputs.append(output)
                finals.append(final)
            # (T, N, H * num_directions): the next layer's input
            x = torch.cat(outputs, dim=2) if self.bidirectional else outputs[0]
            if self.dropout > 0 and self.training and layer < self.num_layers - 1:
                x = nn.functional.dropout(x, p=self.dropout, training=True)

        output = x.transpose(0, 1) if (batched and self.batch_first) else x
        last = tuple(torch.stack([final[k] for final in finals]) for k in range(self.num_states))
        if not batched:
            output = output.squeeze(1)
            last = tuple(s.squeeze(1) for s in last)
        return (output, last[0]) if self.num_states == 1 else (output, last)

    def _run_direction(self, x, state, weights, reverse):
        """The reference loop: one layer in one direction, one time step after the other.

        Args:
            x: layer input (T, N, D_k).
            state: tuple of initial states, each (N, H).
            weights: (weight_ih, weight_hh, bias_ih, bias_hh).
            reverse: run from t = T-1 down to 0.

        Returns:
            ``(output, final)``: the hidden state of every step (T, N, H), in the order of the
            input, and the tuple of final states.
        """
        weight_ih, weight_hh, bias_ih, bias_hh = weights
        gx = affine(x, weight_ih, bias_ih)  # input projection of all steps at once: (T, N, G*H)
        steps = gx.unbind(0)  # not gx[t]: that gives each step a full-size gradient in backward
        T = len(steps)
        hidden = [None] * T
        for t in reversed(range(T)) if reverse else range(T):
            state = self._step(steps[t], state, weight_hh, bias_hh)
            hidden[t] = state[0]
        return torch.stack(hidden), state

    def _step(self, gx, state, weight_hh, bias_hh):
        raise NotImplementedError


class RNN(_RecurrentBase):
    r"""A deep, optionally bidirectional, vanilla (Elman) RNN over whole sequences.

    A drop-in replacement for ``torch.nn.RNN``. For each layer and direction::

        h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh),   act = tanh or ReLU

    Args:
        input_size: D.  hidden_size: H.  num_layers: number of stacked layers.
        nonlinearity: ``"tanh"`` or ``"relu"``.
        bias: if False, no bias_ih_l{k} and bias_hh_l{k}.
        batch_first: input and output are (N, T, .) instead of (T, N, .); hx is not affected.
        dropout: probability of zeroing each output of every layer but the last, in training.
        bidirectional: add a second stack running backwards in time (parameters ``*_reverse``).
        device, dtype: where and in which precision to create the parameters.

    Parameters, for layer k (and likewise with suffix ``_reverse``):
        weight_ih_l{k}: (H, D) for k = 0, (H, H * num_directions) after.
        weight_hh_l{k}: (H, H).  bias_ih_l{k}, bias_hh_l{k}: (H,).
        All drawn from U(-1/sqrt(H), 1/sqrt(H)).

    Call:
        ``rnn(input, hx=None) -> (output, h_n)``, see :meth:`forward`.
    """

    num_gates = 1

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, device=None, dtype=None):
        check_nonlinearity(nonlinearity)
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity

    def _step(self, gx, state, weight_hh, bias_hh):
        return (rnn_step(gx, state[0], weight_hh, bias_hh, self.nonlinearity),)


class LSTM(_RecurrentBase):
    r"""A deep, optionally bidirectional, long short-term memory over whole sequences.

    A drop-in replacement for ``torch.nn.LSTM`` (without ``proj_size``). For each layer and
    direction, with the gates stacked as (i, f, g, o)::

        [i, f, g, o] = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh
        c_t = sigmoid(f) * c_{t-1} + sigmoid(i) * tanh(g)
        h_t = sigmoid(o) * tanh(c_t)

    Args:
        input_size: D.  hidden_size: H.  num_layers: number of stacked layers.
        bias: if False, no bias_ih_l{k} and bias_hh_l{k}.
        batch_first: input and output are (N, T, .) instead of (T, N, .); hx is not affected.
        dropout: probability of zeroing each output of every layer but the last, in training.
        bidirectional: add a second stack running backwards in time (parameters ``*_reverse``).
        proj_size: must be 0 (projections are not supported).
        device, dtype: where and in which precision to create the parameters.
        fused: keyword only. True (default): run each layer with :func:`fused_lstm_layer`, whose
            backward pass is written by hand and is several times faster than autograd's; it
            supports first derivatives only. False: the readable reference loop over
            :func:`lstm_step`, differentiable any number of times. Both give the same numbers.

    Parameters, for layer k (and likewise with suffix ``_reverse``):
        weight_ih_l{k}: (4H, D) for k = 0, (4H, H * num_directions) after.
        weight_hh_l{k}: (4H, H).  bias_ih_l{k}, bias_hh_l{k}: (4H,).
        All drawn from U(-1/sqrt(H), 1/sqrt(H)).

    Call:
        ``lstm(input, hx=None) -> (output, (h_n, c_n))`` with hx a tuple (h_0, c_0), see
        :meth:`forward`.
    """

    num_gates = 4
    num_states = 2

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, device=None, dtype=None, *,
                 fused=True):
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, proj_size, device=device, dtype=dtype)
        self.fused = fused

    def extra_repr(self):
        return super().extra_repr() + ("" if self.fused else ", fused=False")

    def _run_direction(self, x, state, weights, reverse):
        if not self.fused:
            return super()._run_direction(x, state, weights, reverse)
        # The fused layer runs forward in time; a reverse direction reads the sequence backwards.
        if reverse:
            x = x.flip(0)
        output, h_n, c_n = fused_lstm_layer(x, *state, *weights)
        return (output.flip(0) if reverse else output), (h_n, c_n)

    def _step(self, gx, state, weight_hh, bias_hh):
        return lstm_step(gx, *state, weight_hh, bias_hh)


class GRU(_RecurrentBase):
    r"""A deep, optionally bidirectional, gated recurrent unit over whole sequences.

    A drop-in replacement for ``torch.nn.GRU``. For each layer and direction, with the gates
    stacked as (r, z, n)::

        r_t = sigmoid(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)
        z_t = sigmoid(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)
        n_t = tanh(W_in x_t + b_in + r_t * (W_hn h_{t-1} + b_hn))
        h_t = (1 - z_t) * n_t + z_t * h_{t-1}

    (PyTorch's variant: the reset gate multiplies W_hn h + b_hn; see
    :func:`~rnnbook.modules.cells.gru_step`.)

    Args:
        input_size: D.  hidden_size: H.  num_layers: number of stacked layers.
        bias: if False, no bias_ih_l{k} and bias_hh_l{k}.
        batch_first: input and output are (N, T, .) instead of (T, N, .); hx is not affected.
        dropout: probability of zeroing each output of every layer but the last, in training.
        bidirectional: add a second stack running backwards in time (parameters ``*_reverse``).
        device, dtype: where and in which precision to create the parameters.

    Parameters, for layer k (and likewise with suffix ``_reverse``):
        weight_ih_l{k}: (3H, D) for k = 0, (3H, H * num_directions) after.
        weight_hh_l{k}: (3H, H).  bias_ih_l{k}, bias_hh_l{k}: (3H,).
        All drawn from U(-1/sqrt(H), 1/sqrt(H)).

    Call:
        ``gru(input, hx=None) -> (output, h_n)``, see :meth:`forward`.
    """

    num_gates = 3

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, device=None, dtype=None):
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, device=device, dtype=dtype)

    def _step(self, gx, state, weight_hh, bias_hh):
        return (gru_step(gx, state[0], weight_hh, bias_hh),)
