"""The building blocks of the exercise checks: they accept right answers and explain wrong ones."""

import numpy as np
import pytest
import torch

from rnnbook import checks
from rnnbook.checks import (
    CheckFailed,
    as_array,
    call_answer,
    diagnose,
    expect_callable,
    expect_close,
    expect_equal,
    expect_numeric,
    expect_raises,
    expect_shape,
    fail,
    passed,
)
from rnnbook.checks._core import PASSED_NOTE


def message(check, *args, **kwargs):
    """The message of the CheckFailed that ``check(*args, **kwargs)`` raises."""
    with pytest.raises(CheckFailed) as info:
        check(*args, **kwargs)
    return str(info.value)


def test_check_failed_is_an_assertion_error_so_graders_count_it_as_a_failure():
    assert issubclass(CheckFailed, AssertionError)


def test_fail_puts_the_hint_on_its_own_line():
    assert message(fail, "wrong", "look here") == "wrong\nHint: look here"
    assert message(fail, "wrong") == "wrong"


def test_passed_puts_the_note_that_promises_no_full_marks_on_its_own_line(capsys):
    passed("the shapes")
    out = capsys.readouterr().out
    assert out == f"passed: the shapes\n        {PASSED_NOTE}\n"
    assert "visible checks" in out and max(map(len, out.split("\n"))) <= 79


def test_as_array_detaches_torch_tensors():
    array = as_array("h", torch.ones(2, 3, requires_grad=True))
    assert isinstance(array, np.ndarray) and array.shape == (2, 3)


@pytest.mark.parametrize("value", [None, print])
def test_as_array_explains_a_missing_return(value):
    text = message(as_array, "h", value)
    assert "your `h` is" in text and "`return`" in text


def test_as_array_rejects_ragged_lists():
    assert "ragged" in message(as_array, "h", [[1, 2], [3]])


def test_expect_callable():
    assert expect_callable("f", len) is len
    assert "should be a function" in message(expect_callable, "f", 3)


def test_call_answer_turns_an_unwritten_stub_into_advice():
    def stub(x):
        raise NotImplementedError()

    assert call_answer("double", lambda x: 2 * x, 4) == 8
    text = message(call_answer, "stub", stub, 1)
    assert "not written yet" in text and "NotImplementedError" in text


def test_call_answer_lets_other_errors_through():
    with pytest.raises(ZeroDivisionError):
        call_answer("f", lambda: 1 / 0)


def test_expect_shape_reports_both_shapes_as_plain_tuples():
    text = message(expect_shape, "h", np.zeros((3, 4)), np.array([3, 5]))
    assert text.startswith("your `h` has shape (3, 4); expected (3, 5).")


def test_expect_shape_uses_the_authors_hint_first():
    text = message(expect_shape, "h", np.zeros((3, 4)), (3, 5), hint="did you transpose `W_hh`?")
    assert text.endswith("Hint: did you transpose `W_hh`?")


@pytest.mark.parametrize(("got", "expected", "advice"), [
    ((4, 3), (3, 4), "transposed"),
    ((5, 3, 4), (3, 4, 5), "wrong order"),
    ((12,), (3, 4), "arranged differently"),
    ((3,), (3, 1), "arranged differently"),
    ((3,), (3, 5), "axis is missing"),
    ((2, 3, 5), (3, 5), "axis too many"),
])
def test_expect_shape_guesses_the_cause(got, expected, advice):
    assert advice in message(expect_shape, "h", np.zeros(got), expected)


def test_expect_shape_returns_the_array():
    assert expect_shape("h", [[1, 2, 3]], (1, 3)).shape == (1, 3)


def test_expect_numeric_points_at_the_first_nan():
    text = message(expect_numeric, "loss", np.array([1.0, np.nan, np.inf]))
    assert "2 NaN or infinite entries, the first at index (1,)" in text
    assert "expected numbers" in message(expect_numeric, "loss", np.array(["a"]))


