"""Running a chapter's exercise cells outside nbgrader, for the unit tests of its checks.

``ExerciseCells(path, chapter)`` reads ``chapters/<chapter>/exercises.ipynb`` and runs the set-up
cell and then a test cell (or only its hidden regions) against answers given as keyword
arguments, as the grader or a learner's copy would.
"""

import contextlib
import io
import re

import nbformat

from rnnbook.checks.partial import NoCredit
from rnnbook.exercise_copies import strip_regions

HIDDEN = re.compile(r"^### BEGIN HIDDEN TESTS\n(.*?)^### END HIDDEN TESTS$", re.M | re.S)
CREDIT = re.compile(r"^credit = Credit\(points=\d+\)$", re.M)


class ExerciseCells:
    """The cells of one exercises notebook; ``check_module`` is the name of its checks
    (``"ch05"``), which the hidden tests must not use."""

    def __init__(self, path, check_module):
        self.path, self.check_module = path, check_module

    def cells(self, grade_id):
        """(the set-up cell's source, the source of the test cell ``grade_id``)."""
        nb = nbformat.read(self.path, as_version=4)
        setup = next(c.source for c in nb.cells if c.cell_type == "code")
        cell = next(c.source for c in nb.cells
                    if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)
        return setup, cell

    def points(self, grade_id):
        nb = nbformat.read(self.path, as_version=4)
        return next(c.metadata.nbgrader["points"] for c in nb.cells
                    if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)

    def _namespace(self, setup, answers):
        namespace = {}
        exec(setup, namespace)
        namespace.update(answers)
        return namespace

    def hidden_test(self, grade_id, **answers):
        """Run the hidden regions of the test cell ``grade_id`` after the set-up cell; of the
        visible part only ``credit = Credit(points=N)`` runs (not the check).

        Returns ``(earned, failed)``: the points of a partial-credit cell (None for a cell
        without ``Credit`` that passes; 0 when no case passed) and the names of the cases that
        failed. A cell without ``Credit`` raises its AssertionError.
        """
        setup, cell = self.cells(grade_id)
        namespace = self._namespace(setup, answers)
        visible = strip_regions(cell)
        hidden = "".join(HIDDEN.findall(cell))
        assert self.check_module not in hidden and "rnnbook" not in hidden  # no help from checks
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            try:
                exec("\n".join(CREDIT.findall(visible)), namespace)
                exec(hidden, namespace)
                earned = namespace["credit"].earned() if "credit" in namespace else None
            except NoCredit:
                earned = 0.0
        return earned, re.findall(r"^failed: (.+?):", out.getvalue(), re.M)

    def run_cell(self, grade_id, learner=False, **answers):
        """Run the whole test cell as the grader does (or, with ``learner``, the learner's copy:
        hidden regions removed, as nbgrader and ``make exercises`` remove them).

        Returns ``(namespace, printed)``; an exception of the cell propagates.
        """
        setup, cell = self.cells(grade_id)
        namespace = self._namespace(setup, answers)
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(strip_regions(cell) if learner else cell, namespace)
        return namespace, out.getvalue()
