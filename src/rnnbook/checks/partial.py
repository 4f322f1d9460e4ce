"""Partial credit for a test cell: named cases, each worth a share of the exercise's points.

nbgrader gives a test cell that raises no error the number its last expression shows (between 0
and the cell's points) instead of full marks. A test cell uses :class:`Credit` like this::

    from rnnbook.checks.partial import Credit
    credit = Credit(points=4)
    ### BEGIN HIDDEN TESTS
    with credit.case("the visible example"):
        assert np.allclose(thing(x), expected_x)  # computed here, never with rnnbook.checks
    with credit.case("a batch of five sequences", weight=2):
        assert np.allclose(thing(X), expected_X)
    ### END HIDDEN TESTS
    with credit.visible():                      # the visible check, as usual
        check_thing(thing)
    ### BEGIN HIDDEN TESTS
    credit.earned()                             # last line: the points earned, e.g. 3.0
    ### END HIDDEN TESTS

Each failing case prints one line naming it and saying why (on stdout, so nbgrader does not
score the cell zero for stderr); ``earned()`` returns ``points`` times the passed weight over
the total weight, or raises :class:`NoCredit` naming the cases when none passed. The hidden
cases run first, so that :meth:`Credit.visible` knows it is grading: there a failing visible
check is printed and earns nothing (replacing the visible checks gains no points; code in the
answer cell can still patch what the hidden cases call, such as ``np.allclose``, so they catch
slips and casual tampering, not a determined attack), and the cell goes on to its score. The
student's copy has no hidden part: there the visible check fails the cell as usual, and no
score is shown.
"""

import textwrap

from rnnbook.checks._core import CheckFailed

WIDTH = 79  # printed lines fit the book's column


class NoCredit(CheckFailed):
    """No case of a partial-credit test cell passed."""


def _report(label, error):
    """Print ``failed: <label>: <reason>`` wrapped to WIDTH; return the reason."""
    reason = str(error).strip() or type(error).__name__
    if not isinstance(error, AssertionError | CheckFailed):  # a check's advice speaks for itself
        reason = f"{type(error).__name__}: {reason}"
    lines = []
    for number, paragraph in enumerate(reason.splitlines()):
        first = f"failed: {label}: " if number == 0 else ""
        lines += textwrap.wrap(first + paragraph, WIDTH, subsequent_indent="    ",
                               break_on_hyphens=False) or [""]
    print("\n".join(lines))
    return reason


class _Case:
    def __init__(self, credit, name, weight):
        self.credit, self.name, self.weight = credit, name, weight

    def __enter__(self):
        return self

    def __exit__(self, kind, error, traceback):
        if kind is None:
            self.credit.results.append((self.name, self.weight, None))
            return False
        if not issubclass(kind, Exception):  # KeyboardInterrupt, SystemExit: let them through
            return False
        reason = _report(self.name, error)
        self.credit.results.append((self.name, self.weight, reason))
        return True  # the next case still runs


class _Visible:
    def __init__(self, credit):
        self.credit = credit

    def __enter__(self):
        return self

    def __exit__(self, kind, error, traceback):
        if kind is None or not issubclass(kind, Exception) or not self.credit.results:
            return False  # passed, interrupted, or the learner's copy: as a plain check
        _report("the visible check", error)
        return True


class Credit:
    """Collects named cases of one test cell and returns the points they earn."""

    def __init__(self, points):
        if not points > 0:
            raise ValueError(f"points must be positive, got {points!r}")
        self.points = float(points)
        self.results = []  # (name, weight, None or the reason it failed)

    def case(self, name, weight=1):
        """A context manager: the code inside passes unless it raises (the reason is kept)."""
        if not weight > 0:
            raise ValueError(f"weight must be positive, got {weight!r}")
        return _Case(self, name, weight)

    def visible(self):
        """A context manager around the visible check, after the hidden cases.

        When hidden cases have run (the graded copy), a failure is printed and the cell goes on
        to :meth:`earned`; the visible check earns nothing. When none has run (the learner's
        copy, whose hidden parts are removed), a failure propagates: the cell fails and says why.
        """
        return _Visible(self)

    def earned(self):
        """The points earned (a float); raises NoCredit if no case passed or none ran."""
        __tracebackhide__ = True
        total = sum(weight for _, weight, _ in self.results)
        passed = sum(weight for _, weight, reason in self.results if reason is None)
        if not passed:
            names = ", ".join(name for name, _, _ in self.results) or "none ran"
            raise NoCredit(f"no part of this exercise passed its tests (cases: {names}).")
        return round(self.points * passed / total, 6)
