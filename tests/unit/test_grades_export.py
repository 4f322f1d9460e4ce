"""The wide grade sheet, the feedback's hidden tests and parallel grading's bookkeeping, without
running a kernel."""

import csv
import logging
import os
import pathlib
import sys

import nbformat
import pytest
from nbgrader.api import Gradebook
from traitlets.config import Config

from rnnbook import autograde
from rnnbook.grades import HIDDEN_NOTE, ExerciseSummary, HideTests, WideCsvExport


@pytest.fixture(scope="module")
def gradebook(tmp_path_factory):
    """A gradebook: three assignments (4, 14 and 70 points); only 02_b has submissions."""
    bindir = str(pathlib.Path(sys.executable).parent)  # nbgrader runs alembic from there
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PATH", os.pathsep.join([bindir, os.environ.get("PATH", "")]))
        gb = Gradebook(f"sqlite:///{tmp_path_factory.mktemp('gb') / 'gradebook.db'}")
    for name, points in (("01_a", 4), ("02_b", 14), ("03_c", 70)):
        gb.add_assignment(name)
        gb.add_notebook("exercises", name)
        gb.add_grade_cell(f"{name}-tests", "exercises", name, max_score=points, cell_type="code")
    for student in ("ann", "bob", "cyd"):
        gb.add_student(student, first_name=student.title())
    for student, score in (("ann", 14), ("bob", 9)):
        gb.add_submission("02_b", student)
        grade = gb.find_grade("02_b-tests", "exercises", "02_b", student)
        grade.auto_score = score
        gb.db.commit()
    yield gb
    gb.close()


# nbgrader's own gradebook code warns so when it adds a submission (see nbgrader_config.py).
pytestmark = pytest.mark.filterwarnings("ignore:Object of type <Submitted")


def export(gradebook, path, **options):
    WideCsvExport(to=str(path), **options).export(gradebook)
    with open(path, newline="") as handle:
        return {row["student_id"]: row for row in csv.DictReader(handle)}


def test_the_wide_sheet_lists_only_the_assignments_with_submissions(gradebook, tmp_path):
    rows = export(gradebook, tmp_path / "wide.csv")
    assert list(rows["ann"]) == ["student_id", "last_name", "first_name", "email", "02_b",
                                 "late_penalty", "total", "max_total"]
    assert (rows["ann"]["total"], rows["ann"]["max_total"]) == ("14", "14")
    assert (rows["bob"]["total"], rows["cyd"]["total"]) == ("9", "0")


def test_the_wide_sheet_takes_the_assignments_asked_for(gradebook, tmp_path):
    rows = export(gradebook, tmp_path / "a.csv", assignment=["01_a", "02_b"])
    assert [k for k in rows["ann"] if k[:2].isdigit()] == ["01_a", "02_b"]
    assert rows["ann"]["01_a"] == "0" and rows["ann"]["max_total"] == "18"
    rows = export(gradebook, tmp_path / "all.csv", all_assignments=True, max_row=True)
    assert rows["max"]["max_total"] == "88" and rows["max"]["03_c"] == "70"
    with pytest.raises(ValueError, match=r"\['09_z'\].*'01_a', '02_b', '03_c'"):
        export(gradebook, tmp_path / "bad.csv", assignment=["09_z"])


