"""Building blocks of the exercise checks: comparisons whose failures read as advice."""

import numpy as np


class CheckFailed(AssertionError):
    """An answer did not pass a check; the message says what was expected and what to look at."""


def fail(message, hint=None):
    """Raise CheckFailed with ``message`` and an optional hint on a new line."""
    raise CheckFailed(message + (f"\nHint: {hint}" if hint else ""))


def passed(what):
    """Print the one-line success message of a check."""
    print(f"passed: {what}")


def as_array(name, value):
    """``value`` as a NumPy array (torch tensors are detached); fails on what is not array-like."""
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    if value is None or callable(value):
        fail(f"`{name}` is {type(value).__name__}; expected an array.",
             "did the cell that defines it run, and does your function `return` its result?")
    try:
        return np.asarray(value)
    except Exception as exc:  # an answer of arbitrary type: report, do not crash
        fail(f"`{name}` could not be read as an array ({exc}).")


def expect_callable(name, value):
    """Fail unless ``value`` is a function."""
    if not callable(value):
        fail(f"`{name}` should be a function, got {type(value).__name__}.")


def expect_shape(name, value, shape, hint=None):
    """Fail unless ``value`` is an array of exactly ``shape``; returns it as an array."""
    array = as_array(name, value)
    if array.shape != tuple(shape):
        swapped = array.shape == tuple(reversed(shape)) and len(shape) == 2
        fail(f"`{name}` has shape {array.shape}; expected {tuple(shape)}.",
             hint or ("it looks transposed." if swapped else None))
    return array


def expect_close(name, value, expected, rtol=1e-6, atol=1e-8, hint=None):
    """Fail unless ``value`` matches ``expected`` in shape and, elementwise, within tolerances."""
    expected = np.asarray(expected)
    array = expect_shape(name, value, expected.shape, hint)
    if not np.all(np.isfinite(array)):
        fail(f"`{name}` contains NaN or infinity.", hint)
    if not np.allclose(array, expected, rtol=rtol, atol=atol):
        worst = np.unravel_index(np.argmax(np.abs(array - expected)), expected.shape)
        at = f" at index {tuple(int(i) for i in worst)}" if expected.ndim else ""
        fail(f"`{name}` differs from the expected value{at}: got {array[worst]:.6g}, "
             f"expected {expected[worst]:.6g}.", hint)
    return array


def expect_equal(name, value, expected, hint=None):
    """Fail unless ``value == expected`` (scalars, strings, tuples, integer arrays)."""
    if isinstance(expected, np.ndarray):
        array = expect_shape(name, value, expected.shape, hint)
        if not np.array_equal(array, expected):
            mismatches = int(np.sum(array != expected))
            fail(f"`{name}` differs from the expected value in {mismatches} entries.", hint)
        return array
    if value != expected:
        fail(f"`{name}` is {value!r}; expected {expected!r}.", hint)
    return value
