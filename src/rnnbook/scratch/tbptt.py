"""Truncated backpropagation through time (TBPTT).

Full BPTT over a long sequence stores every step and backpropagates through all of them. TBPTT
cuts the sequence into chunks of ``k`` steps and treats each chunk as a short sequence:

* **forward**: each chunk starts from the final state of the previous one, so the hidden states
  are exactly those of one pass over the whole sequence;
* **backward**: each chunk is backpropagated on its own; the gradient that would flow from a chunk
  into the state it started from is dropped (the carried state is treated as a constant), so no
  gradient crosses a chunk boundary.

The parameter gradients are the sums over chunks. With ``k = T`` there is a single chunk and
TBPTT is full BPTT. In a training loop one usually also updates the parameters after each chunk;
the functions here return the summed gradients of one pass, which is the part that is easy to get
wrong, and leave updating to the caller.

The loss is given as a function ``loss_grad(h_chunk, steps)`` that receives the hidden states of a
chunk, (N, k, H), and the ``slice`` of time steps it covers (to pick the matching targets), and
returns ``(loss, dh_chunk)``: the chunk's loss and its gradient with respect to ``h_chunk``.
"""

import numpy as np

from rnnbook.scratch.gru import gru_backward, gru_forward
from rnnbook.scratch.lstm import lstm_backward, lstm_final_state, lstm_forward
from rnnbook.scratch.rnn import rnn_backward, rnn_forward


def chunk_sequence(x, k):
    """Cut a batch of sequences along time into consecutive chunks of ``k`` steps.

    Args:
        x: array of shape (N, T, ...) (inputs, targets, masks...).
        k: positive chunk length; the last chunk is shorter when ``k`` does not divide ``T``.

    Returns:
        list of ``(steps, x[:, steps])`` pairs, where ``steps`` is the ``slice`` of time steps of
        the chunk, e.g. ``[(slice(0, 3), x[:, 0:3]), (slice(3, 5), x[:, 3:5])]`` for T = 5, k = 3.

    Raises:
        ValueError: if ``x`` has fewer than two axes or no time steps, or ``k`` is not a positive
            integer.
    """
    if np.ndim(x) < 2:
        raise ValueError(f"x: expected an array of shape (N, T, ...), got shape {np.shape(x)}")
    if not isinstance(k, int | np.integer) or isinstance(k, bool) or k < 1:
        raise ValueError(f"k: expected a positive integer chunk length, got {k!r}")
    T = x.shape[1]
    if T == 0:
        raise ValueError(f"x: axis 1 (T) has length 0 in shape {x.shape}; an empty sequence is "
                         "not allowed")
    return [(slice(start, min(start + k, T)), x[:, start:start + k]) for start in range(0, T, k)]


def rnn_tbptt(x, h0, W_xh, W_hh, b, k, loss_grad):
    """Loss and gradients of a vanilla RNN over a sequence by truncated BPTT with chunks of ``k``.

    Args:
        x: (N, T, D) inputs; h0: (N, H) initial state; W_xh: (H, D), W_hh: (H, H), b: (H,).
        k: chunk length (``k >= T`` gives full BPTT).
        loss_grad: ``loss_grad(h_chunk, steps) -> (loss, dh_chunk)``, see the module docstring.

    Returns:
        loss: sum of the chunk losses.
        grads: ``(dx, dh0, dW_xh, dW_hh, db)`` as from :func:`rnn_backward`; ``dx`` (N, T, D)
            holds each chunk's input gradient, ``dh0`` comes from the first chunk only.
        h_T: (N, H) final hidden state, to carry into the next sequence of a long stream.
    """
    loss, dxs, dh0 = 0.0, [], None
    dW_xh, dW_hh, db = np.zeros_like(W_xh), np.zeros_like(W_hh), np.zeros_like(b)
    h_prev = h0
    for steps, x_chunk in chunk_sequence(x, k):
        h, cache = rnn_forward(x_chunk, h_prev, W_xh, W_hh, b)
        chunk_loss, dh = loss_grad(h, steps)
        dx, dh_start, dW_xh_c, dW_hh_c, db_c = rnn_backward(dh, cache)
        loss += chunk_loss
        dxs.append(dx)
        dh0 = dh_start if dh0 is None else dh0  # later chunks: dh_start is dropped (truncation)
        dW_xh += dW_xh_c
        dW_hh += dW_hh_c
        db += db_c
        h_prev = h[:, -1]  # carried forward as a constant
    return loss, (np.concatenate(dxs, axis=1), dh0, dW_xh, dW_hh, db), h_prev


