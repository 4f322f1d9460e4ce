"""The built book shows the exercises' visible checks and collapsed solutions, never the hidden
tests that the autograder runs (book/_ext/book_html.py removes them)."""

import json

import nbformat

from conftest import ROOT, built_pages

MARKERS = ("BEGIN HIDDEN TESTS", "END HIDDEN TESTS")


def hidden_lines():
    """Distinctive lines that occur only inside the hidden tests of the chapters' exercises."""
    from rnnbook.grades import HIDDEN

    inside, outside = set(), set()
    for path in sorted(ROOT.glob("chapters/*/exercises.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            for region in HIDDEN.findall(cell.source):
                inside |= {line.strip() for line in region.splitlines()[1:-1]
                           if len(line.strip()) > 25}
            outside |= {line.strip() for line in HIDDEN.sub("", cell.source).splitlines()}
    return inside - outside


def test_no_page_shows_a_hidden_test(site):
    lines = hidden_lines()
    assert lines, "the chapters' exercises have hidden tests to look for"
    for page in built_pages(site):
        text = page.read_text(encoding="utf-8")
        for marker in MARKERS:
            assert marker not in text, f"{page.relative_to(site)} shows {marker}"


def test_the_downloadable_notebooks_hold_no_hidden_test(site):
    notebooks = [p for p in (site / "_sources").rglob("exercises.ipynb*") if p.is_file()]
    assert notebooks, "the book offers the exercises notebooks for download"
    lines = hidden_lines()
    for path in notebooks:
        nb = json.loads(path.read_text(encoding="utf-8"))
        text = "\n".join("".join(c["source"]) for c in nb["cells"])
        assert not any(marker in text for marker in MARKERS), path
        assert not [line for line in lines if line in text], path


def test_visible_checks_and_solutions_stay(site):
    page = next(p for p in built_pages(site) if p.match("*03_formulas/exercises*"))
    text = page.read_text(encoding="utf-8")
    assert "rnnbook.checks" in text or "check_" in text
    assert "BEGIN SOLUTION" in text  # the reference solution, collapsed
    assert "hidden tests are not shown" in text


def test_the_downloadable_exercises_are_the_blank_copies(site):
    for path in (site / "_sources").rglob("exercises.ipynb"):
        nb = json.loads(path.read_text(encoding="utf-8"))
        code = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
        assert "BEGIN SOLUTION" not in code and "raise NotImplementedError()" in code, path
        assert all(not c.get("outputs") for c in nb["cells"] if c["cell_type"] == "code"), path
