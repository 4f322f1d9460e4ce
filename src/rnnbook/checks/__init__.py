"""The checks behind the exercises.

One module per chapter (``rnnbook.checks.ch01`` ...). Each ``check_*`` function takes the learner's
answer, raises :class:`CheckFailed` with a message a learner understands when something is wrong,
and prints one line starting with ``passed`` when all is well. The same calls serve the learner's
self-check and the visible part of the autograder's test cells.

The chapter modules are built from the helpers re-exported here (see ``_core``): ``expect_shape``,
``expect_close``, ``expect_equal``, ``expect_numeric``, ``expect_raises``, ``expect_callable``,
``call_answer``, ``diagnose`` (names the slip of an answer equal to a known wrong one), ``fail``
and ``passed``. Hidden tests never use them: they compute their expected values with NumPy or
PyTorch, so a submission that replaces the checks still fails them.
"""

from rnnbook.checks._core import (
    CheckFailed,
    as_array,
    call_answer,
    call_unchanged,
    diagnose,
    expect_callable,
    expect_close,
    expect_equal,
    expect_numeric,
    expect_raises,
    expect_shape,
    fail,
    passed,
)

__all__ = [
    "CheckFailed",
    "as_array",
    "call_answer",
    "call_unchanged",
    "diagnose",
    "expect_callable",
    "expect_close",
    "expect_equal",
    "expect_numeric",
    "expect_raises",
    "expect_shape",
    "fail",
    "passed",
]
