"""The hidden tests of chapter 4's exercises reject wrong answers without using rnnbook.checks.

Each test cell has the form of a partial-credit cell (``rnnbook.checks.partial.Credit``): the
named hidden cases first, then ``with credit.visible():`` around the visible check, then a
second hidden region with ``credit.earned()``. Its hidden regions are cut out of
``chapters/04_bptt/exercises.ipynb`` and run in order, without the visible check, with only
NumPy, torch and the cell's ``credit`` in their namespace. The reference answers earn every
point; the wrong answers of the review (``REVIEW_WRONG`` of test_checks_ch04.py, which the
visible checks reject too) earn less; an answer that changes its inputs fails the named case
"leaves its inputs unchanged" and only that. The learner's copy of a cell (hidden regions
removed, as nbgrader and ``rnnbook.exercise_copies`` remove them) fails on a wrong answer.
"""
import pathlib
import re

import nbformat
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from test_checks_ch04 import (
    REVIEW_WRONG,
    RIGHT,
    central,
    clip_torch_style_answer,
    same_arrays_when_small,
    step_backward,
)
from torch import nn

from rnnbook.checks import CheckFailed, ch04
from rnnbook.checks.partial import Credit, NoCredit
from rnnbook.exercise_copies import strip_regions

NOTEBOOK = pathlib.Path(__file__).resolve().parents[2] / "chapters" / "04_bptt" / "exercises.ipynb"
UNCHANGED = "leaves its inputs unchanged"
REGION = re.compile(r"^### BEGIN HIDDEN TESTS\n(.*?)^### END HIDDEN TESTS$", re.M | re.S)
ANSWER = {"ch04-step-backward-tests": "rnn_step_backward",
          "ch04-bptt-output-tests": "bptt_with_output", "ch04-grad-h0-tests": "grad_h0",
          "ch04-numerical-gradient-tests": "numerical_gradient",
          "ch04-jacobian-norms-tests": "jacobian_norms_by_k",
          "ch04-clip-tests": "clip_global_norm",
          "ch04-truncated-tests": "truncated_grad_W_hh"}


def graded_cells():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    return {cell.metadata["nbgrader"]["grade_id"]: cell for cell in nb.cells
            if cell.metadata.get("nbgrader", {}).get("grade")}


CELLS = graded_cells()


def hidden(grade_id):
    """The cell's hidden regions, in order, without the visible part between them."""
    return "".join(REGION.findall(CELLS[grade_id].source))


def points(grade_id):
    """The points of the cell, as its visible part gives them to Credit."""
    found = re.search(r"^credit = Credit\(points=(\d+)\)$", CELLS[grade_id].source, re.M)
    assert float(found.group(1)) == CELLS[grade_id].metadata["nbgrader"]["points"]
    return int(found.group(1))


def run_hidden(grade_id, answer):
    """The Credit of the hidden regions run on ``answer``: its named results and the score."""
    torch.manual_seed(0)
    credit = Credit(points=points(grade_id))
    namespace = {"np": np, "torch": torch, "F": F, "nn": nn, ANSWER[grade_id]: answer,
                 "credit": credit}
    block = hidden(grade_id)
    assert "ch04" not in block and "rnnbook" not in block   # no help from the checks
    try:
        exec(compile(block, grade_id, "exec"), namespace)   # ends with credit.earned()
        score = credit.earned()
    except NoCredit:
        score = 0.0
    failed = {case: reason for case, _, reason in credit.results if reason is not None}
    return failed, score


def run_cell(grade_id, answer, learner=False):
    """Run the whole test cell on ``answer`` as the grader does (or, with ``learner``, the
    learner's copy: hidden regions removed); returns its namespace."""
    torch.manual_seed(0)
    source = strip_regions(CELLS[grade_id].source) if learner else CELLS[grade_id].source
    namespace = {"np": np, "torch": torch, "F": F, "nn": nn, "ch04": ch04, "Credit": Credit,
                 ANSWER[grade_id]: answer}
    exec(compile(source, grade_id, "exec"), namespace)
    return namespace


def test_every_exercise_has_hidden_cases_and_a_last_region_with_the_score():
    assert set(CELLS) == set(RIGHT) == set(ANSWER)
    for grade_id in CELLS:
        first, last = REGION.findall(CELLS[grade_id].source)
        assert last == "credit.earned()\n", grade_id
        assert f'credit.case("{UNCHANGED}")' in first and "credit.earned()" not in first


def test_every_visible_check_is_wrapped_in_credit_visible_after_the_hidden_cases():
    """Credit is made first, the hidden cases run, then the visible check in credit.visible()."""
    for grade_id, cell in CELLS.items():
        assert re.fullmatch(r"credit = Credit\(points=\d+\)\n### BEGIN HIDDEN TESTS\n.*"
                            r"### END HIDDEN TESTS\nwith credit\.visible\(\):\n"
                            rf"    ch04\.check_\w+\({ANSWER[grade_id]}\)\n"
                            r"### BEGIN HIDDEN TESTS\ncredit\.earned\(\)\n### END HIDDEN TESTS\n?",
                            cell.source, re.S), grade_id


