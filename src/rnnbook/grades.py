"""nbgrader plugins and preprocessors of the book's courses (wired up in ``nbgrader_config.py``).

- :class:`WideCsvExport`: ``nbgrader export --exporter rnnbook.grades.WideCsvExport`` writes one
  row per student, one column per assignment and the total, for a spreadsheet or an LMS.
- :class:`PerDayPenalty`: a late-submission penalty of a fraction of the score per started day.
- :class:`QuietOverwriteCells`: nbgrader's OverwriteCells without the false "Attribute 'checksum'
  ... has changed!" warning for a test cell whose only difference is its removed hidden tests.
- :class:`ExerciseSummary`: puts a table at the top of each feedback page naming every exercise
  with the points it earned.
- :class:`HideTests`: keeps the hidden and private tests out of the feedback pages; their results
  (passed, or the error and its message) stay.
"""

import csv
import math
import re

import nbformat
from nbgrader.api import MissingEntry
from nbgrader.plugins import ExportPlugin, LateSubmissionPlugin
from nbgrader.preprocessors import NbGraderPreprocessor, OverwriteCells
from traitlets import Bool, Float, List, Unicode

DAY = 24 * 3600
HIDDEN = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS[ \t]*\n.*?^[ \t]*### END HIDDEN TESTS[ \t]*$",
                    re.M | re.S)
# An exercise heading of a course notebook, as rnnbook.course_markup writes it.
EXERCISE_HEADING = re.compile(r"^#+ (Exercise [\d.]+[:.].*)$", re.M)
HIDDEN_NOTE = "# (the hidden tests are not shown; their result is below)"
# An IPython traceback that quotes code: its header, a cell's or a file's frame, an arrow.
FRAMES = re.compile(r"Traceback \(most recent call last\)|^\s*Cell In\[|^\s*File |^-*> *\d", re.M)
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _round(value):
    return f"{float(value or 0):g}"


