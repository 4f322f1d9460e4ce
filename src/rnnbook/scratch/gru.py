"""The gated recurrent unit (GRU) exactly as ``torch.nn.GRU``: one step, a sequence, and gradients.

The three blocks are stacked in PyTorch's order (r, z, n): rows ``[0, H)`` of ``W_xh``, ``W_hh``,
``b_xh`` and ``b_hh`` belong to the reset gate ``r``, rows ``[H, 2H)`` to the update gate ``z`` and
rows ``[2H, 3H)`` to the candidate ``n``. For a batch,

    r = sigmoid(x @ W_xr.T + b_xr + h @ W_hr.T + b_hr)
    z = sigmoid(x @ W_xz.T + b_xz + h @ W_hz.T + b_hz)
    n = tanh(x @ W_xn.T + b_xn + r * (h @ W_hn.T + b_hn))
    h_next = (1 - z) * n + z * h

The reset gate multiplies the recurrent term *including its bias* ``b_hn``; that is why the GRU
keeps two bias vectors where the RNN and LSTM need only their sum. Only the n blocks need both:
for r and z only the sums ``b_xr + b_hr`` and ``b_xz + b_hz`` enter, as in the LSTM. (Cho et al.
(2014) apply ``r`` to ``h`` before the matmul, ``W_hn @ (r * h)``: a different model, which does
not copy into ``torch.nn.GRU``.)

Shapes: ``x`` (N, T, D) or (N, D) for one step, ``h`` (N, H), ``W_xh`` (3H, D), ``W_hh`` (3H, H),
``b_xh`` and ``b_hh`` (3H,). They map to ``weight_ih_l0``, ``weight_hh_l0``, ``bias_ih_l0`` and
``bias_hh_l0``.
"""

import numpy as np

from rnnbook.scratch._checks import check_inputs, check_upstream
from rnnbook.scratch.layers import sigmoid


def gru_step_forward(x, h_prev, W_xh, W_hh, b_xh, b_hh, *, check=True):
    """One step of the GRU for a batch.

    Args:
        x: (N, D) inputs at this step.
        h_prev: (N, H) hidden states of the previous step.
        W_xh: (3H, D) input-to-hidden weights, blocks (r, z, n).
        W_hh: (3H, H) hidden-to-hidden weights, blocks (r, z, n).
        b_xh: (3H,) input-side bias.
        b_hh: (3H,) hidden-side bias.
        check: validate the arguments (sequence functions turn it off after checking once).

    Returns:
        h_next: (N, H) new hidden states.
        cache: ``(x, h_prev, W_xh, W_hh, r, z, n, hn)`` for :func:`gru_step_backward`, where
            ``hn = h_prev @ W_hn.T + b_hn`` is the recurrent term that ``r`` gates.

    Raises:
        ValueError: on a wrong shape or dtype, mixed dtypes or NaN.
    """
    if check:
        check_inputs(x=(x, ("N", "D")), h_prev=(h_prev, ("N", "H")),
                     W_xh=(W_xh, ("3H", "D")), W_hh=(W_hh, ("3H", "H")),
                     b_xh=(b_xh, ("3H",)), b_hh=(b_hh, ("3H",)))
    xr, xz, xn = np.split(x @ W_xh.T + b_xh, 3, axis=1)  # each (N, H)
    hr, hz, hn = np.split(h_prev @ W_hh.T + b_hh, 3, axis=1)
    r = sigmoid(xr + hr)
    z = sigmoid(xz + hz)
    n = np.tanh(xn + r * hn)
    h_next = (1.0 - z) * n + z * h_prev
    cache = (x, h_prev, W_xh, W_hh, r, z, n, hn)
    return h_next, cache


def gru_step_backward(dh_next, cache):
    """Backward pass of one GRU step.

    The input side and the hidden side receive the same gradient for the ``r`` and ``z`` blocks
    (they are added before the sigmoid) but different ones for the ``n`` block, where the hidden
    side is multiplied by ``r``. Hence two pre-activation gradients, ``dax`` and ``dah``.

    Args:
        dh_next: (N, H) gradient of the loss with respect to ``h_next``.
        cache: from :func:`gru_step_forward`.

    Returns:
        dx: (N, D) gradient with respect to ``x``.
        dh_prev: (N, H) gradient with respect to ``h_prev``.
        dW_xh: (3H, D), dW_hh: (3H, H) gradients with respect to the weights.
        db_xh: (3H,), db_hh: (3H,) gradients with respect to the biases.
    """
    x, h_prev, W_xh, W_hh, r, z, n, hn = cache
    check_upstream("dh_next", dh_next, ("N", "H"), {"N": x.shape[0], "H": h_prev.shape[1]})
    # h_next = (1 - z) * n + z * h_prev
    dn = dh_next * (1.0 - z)
    dz = dh_next * (h_prev - n)
    dh_prev = dh_next * z
    # n = tanh(xn + r * hn)
    dan = dn * (1.0 - n**2)  # gradient at the argument of tanh
    dr = dan * hn
    dhn = dan * r
    # r = sigmoid(xr + hr), z = sigmoid(xz + hz)
    dar = dr * r * (1.0 - r)
    daz = dz * z * (1.0 - z)
    dax = np.concatenate([dar, daz, dan], axis=1)  # (N, 3H) at x @ W_xh.T + b_xh
    dah = np.concatenate([dar, daz, dhn], axis=1)  # (N, 3H) at h_prev @ W_hh.T + b_hh
    dx = dax @ W_xh
    dh_prev = dh_prev + dah @ W_hh
    dW_xh = dax.T @ x
    dW_hh = dah.T @ h_prev
    db_xh = dax.sum(axis=0)
    db_hh = dah.sum(axis=0)
    return dx, dh_prev, dW_xh, dW_hh, db_xh, db_hh