@pytest.mark.parametrize("index", range(len(REVIEW_WRONG)),
                         ids=[f"{g[5:-6]}: {w}" for g, w, _, _ in REVIEW_WRONG])
def test_the_learners_copy_fails_on_a_wrong_answer(index):
    """Without the hidden regions the visible check raises: the cell fails, Validate says so."""
    grade_id, _, answer, _ = REVIEW_WRONG[index]
    learner = strip_regions(CELLS[grade_id].source)
    assert "HIDDEN" not in learner and "credit.visible()" in learner
    with pytest.raises(CheckFailed):
        run_cell(grade_id, answer, learner=True)


@pytest.mark.parametrize("grade_id", sorted(RIGHT))
def test_the_learners_copy_passes_the_right_answer(grade_id, capsys):
    namespace = run_cell(grade_id, RIGHT[grade_id], learner=True)
    assert namespace["credit"].results == []
    assert capsys.readouterr().out.startswith(f"passed: {ANSWER[grade_id]}")


@pytest.mark.parametrize("index", range(len(REVIEW_WRONG)),
                         ids=[f"{g[5:-6]}: {w}" for g, w, _, _ in REVIEW_WRONG])
def test_the_graded_cell_prints_a_failed_visible_check_and_scores_the_hidden_cases(index,
                                                                                    capsys):
    grade_id, _, answer, _ = REVIEW_WRONG[index]
    _, score = run_hidden(grade_id, answer)
    capsys.readouterr()
    try:
        earned = run_cell(grade_id, answer)["credit"].earned()
    except NoCredit:
        earned = 0.0
    out = capsys.readouterr().out
    assert earned == score < points(grade_id)
    assert "failed: the visible check: " in out
    assert max(len(line) for line in out.splitlines()) <= 79


@pytest.mark.parametrize("grade_id", sorted(RIGHT))
def test_the_right_answers_earn_every_point(grade_id, capsys):
    failed, score = run_hidden(grade_id, RIGHT[grade_id])
    assert not failed and score == points(grade_id)
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("grade_id", sorted(RIGHT))
def test_an_answer_that_returns_nothing_earns_nothing(grade_id):
    """The round trip's submission with patched checks: stubs that return None get 0."""
    failed, score = run_hidden(grade_id, lambda *args, **kwargs: None)
    assert score == 0.0 and UNCHANGED in failed


@pytest.mark.parametrize("index", range(len(REVIEW_WRONG)),
                         ids=[f"{g[5:-6]}: {w}" for g, w, _, _ in REVIEW_WRONG])
def test_the_reviews_wrong_answers_lose_points(index):
    grade_id, what, answer, _ = REVIEW_WRONG[index]
    failed, score = run_hidden(grade_id, answer)
    assert failed and score < points(grade_id)
    if "in place" in what or "g *= scale" in what:
        assert UNCHANGED in failed
    if "in place" in what and grade_id != "ch04-clip-tests":  # right values: only that case
        assert set(failed) == {UNCHANGED}, failed


# Wrong answers the chapter's checks diagnose by name, beyond the review's.
MORE_WRONG = [
    ("ch04-step-backward-tests", lambda *a: step_backward(*a, deriv=a[2])),
    ("ch04-bptt-output-tests", lambda *a: ch04.lm_gradients(*a, variant="last_step")),
    ("ch04-bptt-output-tests", lambda *a: ch04.lm_gradients(*a, variant="batch_sum")),
    ("ch04-grad-h0-tests", lambda *a: ch04.grad_h0_reference(*a, variant="prev_deriv")),
    ("ch04-numerical-gradient-tests", lambda f, x, eps=1e-5: central(f, x, eps) / 2),
    ("ch04-numerical-gradient-tests", lambda f, x, eps=1e-5: central(f, x, eps).ravel()),
    ("ch04-jacobian-norms-tests", lambda W, h: ch04.jacobian_norms_reference(W, h, "no_deriv")),
    ("ch04-clip-tests", same_arrays_when_small),
    ("ch04-clip-tests", clip_torch_style_answer),
    ("ch04-truncated-tests", lambda *a: ch04.truncated_reference(*a, variant="full")),
    ("ch04-truncated-tests", lambda *a: ch04.truncated_reference(*a, variant="mean")),
    ("ch04-truncated-tests", lambda *a: ch04.truncated_reference(*a, variant="last_chunk")),
]


@pytest.mark.parametrize("index", range(len(MORE_WRONG)))
def test_more_wrong_answers_lose_points(index):
    grade_id, answer = MORE_WRONG[index]
    failed, score = run_hidden(grade_id, answer)
    assert failed and score < points(grade_id)


