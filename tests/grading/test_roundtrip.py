"""A class of doctored submissions, autograded and exported: every student gets the grade earned.

The ``graded`` fixture (conftest.py) builds a course for each exercises notebook, autogrades all
the cases of roundtrip.py in it and exports the grades to CSV; these tests read the result.
"""

import nbformat
import pytest
from roundtrip import (
    CASES,
    FIXTURE_CASES,
    HIDDEN,
    MACHINERY,
    MAX_LINES,
    SOLUTION,
    answer_cells,
    grade_cells,
    is_test,
)


def errors(cell):
    """The names of a cell's error outputs."""
    return [out.ename for out in cell.get("outputs", []) if out.output_type == "error"]


def source_lines(regex, nb):
    """The meaningful lines inside the ``regex`` regions of a notebook's cells."""
    return {line.strip() for cell in nb.cells for region in regex.findall(cell.source)
            for line in region.splitlines() if len(line.strip()) > 3}


def assert_scores(graded, case):
    expected = graded.expected_scores(case)
    assert graded.cell_scores[case.student] == expected
    row = graded.csv_rows[case.student]
    assert float(row["score"]) == pytest.approx(sum(expected.values()))
    assert float(row["max_score"]) == pytest.approx(sum(graded.points.values()))


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.student)
def test_each_submission_gets_the_points_it_earned(graded, case):
    assert_scores(graded, case)


@pytest.mark.parametrize("case", MACHINERY + FIXTURE_CASES, ids=lambda case: case.student)
def test_grading_recovers_and_goes_on_after_a_failing_cell(graded_fixture, case):
    assert_scores(graded_fixture, case)


def test_every_student_is_in_the_grade_sheet(graded):
    assert set(graded.csv_rows) == {case.student for case in graded.cases}


def test_a_loop_is_interrupted_and_costs_only_its_exercise(graded_fixture):
    last_test = grade_cells(graded_fixture.autograded("loops"))[-1]
    assert "CellTimeoutError" in errors(last_test)


def test_a_dead_kernel_is_restarted_for_the_next_cells(graded_fixture):
    nb = graded_fixture.autograded("killed")
    assert "DeadKernelError" in errors(answer_cells(nb)[-1])
    assert "DeadKernelError" not in errors(grade_cells(nb)[-1])


def test_an_early_exit_costs_only_its_exercise(graded_fixture):
    nb = graded_fixture.autograded("exits-first")
    assert "DeadKernelError" in errors(answer_cells(nb)[0])
    assert not any(errors(cell) for cell in grade_cells(nb)[1:])


def test_a_kernel_that_ignores_the_interrupt_is_replaced(graded_fixture):
    assert "UnresponsiveKernel" in errors(answer_cells(graded_fixture.autograded("stuck-first"))[0])


def test_a_huge_output_is_cut(graded_fixture):
    cell = answer_cells(graded_fixture.autograded("huge-output"))[0]
    text = "".join(out.get("text", "") for out in cell.outputs)
    assert 0 < text.count("\n") <= MAX_LINES


def test_edited_and_deleted_test_cells_are_restored_with_their_hidden_tests(graded):
    original = [cell.source for cell in grade_cells(nbformat.read(graded.notebook, as_version=4))]
    edited = [cell.source for cell in grade_cells(graded.autograded("tests-edited"))]
    assert edited == original
    restored = grade_cells(graded.autograded("tests-deleted"))
    assert len(restored) == len(original)
    assert all(cell.source.endswith(text) for cell, text in zip(restored, original, strict=True))


def test_patched_checks_are_caught_by_the_hidden_tests(graded):
    for cell in grade_cells(graded.autograded("checks-patched")):
        assert errors(cell), f"{cell.metadata.nbgrader.grade_id} passed with patched checks"
        assert not {"CheckFailed", "NotImplementedError"} & set(errors(cell))


def test_the_released_copy_holds_no_solution_and_no_hidden_test(graded):
    source, released = nbformat.read(graded.notebook, as_version=4), graded.released()
    text = "\n".join(cell.source for cell in released.cells)
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS",
                   "{solution}"):
        assert marker not in text
    shared = {line.strip() for cell in released.cells for line in cell.source.splitlines()}
    outside = {line.strip() for cell in source.cells
               for line in HIDDEN.sub("", SOLUTION.sub("", cell.source)).splitlines()}
    leaked = (source_lines(SOLUTION, source) | source_lines(HIDDEN, source)) - outside
    assert not leaked & shared, f"released: {leaked & shared}"
    assert not any(cell.get("outputs") for cell in released.cells)


def test_the_released_copy_keeps_every_exercise_locked(graded):
    released = graded.released()
    assert len(answer_cells(released)) == len(grade_cells(released)) == len(graded.points)
    assert all(cell.metadata.nbgrader["locked"] for cell in released.cells if is_test(cell))
    assert all("raise NotImplementedError()" in cell.source for cell in answer_cells(released))


def test_one_submission_is_graded_in_reasonable_time(graded):
    assert graded.seconds_one < 120


def test_the_released_copy_is_plain_markdown(graded):
    text = "\n".join(cell.source for cell in graded.released().cells
                     if cell.cell_type == "markdown")
    for raw in (":::", "{exercise}", ":label:", "{doc}", "{numref}", "{ref}"):
        assert raw not in text, f"the student's copy shows raw MyST markup {raw!r}"
    headings = [line for line in text.splitlines() if line.startswith("### Exercise ")]
    source = "\n".join(cell.source for cell in nbformat.read(graded.notebook, as_version=4).cells)
    assert len(headings) == source.count("{exercise}")
