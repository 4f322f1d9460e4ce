"""The LSTM: one readable step, a fast whole-sequence version, and their gradients.

The four blocks are stacked in PyTorch's order (i, f, g, o): rows ``[0, H)`` of ``W_xh``, ``W_hh``
and ``b`` belong to the input gate ``i``, ``[H, 2H)`` to the forget gate ``f``, ``[2H, 3H)`` to the
candidate ``g`` and ``[3H, 4H)`` to the output gate ``o``. For a batch,

    a = x @ W_xh.T + h_prev @ W_hh.T + b                 (N, 4H), split into a_i, a_f, a_g, a_o
    i, f, o = sigmoid(a_i), sigmoid(a_f), sigmoid(a_o)   g = tanh(a_g)
    c_next = f * c_prev + i * g                          h_next = o * tanh(c_next)

which is ``torch.nn.LSTM(D, H, batch_first=True)`` with ``b = bias_ih_l0 + bias_hh_l0``.

Two implementations compute the same numbers (the tests check it):

* :func:`lstm_step_forward` and :func:`lstm_step_backward` follow the equations line by line for
  one step; read these first.
* :func:`lstm_forward` and :func:`lstm_backward` process a whole sequence. A loop over the step
  functions would be correct but slow in NumPy, where every operation on a small array pays a
  fixed overhead. They reorganise the same arithmetic so that only the recurrence itself stays in
  the loop, and are within a small factor of ``torch.nn.LSTM`` on a CPU (``make bench``).
"""

import numpy as np

from rnnbook.scratch._checks import check_inputs, check_upstream
from rnnbook.scratch.layers import sigmoid

# ---------------------------------------------------------------------------------------------
# One step, following the equations
# ---------------------------------------------------------------------------------------------


def lstm_step_forward(x, h_prev, c_prev, W_xh, W_hh, b, *, check=True):
    """One step of the LSTM for a batch.

    Args:
        x: (N, D) inputs at this step.
        h_prev: (N, H) hidden states of the previous step.
        c_prev: (N, H) cell states of the previous step.
        W_xh: (4H, D) input-to-hidden weights, blocks (i, f, g, o).
        W_hh: (4H, H) hidden-to-hidden weights, blocks (i, f, g, o).
        b: (4H,) bias.
        check: validate the arguments.

    Returns:
        h_next: (N, H) new hidden states.
        c_next: (N, H) new cell states.
        cache: ``(x, h_prev, c_prev, W_xh, W_hh, i, f, g, o, tanh_c)`` for
            :func:`lstm_step_backward`, with the gates and ``tanh(c_next)`` each (N, H).

    Raises:
        ValueError: on a wrong shape or dtype, mixed dtypes or NaN.
    """
    if check:
        check_inputs(x=(x, ("N", "D")), h_prev=(h_prev, ("N", "H")),
                     c_prev=(c_prev, ("N", "H")), W_xh=(W_xh, ("4H", "D")),
                     W_hh=(W_hh, ("4H", "H")), b=(b, ("4H",)))
    a = x @ W_xh.T + h_prev @ W_hh.T + b  # (N, 4H)
    a_i, a_f, a_g, a_o = np.split(a, 4, axis=1)
    i = sigmoid(a_i)
    f = sigmoid(a_f)
    g = np.tanh(a_g)
    o = sigmoid(a_o)
    c_next = f * c_prev + i * g
    tanh_c = np.tanh(c_next)
    h_next = o * tanh_c
    cache = (x, h_prev, c_prev, W_xh, W_hh, i, f, g, o, tanh_c)
    return h_next, c_next, cache