def test_expect_close_accepts_values_within_tolerance():
    out = expect_close("y", np.array([1.0, 2.0]) + 1e-9, [1.0, 2.0])
    assert np.allclose(out, [1.0, 2.0])


def test_expect_close_reports_the_worst_entry_and_how_many_differ():
    got = np.array([[1.0, 2.0], [3.0, 7.0]])
    text = message(expect_close, "y", got, [[1.0, 2.0], [3.5, 4.0]])
    assert "2 of 4 entries differ" in text
    assert "at index (1, 1): got 7, expected 4" in text


def test_expect_close_on_scalars():
    assert "got 2, expected 3" in message(expect_close, "loss", 2.0, 3.0)


@pytest.mark.parametrize(("transform", "advice"), [
    (np.transpose, "transpose"),
    (np.negative, "opposite sign"),
    (lambda a: 2 * a, "times 2"),
])
def test_expect_close_diagnoses_common_slips(transform, advice):
    expected = np.arange(1.0, 10.0).reshape(3, 3) ** 2
    assert advice in message(expect_close, "y", transform(expected), expected)


def test_expect_close_rejects_nan_and_wrong_shapes():
    assert "NaN" in message(expect_close, "y", [np.nan, 1.0], [1.0, 1.0])
    assert "shape (3,); expected (2,)" in message(expect_close, "y", [1.0, 1.0, 1.0], [1.0, 1.0])


def test_expect_equal_on_arrays_counts_mismatches():
    expected = np.array([[True, False], [True, True]])
    text = message(expect_equal, "mask", ~expected, expected)
    assert "in 4 of 4 entries; the first is at index (0, 0)" in text
    assert expect_equal("mask", expected.copy(), expected) is not None


def test_expect_equal_on_plain_values():
    assert expect_equal("n", 3, 3) == 3
    assert message(expect_equal, "name", "gru", "lstm") == "your `name` is 'gru'; expected 'lstm'."


def test_expect_equal_does_not_crash_on_an_array_where_a_tuple_is_expected():
    assert "expected (2, 3)" in message(expect_equal, "shape", np.array([2, 3, 4]), (2, 3))


def test_expect_raises():
    def strict(x):
        if x < 0:
            raise ValueError("x must be non-negative")
        return x

    assert isinstance(expect_raises("strict", strict, (-1,)), ValueError)
    assert "accepted invalid input" in message(expect_raises, "strict", strict, (1,))
    assert "raised TypeError" in message(expect_raises, "strict", strict, ("a",))


def test_failing_frames_are_hidden_from_ipython_tracebacks():
    for name in checks.__all__:
        func = getattr(checks, name)
        if callable(func) and name not in ("CheckFailed", "passed"):
            assert "__tracebackhide__" in func.__code__.co_varnames, name


def test_diagnose_names_the_slip_of_a_known_wrong_answer():
    right, transposed = np.arange(6.0).reshape(2, 3), np.arange(6.0).reshape(3, 2)
    doubled = 2 * right
    wrong = [(doubled, "is twice too large.", "divide by 2"), (transposed, "is transposed.", None)]
    assert message(diagnose, "W", doubled, wrong) == \
        "your `W` is twice too large.\nHint: divide by 2"
    assert message(diagnose, "W", transposed, wrong) == "your `W` is transposed."
    diagnose("W", right, wrong)  # an answer that is none of the wrong ones passes
    # a "wrong" answer that equals the expected value on these inputs never rejects the right one
    diagnose("W", right, [(right.copy(), "is wrong.", None)], expected=right)
    with pytest.raises(CheckFailed):
        diagnose("W", right, [(right.copy(), "is wrong.", None)])


def test_a_mismatch_is_printed_with_the_digits_that_tell_the_numbers_apart():
    # the second review of chapters 1-3: "got 1.45238, expected 1.45238" told a learner nothing
    assert "got 1.0000001, expected 1." in message(expect_close, "x", 1.0000001, 1.0, rtol=1e-9)
    assert "got 2.5, expected 3." in message(expect_close, "x", 2.5, 3.0)
