"""Submissions that attack the grader's machine, autograded in the course's sandbox.

The fixture's class (``graded_fixture``, conftest.py) holds one student per attack of
roundtrip.ATTACKS; each attack runs first in an answer cell and prints what it got. Every attack
must earn exactly its expected grade, get nothing, and leave the course as it was.
"""

import pytest
from roundtrip import ATTACKS, LISTENER, PWNED, answer_cells
from test_roundtrip import assert_scores, errors

from rnnbook.sandbox import default_processes


def printed(cell):
    """What a cell printed."""
    return "".join(out.get("text", "") for out in cell.get("outputs", []))


@pytest.mark.parametrize("case", ATTACKS, ids=lambda case: case.student)
def test_each_attack_gets_the_grade_its_answers_earn(graded_fixture, case):
    assert_scores(graded_fixture, case)


@pytest.mark.parametrize(("student", "files"), [
    ("reads-gradebook", 1), ("reads-source", 2), ("reads-other", 2)])
def test_the_gradebook_the_instructor_copies_and_other_submissions_cannot_be_read(
        graded_fixture, student, files):
    text = printed(answer_cells(graded_fixture.autograded(student))[0])
    assert "LEAKED" not in text
    assert text.count("blocked") == files


def test_nothing_is_written_outside_the_submissions_folder(graded_fixture):
    text = printed(answer_cells(graded_fixture.autograded("writes-outside"))[0])
    assert "WROTE" not in text and text.count("blocked") == 3
    workdir = graded_fixture.course.parent
    assert not list(workdir.rglob(PWNED))


def test_a_submission_has_no_network(graded_fixture):
    text = printed(answer_cells(graded_fixture.autograded("connects"))[0])
    assert "CONNECTED" not in text and text.count("blocked") == 2
    LISTENER.setblocking(False)
    with pytest.raises(BlockingIOError):  # no connection reached the grader's loopback
        LISTENER.accept()


def test_a_fork_bomb_is_stopped_at_the_process_limit(graded_fixture):
    cell = answer_cells(graded_fixture.autograded("forks"))[-1]
    forked = int(printed(cell).split("forked")[-1])
    assert 0 < forked < default_processes()
    assert "BlockingIOError" in errors(cell)


def test_a_huge_allocation_fails_in_its_cell(graded_fixture):
    assert "MemoryError" in errors(answer_cells(graded_fixture.autograded("allocates"))[-1])


def test_the_other_students_grades_are_untouched(graded_fixture):
    # The instructor copy was graded first, alone; the attacks came after it.
    assert_scores(graded_fixture, next(c for c in graded_fixture.cases
                                       if c.student == "instructor"))
    assert set(graded_fixture.csv_rows) == {case.student for case in graded_fixture.cases}