def lstm_step_backward(dh_next, dc_next, cache):
    """Backward pass of one LSTM step.

    The cell state receives gradient from two places: from ``c_next`` directly (``dc_next``, the
    path along which gradients survive many steps when ``f`` is near 1) and through
    ``h_next = o * tanh(c_next)``.

    Args:
        dh_next: (N, H) gradient of the loss with respect to ``h_next``.
        dc_next: (N, H) gradient of the loss with respect to ``c_next``.
        cache: from :func:`lstm_step_forward`.

    Returns:
        dx: (N, D) gradient with respect to ``x``.
        dh_prev: (N, H) gradient with respect to ``h_prev``.
        dc_prev: (N, H) gradient with respect to ``c_prev``.
        dW_xh: (4H, D), dW_hh: (4H, H), db: (4H,) gradients with respect to the parameters.
    """
    x, h_prev, c_prev, W_xh, W_hh, i, f, g, o, tanh_c = cache
    sizes = {"N": x.shape[0], "H": h_prev.shape[1]}
    check_upstream("dh_next", dh_next, ("N", "H"), sizes)
    check_upstream("dc_next", dc_next, ("N", "H"), sizes)
    # h_next = o * tanh(c_next)
    do = dh_next * tanh_c
    dc = dc_next + dh_next * o * (1.0 - tanh_c**2)
    # c_next = f * c_prev + i * g
    df = dc * c_prev
    di = dc * g
    dg = dc * i
    dc_prev = dc * f
    # back through the nonlinearities: sigmoid' = s (1 - s), tanh' = 1 - tanh^2
    # da: (N, 4H), the gradient of the stacked pre-activations
    da = np.concatenate([di * i * (1.0 - i), df * f * (1.0 - f),
                         dg * (1.0 - g**2), do * o * (1.0 - o)], axis=1)
    # a = x @ W_xh.T + h_prev @ W_hh.T + b
    dx = da @ W_xh
    dh_prev = da @ W_hh
    dW_xh = da.T @ x
    dW_hh = da.T @ h_prev
    db = da.sum(axis=0)
    return dx, dh_prev, dc_prev, dW_xh, dW_hh, db


def lstm_forward_by_steps(x, h0, W_xh, W_hh, b, c0=None):
    """The readable reference for :func:`lstm_forward`: the step function applied ``T`` times.

    Args:
        x: (N, T, D) inputs.  h0: (N, H) and c0: (N, H) initial states (c0 zero if omitted).
        W_xh: (4H, D), W_hh: (4H, H), b: (4H,) parameters, gates stacked (i, f, g, o).

    Returns:
        h: (N, T, H) hidden states; c_T: (N, H) final cell state; caches: the T step caches.
    """
    c_t = np.zeros_like(h0) if c0 is None else c0
    h_t, caches, hs = h0, [], []
    for t in range(x.shape[1]):
        h_t, c_t, cache = lstm_step_forward(x[:, t], h_t, c_t, W_xh, W_hh, b, check=t == 0)
        caches.append(cache)
        hs.append(h_t)
    return np.stack(hs, axis=1), c_t, caches


def lstm_backward_by_steps(dh, caches):
    """Full BPTT through :func:`lstm_forward_by_steps` with the step backward, newest step first.

    Args:
        dh: (N, T, H) gradient of the loss with respect to every hidden state.
        caches: from :func:`lstm_forward_by_steps`.

    Returns:
        dx (N, T, D), dh0 (N, H), dW_xh (4H, D), dW_hh (4H, H), db (4H,), dc0 (N, H).
    """
    dx = [None] * len(caches)
    dW_xh = dW_hh = db = 0.0
    dh_next = dc_next = np.zeros_like(dh[:, 0])
    for t in reversed(range(len(caches))):
        dx[t], dh_next, dc_next, dW_xh_t, dW_hh_t, db_t = lstm_step_backward(
            dh[:, t] + dh_next, dc_next, caches[t])
        dW_xh, dW_hh, db = dW_xh + dW_xh_t, dW_hh + dW_hh_t, db + db_t
    return np.stack(dx, axis=1), dh_next, dW_xh, dW_hh, db, dc_next


# ---------------------------------------------------------------------------------------------
# A whole sequence, organised for speed
# ---------------------------------------------------------------------------------------------