def test_feedback_hides_the_hidden_tests_and_keeps_their_result():
    cell = nbformat.v4.new_code_cell("check(f)\n### BEGIN HIDDEN TESTS\nassert f(2) == 4, "
                                     "'f(2) is wrong'\n### END HIDDEN TESTS\n")
    cell.metadata["nbgrader"] = {"grade": True, "solution": False, "grade_id": "t", "points": 1}
    framed = ["\x1b[0;31m----\x1b[0m", "AssertionError  Traceback (most recent call last)",
              "Cell In[3], line 3", "----> 3 assert f(2) == 4, 'f(2) is wrong'",
              "AssertionError: f(2) is wrong"]
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="passed: f\n"),
                    nbformat.v4.new_output("error", ename="AssertionError",
                                           evalue="f(2) is wrong", traceback=framed)]
    short = nbformat.v4.new_code_cell("check(g)")
    short.metadata["nbgrader"] = dict(cell.metadata["nbgrader"], grade_id="u")
    short.outputs = [nbformat.v4.new_output("error", ename="CheckFailed", evalue="long text",
                                            traceback=["CheckFailed: your g is wrong.",
                                                       "    Hint: ..."])]
    answer = nbformat.v4.new_code_cell("### BEGIN HIDDEN TESTS\nx\n### END HIDDEN TESTS")
    nb = nbformat.v4.new_notebook(cells=[cell, short, answer])
    nb, _ = HideTests().preprocess(nb, {})
    assert nb.cells[0].source == f"check(f)\n{HIDDEN_NOTE}\n"
    assert nb.cells[0].outputs[0].text == "passed: f\n"
    assert nb.cells[0].outputs[1].traceback == ["AssertionError: f(2) is wrong"]
    assert nb.cells[1].outputs[0].traceback == ["CheckFailed: your g is wrong.", "    Hint: ..."]
    assert "BEGIN HIDDEN" in nb.cells[2].source  # not a test cell: untouched


@pytest.mark.parametrize("preprocessor", [HideTests, ExerciseSummary])
def test_feedback_preprocessors_take_the_exporters_settings_quietly(preprocessor, caplog):
    config = Config()
    config.NbConvertBase.display_data_priority = ["text/plain"]  # as the HTML exporter sets it
    with caplog.at_level(logging.WARNING):
        made = preprocessor(config=config, log=logging.getLogger("feedback"))
    assert made.display_data_priority == ["text/plain"] and caplog.records == []


def test_submissions_are_dealt_evenly():
    assert autograde.shares(list("abcde"), 2) == [["a", "c", "e"], ["b", "d"]]
    assert autograde.shares(["a"], 4) == [["a"]]


def test_to_grade_follows_nbgrader(tmp_path):
    for student in ("ann", "bob", "cyd"):
        folder = tmp_path / "submitted" / student / "01_a"
        folder.mkdir(parents=True)
        (folder / "exercises.ipynb").write_text("{}")
        (folder / "timestamp.txt").write_text("2026-03-01 09:00:00 UTC")
    for student, stamp in (("ann", "2026-03-01 09:00:00 UTC"), ("bob", "2026-02-01 09:00:00 UTC")):
        folder = tmp_path / "autograded" / student / "01_a"
        folder.mkdir(parents=True)
        (folder / "exercises.ipynb").write_text("{}")
        (folder / "timestamp.txt").write_text(stamp)
    # ann is graded; bob submitted again after grading; cyd is new.
    assert autograde.to_grade(tmp_path, "01_a") == ["bob", "cyd"]
    assert autograde.to_grade(tmp_path, "01_a", force=True) == ["ann", "bob", "cyd"]
    assert autograde.to_grade(tmp_path, "01_a", ["ann"], force=True) == ["ann"]
    with pytest.raises(autograde.CourseError, match="no submission of 01_a from zed"):
        autograde.to_grade(tmp_path, "01_a", ["zed"])
    with pytest.raises(autograde.CourseError, match="no submission of 02_b"):
        autograde.to_grade(tmp_path, "02_b")


def test_the_command_explains_its_errors(tmp_path):
    with pytest.raises(SystemExit, match="holds no nbgrader_config.py"):
        autograde.main(["01_a", "--course", str(tmp_path)])
    with pytest.raises(SystemExit, match="--jobs must be at least 1"):
        autograde.main(["01_a", "--jobs", "0"])
    (tmp_path / "nbgrader_config.py").write_text(
        'c = get_config()\nc.CourseDirectory.db_url = "postgresql://db/grades"\n')
    with pytest.raises(SystemExit, match="needs the SQLite gradebook"):
        autograde.main(["01_a", "--course", str(tmp_path)])
