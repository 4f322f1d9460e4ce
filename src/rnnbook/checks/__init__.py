"""The checks behind the exercises.

One module per chapter (``rnnbook.checks.ch01`` ...). Each ``check_*`` function takes the learner's
answer, raises :class:`CheckFailed` with a message a learner understands when something is wrong,
and prints one line starting with ``passed`` when all is well. The same calls serve the learner's
self-check and the visible part of the autograder's test cells.
"""

from rnnbook.checks._core import CheckFailed

__all__ = ["CheckFailed"]
