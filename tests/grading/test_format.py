"""Every exercise in the book has its answer cell, its locked test cell, its points and its text.

These checks read the stored notebooks only (no nbgrader run); each failure lists every problem
found with the cell it is in, for the chapter's author.
"""

import ast
import re
import textwrap

import nbformat
import pytest
from roundtrip import (
    FIXTURE,
    HIDDEN,
    SOLUTION,
    all_notebooks,
    assignment_of,
    chapter_notebooks,
    grade_cells,
    is_answer,
    is_test,
)

# A use of rnnbook.checks: the module, a chapter's check_* or a helper such as expect_close.
CHECKS = re.compile(r"rnnbook\.checks|\b(?:check|expect)_\w+\(|\bcall_answer\(")
DIRECTIVE = re.compile(r"^[ \t]*(?::{3,}|`{3,})\{exercise\}", re.M)
NOTEBOOKS = all_notebooks()


def read(path):
    return nbformat.read(path, as_version=4)


def prefix(notebook):
    """The grade_id prefix of a notebook's exercises: chNN- for chapter NN_slug."""
    return "fixture-" if notebook == FIXTURE else f"ch{assignment_of(notebook)[:2]}-"


def where(index, cell):
    grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
    return f"cell {index}" + (f" ({grade_id})" if grade_id else "")


def problems_of_answer(nb, index, cell):
    problems = []
    regions = len(SOLUTION.findall(cell.source))
    markers = (cell.source.count("BEGIN SOLUTION"), cell.source.count("END SOLUTION"))
    if regions == 0 or markers != (regions, regions):
        problems.append("needs ### BEGIN SOLUTION ... ### END SOLUTION regions, each on its own")
    following = nb.cells[index + 1] if index + 1 < len(nb.cells) else None
    grade_id = cell.metadata.nbgrader["grade_id"]
    if following is None or not is_test(following):
        problems.append("is not followed directly by its test cell")
    elif following.metadata.nbgrader["grade_id"] != f"{grade_id}-tests":
        problems.append(f"is followed by test cell {following.metadata.nbgrader['grade_id']!r}; "
                        f"expected {grade_id}-tests")
    return problems


def problems_of_test(nb, index, cell):
    meta, problems = cell.metadata.nbgrader, []
    if not meta.get("locked") or meta.get("solution"):
        problems.append("must be locked and not a solution cell")
    if not meta.get("points", 0) > 0:
        problems.append("has no points")
    if index == 0 or not is_answer(nb.cells[index - 1]):
        problems.append("does not follow an answer cell")
    hidden = HIDDEN.findall(cell.source)
    if len(hidden) != 1 or not hidden[0].strip():
        problems.append("needs one non-empty ### BEGIN/END HIDDEN TESTS region")
    elif CHECKS.search(hidden[0]):
        problems.append("hidden tests use rnnbook.checks: compute the expected values directly")
    if not CHECKS.search(HIDDEN.sub("", cell.source)):
        problems.append("runs no visible check from rnnbook.checks before the hidden tests")
    return problems


def problems_of_outputs(index, cell):
    """A stored test or answer cell of the instructor copy ran cleanly."""
    problems = []
    for output in cell.get("outputs", []):
        if output.output_type == "error":
            problems.append(f"has a stored error: {output.ename}: {output.evalue}")
        elif output.output_type == "stream" and output.name == "stderr":
            problems.append(f"writes to stderr (nbgrader scores it zero): {output.text[:80]!r}")
    if is_test(cell) and cell.execution_count is None:
        problems.append("was not executed: store the notebook with its outputs")
    return problems


def format_problems(notebook):
    nb, problems = read(notebook), []
    for index, cell in enumerate(nb.cells):
        meta = cell.metadata.get("nbgrader")
        found = []
        if meta is not None:
            if meta.get("schema_version") != 3:
                found.append(f"has schema_version {meta.get('schema_version')}; expected 3")
            if not meta.get("grade_id", "").startswith(prefix(notebook)):
                found.append(f"grade_id should start with {prefix(notebook)!r}")
        if is_answer(cell):
            found += problems_of_answer(nb, index, cell)
        if is_test(cell):
            found += problems_of_test(nb, index, cell)
        if cell.cell_type == "code":
            found += problems_of_outputs(index, cell)
        problems += [f"{notebook.relative_to(notebook.parents[2])}, {where(index, cell)}: {p}"
                     for p in found]
    return problems


def test_the_book_has_exercises():
    assert chapter_notebooks(), "no chapters/*/exercises.ipynb: there is no chapter to grade"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=assignment_of)
def test_every_exercise_has_an_answer_and_a_locked_graded_test(notebook):
    nb = read(notebook)
    assert grade_cells(nb), f"{notebook} has no graded test cell"
    problems = format_problems(notebook)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=assignment_of)
def test_every_exercise_directive_has_a_test_cell(notebook):
    nb = read(notebook)
    directives = sum(len(DIRECTIVE.findall(cell.source)) for cell in nb.cells
                     if cell.cell_type == "markdown")
    assert directives == len(grade_cells(nb)), \
        f"{notebook}: {directives} {{exercise}} directives but {len(grade_cells(nb))} test cells"


def test_grade_ids_are_unique_across_the_book():
    seen = {}
    for notebook in NOTEBOOKS:
        for cell in read(notebook).cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if grade_id:
                assert grade_id not in seen, f"{grade_id} in {notebook} and in {seen[grade_id]}"
                seen[grade_id] = notebook


def unnamed_asserts_in_loops(notebook):
    """Hidden-test ``assert``s inside a loop without a message: their failure cannot say which
    case failed (a bare AssertionError in the student's feedback)."""
    found = []
    for index, cell in enumerate(read(notebook).cells):
        for region in HIDDEN.findall(cell.source):
            try:
                tree = ast.parse(textwrap.dedent(region))
            except SyntaxError:
                continue
            for loop in (n for n in ast.walk(tree) if isinstance(n, ast.For | ast.While)):
                found += [f"{where(index, cell)}, hidden line {node.lineno}"
                          for node in ast.walk(loop)
                          if isinstance(node, ast.Assert) and node.msg is None]
    return sorted(set(found))


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=assignment_of)
def test_a_failing_hidden_test_in_a_loop_names_its_case(notebook):
    problems = unnamed_asserts_in_loops(notebook)
    assert not problems, f"{notebook}: asserts without a message in a loop: {problems}"
