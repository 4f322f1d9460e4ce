"""Building blocks of the exercise checks: comparisons whose failures read as advice.

Every ``expect_*`` function returns the value it checked (as an array where that makes sense) and
raises :class:`CheckFailed` with a message addressed to the learner when the value is wrong. Their
frames are hidden from IPython tracebacks (``__tracebackhide__``), so a learner's traceback ends at
the line of the test cell that failed rather than deep inside this module.
"""

import textwrap

import numpy as np

WIDTH = 84  # rendered messages wrap before this many characters


class CheckFailed(AssertionError):
    """An answer did not pass a check; the message says what was expected and what to look at.

    In Jupyter (and so in nbgrader's stored outputs and feedback pages) a failure shows as its
    message and hint only, wrapped to ``WIDTH`` columns: no traceback frames, no file paths.
    """

    def _render_traceback_(self):
        lines = []
        for number, paragraph in enumerate(str(self).splitlines() or [""]):
            first = f"{type(self).__name__}: " if number == 0 else ""
            lines += textwrap.wrap(first + paragraph, WIDTH, subsequent_indent="    ",
                                   break_on_hyphens=False) or [""]
        return lines


def fail(message, hint=None):
    """Raise CheckFailed with ``message`` and, on a new line, an optional hint."""
    __tracebackhide__ = True
    raise CheckFailed(message + (f"\nHint: {hint}" if hint else ""))


PASSED_NOTE = "(the visible checks; grading runs more tests)"


def passed(what):
    """Print the success message of a check: what passed, and under it a note.

    It says that the visible checks passed, not that the answer earns full marks: the
    autograder's hidden tests try more cases.
    """
    print(f"passed: {what}\n        {PASSED_NOTE}")


def _shape(shape):
    """A shape as a tuple of plain ints, so that messages read ``(3, 4)``."""
    return tuple(int(n) for n in shape)


def as_array(name, value):
    """``value`` as a NumPy array (torch tensors are detached); fails on what is not array-like."""
    __tracebackhide__ = True
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    if value is None or callable(value):
        fail(f"your `{name}` is {type(value).__name__}; expected an array.",
             "did the cell that defines it run, and does your function `return` its result?")
    try:
        array = np.asarray(value)
    except Exception:  # an answer of arbitrary type: report, do not crash
        array = np.empty(0, dtype=object)
    if array.dtype == object:
        fail(f"your `{name}` (a {type(value).__name__}) could not be read as an array of numbers.",
             "do all rows have the same length (no ragged lists), and are all entries numbers?")
    return array


def expect_callable(name, value):
    """Fail unless ``value`` is a function."""
    __tracebackhide__ = True
    if not callable(value):
        fail(f"`{name}` should be a function, got {type(value).__name__}.",
             "did the cell that defines it run without an error?")
    return value


def call_answer(name, func, *args, **kwargs):
    """Call the learner's function ``func`` and return its result.

    A stub that still raises ``NotImplementedError`` fails with advice instead of a bare traceback;
    any other exception propagates unchanged, so the learner sees where their code broke.
    """
    __tracebackhide__ = True
    expect_callable(name, func)
    try:
        return func(*args, **kwargs)
    except NotImplementedError:
        fail(f"`{name}` is not written yet.",
             "replace `raise NotImplementedError()` with your code and run the cell again.")


def expect_tuple(name, result, names):
    """``result`` as a tuple of ``len(names)`` values, or a failure that says what to return."""
    __tracebackhide__ = True
    if not isinstance(result, tuple | list) or len(result) != len(names):
        got = (f"{len(result)} values" if isinstance(result, tuple | list)
               else type(result).__name__)
        fail(f"`{name}` should return {len(names)} values ({', '.join(names)}); got {got}.",
             f"end the function with `return {', '.join(names)}`.")
    return tuple(result)