class WideCsvExport(ExportPlugin):
    """One row per student: id, names, e-mail, one column per assignment, total and maximum.

    The columns are the assignments given with ``--assignment`` or, without it, those with at least
    one submission in the gradebook (the chapters assigned so far); ``all_assignments = True``
    lists every assignment of the course. A column holds the score after any late penalty (an
    assignment not submitted counts 0); the column ``late_penalty`` sums the points taken off for
    lateness, so nothing is hidden. ``max_row = True`` adds a first row ``max`` with each column's
    maximum (for a spreadsheet; an LMS would take it for a student). Assignments are in the order
    of their names (the chapter slugs, hence chapter order).
    """

    to = Unicode("", help="destination file (default: grades_wide.csv)").tag(config=True)
    max_row = Bool(False, help="add a row 'max' with each column's maximum").tag(config=True)
    all_assignments = Bool(False, help="a column for every assignment of the gradebook, even "
                           "those nobody has submitted yet").tag(config=True)

    def columns(self, gradebook):
        """The assignments to export, in name order (ValueError for an unknown name)."""
        known = {a.name: a for a in gradebook.assignments}
        if self.assignment:
            wanted = [str(name) for name in self.assignment]
            unknown = sorted(set(wanted) - set(known))
            if unknown:
                raise ValueError(f"--assignment names {unknown}, which the gradebook does not "
                                 f"hold; its assignments are {sorted(known)}.")
            chosen = [known[name] for name in set(wanted)]
        elif self.all_assignments:
            chosen = list(known.values())
        else:
            chosen = [a for a in known.values() if a.num_submissions]
        return sorted(chosen, key=lambda a: a.name)

    def export(self, gradebook):
        dest = self.to or "grades_wide.csv"
        assignments = self.columns(gradebook)
        names = [a.name for a in assignments]
        wanted = {str(s) for s in self.student}
        header = ["student_id", "last_name", "first_name", "email", *names, "late_penalty",
                  "total", "max_total"]
        max_total = sum(a.max_score for a in assignments)
        rows = [["max", "", "", "", *(_round(a.max_score) for a in assignments), "0",
                 _round(max_total), _round(max_total)]] if self.max_row else []
        for student in sorted(gradebook.students, key=lambda s: s.id):
            if wanted and student.id not in wanted:
                continue
            scores, penalty = [], 0.0
            for name in names:
                try:
                    submission = gradebook.find_submission(name, student.id)
                except MissingEntry:
                    scores.append(0.0)
                    continue
                late = submission.late_submission_penalty or 0.0
                penalty += late
                scores.append(submission.score - late)
            rows.append([student.id, student.last_name or "", student.first_name or "",
                         student.email or "", *map(_round, scores), _round(penalty),
                         _round(sum(scores)), _round(max_total)])
        self.log.info("Exporting %d students x %d assignments (%s) to %s",
                      len(rows) - self.max_row, len(names), ", ".join(names) or "none", dest)
        with open(dest, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows(rows)


class PerDayPenalty(LateSubmissionPlugin):
    """Take ``fraction_per_day`` of the score off for each started day after the due date.

    A submission 2.5 days late with ``fraction_per_day = 0.1`` loses 30 % of its score; the
    penalty never exceeds the score. nbgrader stores it per notebook; the export shows it.
    """

    fraction_per_day = Float(0.1, help="Fraction of the score lost per started day of lateness"
                             ).tag(config=True)

    def late_submission_penalty(self, student_id, score, total_seconds_late):
        if total_seconds_late <= 0 or not score:
            return None
        days = math.ceil(total_seconds_late / DAY)
        fraction = min(1.0, days * self.fraction_per_day)
        self.log.info("%s submitted %d day(s) late: %g%% of %g points taken off", student_id,
                      days, 100 * fraction, score)
        return round(score * fraction, 6)


def release_lines(source):
    """The meaningful lines of a test cell as its released copy has them (hidden tests removed)."""
    return [line.strip() for line in HIDDEN.sub("", source).splitlines() if line.strip()]


class QuietOverwriteCells(OverwriteCells):
    """OverwriteCells that tells a changed test cell from one whose hidden tests were removed.

    Every released test cell differs from the gradebook's copy by its hidden tests, so stock
    nbgrader warns "Attribute 'checksum' ... has changed!" for every test cell of every
    submission. Here that case is logged at debug level only; a test cell the student really
    edited is still restored and reported as a warning that says so.
    """

    def preprocess_cell(self, cell, resources, cell_index):
        self._submitted_source = cell.source if "source" in cell else ""
        return super().preprocess_cell(cell, resources, cell_index)

    def report_change(self, name, attr, old, new):
        if attr == "checksum":
            source = self.gradebook.find_source_cell(name, self.notebook_id, self.assignment_id)
            if release_lines(source.source) == release_lines(self._submitted_source):
                self.log.debug("Test cell %s: hidden tests restored from the gradebook", name)
            else:
                self.log.warning("Test cell %s was edited in the submission; it is restored from "
                                 "the gradebook and graded as written by the instructor", name)
            return
        super().report_change(name, attr, old, new)


class FeedbackPreprocessor(NbGraderPreprocessor):
    """A preprocessor of ``generate_feedback``. Like nbgrader's GetGrades it accepts the HTML
    exporter's ``display_data_priority`` setting, which nbgrader's base class would warn about."""

    display_data_priority = List(["text/html", "application/pdf", "text/latex", "image/svg+xml",
                                  "image/png", "image/jpeg", "text/plain"]).tag(config=True)


class ExerciseSummary(FeedbackPreprocessor):
    """Feedback: a first cell listing each exercise by name with its score (after GetGrades)."""

    def preprocess(self, nb, resources):
        title, rows = None, []
        for cell in nb.cells:
            if cell.cell_type == "markdown":
                found = EXERCISE_HEADING.findall(cell.source)
                title = found[-1].strip() if found else title
            meta = cell.metadata.get("nbgrader", {})
            if meta.get("grade"):
                kind = "written answer" if cell.cell_type == "markdown" else "tests"
                name = title or meta.get("grade_id", "")
                score = meta.get("score")
                shown = "to be graded by hand" if score is None else f"{float(score):g}"
                rows.append(f"| {name} ({kind}) | {shown} | {float(meta.get('points', 0)):g} |")
        if rows:
            late = resources.get("nbgrader", {}).get("late_penalty") or 0
            lines = ["**Your score, exercise by exercise**", "",
                     "| Exercise | Points earned | Out of |", "|---|---|---|", *rows]
            if late:
                lines += ["", f"Late submission: {float(late):g} points taken off."]
            nb.cells.insert(0, nbformat.v4.new_markdown_cell("\n".join(lines)))
        return nb, resources


def is_test_cell(cell):
    """Whether ``cell`` is an autograded test cell (a graded code cell that is not an answer)."""
    meta = cell.metadata.get("nbgrader", {})
    return cell.cell_type == "code" and meta.get("grade") and not meta.get("solution")


class HideTests(FeedbackPreprocessor):
    """Feedback: each test cell's hidden tests (the private ones among them) become a note.

    The outputs stay: ``passed: ...`` lines, a partial-credit cell's failed cases, and an error's
    name and message. An error whose traceback quotes code (IPython's frames) is cut to
    ``Name: message``; the checks' own short messages are kept as they are.
    """

    def preprocess_cell(self, cell, resources, index):
        if is_test_cell(cell):
            cell.source = HIDDEN.sub(HIDDEN_NOTE, cell.source)
            for output in cell.get("outputs", []):
                if output.output_type == "error" and FRAMES.search(
                        ANSI.sub("", "\n".join(output.get("traceback", [])))):
                    output.traceback = [f"{output.ename}: {output.evalue}"]
        return cell, resources
