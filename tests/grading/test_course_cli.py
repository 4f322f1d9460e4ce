"""`python -m rnnbook.course` as `make course` runs it: a course directory, rewritten cleanly."""

import shutil
import subprocess
import sys

import nbformat
from roundtrip import FIXTURE, answer_cells, grade_cells
from traitlets.config.loader import PyFileConfigLoader

from rnnbook.course import NOTEBOOK


def make_course(*args):
    return subprocess.run([sys.executable, "-m", "rnnbook.course", *map(str, args)],
                          capture_output=True, text=True)


def chapters(root, *slugs):
    """A chapters folder holding the fixture as the exercises of each of ``slugs``."""
    for slug in slugs:
        (root / slug).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(FIXTURE, root / slug / NOTEBOOK)
    return root


def test_make_course_writes_a_course_and_rewrites_it_cleanly(tmp_path):
    book, target = chapters(tmp_path / "chapters", "01_a", "02_b"), tmp_path / "course"
    first = make_course(target, "--chapters", book, "--timeout", 7, "--course-id", "rnn-x")
    assert first.returncode == 0, first.stderr
    assert f"Exercises from {book.resolve()}" in first.stdout
    assert "01_a" in first.stdout and "6 points" in first.stdout
    assert "--force" in first.stdout  # regrading one student needs it
    for slug in ("01_a", "02_b"):
        assert (target / "source" / slug / NOTEBOOK).is_file()
        assert (target / "release" / slug / NOTEBOOK).is_file()
    config = (target / "nbgrader_config.py").read_text()
    assert "c.Execute.timeout = 7" in config and 'course_id = "rnn-x"' in config

    # The instructor edits the settings file and adds a setting of their own.
    settings = target / "course.toml"
    edited = settings.read_text().replace('exchange_root = ""',
                                          'exchange_root = "/srv/nbgrader/exchange"')
    settings.write_text(edited)
    local = target / "nbgrader_config_local.py"
    local.write_text("c.Execute.timeout = 99\n")

    shutil.rmtree(book / "02_b")
    (target / "submitted" / "alice" / "01_a").mkdir(parents=True)
    again = make_course(target, "--chapters", book)
    assert again.returncode == 0, again.stderr
    assert sorted(p.name for p in (target / "release").iterdir()) == ["01_a"]
    assert sorted(p.name for p in (target / "source").iterdir()) == ["01_a"]
    assert (target / "submitted" / "alice" / "01_a").is_dir() and (target / "gradebook.db").exists()
    assert settings.read_text() == edited and local.read_text() == "c.Execute.timeout = 99\n"
    config = PyFileConfigLoader("nbgrader_config.py", path=str(target)).load_config()
    assert config.Exchange.root == "/srv/nbgrader/exchange"
    assert config.CourseDirectory.course_id == "rnn-x"
    assert config.Execute.timeout == 99  # the local file comes last and wins
    assert "c.Execute.timeout = 7" in (target / "nbgrader_config.py").read_text()

    # An option overrides the file for one build and is not saved; changed points are named.
    nb = nbformat.read(book / "01_a" / NOTEBOOK, as_version=4)
    grade_cells(nb)[0].metadata.nbgrader["points"] = 5
    nbformat.write(nb, book / "01_a" / NOTEBOOK)
    (target / "autograded" / "alice" / "01_a").mkdir(parents=True)
    third = make_course(target, "--chapters", book, "--timeout", 12)
    assert third.returncode == 0, third.stderr
    assert "c.Execute.timeout = 12" in (target / "nbgrader_config.py").read_text()
    assert settings.read_text() == edited
    assert "The points of 01_a changed (6 -> 9)" in third.stdout
    assert "nbgrader autograde 01_a --force" in third.stdout


def test_a_private_folder_must_name_real_chapters_and_test_cells(tmp_path):
    book = chapters(tmp_path / "chapters", "01_a")
    private = tmp_path / "private"
    (private / "09_nope").mkdir(parents=True)
    (private / "09_nope" / "x-tests.py").write_text("assert True\n")
    result = make_course(tmp_path / "c1", "--chapters", book, "--private", private)
    assert result.returncode != 0 and "no chapter '09_nope'" in result.stderr
    shutil.rmtree(private / "09_nope")
    (private / "01_a").mkdir()
    (private / "01_a" / "no-such-tests.py").write_text("assert True\n")
    result = make_course(tmp_path / "c2", "--chapters", book, "--private", private)
    assert result.returncode != 0 and "has no test cell 'no-such-tests'" in result.stderr


def test_a_failing_nbgrader_shows_its_message(tmp_path):
    book = chapters(tmp_path / "chapters", "01_broken")
    nb = nbformat.read(book / "01_broken" / NOTEBOOK, as_version=4)
    answer = answer_cells(nb)[0]
    answer.source = answer.source.replace("### END SOLUTION", "")
    nbformat.write(nb, book / "01_broken" / NOTEBOOK)
    result = make_course(tmp_path / "course", "--chapters", book)
    assert result.returncode != 0
    assert "error: `nbgrader generate_assignment 01_broken --force` failed" in result.stderr
    assert "no end solution statement found" in result.stderr