@pytest.mark.parametrize("grade_id", sorted(RIGHT))
def test_an_answer_that_changes_an_input_loses_only_the_unchanged_case(grade_id):
    """Right values, but the answer scribbles on its first array afterwards."""
    def scribbles(*args):
        result = RIGHT[grade_id](*args)
        first = next(a for a in args if isinstance(a, np.ndarray | list))
        (first[0] if isinstance(first, list) else first)[...] += 1.0
        return result
    failed, score = run_hidden(grade_id, scribbles)
    assert set(failed) == {UNCHANGED} and 0 < score < points(grade_id)


@pytest.mark.parametrize("grade_id, answer, case", [
    ("ch04-step-backward-tests",
     lambda *a: (*RIGHT["ch04-step-backward-tests"](*a)[:4],
                 RIGHT["ch04-step-backward-tests"](*a)[4] * 2), "db, for three sizes"),
    ("ch04-bptt-output-tests",
     lambda *a: {**RIGHT["ch04-bptt-output-tests"](*a), "b_y": np.zeros_like(a[7])},
     "the gradient of b_y, for three sizes"),
    ("ch04-numerical-gradient-tests", lambda f, x, eps=1e-5: central(f, x, 1e-6),
     "the step eps it is given (eps=1e-3)"),
    ("ch04-clip-tests", clip_torch_style_answer,
     "the clipped arrays: new arrays, one common factor"),
])
def test_one_wrong_part_costs_only_its_share(grade_id, answer, case):
    failed, score = run_hidden(grade_id, answer)
    assert set(failed) == {case}
    assert 0 < score < points(grade_id)


def test_the_hidden_numerical_gradient_test_uses_a_transposed_x():
    failed, _ = run_hidden("ch04-numerical-gradient-tests",
                           REVIEW_WRONG[[w for _, w, _, _ in REVIEW_WRONG].index(
                               "perturbs x.reshape(-1)")][2])
    assert set(failed) == {"a transposed x, not contiguous in memory"}


def test_the_hidden_clip_test_tries_all_zero_gradients():
    from test_checks_ch04 import clip_global_norm
    failed, _ = run_hidden("ch04-clip-tests", clip_global_norm)
    assert set(failed) == {"all-zero gradients: norm 0, nothing scaled"}
    assert "ZeroDivisionError" in failed["all-zero gradients: norm 0, nothing scaled"]


def test_the_checks_reference_helpers_pass_the_hidden_tests_too():
    """The references the visible checks compare with agree with torch (the hidden tests)."""
    assert run_hidden("ch04-grad-h0-tests", ch04.grad_h0_reference)[1] == 2
    assert run_hidden("ch04-bptt-output-tests", ch04.lm_gradients)[1] == 3
    assert run_hidden("ch04-truncated-tests", ch04.truncated_reference)[1] == 3
    assert run_hidden("ch04-jacobian-norms-tests", ch04.jacobian_norms_reference)[1] == 2


@pytest.mark.parametrize("grade_id, answer, score", [
    # ex. 7: a single chunk (k >= T) is plain BPTT, so answers that ignore k or restart every
    # chunk pass it, and chunks of one step carry nothing back, so an answer that never carries
    # the gradient through time passes that; each weighs 1 against 3 for each case with several
    # longer chunks: (1 + 1) / 9 of 3
    ("ch04-truncated-tests", lambda *a: ch04.truncated_reference(*a, variant="full"), 2 / 3),
    ("ch04-truncated-tests", lambda *a: ch04.truncated_reference(*a, variant="reset"), 2 / 3),
    ("ch04-truncated-tests", lambda *a: ch04.truncated_reference(*a[:-1], 1), 2 / 3),
    # ex. 2: no path through time gets the output layer right only: (1 + 1 + 1) / 9 of 3
    ("ch04-bptt-output-tests", lambda *a: ch04.lm_gradients(*a, variant="no_recurrent"), 1.0),
])
def test_answers_right_only_where_the_exercise_is_trivial_score_low(grade_id, answer, score):
    failed, earned = run_hidden(grade_id, answer)
    assert UNCHANGED not in failed
    assert earned == pytest.approx(score)


def float32_answer(answer):
    """``answer`` run on float32 copies of its float arguments (integer targets and k kept)."""
    def in_float32(*args):
        return answer(*[a.astype(np.float32) if isinstance(a, np.ndarray) and a.dtype.kind == "f"
                        else a for a in args])
    return in_float32


@pytest.mark.parametrize("grade_id", ["ch04-step-backward-tests", "ch04-bptt-output-tests",
                                      "ch04-grad-h0-tests", "ch04-truncated-tests"])
def test_a_float32_right_answer_passes_the_visible_check_and_earns_every_point(grade_id, capsys):
    """The visible check is no stricter than the hidden tests: both take float32 arithmetic."""
    namespace = run_cell(grade_id, float32_answer(RIGHT[grade_id]), learner=True)
    assert namespace["credit"].results == []
    assert capsys.readouterr().out.startswith(f"passed: {ANSWER[grade_id]}")
    failed, score = run_hidden(grade_id, float32_answer(RIGHT[grade_id]))
    assert not failed and score == points(grade_id)
