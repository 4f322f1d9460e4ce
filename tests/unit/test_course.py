"""`python -m rnnbook.course`: options, configuration file and errors (without running nbgrader)."""

import dataclasses
import pathlib
import re
import subprocess
import sys

import nbformat
import pytest
from traitlets.config.loader import PyFileConfigLoader

from rnnbook import course, grades
from rnnbook import course_markup as markup
from rnnbook.checks import CheckFailed
from rnnbook.checks.partial import Credit, NoCredit
from rnnbook.sandbox import SandboxedKernelManager, SandboxError


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


# Settings (course.toml) and options.

def test_settings_are_written_once_and_read_back(tmp_path):
    settings = course.Settings(course_id="rnn-b", exchange_root="/srv/x", timeout=9,
                               late_penalty_per_day=0.25, sandbox=False,
                               due={"01_a": "2026-10-05 23:59"})
    assert course.write_settings(tmp_path, settings)
    assert course.read_settings(tmp_path) == settings
    assert not course.write_settings(tmp_path, course.Settings())
    assert course.read_settings(tmp_path) == settings


@pytest.mark.parametrize(("field", "value", "message"), [
    ("course_id", "my course", "the course id must be"),
    ("timeout", 0, "at least 1 second"),
    ("late_penalty_per_day", 1.5, "between 0 and 1"),
    ("due", {"01_a": "next friday"}, "should read like"),
    ("sandbox", "no", "true or false"),
])
def test_bad_settings_are_errors_that_say_what_to_write(field, value, message):
    with pytest.raises(course.CourseError, match=message):
        dataclasses.replace(course.Settings(), **{field: value}).check()


def test_an_unknown_setting_in_the_file_is_named(tmp_path):
    (tmp_path / course.SETTINGS_FILE).write_text('course_id = "a"\ncourseid = "b"\n')
    with pytest.raises(course.CourseError, match=r"unknown settings \['courseid'\]"):
        course.read_settings(tmp_path)


def test_autograding_is_sandboxed_unless_the_course_opts_out(tmp_path):
    assert course.Settings().sandbox
    course.write_config(tmp_path)
    config = PyFileConfigLoader("nbgrader_config.py", path=str(tmp_path)).load_config()
    assert config.ResilientExecute.sandbox is True
    execute = course.ResilientExecute(config=config)
    assert execute.kernel_manager_class is SandboxedKernelManager
    course.write_config(tmp_path, settings=course.Settings(sandbox=False))
    text = (tmp_path / "nbgrader_config.py").read_text()
    assert "c.ResilientExecute.sandbox = False" in text and "OFF" in text
    assert course.parser().parse_args(["--no-sandbox"]).sandbox is False
    assert course.parser().parse_args([]).sandbox is None  # course.toml decides


def test_a_build_without_a_working_sandbox_stops_and_names_the_fix(tmp_path, monkeypatch):
    def broken():
        raise SandboxError("bubblewrap is missing: apt-get install bubblewrap")
    monkeypatch.setattr(course, "check_sandbox", broken)
    chapter = tmp_path / "chapters" / "01_a"
    chapter.mkdir(parents=True)
    (chapter / course.NOTEBOOK).write_text("{}")  # the build stops before reading it
    message = run_main(tmp_path / "c", "--chapters", tmp_path / "chapters")
    assert "apt-get install bubblewrap" in message
    assert not (tmp_path / "c").exists()


def test_the_config_carries_exchange_and_late_penalty(tmp_path):
    course.write_config(tmp_path, settings=course.Settings(
        course_id="sec-a", exchange_root="/srv/ex", late_penalty_per_day=0.1))
    config = PyFileConfigLoader("nbgrader_config.py", path=str(tmp_path)).load_config()
    assert config.CourseDirectory.course_id == "sec-a"
    assert config.Exchange.root == "/srv/ex"
    assert config.AssignLatePenalties.plugin_class == "rnnbook.grades.PerDayPenalty"
    assert config.PerDayPenalty.fraction_per_day == 0.1
    student = PyFileConfigLoader(course.STUDENT_CONFIG, path=str(tmp_path)).load_config()
    assert student.Exchange.root == "/srv/ex"