def _gate_constants(dtype):
    """``scale`` and ``shift``, shaped (4, 1) for the gate axis, that turn one tanh into all gates.

    Because ``sigmoid(u) = 1/2 + 1/2 * tanh(u / 2)``, the activated gates of pre-activations
    ``a`` (N, 4, H) are ``shift + scale * tanh(scale * a)`` with ``scale = 1/2`` and ``shift = 1/2``
    for the sigmoid gates (i, f, o) and ``scale = 1``, ``shift = 0`` for the tanh candidate (g).
    """
    scale = np.array([[0.5], [0.5], [1.0], [0.5]], dtype=dtype)
    shift = np.array([[0.5], [0.5], [0.0], [0.5]], dtype=dtype)
    return scale, shift


def lstm_forward(x, h0, W_xh, W_hh, b, c0=None):
    """Run the LSTM over a whole sequence.

    The arithmetic is that of :func:`lstm_step_forward`, reorganised in three ways:

    1. The input term ``x_t @ W_xh.T + b`` does not depend on the recurrence, so it is computed
       for all ``T`` steps in one large matmul before the loop. Only ``h_{t-1} @ W_hh.T`` remains
       inside.
    2. Everything is stored *time-major*, ``(T, N, ...)``, in arrays allocated once, so that the
       data of step ``t`` is one contiguous block and results are written in place. The gates get
       an axis of their own: ``gates[t, :, 0]`` is ``i_t``, ``gates[t, :, 1]`` is ``f_t``, etc.
    3. All four gates are activated by one ``tanh`` (see :func:`_gate_constants`).

    Args:
        x: (N, T, D) input sequences.
        h0: (N, H) initial hidden states.
        W_xh: (4H, D) input-to-hidden weights, blocks (i, f, g, o).
        W_hh: (4H, H) hidden-to-hidden weights.
        b: (4H,) bias.
        c0: optional (N, H) initial cell states; zeros when omitted.

    Returns:
        h: (N, T, H) hidden states of every step.
        cache: dict for :func:`lstm_backward`, time-major: ``"x"`` (T, N, D), ``"h"`` and ``"c"``
            (T + 1, N, H) with the initial states at index 0, ``"tanh_c"`` (T, N, H), ``"gates"``
            (T, N, 4, H) the activated gates (i, f, g, o), and the weights ``"W_xh"``, ``"W_hh"``.
            :func:`lstm_final_state` reads the final ``(h_T, c_T)`` from it.

    Raises:
        ValueError: on a wrong shape (including ``T = 0``), dtype, mixed dtypes or NaN.
    """
    if c0 is None:
        c0 = np.zeros_like(h0)
    check_inputs(x=(x, ("N", "T", "D")), h0=(h0, ("N", "H")), c0=(c0, ("N", "H")),
                 W_xh=(W_xh, ("4H", "D")), W_hh=(W_hh, ("4H", "H")), b=(b, ("4H",)))
    N, T, D = x.shape
    H = h0.shape[1]
    scale, shift = _gate_constants(x.dtype)

    x_tm = np.ascontiguousarray(x.transpose(1, 0, 2))  # (T, N, D)
    gates = (x_tm.reshape(T * N, D) @ W_xh.T + b).reshape(T, N, 4, H)  # input terms, all steps
    h = np.empty((T + 1, N, H), dtype=x.dtype)
    c = np.empty((T + 1, N, H), dtype=x.dtype)
    tanh_c = np.empty((T, N, H), dtype=x.dtype)
    h[0], c[0] = h0, c0
    W_hh_T = np.ascontiguousarray(W_hh.T)  # a contiguous copy: NumPy multiplies it faster
    for t in range(T):
        a = gates[t]  # (N, 4, H) view: activated in place
        a += (h[t] @ W_hh_T).reshape(N, 4, H)
        a *= scale
        np.tanh(a, out=a)
        a *= scale
        a += shift
        i, f, g, o = a[:, 0], a[:, 1], a[:, 2], a[:, 3]
        np.multiply(f, c[t], out=c[t + 1])
        c[t + 1] += i * g
        np.tanh(c[t + 1], out=tanh_c[t])
        np.multiply(o, tanh_c[t], out=h[t + 1])

    cache = {"x": x_tm, "h": h, "c": c, "tanh_c": tanh_c, "gates": gates,
             "W_xh": W_xh, "W_hh": W_hh}
    return np.ascontiguousarray(h[1:].transpose(1, 0, 2)), cache


