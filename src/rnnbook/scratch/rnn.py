"""The vanilla (Elman) RNN with tanh: one step, a whole sequence, and their gradients.

For a batch of ``N`` examples, with the notation page's symbols,

    a_t = x_t @ W_xh.T + h_{t-1} @ W_hh.T + b,        h_t = tanh(a_t),

which is ``torch.nn.RNN(D, H, nonlinearity="tanh", batch_first=True)`` with
``b = bias_ih_l0 + bias_hh_l0``. Shapes: ``x`` (N, T, D) for a sequence and (N, D) for one step,
``h`` (N, H), ``W_xh`` (H, D), ``W_hh`` (H, H), ``b`` (H,).
"""

import numpy as np

from rnnbook.scratch._checks import check_inputs, check_upstream


def rnn_step_forward(x, h_prev, W_xh, W_hh, b, *, check=True):
    """One step of the RNN for a batch.

    Args:
        x: (N, D) inputs at this step.
        h_prev: (N, H) hidden states of the previous step.
        W_xh: (H, D) input-to-hidden weights.
        W_hh: (H, H) hidden-to-hidden weights.
        b: (H,) bias.
        check: validate the arguments (sequence functions turn it off after checking once).

    Returns:
        h_next: (N, H) new hidden states.
        cache: ``(x, h_prev, W_xh, W_hh, h_next)`` for :func:`rnn_step_backward`.

    Raises:
        ValueError: on a wrong shape or dtype, mixed dtypes or NaN.
    """
    if check:
        check_inputs(x=(x, ("N", "D")), h_prev=(h_prev, ("N", "H")), W_xh=(W_xh, ("H", "D")),
                     W_hh=(W_hh, ("H", "H")), b=(b, ("H",)))
    a = x @ W_xh.T + h_prev @ W_hh.T + b
    h_next = np.tanh(a)
    cache = (x, h_prev, W_xh, W_hh, h_next)
    return h_next, cache


def rnn_step_backward(dh_next, cache):
    """Backward pass of one RNN step.

    ``tanh'(a) = 1 - tanh(a)^2`` is computed from the saved output, so the pre-activation ``a``
    need not be stored. Each weight gradient sums over the batch, which the matmul ``da.T @ ...``
    does.

    Args:
        dh_next: (N, H) gradient of the loss with respect to ``h_next`` (all paths into it).
        cache: from :func:`rnn_step_forward`.

    Returns:
        dx: (N, D) gradient with respect to ``x``.
        dh_prev: (N, H) gradient with respect to ``h_prev``.
        dW_xh: (H, D) gradient with respect to ``W_xh``.
        dW_hh: (H, H) gradient with respect to ``W_hh``.
        db: (H,) gradient with respect to ``b``.
    """
    x, h_prev, W_xh, W_hh, h_next = cache
    check_upstream("dh_next", dh_next, ("N", "H"), {"N": x.shape[0], "H": W_hh.shape[0]})
    da = dh_next * (1.0 - h_next**2)
    dx = da @ W_xh
    dh_prev = da @ W_hh
    dW_xh = da.T @ x
    dW_hh = da.T @ h_prev
    db = da.sum(axis=0)
    return dx, dh_prev, dW_xh, dW_hh, db


def rnn_forward(x, h0, W_xh, W_hh, b):
    """Run the RNN over a whole sequence: the step function applied ``T`` times.

    Args:
        x: (N, T, D) input sequences.
        h0: (N, H) initial hidden states.
        W_xh: (H, D) input-to-hidden weights.
        W_hh: (H, H) hidden-to-hidden weights.
        b: (H,) bias.

    Returns:
        h: (N, T, H) hidden states of every step; ``h[:, -1]`` is the final state.
        cache: the list of the ``T`` step caches, for :func:`rnn_backward`.

    Raises:
        ValueError: on a wrong shape (including ``T = 0``), dtype, mixed dtypes or NaN.
    """
    check_inputs(x=(x, ("N", "T", "D")), h0=(h0, ("N", "H")), W_xh=(W_xh, ("H", "D")),
                 W_hh=(W_hh, ("H", "H")), b=(b, ("H",)))
    N, T, _ = x.shape
    h = np.empty((N, T, h0.shape[1]), dtype=x.dtype)
    cache = []
    h_prev = h0
    for t in range(T):
        h_prev, step_cache = rnn_step_forward(x[:, t], h_prev, W_xh, W_hh, b, check=False)
        h[:, t] = h_prev
        cache.append(step_cache)
    return h, cache


def rnn_backward(dh, cache):
    """Backpropagation through time over the whole sequence.

    ``h_t`` influences the loss twice: directly (``dh[:, t]``, e.g. from an output layer) and
    through ``h_{t+1}``. Walking from the last step to the first, the gradient arriving at
    ``h_t`` is the sum of both; the weights are shared by every step, so their gradients are the
    sums of the per-step gradients.

    Args:
        dh: (N, T, H) gradient of the loss with respect to every hidden state.
        cache: from :func:`rnn_forward`.

    Returns:
        dx: (N, T, D) gradient with respect to the inputs.
        dh0: (N, H) gradient with respect to the initial state.
        dW_xh: (H, D), dW_hh: (H, H), db: (H,) gradients with respect to the parameters.
    """
    x0, _, W_xh, W_hh, _ = cache[0]
    N, D = x0.shape
    T, H = len(cache), W_hh.shape[0]
    check_upstream("dh", dh, ("N", "T", "H"), {"N": N, "T": T, "H": H})
    dx = np.empty((N, T, D), dtype=dh.dtype)
    dW_xh, dW_hh, db = np.zeros_like(W_xh), np.zeros_like(W_hh), np.zeros(H, dtype=W_hh.dtype)
    dh_prev = np.zeros((N, H), dtype=dh.dtype)  # nothing flows back from beyond the last step
    for t in reversed(range(T)):
        dx[:, t], dh_prev, dW_xh_t, dW_hh_t, db_t = rnn_step_backward(dh[:, t] + dh_prev, cache[t])
        dW_xh += dW_xh_t
        dW_hh += dW_hh_t
        db += db_t
    return dx, dh_prev, dW_xh, dW_hh, db