def test_private_tests_go_first_into_the_hidden_region():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "check()\n### BEGIN HIDDEN TESTS\nassert a\ncredit.earned()\n### END HIDDEN TESTS")])
    nb.cells[0].metadata["nbgrader"] = {"grade": True, "grade_id": "t", "points": 1}
    course.merge_private_tests(nb, {"t": "assert secret\n"}, "private/01")
    assert nb.cells[0].source.splitlines()[1:4] == [
        "### BEGIN HIDDEN TESTS", "assert secret", "assert a"]
    with pytest.raises(course.CourseError, match="has no test cell 'u'"):
        course.merge_private_tests(nb, {"u": "x"}, "private/01")


def test_the_clones_own_chapters_are_preferred(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert course.default_chapters() == course.CHAPTERS
    (tmp_path / "_toc.yml").write_text("root: x\n")
    (tmp_path / "chapters").mkdir()
    assert course.default_chapters() == tmp_path / "chapters"


# Student copies in plain Markdown.

def test_an_exercise_directive_becomes_a_numbered_heading():
    text = ":::{exercise} A mask\n:label: ex-a\n:class: dropdown\n\nWrite `mask`.\n:::"
    counter = [1]
    assert markup.plain_markdown(text, "2.", counter) == "### Exercise 2.2: A mask\n\nWrite `mask`."
    assert counter == [2]


def test_roles_and_other_directives_become_plain_text(tmp_path):
    (tmp_path / "chapters" / "01_x").mkdir(parents=True)
    (tmp_path / "chapters" / "01_x" / "page.md").write_text("# The page title\n")
    text = ("See {doc}`/chapters/01_x/page`, {doc}`this one </chapters/01_x/other>`, "
            "{numref}`fig-a`, {math}`x^2` and {cite}`elman1990`.\n"
            "::::{note}\nBe careful.\n::::\n```{math}\na = b\n```")
    out = markup.plain_markdown(text, root=tmp_path)
    assert out.splitlines()[0] == ("See *The page title* (a page of the book), *this one* (a page "
                                   "of the book), fig-a, $x^2$ and (elman1990).")
    assert "**Note**\nBe careful." in out and "$$\na = b\n$$" in out
    linked = markup.plain_markdown("{doc}`/chapters/01_x/page`", root=tmp_path,
                                   book_url="https://example.org/book/")
    assert linked == "[The page title](https://example.org/book/chapters/01_x/page.html)"


# Grades: late penalty, quiet restore of hidden tests.

@pytest.mark.parametrize(("seconds", "penalty"), [(0, None), (1, 1.0), (2.5 * 86400, 3.0),
                                                  (30 * 86400, 10.0)])
def test_the_penalty_is_a_fraction_per_started_day(seconds, penalty):
    plugin = grades.PerDayPenalty(fraction_per_day=0.1)
    assert plugin.late_submission_penalty("s", 10.0, seconds) == penalty


def test_a_test_cell_differs_from_its_release_only_by_hidden_tests():
    source = "check(f)\n### BEGIN HIDDEN TESTS\nassert f(2) == 4\n### END HIDDEN TESTS\n"
    assert grades.release_lines(source) == grades.release_lines("check(f)\n\n")
    assert grades.release_lines(source) != grades.release_lines("pass")


def test_a_partial_credit_cell_differs_from_its_release_only_by_its_hidden_regions():
    source = ("credit = Credit(points=2)\n### BEGIN HIDDEN TESTS\nwith credit.case('a'):\n"
              "    assert f(2) == 4\n### END HIDDEN TESTS\nwith credit.visible():\n"
              "    check(f)\n### BEGIN HIDDEN TESTS\ncredit.earned()\n### END HIDDEN TESTS\n")
    release = "credit = Credit(points=2)\nwith credit.visible():\n    check(f)\n"
    assert grades.release_lines(source) == grades.release_lines(release)
    assert grades.release_lines(source) != grades.release_lines("credit = Credit(points=2)\n")


# Checks: partial credit, messages without frames.

def test_partial_credit_counts_the_weight_of_the_passing_cases(capsys):
    credit = Credit(points=4)
    with credit.case("first"):
        assert True
    with credit.case("second", weight=2):
        raise AssertionError("off by one")
    with credit.case("third"):
        raise ValueError("bad shape")
    assert credit.earned() == 1.0
    out = capsys.readouterr().out
    assert "failed: second: off by one" in out and "failed: third: ValueError: bad shape" in out


def test_no_passing_case_is_an_error_that_names_them():
    credit = Credit(points=2)
    with credit.case("only"):
        raise AssertionError("wrong")
    with pytest.raises(NoCredit, match=r"cases: only"):
        credit.earned()
    with pytest.raises(ValueError, match="points must be positive"):
        Credit(points=0)


def test_a_visible_check_fails_the_cell_when_no_hidden_case_ran():
    """The learner's copy: nbgrader removed the hidden cases, so the check raises as usual."""
    credit = Credit(points=3)
    with pytest.raises(CheckFailed, match="your `f` is wrong"), credit.visible():
        raise CheckFailed("your `f` is wrong")
    with pytest.raises(TypeError, match="a bug"), credit.visible():
        raise TypeError("a bug")
    with credit.visible():
        pass  # a passing check is quiet here and leaves no result
    assert credit.results == []


def test_a_visible_check_after_the_cases_is_printed_and_earns_nothing(capsys):
    """The graded copy: a failing visible check is reported and the cell goes on to its score."""
    credit = Credit(points=4)
    with credit.case("hidden one"):
        assert True
    with credit.case("hidden two"):
        raise AssertionError("off by one")
    with credit.visible():
        raise CheckFailed("your `f` is wrong")
    with credit.visible():
        raise ValueError("bad shape")
    assert credit.earned() == 2.0  # the visible checks add no case
    assert [name for name, _, _ in credit.results] == ["hidden one", "hidden two"]
    out, err = capsys.readouterr()
    assert "failed: the visible check: your `f` is wrong\n" in out
    assert "failed: the visible check: ValueError: bad shape\n" in out
    assert err == ""


def test_a_visible_check_lets_an_interrupt_through():
    credit = Credit(points=1)
    with credit.case("hidden"):
        pass
    for interrupt in (KeyboardInterrupt, SystemExit):
        with pytest.raises(interrupt), credit.visible():
            raise interrupt()


def test_a_failed_visible_check_is_wrapped_to_the_column(capsys):
    credit = Credit(points=1)
    with credit.case("hidden"):
        pass
    with credit.visible():
        raise CheckFailed("your `dW_hh` differs from the expected value " * 5
                          + "\nHint: sum over time.")
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) > 3 and max(len(line) for line in lines) <= 79
    assert lines[0].startswith("failed: the visible check: your `dW_hh` differs")
    assert all(line.startswith("    ") for line in lines[1:-1])
    assert lines[-1] == "Hint: sum over time."