def lstm_final_state(cache):
    """The final hidden and cell states of a sequence run by :func:`lstm_forward`.

    Args:
        cache: from :func:`lstm_forward`.

    Returns:
        h_T: (N, H) final hidden states (equal to ``h[:, -1]``).
        c_T: (N, H) final cell states, to start the next chunk in truncated BPTT.
    """
    return cache["h"][-1].copy(), cache["c"][-1].copy()


def lstm_backward(dh, cache):
    """Backpropagation through time for :func:`lstm_forward`.

    The arithmetic is that of :func:`lstm_step_backward`, reorganised like the forward pass.
    Each gradient at a gate pre-activation is a *running* gradient (at ``h_t`` or ``c_t``, which
    depends on later steps) times a *local factor* that depends only on the forward pass:

        da_o = dh_t * [tanh(c_t) o (1 - o)]          dc_t = dh_t * [o (1 - tanh(c_t)^2)] + dc_next
        da_i = dc_t * [g i (1 - i)]                  da_f = dc_t * [c_{t-1} f (1 - f)]
        da_g = dc_t * [i (1 - g^2)]                  dc_next for step t - 1 = dc_t * f

    1. The local factors (in brackets) are computed for all steps at once before the loop.
    2. The loop does only what depends on the next step: the running gradients, the
       pre-activation gradients ``da`` (stored for every step) and ``dh_{t-1} = da_t @ W_hh``.
    3. The weights are shared by all steps, so their gradients are sums over steps; with ``da`` of
       all steps stacked into one (T N, 4H) matrix, each sum is one large matmul after the loop,
       as is the gradient with respect to all inputs.

    Args:
        dh: (N, T, H) gradient of the loss with respect to every hidden state.
        cache: from :func:`lstm_forward`.

    Returns:
        dx: (N, T, D) gradient with respect to the inputs.
        dh0: (N, H) gradient with respect to the initial hidden state.
        dW_xh: (4H, D), dW_hh: (4H, H), db: (4H,) gradients with respect to the parameters.
    """
    x, h, c, tanh_c, gates = cache["x"], cache["h"], cache["c"], cache["tanh_c"], cache["gates"]
    W_xh, W_hh = cache["W_xh"], cache["W_hh"]
    T, N, D = x.shape
    H = h.shape[2]
    check_upstream("dh", dh, ("N", "T", "H"), {"N": N, "T": T, "H": H})
    dh = np.ascontiguousarray(dh.transpose(1, 0, 2))  # (T, N, H)

    # step 1: da starts as the local factors of all steps; the loop multiplies in dc or dh
    i, f, g, o = gates[:, :, 0], gates[:, :, 1], gates[:, :, 2], gates[:, :, 3]  # each (T, N, H)
    da = gates * (1 - gates)  # s (1 - s) for every gate; the g block is replaced below
    da[:, :, 0] *= g
    da[:, :, 1] *= c[:-1]  # c[:-1] holds c_0 ... c_{T-1}
    np.multiply(i, 1 - g * g, out=da[:, :, 2])
    da[:, :, 3] *= tanh_c
    h_to_c = o * (1 - tanh_c * tanh_c)

    dh_next = np.zeros((N, H), dtype=dh.dtype)
    dc_next = np.zeros((N, H), dtype=dh.dtype)
    for t in reversed(range(T)):
        dh_t = dh[t] + dh_next  # from the output at step t and from step t + 1
        dc = dh_t * h_to_c[t]
        dc += dc_next
        da[t, :, :3] *= dc[:, None, :]  # i, f, g
        da[t, :, 3] *= dh_t  # o
        dc_next = dc * f[t]
        dh_next = da[t].reshape(N, 4 * H) @ W_hh

    da = da.reshape(T * N, 4 * H)
    dW_xh = da.T @ x.reshape(T * N, D)
    dW_hh = da.T @ h[:-1].reshape(T * N, H)  # h[:-1] holds h_0 ... h_{T-1}
    db = da.sum(axis=0)
    dx = (da @ W_xh).reshape(T, N, D).transpose(1, 0, 2)
    return np.ascontiguousarray(dx), dh_next, dW_xh, dW_hh, db
