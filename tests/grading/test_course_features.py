"""A course as an instructor of a real class runs it: private tests, roster, due dates and late
penalty, partial credit, a written answer graded by hand, a wide grade sheet, feedback, quiet logs.

One course (module fixture ``course``) holds two assignments: ``01_fx`` (the three-exercise
fixture, with a private hidden test merged in) and ``02_partial`` (fixtures/features: a
partial-credit test cell and a written answer). Six students are on the roster; five submit.
"""

import csv
import dataclasses
import html
import pathlib
import re
import shutil
import subprocess
import sys
import time

import nbformat
import pytest
from nbgrader.api import Gradebook
from roundtrip import FIXTURE, HIDDEN, ROOT, answer_cells, grade_cells

from rnnbook.course import NOTEBOOK, Settings, build, nbgrader
from rnnbook.grades import release_lines

FEATURES = FIXTURE.parent / "features" / NOTEBOOK
PRIVATE_MARKER = "PRIVATE-TEST-7f3a"
PRIVATE_MESSAGE = "private: the dtype changed"
PRIVATE_TEST = f"""# {PRIVATE_MARKER}: the result keeps the inputs' dtype
assert affine(np.ones((1, 3)), np.ones((2, 3)), np.ones(2)).dtype == np.float64, \\
    "{PRIVATE_MESSAGE}"
"""
DUE = "2026-03-02 12:00:00"
LATE = "2026-03-04 23:00:00.000000 UTC"  # 2 days 11 hours late: 3 started days, 30 % off
ON_TIME = "2026-03-01 09:00:00.000000 UTC"
ROSTER = """id,first_name,last_name,email
perfect,Ada,Lovelace,ada@example.org
late,Alan,Turing,alan@example.org
partial,Grace,Hopper,grace@example.org
sloppy,Edsger,Dijkstra,edsger@example.org
wrong,Barbara,Liskov,barbara@example.org
absent,Claude,Shannon,claude@example.org
"""
NAIVE_SOFTMAX = "e = np.exp(z)\n    return e / e.sum(axis=-1, keepdims=True)"


@dataclasses.dataclass
class Course:
    path: pathlib.Path
    build_notes: list
    autograde_log: str
    wide: dict       # student -> row of grades_wide.csv
    long: dict       # (student, assignment) -> row of grades.csv

    def read(self, *parts):
        return nbformat.read(self.path.joinpath(*parts), as_version=4)

    def feedback(self, student, assignment):
        return (self.path / "feedback" / student / assignment / "exercises.html").read_text()

    def feedback_text(self, student, assignment):
        """The feedback page's text, without its HTML tags (code is split into spans)."""
        return html.unescape(re.sub(r"<[^>]+>", "", self.feedback(student, assignment)))


def replace_solution(nb, index, code):
    cell = answer_cells(nb)[index]
    cell.source = re.sub(r"### BEGIN SOLUTION\n.*?### END SOLUTION", code, cell.source,
                         flags=re.S)