def test_a_failed_check_renders_as_its_wrapped_message_only():
    error = CheckFailed("your `x` has shape (3, 4); expected (4, 3). " * 4 + "\nHint: transpose.")
    lines = error._render_traceback_()
    assert lines[0].startswith("CheckFailed: your `x` has shape")
    assert lines[-1] == "Hint: transpose."
    assert all(len(line) <= 84 for line in lines)


# The book's pages: hidden tests removed (book/_ext/book_html.py).

def _book_html():
    import importlib.util

    path = pathlib.Path(__file__).resolve().parents[2] / "book" / "_ext" / "book_html.py"
    spec = importlib.util.spec_from_file_location("book_html", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_hidden_tests_are_stripped_and_the_rest_stays():
    book_html = _book_html()
    source = ("check_step(step)\n### BEGIN HIDDEN TESTS\nassert step(2) == 4\n"
              "### END HIDDEN TESTS\nprint('done')\n")
    out = book_html.strip_hidden_tests(source)
    assert "assert step(2)" not in out and "HIDDEN TESTS" not in out
    assert out.startswith("check_step(step)\n") and out.endswith("print('done')\n")
    assert book_html.strip_hidden_tests("x = 1\n") == "x = 1\n"


def test_each_hidden_region_of_a_partial_credit_cell_is_stripped():
    """Two regions: the hidden cases, then ``credit.earned()`` after the visible check."""
    book_html = _book_html()
    source = ("credit = Credit(points=2)\n### BEGIN HIDDEN TESTS\nwith credit.case(\"a\"):\n"
              "    assert step(2) == 4\n### END HIDDEN TESTS\nwith credit.visible():\n"
              "    check_step(step)\n### BEGIN HIDDEN TESTS\ncredit.earned()\n"
              "### END HIDDEN TESTS\n")
    out = book_html.strip_hidden_tests(source)
    assert out == (f"credit = Credit(points=2)\n{book_html.REMOVED}with credit.visible():\n"
                   f"    check_step(step)\n{book_html.REMOVED}")
    assert "assert step(2)" not in out and "earned" not in out


def test_a_downloadable_notebook_loses_its_hidden_tests(tmp_path):
    book_html = _book_html()
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("check()\n### BEGIN HIDDEN TESTS\nassert secret\n"
                                  "### END HIDDEN TESTS"),
        nbformat.v4.new_markdown_cell("### BEGIN HIDDEN TESTS (prose is left alone)")])
    nbformat.write(nb, tmp_path / "exercises.ipynb")
    assert book_html.strip_notebook_file(tmp_path / "exercises.ipynb")
    stored = nbformat.read(tmp_path / "exercises.ipynb", as_version=4)
    assert "secret" not in stored.cells[0].source and "check()" in stored.cells[0].source
    assert stored.cells[1].source.startswith("### BEGIN HIDDEN TESTS")


