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
# The body of ``with credit.visible():`` (a partial-credit cell's visible check).
VISIBLE = re.compile(r"^with credit\.visible\(\):[ \t]*\n((?:[ \t]+\S.*(?:\n|$))+)", re.M)
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
    markers = (cell.source.count("BEGIN HIDDEN TESTS"), cell.source.count("END HIDDEN TESTS"))
    if not hidden or markers != (len(hidden), len(hidden)):
        problems.append("needs ### BEGIN/END HIDDEN TESTS regions, each on its own")
    if any(not region.strip() for region in hidden):
        problems.append("has an empty hidden region")
    if any(CHECKS.search(region) for region in hidden):
        problems.append("hidden tests use rnnbook.checks: compute the expected values directly")
    if not CHECKS.search(HIDDEN.sub("", cell.source)):
        problems.append("runs no visible check from rnnbook.checks outside the hidden tests")
    if "Credit(" in cell.source:
        problems += problems_of_partial_credit(cell.source, hidden)
    return problems


def problems_of_partial_credit(source, hidden):
    """A partial-credit test cell: ``credit = Credit(points=N)``, the hidden cases, the visible
    check inside ``with credit.visible():``, and ``credit.earned()`` as the last line of the last
    hidden region (see rnnbook.checks.partial)."""
    problems = []
    if not hidden or hidden[-1].strip().splitlines()[-1:] != ["credit.earned()"]:
        problems.append("uses Credit: end its last hidden region with `credit.earned()`")
    if sum(region.count("credit.earned()") for region in hidden) != 1 \
            or "credit.earned()" in HIDDEN.sub("", source):
        problems.append("uses Credit: `credit.earned()` once, in the last hidden region only")
    if not re.search(r"^credit = Credit\(points=[\d.]+\)$", HIDDEN.sub("", source), re.M):
        problems.append("uses Credit: make `credit = Credit(points=N)` in the visible part")
    if "credit.case(" not in "".join(hidden[:1]):
        problems.append("uses Credit: its named cases go in the first hidden region, before the "
                        "visible check")
    visible = HIDDEN.sub("", source)
    wrapped = "".join(VISIBLE.findall(visible))
    if not CHECKS.search(wrapped) or CHECKS.search(VISIBLE.sub("", visible)):
        problems.append("uses Credit: run the visible check inside `with credit.visible():`")
    elif source.index("credit.visible()") < source.index("### END HIDDEN TESTS"):
        problems.append("uses Credit: the hidden cases run before `with credit.visible():`")
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


def test_the_features_fixture_shows_the_partial_credit_form():
    """fixtures/features (the example CONTRIBUTING points to) passes the same format checks."""
    features = FIXTURE.parent / "features" / FIXTURE.name
    nb = read(features)
    tests = [(index, cell) for index, cell in enumerate(nb.cells)
             if is_test(cell) and cell.cell_type == "code"]
    assert any("Credit(" in cell.source for _, cell in tests)
    problems = [f"{where(index, cell)}: {problem}" for index, cell in tests
                for problem in problems_of_test(nb, index, cell)]
    assert not problems, "\n".join(problems)


GOOD_CREDIT_CELL = """credit = Credit(points=2)
### BEGIN HIDDEN TESTS
with credit.case("f(1)"):
    assert f(1) == 2, "f(1)"
### END HIDDEN TESTS
with credit.visible():
    check_f(f)
### BEGIN HIDDEN TESTS
credit.earned()
### END HIDDEN TESTS"""


def problems_of_cell(source):
    """The format problems of a test cell holding ``source``, after a good answer cell."""
    answer = nbformat.v4.new_code_cell("def f(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n"
                                       "    ### END SOLUTION")
    answer.metadata["nbgrader"] = {"grade": False, "grade_id": "ch00-f", "locked": False,
                                   "schema_version": 3, "solution": True, "task": False}
    test = nbformat.v4.new_code_cell(source)
    test.metadata["nbgrader"] = {"grade": True, "grade_id": "ch00-f-tests", "locked": True,
                                 "points": 2, "schema_version": 3, "solution": False,
                                 "task": False}
    nb = nbformat.v4.new_notebook(cells=[answer, test])
    assert is_answer(answer) and is_test(test)
    return problems_of_test(nb, 1, test)


def test_a_partial_credit_cell_in_the_books_form_has_no_problem():
    assert problems_of_cell(GOOD_CREDIT_CELL) == []
    single = "check_f(f)\n### BEGIN HIDDEN TESTS\nassert f(1) == 2\n### END HIDDEN TESTS"
    assert problems_of_cell(single) == []  # a cell without Credit: one region, as before


@pytest.mark.parametrize(("change", "problem"), [
    (lambda s: s.replace("with credit.visible():\n    check_f(f)", "check_f(f)"),
     "inside `with credit.visible():`"),
    (lambda s: s.replace("### END HIDDEN TESTS\nwith credit.visible():\n    check_f(f)\n"
                         "### BEGIN HIDDEN TESTS\n", ""),
     "inside `with credit.visible():`"),
    (lambda s: "credit = Credit(points=2)\nwith credit.visible():\n    check_f(f)\n"
     + s[len("credit = Credit(points=2)\n"):s.index("with credit.visible")]
     + "### BEGIN HIDDEN TESTS\ncredit.earned()\n### END HIDDEN TESTS",
     "the hidden cases run before"),
    (lambda s: s.replace("credit.earned()\n", "pass\n"), "with `credit.earned()`"),
    (lambda s: s.replace("### BEGIN HIDDEN TESTS\ncredit.earned()\n### END HIDDEN TESTS",
                         "credit.earned()"), "with `credit.earned()`"),
    (lambda s: s.replace('    assert f(1) == 2, "f(1)"', '    check_f(f)'),
     "hidden tests use rnnbook.checks"),
    (lambda s: s.replace("### BEGIN HIDDEN TESTS\ncredit.earned()",
                         "### BEGIN HIDDEN TESTS\n\n### END HIDDEN TESTS\n"
                         "### BEGIN HIDDEN TESTS\ncredit.earned()"), "an empty hidden region"),
    (lambda s: s.replace("### END HIDDEN TESTS\nwith", "with"), "each on its own"),
    (lambda s: s.replace("credit = Credit(points=2)\n### BEGIN HIDDEN TESTS\n",
                         "### BEGIN HIDDEN TESTS\ncredit = Credit(points=2)\n"),
     "`credit = Credit(points=N)` in the visible part"),
], ids=["check-unwrapped", "one-region", "check-first", "no-earned", "earned-visible",
        "hidden-uses-checks", "empty-region", "unbalanced", "credit-hidden"])
def test_a_partial_credit_cell_out_of_form_is_named(change, problem):
    source = change(GOOD_CREDIT_CELL)
    assert source != GOOD_CREDIT_CELL
    problems = problems_of_cell(source)
    assert any(problem in found for found in problems), problems
