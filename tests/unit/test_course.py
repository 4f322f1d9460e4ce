"""`python -m rnnbook.course`: options, configuration file and errors (without running nbgrader)."""

import re
import subprocess
import sys

import nbformat
import pytest
from traitlets.config.loader import PyFileConfigLoader

from rnnbook import course


def run_main(*argv):
    """The message with which ``main`` exits."""
    with pytest.raises(SystemExit) as info:
        course.main([str(arg) for arg in argv])
    return str(info.value)


def test_help_describes_the_options():
    result = subprocess.run([sys.executable, "-m", "rnnbook.course", "--help"],
                            capture_output=True, text=True, check=True)
    for word in ("DIR", "--timeout", "--chapters", "_build/course"):
        assert word in result.stdout


def test_config_sets_the_course_and_the_grading_options(tmp_path):
    course.write_config(tmp_path, timeout=12)
    config = PyFileConfigLoader("nbgrader_config.py", path=str(tmp_path)).load_config()
    assert config.CourseDirectory.course_id == course.COURSE_ID
    assert config.Execute.timeout == 12
    assert config.Execute.interrupt_on_timeout and not config.Execute.raise_on_iopub_timeout
    assert config.OverwriteCells.add_missing_cells
    assert course.ResilientExecute in config.Autograde.autograde_preprocessors
    assert config.LimitOutput.max_lines == 1000
    assert config.IgnorePattern.enabled


@pytest.mark.parametrize(("stderr", "harmless"), [
    ("/x/y.py:3: RuntimeWarning: overflow encountered in exp\n  return np.exp(x)\n", True),
    ("Matplotlib is building the font cache; this may take a moment.\n", True),
    ("something went wrong\n", False),
])
def test_only_warnings_on_stderr_are_harmless(stderr, harmless):
    assert bool(re.search(course.HARMLESS_STDERR, stderr)) == harmless


def test_a_book_without_exercises_is_an_error(tmp_path):
    assert "no chapter has an exercises.ipynb" in run_main(tmp_path / "c", "--chapters", tmp_path)


def test_an_unwritable_target_is_an_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(course.CourseError, match="cannot create the course directory"):
        course.prepare(blocker / "course")


def test_a_foreign_folder_is_left_alone(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(course.CourseError, match="not written by rnnbook.course"):
        course.prepare(tmp_path)
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_a_course_directory_is_cleared_of_generated_files_only(tmp_path):
    course.write_config(tmp_path)
    for generated in ("source/old", "release/old", "submitted/alice"):
        (tmp_path / generated).mkdir(parents=True)
    course.prepare(tmp_path)
    assert not (tmp_path / "source").exists() and not (tmp_path / "release").exists()
    assert (tmp_path / "submitted/alice").is_dir()


def test_a_timeout_below_one_second_is_an_error(tmp_path):
    with pytest.raises(course.CourseError, match="at least 1 second"):
        course.build_course(tmp_path, {"a": tmp_path / "exercises.ipynb"}, timeout=0)


def test_exercise_points_reads_the_graded_cells():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("pass") for _ in range(2)])
    nb.cells[1].metadata["nbgrader"] = {"grade": True, "grade_id": "t", "points": 2}
    assert course.exercise_points(nb) == {"t": 2.0}