def gru_state_jacobian(x, h_prev, W_xh, W_hh, b_xh, b_hh):
    """The Jacobian of one GRU step with respect to the previous state, for every example.

    With ``q = W_hn h_prev + b_hn`` (the recurrent term that ``r`` gates), the chain rule through
    ``h = (1 - z) n + z h_prev`` gives, for one example,

        dh/dh_prev = diag(z)
                     + diag((1 - z) (1 - n**2)) [diag(r) W_hn + diag(r (1 - r) q) W_hr]
                     + diag((h_prev - n) z (1 - z)) W_hz.

    The first term is the direct path through the update gate; every other term carries a factor
    ``1 - z`` or ``z (1 - z)``, so with ``z = 1`` the step's Jacobian is exactly the identity.

    Args:
        x: (N, D) inputs at this step.
        h_prev: (N, H) hidden states of the previous step.
        W_xh: (3H, D), W_hh: (3H, H), b_xh: (3H,), b_hh: (3H,) parameters, blocks (r, z, n).

    Returns:
        (N, H, H) array: entry ``[k, i, j]`` is ``d h_next[k, i] / d h_prev[k, j]``.

    Raises:
        ValueError: on a wrong shape or dtype, mixed dtypes or NaN.
    """
    _, (_, _, _, _, r, z, n, q) = gru_step_forward(x, h_prev, W_xh, W_hh, b_xh, b_hh)
    H = h_prev.shape[1]
    W_hr, W_hz, W_hn = W_hh[:H], W_hh[H:2 * H], W_hh[2 * H:]
    dn = (1.0 - z) * (1.0 - n**2)  # (N, H): d h / d (argument of tanh)
    J = dn[:, :, None] * (r[:, :, None] * W_hn + (r * (1.0 - r) * q)[:, :, None] * W_hr)
    J += ((h_prev - n) * z * (1.0 - z))[:, :, None] * W_hz
    diagonal = np.arange(H)
    J[:, diagonal, diagonal] += z
    return J


def gru_forward(x, h0, W_xh, W_hh, b_xh, b_hh):
    """Run the GRU over a whole sequence.

    Args:
        x: (N, T, D) input sequences.
        h0: (N, H) initial hidden states.
        W_xh: (3H, D), W_hh: (3H, H), b_xh: (3H,), b_hh: (3H,) parameters, blocks (r, z, n).

    Returns:
        h: (N, T, H) hidden states of every step; ``h[:, -1]`` is the final state.
        cache: the list of the ``T`` step caches, for :func:`gru_backward`.

    Raises:
        ValueError: on a wrong shape (including ``T = 0``), dtype, mixed dtypes or NaN.
    """
    check_inputs(x=(x, ("N", "T", "D")), h0=(h0, ("N", "H")),
                 W_xh=(W_xh, ("3H", "D")), W_hh=(W_hh, ("3H", "H")),
                 b_xh=(b_xh, ("3H",)), b_hh=(b_hh, ("3H",)))
    N, T, _ = x.shape
    h = np.empty((N, T, h0.shape[1]), dtype=x.dtype)
    cache = []
    h_prev = h0
    for t in range(T):
        h_prev, step_cache = gru_step_forward(x[:, t], h_prev, W_xh, W_hh, b_xh, b_hh,
                                              check=False)
        h[:, t] = h_prev
        cache.append(step_cache)
    return h, cache


def gru_backward(dh, cache):
    """Backpropagation through time for the GRU.

    Args:
        dh: (N, T, H) gradient of the loss with respect to every hidden state.
        cache: from :func:`gru_forward`.

    Returns:
        dx: (N, T, D) gradient with respect to the inputs.
        dh0: (N, H) gradient with respect to the initial state.
        dW_xh: (3H, D), dW_hh: (3H, H), db_xh: (3H,), db_hh: (3H,) parameter gradients.
    """
    x0, h_prev0, W_xh, W_hh = cache[0][:4]
    (N, D), H, T = x0.shape, h_prev0.shape[1], len(cache)
    check_upstream("dh", dh, ("N", "T", "H"), {"N": N, "T": T, "H": H})
    dx = np.empty((N, T, D), dtype=dh.dtype)
    dW_xh, dW_hh = np.zeros_like(W_xh), np.zeros_like(W_hh)
    db_xh, db_hh = np.zeros(3 * H, dtype=W_xh.dtype), np.zeros(3 * H, dtype=W_hh.dtype)
    dh_prev = np.zeros((N, H), dtype=dh.dtype)
    for t in reversed(range(T)):
        dx[:, t], dh_prev, dW_xh_t, dW_hh_t, db_xh_t, db_hh_t = gru_step_backward(
            dh[:, t] + dh_prev, cache[t])
        dW_xh += dW_xh_t
        dW_hh += dW_hh_t
        db_xh += db_xh_t
        db_hh += db_hh_t
    return dx, dh_prev, dW_xh, dW_hh, db_xh, db_hh