def call_unchanged(name, func, arg_names, *args):
    """Call the answer on copies of its array arguments and fail if it changed any of them.

    The book's one policy for answers that modify their inputs: they are wrong, every statement
    may rely on it, and the check says so by the argument's name before it judges any value (the
    expected values are computed from the untouched originals, so they never blame the wrong
    thing). ``arg_names`` names ``args`` in order.

    An answer that updates an argument in place (``c_prev *= f``, ``W[:] = ...``) can return the
    right numbers and still corrupt the caller's arrays (a model's weights, the previous state).
    """
    __tracebackhide__ = True
    copies = [np.array(a, copy=True) if isinstance(a, np.ndarray) else a for a in args]
    result = call_answer(name, func, *copies)
    for arg_name, original, given in zip(arg_names, args, copies, strict=True):
        if isinstance(original, np.ndarray) and not np.array_equal(original, given):
            fail(f"your `{name}` changes its argument `{arg_name}` in place.",
                 "compute new arrays (e.g. `c_next = f * c_prev + i * g`, `np.concatenate`) "
                 "instead of updating an argument with `*=`, `+=` or slice assignment: the caller "
                 "still needs it.")
    return result


def _shape_hint(got, expected):
    """A guess at the cause of a shape mismatch, or None."""
    if len(got) == len(expected) == 2 and got == expected[::-1]:
        return ("it looks transposed: check the order of the factors (batch-major code computes "
                "`X @ W.T`) and the layout of the weights, (out_features, in_features).")
    if len(got) == len(expected) and sorted(got) == sorted(expected):
        return "the right sizes in the wrong order: check which axis is batch, time and features."
    if np.prod(got, dtype=int) == np.prod(expected, dtype=int):
        return "the right number of entries, arranged differently: check a reshape or a transpose."
    if len(got) == len(expected) - 1:
        return "one axis is missing: did a sum, mean or indexing drop it (try `keepdims=True`)?"
    if len(got) == len(expected) + 1:
        return "one axis too many: did you keep a batch or time axis that should be gone?"
    return None


def expect_shape(name, value, shape, hint=None):
    """Fail unless ``value`` is an array of exactly ``shape``; returns it as an array."""
    __tracebackhide__ = True
    array = as_array(name, value)
    got, expected = _shape(array.shape), _shape(shape)
    if got != expected:
        fail(f"your `{name}` has shape {got}; expected {expected}.",
             hint or _shape_hint(got, expected))
    return array


def expect_numeric(name, value, hint=None):
    """Fail unless ``value`` is an array of finite numbers; returns it as an array."""
    __tracebackhide__ = True
    array = as_array(name, value)
    if array.dtype.kind not in "biufc":
        fail(f"your `{name}` holds {array.dtype} values; expected numbers.", hint)
    bad = ~np.isfinite(array)
    if np.any(bad):
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        where = f", the first at index {first}" if array.ndim else ""
        fail(f"your `{name}` contains {int(bad.sum())} NaN or infinite entries{where}.",
             hint or "look for a division by zero, a log of zero or an exponential that overflows.")
    return array


def _value_hint(array, expected, rtol, atol):
    """A guess at the cause of wrong values (transposed, sign flipped, scaled), or None."""
    def close(a, b):
        return a.shape == b.shape and np.allclose(a, b, rtol=rtol, atol=atol)

    if expected.ndim == 2 and close(array.T, expected):
        return "your result is the transpose of the expected one."
    if close(-array, expected):
        return "your result has the opposite sign: check a subtraction or a gradient's sign."
    if array.dtype.kind in "biuf" and expected.dtype.kind in "biuf" and np.any(array):
        scale = float(np.vdot(expected, array) / np.vdot(array, array))
        if scale != 0 and abs(scale - 1) > 1e-3 and close(scale * array, expected):
            return (f"your result is the expected one times {1 / scale:.4g}: check a factor, "
                    "a mean versus a sum, or a normalisation.")
    return None


