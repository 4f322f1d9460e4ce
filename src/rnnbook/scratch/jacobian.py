"""The Jacobian of a late hidden state with respect to an earlier one, and its norm over distance.

For an RNN ``h_t = f(a_t)``, ``a_t = W_hh h_{t-1} + W_xh x_t + b``, one step contributes

    dh_t / dh_{t-1} = diag(f'(a_t)) W_hh,

and the chain rule multiplies these factors, the latest on the left:

    dh_T / dh_k = diag(f'(a_T)) W_hh  diag(f'(a_{T-1})) W_hh  ...  diag(f'(a_{k+1})) W_hh.

The functions take the derivatives ``f'(a_t)`` of the steps (``1 - h_t**2`` for tanh, the 0/1
indicator ``a_t > 0`` for ReLU, ones for a linear recurrence), so they serve any elementwise
activation. NumPy only.
"""

import numpy as np


def _check(fprime, W_hh):
    fprime, W_hh = np.asarray(fprime, dtype=np.float64), np.asarray(W_hh, dtype=np.float64)
    if W_hh.ndim != 2 or W_hh.shape[0] != W_hh.shape[1]:
        raise ValueError(f"W_hh: expected a square matrix (H, H), got shape {W_hh.shape}")
    H = W_hh.shape[0]
    if fprime.ndim != 2 or fprime.shape[1] != H or fprime.shape[0] == 0:
        raise ValueError(f"fprime: expected shape (T, H) with T >= 1 and H = {H} (from W_hh), "
                         f"got {fprime.shape}")
    return fprime, W_hh


def state_jacobian(fprime, W_hh):
    """``dh_T / dh_0`` over the ``T`` steps whose activation derivatives are given.

    Args:
        fprime: (T, H) the derivatives ``f'(a_t)`` at steps ``t = 1 .. T`` (row ``t - 1``).
        W_hh: (H, H) recurrent weights.

    Returns:
        (H, H) array: entry ``[i, j]`` is ``d h_T[i] / d h_0[j]``.
    """
    fprime, W_hh = _check(fprime, W_hh)
    J = np.eye(W_hh.shape[0])
    for d in fprime:  # t = 1 .. T: each new factor multiplies from the left
        J = (d[:, None] * W_hh) @ J
    return J


def jacobian_norms(fprime, W_hh):
    """Spectral norms of ``dh_T / dh_{T-d}`` for every distance ``d = 1 .. T``.

    Walks back from the last step, multiplying one factor on the right at a time.

    Args:
        fprime: (T, H) the derivatives ``f'(a_t)`` at steps ``t = 1 .. T``.
        W_hh: (H, H) recurrent weights.

    Returns:
        (T,) array; entry ``d - 1`` is ``|| dh_T / dh_{T-d} ||_2`` (the largest singular value).
    """
    fprime, W_hh = _check(fprime, W_hh)
    J = np.eye(W_hh.shape[0])
    norms = np.empty(fprime.shape[0])
    for i, d in enumerate(fprime[::-1]):  # t = T, T-1, ..., 1
        J = J @ (d[:, None] * W_hh)
        norms[i] = np.linalg.norm(J, 2)
    return norms
