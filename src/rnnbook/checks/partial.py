"""Partial credit for a test cell: named cases, each worth a share of the exercise's points.

nbgrader gives a test cell that raises no error the number its last expression shows (between 0
and the cell's points) instead of full marks. A test cell uses :class:`Credit` like this::

    from rnnbook.checks.partial import Credit
    credit = Credit(points=4)
    with credit.case("the visible example"):
        check_thing(thing)                      # the visible check, as usual
    ### BEGIN HIDDEN TESTS
    with credit.case("a batch of five sequences", weight=2):
        assert np.allclose(thing(X), expected)  # computed here, never with rnnbook.checks
    credit.earned()                             # last line: the points earned, e.g. 3.0
    ### END HIDDEN TESTS

Each failing case prints one line naming it and saying why (on stdout, so nbgrader does not
score the cell zero for stderr); ``earned()`` returns ``points`` times the passed weight over
the total weight, or raises :class:`NoCredit` naming the cases when none passed. The student's
copy has no hidden part, so it shows the visible result only, never a score.
"""

import textwrap

from rnnbook.checks._core import CheckFailed

WIDTH = 84


class NoCredit(CheckFailed):
    """No case of a partial-credit test cell passed."""


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
        reason = str(error).strip() or kind.__name__
        if not isinstance(error, AssertionError):
            reason = f"{kind.__name__}: {reason}"
        self.credit.results.append((self.name, self.weight, reason))
        lines = textwrap.wrap(f"failed: {self.name}: {reason}", WIDTH,
                              subsequent_indent="    ")
        print("\n".join(lines))
        return True  # the next case still runs


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

    def earned(self):
        """The points earned (a float); raises NoCredit if no case passed or none ran."""
        __tracebackhide__ = True
        total = sum(weight for _, weight, _ in self.results)
        passed = sum(weight for _, weight, reason in self.results if reason is None)
        if not passed:
            names = ", ".join(name for name, _, _ in self.results) or "none ran"
            raise NoCredit(f"no part of this exercise passed its tests (cases: {names}).")
        return round(self.points * passed / total, 6)