def expect_close(name, value, expected, rtol=1e-6, atol=1e-8, hint=None):
    """Fail unless ``value`` matches ``expected`` in shape and, elementwise, within tolerances."""
    __tracebackhide__ = True
    expected = np.asarray(expected)
    expect_shape(name, value, expected.shape, hint)
    array = expect_numeric(name, value, hint)
    if not np.allclose(array, expected, rtol=rtol, atol=atol):
        wrong = ~np.isclose(array, expected, rtol=rtol, atol=atol)
        worst = np.unravel_index(np.argmax(np.abs(array - expected)), expected.shape)
        at = f" at index {tuple(int(i) for i in worst)}" if expected.ndim else ""
        count = f" ({int(wrong.sum())} of {wrong.size} entries differ)" if expected.ndim else ""
        got, want = _distinct(array[worst], expected[worst])
        fail(f"your `{name}` differs from the expected value{count}; the largest difference is"
             f"{at}: got {got}, expected {want}.",
             hint or _value_hint(array, expected, rtol, atol))
    return array


def _distinct(got, expected):
    """Two numbers printed with the fewest significant digits (at least 6) that tell them apart,
    so that a message never shows two equal numbers as a difference."""
    for digits in range(6, 18):
        a, b = f"{got:.{digits}g}", f"{expected:.{digits}g}"
        if a != b:
            break
    return a, b


def expect_equal(name, value, expected, hint=None):
    """Fail unless ``value == expected`` (scalars, strings, tuples, integer or boolean arrays)."""
    __tracebackhide__ = True
    if isinstance(expected, np.ndarray):
        array = expect_shape(name, value, expected.shape, hint)
        if not np.array_equal(array, expected):
            wrong = np.argwhere(array != expected)
            first = tuple(int(i) for i in wrong[0]) if len(wrong) and array.ndim else None
            where = f"; the first is at index {first}" if first is not None else ""
            fail(f"your `{name}` differs from the expected value in {len(wrong)} of "
                 f"{array.size} entries{where}.", hint)
        return array
    try:
        equal = bool(value == expected)
    except Exception:  # e.g. an array compared with a tuple: not the expected value
        equal = False
    if not equal:
        fail(f"your `{name}` is {value!r}; expected {expected!r}.", hint)
    return value


def diagnose(name, value, wrong_answers, expected=None, rtol=1e-6, atol=1e-8):
    """Fail with the matching message if ``value`` equals one of the known wrong answers.

    ``wrong_answers`` is a list of ``(array, message, hint)``; only arrays with the shape of
    ``value`` are compared. When ``expected`` is given, a "wrong" answer that happens to equal it
    on these inputs is skipped, so the right answer is never rejected by a diagnosis.
    """
    __tracebackhide__ = True
    value = np.asarray(value)
    expected = None if expected is None else np.asarray(expected)
    for wrong, message, hint in wrong_answers:
        wrong = np.asarray(wrong)
        if expected is not None and wrong.shape == expected.shape and \
                np.allclose(wrong, expected, rtol=rtol, atol=atol):
            continue
        if wrong.shape == value.shape and np.allclose(value, wrong, rtol=rtol, atol=atol):
            fail(f"your `{name}` {message}", hint)


def expect_raises(name, func, args, exception=ValueError, hint=None):
    """Fail unless calling ``func(*args)`` raises ``exception``; returns the exception raised."""
    __tracebackhide__ = True
    expect_callable(name, func)
    try:
        func(*args)
    except exception as exc:
        return exc
    except NotImplementedError:
        fail(f"`{name}` is not written yet.",
             "replace `raise NotImplementedError()` with your code and run the cell again.")
    except Exception as exc:
        fail(f"`{name}` raised {type(exc).__name__} ({exc}); expected {exception.__name__}.",
             hint)
    fail(f"`{name}` accepted invalid input without complaint; expected it to raise "
         f"{exception.__name__}.", hint)
