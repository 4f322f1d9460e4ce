"""`python -m rnnbook.course` as `make course` runs it: a course directory, rewritten cleanly."""

import shutil
import subprocess
import sys

import nbformat
from roundtrip import FIXTURE, answer_cells

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
    first = make_course(target, "--chapters", book, "--timeout", 7)
    assert first.returncode == 0, first.stderr
    assert "01_a" in first.stdout and "6 points" in first.stdout
    for slug in ("01_a", "02_b"):
        assert (target / "source" / slug / NOTEBOOK).is_file()
        assert (target / "release" / slug / NOTEBOOK).is_file()
    assert "c.Execute.timeout = 7" in (target / "nbgrader_config.py").read_text()

    shutil.rmtree(book / "02_b")
    (target / "submitted" / "alice" / "01_a").mkdir(parents=True)
    again = make_course(target, "--chapters", book)
    assert again.returncode == 0, again.stderr
    assert sorted(p.name for p in (target / "release").iterdir()) == ["01_a"]
    assert sorted(p.name for p in (target / "source").iterdir()) == ["01_a"]
    assert (target / "submitted" / "alice" / "01_a").is_dir() and (target / "gradebook.db").exists()
    assert "c.Execute.timeout = 30" in (target / "nbgrader_config.py").read_text()


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