def lstm_tbptt(x, h0, W_xh, W_hh, b, k, loss_grad, c0=None):
    """Loss and gradients of an LSTM over a sequence by truncated BPTT with chunks of ``k``.

    Both the hidden state and the cell state are carried from one chunk into the next.

    Args:
        x: (N, T, D) inputs; h0: (N, H) initial state; W_xh: (4H, D), W_hh: (4H, H), b: (4H,).
        k: chunk length (``k >= T`` gives full BPTT).
        loss_grad: ``loss_grad(h_chunk, steps) -> (loss, dh_chunk)``, see the module docstring.
        c0: optional (N, H) initial cell state; zeros when omitted.

    Returns:
        loss: sum of the chunk losses.
        grads: ``(dx, dh0, dW_xh, dW_hh, db)`` as from :func:`lstm_backward`.
        state: ``(h_T, c_T)``, the final hidden and cell states, each (N, H).
    """
    loss, dxs, dh0 = 0.0, [], None
    dW_xh, dW_hh, db = np.zeros_like(W_xh), np.zeros_like(W_hh), np.zeros_like(b)
    h_prev, c_prev = h0, c0
    for steps, x_chunk in chunk_sequence(x, k):
        h, cache = lstm_forward(x_chunk, h_prev, W_xh, W_hh, b, c0=c_prev)
        chunk_loss, dh = loss_grad(h, steps)
        dx, dh_start, dW_xh_c, dW_hh_c, db_c = lstm_backward(dh, cache)
        loss += chunk_loss
        dxs.append(dx)
        dh0 = dh_start if dh0 is None else dh0
        dW_xh += dW_xh_c
        dW_hh += dW_hh_c
        db += db_c
        h_prev, c_prev = lstm_final_state(cache)  # carried forward as constants
    return loss, (np.concatenate(dxs, axis=1), dh0, dW_xh, dW_hh, db), (h_prev, c_prev)


def gru_tbptt(x, h0, W_xh, W_hh, b_xh, b_hh, k, loss_grad):
    """Loss and gradients of a GRU over a sequence by truncated BPTT with chunks of ``k``.

    Args:
        x: (N, T, D) inputs; h0: (N, H) initial state; W_xh: (3H, D), W_hh: (3H, H),
            b_xh: (3H,), b_hh: (3H,).
        k: chunk length (``k >= T`` gives full BPTT).
        loss_grad: ``loss_grad(h_chunk, steps) -> (loss, dh_chunk)``, see the module docstring.

    Returns:
        loss: sum of the chunk losses.
        grads: ``(dx, dh0, dW_xh, dW_hh, db_xh, db_hh)`` as from :func:`gru_backward`.
        h_T: (N, H) final hidden state.
    """
    loss, dxs, dh0 = 0.0, [], None
    dW_xh, dW_hh = np.zeros_like(W_xh), np.zeros_like(W_hh)
    db_xh, db_hh = np.zeros_like(b_xh), np.zeros_like(b_hh)
    h_prev = h0
    for steps, x_chunk in chunk_sequence(x, k):
        h, cache = gru_forward(x_chunk, h_prev, W_xh, W_hh, b_xh, b_hh)
        chunk_loss, dh = loss_grad(h, steps)
        dx, dh_start, dW_xh_c, dW_hh_c, db_xh_c, db_hh_c = gru_backward(dh, cache)
        loss += chunk_loss
        dxs.append(dx)
        dh0 = dh_start if dh0 is None else dh0
        dW_xh += dW_xh_c
        dW_hh += dW_hh_c
        db_xh += db_xh_c
        db_hh += db_hh_c
        h_prev = h[:, -1]
    return loss, (np.concatenate(dxs, axis=1), dh0, dW_xh, dW_hh, db_xh, db_hh), h_prev