def submit(course, student, assignment, nb, timestamp=ON_TIME):
    folder = course / "submitted" / student / assignment
    folder.mkdir(parents=True)
    nbformat.write(nb, folder / NOTEBOOK)
    (folder / "timestamp.txt").write_text(timestamp)


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("features")
    chapters, private = tmp / "chapters", tmp / "private"
    for slug, notebook in (("01_fx", FIXTURE), ("02_partial", FEATURES)):
        (chapters / slug).mkdir(parents=True)
        shutil.copyfile(notebook, chapters / slug / NOTEBOOK)
    (private / "01_fx").mkdir(parents=True)
    (private / "01_fx" / "fixture-affine-tests.py").write_text(PRIVATE_TEST)
    settings = Settings(course_id="rnn-test-a", timeout=20, private=str(private),
                        late_penalty_per_day=0.1, due={"01_fx": DUE})
    exercises = {p.parent.name: p for p in sorted(chapters.glob(f"*/{NOTEBOOK}"))}
    path, notes = build(tmp / "course", exercises, settings=settings, root=ROOT)
    (tmp / "roster.csv").write_text(ROSTER)
    nbgrader(path, "db", "student", "import", str(tmp / "roster.csv"))

    src = {a: nbformat.read(path / "source" / a / NOTEBOOK, as_version=4) for a in exercises}
    rel = {a: nbformat.read(path / "release" / a / NOTEBOOK, as_version=4) for a in exercises}
    for assignment in exercises:
        submit(path, "perfect", assignment, src[assignment])
        submit(path, "late", assignment, src[assignment], LATE)
    partial = nbformat.from_dict(src["02_partial"])
    replace_solution(partial, 0, NAIVE_SOFTMAX)
    submit(path, "partial", "02_partial", partial)
    sloppy = nbformat.from_dict(src["01_fx"])
    replace_solution(sloppy, 0, "return (X @ W.T + b).astype(np.float32)")
    submit(path, "sloppy", "01_fx", sloppy)
    wrong = nbformat.from_dict(rel["01_fx"])
    answer_cells(wrong)[0].source = re.sub(r"# YOUR CODE HERE\n\s*raise NotImplementedError\(\)",
                                           "return X @ W.T - b", answer_cells(wrong)[0].source)
    grade_cells(wrong)[2].source = "pass  # edited by the student"
    submit(path, "wrong", "01_fx", wrong)

    log = "".join(nbgrader(path, "autograde", a) for a in exercises)
    # The written answer of `perfect` is graded by hand, as in the formgrader.
    with Gradebook(f"sqlite:///{path / 'gradebook.db'}") as gb:
        grade = gb.find_grade("features-why-max", "exercises", "02_partial", "perfect")
        grade.manual_score = 1
        gb.db.commit()
    for assignment in exercises:
        nbgrader(path, "generate_feedback", assignment)
    nbgrader(path, "export", "--to", "grades.csv")
    nbgrader(path, "export", "--exporter", "rnnbook.grades.WideCsvExport")
    with open(path / "grades_wide.csv", newline="") as handle:
        wide = {row["student_id"]: row for row in csv.DictReader(handle)}
    with open(path / "grades.csv", newline="") as handle:
        long = {(row["student_id"], row["assignment"]): row for row in csv.DictReader(handle)}
    return Course(path, notes, log, wide, long)


# 1. Private tests.

def test_a_private_test_is_merged_into_source_and_absent_from_the_release(course):
    source = "\n".join(c.source for c in course.read("source", "01_fx", NOTEBOOK).cells)
    released = "\n".join(c.source for c in course.read("release", "01_fx", NOTEBOOK).cells)
    assert PRIVATE_MARKER in source and PRIVATE_MARKER not in released
    assert PRIVATE_MARKER not in FIXTURE.read_text()
    assert any("Merged private material" in note for note in course.build_notes)


def test_the_private_test_is_graded(course):
    # `sloppy` passes the public checks and hidden tests of affine; only the private test fails.
    assert float(course.wide["sloppy"]["01_fx"]) == 4
    assert float(course.wide["perfect"]["01_fx"]) == 6


def hidden_lines(nb, released):
    """The lines of the hidden tests (private ones included) that the released copy lacks."""
    shown = set(release_lines("\n".join(c.source for c in released.cells)))
    return {line.strip() for cell in grade_cells(nb) for region in HIDDEN.findall(cell.source)
            for line in region.splitlines() if len(line.strip()) > 8} - shown


def test_feedback_shows_the_private_tests_result_but_no_hidden_or_private_code(course):
    sloppy = course.feedback_text("sloppy", "01_fx")
    assert f"AssertionError: {PRIVATE_MESSAGE}" in sloppy  # the one test `sloppy` fails
    assert "the hidden tests are not shown" in sloppy
    for assignment, students in (("01_fx", ["perfect", "late", "sloppy", "wrong"]),
                                 ("02_partial", ["perfect", "late", "partial"])):
        hidden = hidden_lines(course.read("source", assignment, NOTEBOOK),
                              course.read("release", assignment, NOTEBOOK))
        assert len(hidden) >= 3
        for student in students:
            text = course.feedback_text(student, assignment)
            assert PRIVATE_MARKER not in text
            submitted = course.read("submitted", student, assignment, NOTEBOOK)
            own = {line.strip() for cell in answer_cells(submitted)  # `e = np.exp(z)` of one
                   for line in cell.source.splitlines()}
            assert [line for line in hidden - own if line in text] == [], (student, assignment)
            assert "most recent call last" not in text and "Cell In[" not in text