# The light student install and the Makefile's pass-through options.

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_the_student_extra_is_light_and_pinned():
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    student = project["optional-dependencies"]["student"]
    assert "jupyterlab" in student
    heavy = {"jupyter-book", "nbgrader", "nbval", "playwright", "pytest", "sphinx-exercise"}
    assert not heavy & {re.split(r"[<>=\[ ]", r)[0] for r in student}
    pins = (ROOT / "constraints.txt").read_text()
    assert all(re.search(rf"(?m)^{re.escape(r)}==", pins) for r in student)


def _make_n(*args):
    import shutil

    if not shutil.which("make"):
        pytest.skip("make is not installed")
    result = subprocess.run(["make", "-n", "-B", *args], cwd=ROOT, capture_output=True,
                            text=True, env={"PATH": "/usr/bin:/bin"})
    return result.stdout


def test_make_course_passes_the_private_folder_and_options():
    out = _make_n("course", "PRIVATE=/srv/private", "COURSE_ID=rnn-b", "COURSE_OPTS=--timeout 9")
    assert "-m rnnbook.course _build/course --private /srv/private --course-id rnn-b --timeout 9" \
        in out


def test_an_extra_index_reaches_pip_only_when_asked():
    asked = _make_n("student", "TORCH_INDEX=https://download.pytorch.org/whl/cpu")
    index = "--extra-index-url https://download.pytorch.org/whl/cpu"
    assert f"{index} -c constraints.txt -e '.[student]'" in asked
    plain = _make_n("test-unit")
    assert "-c constraints.txt -e '.[dev]'" in plain and "--extra-index-url" not in plain
