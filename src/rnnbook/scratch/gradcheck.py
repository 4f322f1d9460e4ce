"""Numerical gradients by central differences, and the relative error used to compare gradients."""

import numpy as np


def numerical_gradient(f, x, df=None, eps=1e-5):
    """Estimate the gradient of ``sum(df * f(x))`` with respect to ``x`` by central differences.

    Each entry of ``x`` in turn is moved by ``+eps`` and ``-eps`` (in place, and restored), and

        grad[i] = sum(df * (f(x + eps e_i) - f(x - eps e_i))) / (2 eps),

    Its error has two parts: truncation, of order ``eps^2``, and rounding, of order
    ``machine epsilon / eps`` (the two values of ``f`` nearly cancel). They balance near
    ``eps = machine epsilon ** (1/3)``, about 6e-6 in float64; the default 1e-5 gives errors of
    about 1e-11 relative to the size of ``f``. Because ``x`` is changed in place,
    ``f`` may also ignore its argument and read ``x`` from a closure, which is how to check the
    gradient of one of several inputs::

        dW_hh_num = numerical_gradient(lambda W: rnn_forward(x, h0, W_xh, W, b)[0], W_hh, dh)

    Args:
        f: function of one array returning an array (or a scalar).
        x: float64 array, the point at which to differentiate (modified during the call, restored
            on return).
        df: upstream gradient with the shape of ``f(x)``; ``None`` means ones (for a scalar
            ``f``, the plain gradient).
        eps: step size.

    Returns:
        grad: array with the shape of ``x``.

    Raises:
        ValueError: if ``x`` is not float64 (in float32 a step of 1e-6 is lost to rounding), or
            ``df`` does not have the shape of ``f(x)``.
    """
    if not isinstance(x, np.ndarray) or x.dtype != np.float64:
        raise ValueError(f"x: numerical gradients need a float64 array, got "
                         f"{getattr(x, 'dtype', type(x).__name__)}")
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        original = x[index]
        x[index] = original + eps
        plus = np.array(f(x), dtype=np.float64)  # a copy: f may return a view of its state
        x[index] = original - eps
        minus = np.array(f(x), dtype=np.float64)
        x[index] = original
        if df is None:
            df = np.ones_like(plus)
        elif np.shape(df) != plus.shape:
            raise ValueError(f"df: expected the shape of f(x) {plus.shape}, got {np.shape(df)}")
        grad[index] = np.sum(df * (plus - minus)) / (2.0 * eps)
    return grad


def relative_error(a, b):
    """Largest entrywise difference of two arrays, relative to their largest entries.

        relative_error(a, b) = max_i |a_i - b_i| / max_i (|a_i| + |b_i|)

    (and 0 when both are all zero). It is 0 for equal arrays, at most 1, and scale-free. The
    denominator takes the largest entries of the whole arrays, not each entry's own size: the
    numerical estimate of a gradient entry that is almost zero is dominated by the rounding error
    of the finite difference (about 1e-11 for outputs of order 1), so an entrywise ratio would
    flag it even when the analytic gradient is exact. In float64 a correct backward pass
    typically gives 1e-10 to 1e-9 against :func:`numerical_gradient`; a mistake in one term
    typically gives 1e-2 or more.

    Args:
        a, b: arrays of the same shape.

    Returns:
        Python float.

    Raises:
        ValueError: if the shapes differ.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"b: expected the shape of a {a.shape}, got {b.shape}")
    scale = np.max(np.abs(a) + np.abs(b), initial=0.0)
    if scale == 0.0:
        return 0.0
    return float(np.max(np.abs(a - b)) / scale)