# 4. Grades an LMS accepts.

def test_the_wide_grade_sheet_has_one_row_per_student_and_a_column_per_assignment(course):
    header = list(next(iter(course.wide.values())))
    assert header == ["student_id", "last_name", "first_name", "email", "01_fx", "02_partial",
                      "late_penalty", "total", "max_total"]
    assert set(course.wide) == {"perfect", "late", "partial", "sloppy", "wrong", "absent"}
    perfect = course.wide["perfect"]
    assert (perfect["first_name"], perfect["last_name"]) == ("Ada", "Lovelace")
    assert float(perfect["total"]) == float(perfect["max_total"]) == 11
    assert float(course.wide["absent"]["total"]) == 0
    for row in course.wide.values():
        assert float(row["total"]) == pytest.approx(float(row["01_fx"]) + float(row["02_partial"]))


def test_the_wide_grade_sheet_holds_only_the_assignments_asked_for(course, tmp_path):
    out = tmp_path / "one.csv"
    log = nbgrader(course.path, "export", "--exporter", "rnnbook.grades.WideCsvExport",
                   "--assignment", "['02_partial']", "--to", str(out))
    assert "1 assignments (02_partial)" in log
    with open(out, newline="") as handle:
        rows = {row["student_id"]: row for row in csv.DictReader(handle)}
    assert "01_fx" not in rows["perfect"] and float(rows["perfect"]["max_total"]) == 5
    assert float(rows["perfect"]["total"]) == 5 and float(rows["sloppy"]["total"]) == 0


# 5. Late work.

def test_the_late_penalty_is_applied_and_shown(course):
    row = course.long[("late", "01_fx")]
    assert float(row["raw_score"]) == 6
    assert float(row["late_submission_penalty"]) == pytest.approx(1.8)  # 3 days x 10 % of 6
    assert float(row["score"]) == pytest.approx(4.2)
    assert row["duedate"].startswith(DUE)
    assert float(course.wide["late"]["01_fx"]) == pytest.approx(4.2)
    assert float(course.wide["late"]["late_penalty"]) == pytest.approx(1.8)
    assert float(course.long[("perfect", "01_fx")]["late_submission_penalty"]) == 0
    assert "Late submission penalty" in course.feedback("late", "01_fx")


# 6. Partial credit and written answers.

def test_partial_credit_is_awarded_for_the_cases_that_pass(course):
    with Gradebook(f"sqlite:///{course.path / 'gradebook.db'}") as gb:
        grade = gb.find_grade("features-softmax-tests", "exercises", "02_partial", "partial")
        assert grade.auto_score == pytest.approx(2.0)  # visible + batch pass, large scores fail
    assert float(course.wide["partial"]["02_partial"]) == pytest.approx(2.0)
    text = html.unescape(course.feedback("partial", "02_partial"))
    assert "failed: scores as large as 1000" in text


def test_a_written_answer_is_collected_and_graded_by_hand(course):
    released = course.read("release", "02_partial", NOTEBOOK)
    written = [c for c in released.cells if c.cell_type == "markdown"
               and c.metadata.get("nbgrader", {}).get("grade")]
    assert len(written) == 1 and written[0].source.strip() == "YOUR ANSWER HERE"
    assert float(course.wide["perfect"]["02_partial"]) == 5  # 4 autograded + 1 by hand
    assert float(course.wide["late"]["02_partial"]) == 4  # not yet graded by hand
    with Gradebook(f"sqlite:///{course.path / 'gradebook.db'}") as gb:
        grade = gb.find_grade("features-why-max", "exercises", "02_partial", "late")
        assert grade.needs_manual_grade


# 7. Feedback a student learns from.

