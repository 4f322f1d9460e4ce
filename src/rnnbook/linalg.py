"""Small linear-algebra helpers for studying recurrent weight matrices.

The long-run behaviour of the recurrence ``h_t = W_hh h_{t-1}`` is governed by the spectral radius
``rho(W_hh)``, the largest absolute value of an eigenvalue: the state shrinks roughly like
``rho^t`` when ``rho < 1`` and grows like it when ``rho > 1``. These helpers measure it and rescale
a matrix to a chosen radius. They accept NumPy arrays (and anything ``np.asarray`` reads, such as
a CPU torch tensor) and return NumPy arrays.
"""

import numpy as np

from rnnbook.shapes import check_finite, check_float


def _square_matrix(name, W):
    """``W`` as a float NumPy array after checking it is a finite square matrix."""
    if hasattr(W, "detach"):
        W = W.detach().cpu().numpy()
    W = np.asarray(W)
    if W.ndim != 2 or W.shape[0] != W.shape[1] or W.shape[0] == 0:
        raise ValueError(f"{name}: expected a non-empty square matrix of shape (H, H), "
                         f"got shape {W.shape}")
    check_float(name, W)
    check_finite(name, W)
    return W


def spectral_radius(W):
    """The spectral radius ``rho(W) = max |lambda_i(W)|`` of a square matrix.

    Args:
        W: (H, H) floating-point matrix, e.g. the recurrent weights ``W_hh``.

    Returns:
        Python float, at least 0.

    Raises:
        ValueError: if ``W`` is not a finite floating-point square matrix.
    """
    W = _square_matrix("W", W)
    return float(np.max(np.abs(np.linalg.eigvals(W))))


def scale_to_spectral_radius(W, rho):
    """Rescale ``W`` so that its spectral radius is ``rho``: ``W * rho / rho(W)``.

    Multiplying a matrix by a positive number multiplies every eigenvalue by it, so the result has
    the eigenvectors of ``W`` and exactly the radius ``rho`` (up to rounding).

    Args:
        W: (H, H) floating-point matrix with a non-zero spectral radius.
        rho: the radius wanted, a finite number >= 0.

    Returns:
        (H, H) array of the dtype of ``W``.

    Raises:
        ValueError: if ``W`` is not a finite square float matrix, if ``rho`` is negative or not
            finite, or if ``W`` has spectral radius 0 (a nilpotent matrix cannot be rescaled).
    """
    W = _square_matrix("W", W)
    number = isinstance(rho, int | float | np.integer | np.floating) and not isinstance(rho, bool)
    if not number or not np.isfinite(rho) or rho < 0:
        raise ValueError(f"rho: expected a finite number >= 0, got {rho!r}")
    current = spectral_radius(W)
    if current <= np.finfo(W.dtype).tiny:
        raise ValueError("W: has spectral radius 0 (every eigenvalue is 0), so no multiple of it "
                         f"has spectral radius {rho}")
    return (W * (rho / current)).astype(W.dtype, copy=False)
