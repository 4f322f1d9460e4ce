"""Blank copies of the exercises: nothing of the answers or the hidden tests is left in them."""

import nbformat
import pytest

from rnnbook.exercise_copies import ROOT, blank_copy, main, strip_regions, write_blank_copies

SOURCES = sorted((ROOT / "chapters").glob("*/exercises.ipynb"))


def solution_lines(source):
    inside, lines = False, []
    for line in source.split("\n"):
        if "### BEGIN SOLUTION" in line:
            inside = True
        elif "### END SOLUTION" in line:
            inside = False
        elif inside and len(line.strip()) > 8:
            lines.append(line.strip())
    return lines


def test_strip_regions_stubs_solutions_at_their_indent_and_drops_hidden_tests():
    source = ("def f(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION\n"
              "check(f)\n### BEGIN HIDDEN TESTS\nassert f(1) == 2\n### END HIDDEN TESTS\n")
    assert strip_regions(source) == ("def f(x):\n    # YOUR CODE HERE\n"
                                     "    raise NotImplementedError()\ncheck(f)\n")


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.parent.name)
def test_a_blank_copy_keeps_the_checks_and_nothing_of_the_answers(path):
    nb = nbformat.read(path, as_version=4)
    blank = blank_copy(nb, path.parent.name)
    text = "\n".join(cell.source for cell in blank.cells)
    assert "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text
    assert ":::{exercise}" not in text and "{doc}`" not in text         # plain Markdown
    answers = [c for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("solution")
               and c.cell_type == "code"]
    regions = sum(cell.source.count("### BEGIN SOLUTION") for cell in nb.cells)
    code = "\n".join(cell.source for cell in blank.cells if cell.cell_type == "code")
    assert answers and code.count("raise NotImplementedError()") == regions
    for line in (line for cell in answers for line in solution_lines(cell.source)):
        assert line not in code, f"a line of a reference solution is in the blank copy: {line}"
    for old, new in zip([c for c in nb.cells if c.cell_type == "code"],
                        [c for c in blank.cells if c.cell_type == "code"], strict=True):
        assert new.outputs == [] and new.execution_count is None
        assert new.metadata.get("nbgrader") == old.metadata.get("nbgrader")
    assert "solutions are in the book" in blank.cells[1].source
    assert any("BEGIN SOLUTION" in c.source for c in nb.cells), "blank_copy changed its input"


def test_copies_are_written_once_and_kept_unless_forced(tmp_path, capsys):
    first = write_blank_copies(tmp_path)
    assert set(first.values()) == {"written"} and len(first) == len(SOURCES)
    mine = tmp_path / f"{SOURCES[0].parent.name}.ipynb"
    mine.write_text(mine.read_text().replace("NotImplementedError()", "NotImplementedError() #"))
    kept = mine.read_text()
    assert set(write_blank_copies(tmp_path).values()) == {"kept"}
    assert mine.read_text() == kept                          # the learner's work is not lost
    main([str(tmp_path), "--force"])
    assert "written:" in capsys.readouterr().out and mine.read_text() != kept


def test_bad_arguments_are_refused(tmp_path):
    nb = nbformat.read(SOURCES[0], as_version=4)
    with pytest.raises(ValueError, match="chapter"):
        blank_copy(nb, "lstm")
    with pytest.raises(ValueError, match="chapters_dir"):
        write_blank_copies(tmp_path / "out", chapters_dir=tmp_path)