def test_feedback_names_each_exercise_and_shows_check_messages_without_frames(course):
    text = html.unescape(re.sub(r"<[^>]+>", "", course.feedback("wrong", "01_fx")))
    assert "Your score, exercise by exercise" in text
    for title in ("Exercise 1.1: An affine map", "Exercise 1.2: One recurrent step"):
        assert title in text
    assert "CheckFailed: your `affine(X, W, b)` differs" in text
    passed = html.unescape(re.sub(r"<[^>]+>", "", course.feedback("perfect", "01_fx")))
    assert "passed: affine\n        (the visible checks; grading runs more tests)" in passed
    error = text[text.index("CheckFailed:"):].split("\n\n")[0]
    assert all(len(line) <= 85 for line in error.splitlines())
    for leak in ("site-packages", str(course.path), "/tmp/", "_core.py", "Traceback"):
        assert leak not in error


# 8. Student notebooks without raw markup.

@pytest.mark.parametrize("assignment", ["01_fx", "02_partial"])
def test_the_students_copy_is_plain_markdown(course, assignment):
    text = "\n".join(c.source for c in course.read("release", assignment, NOTEBOOK).cells
                     if c.cell_type == "markdown")
    for raw in (":::", "{exercise}", ":label:", "{doc}", "`/chapters/"):
        assert raw not in text
    assert re.search(rf"^### Exercise {int(assignment[:2])}\.1: ", text, re.M)


def test_a_doc_link_becomes_the_pages_title(course):
    text = "\n".join(c.source for c in course.read("release", "02_partial", NOTEBOOK).cells)
    title = nbformat.read(ROOT / "chapters/03_formulas/forward_equations.ipynb", 4).cells[0]
    heading = title.source.splitlines()[0].lstrip("# ").strip()
    assert f"*{heading}* (a page of the book)" in text


# 9. Quiet, honest logs.

def test_autograde_logs_no_false_alarms_but_reports_an_edited_test_cell(course):
    log = course.autograde_log
    assert "Attribute 'checksum'" not in log
    assert "SAWarning" not in log and "not in session" not in log
    assert "Test cell fixture-padding-mask-tests was edited in the submission" in log
    assert log.count("was edited in the submission") == 1


# Validate: what the notebook's Validate button runs.

def test_validate_tells_a_finished_notebook_from_an_unfinished_one(course, tmp_path):
    done = course.path / "submitted" / "perfect" / "02_partial" / NOTEBOOK
    assert "Success! Your notebook passes all the tests." in nbgrader(course.path, "validate",
                                                                      str(done))
    todo = course.path / "release" / "02_partial" / NOTEBOOK
    output = nbgrader(course.path, "validate", str(todo))
    assert "VALIDATION FAILED" in output


# Parallel grading: the same grades as serial grading.

def gradebook_rows(path, assignment):
    """Every graded fact of ``assignment``, by student and cell, without database ids."""
    with Gradebook(f"sqlite:///{path / 'gradebook.db'}") as gb:
        rows = {}
        for submission in gb.assignment_submissions(assignment):
            for nb in submission.notebooks:
                rows[submission.student_id] = (
                    str(submission.timestamp), nb.late_submission_penalty, nb.score,
                    sorted((g.name, g.auto_score, g.manual_score, g.needs_manual_grade)
                           for g in nb.grades),
                    sorted((c.name, c.auto_comment) for c in nb.comments))
        return rows


def test_parallel_grading_gives_the_serial_grades(course, tmp_path):
    copy = tmp_path / "course"
    shutil.copytree(course.path, copy)
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "rnnbook.autograde", "01_fx", "--jobs", "2",
                             "--force"], cwd=copy, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Graded 4 submissions of 01_fx" in result.stdout and "with 2 processes" in result.stdout
    assert "[1] " in result.stdout and "[2] " in result.stdout
    serial, parallel = gradebook_rows(course.path, "01_fx"), gradebook_rows(copy, "01_fx")
    assert set(serial) == {"perfect", "late", "sloppy", "wrong"}
    assert parallel == serial
    assert gradebook_rows(copy, "02_partial") == gradebook_rows(course.path, "02_partial")
    for student in serial:
        assert (copy / "autograded" / student / "01_fx" / NOTEBOOK).is_file()
    print(f"parallel regrade of 4 submissions with 2 processes: {seconds:.1f} s")
    again = subprocess.run([sys.executable, "-m", "rnnbook.autograde", "01_fx"], cwd=copy,
                           capture_output=True, text=True)
    assert again.returncode == 0 and "Nothing to grade" in again.stdout
