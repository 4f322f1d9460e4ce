"""rnnbook.data.synthetic: the adding problem and the copy task of chapter 5."""

import math

import numpy as np
import pytest

from rnnbook.data.synthetic import (
    ADDING_BASELINE_MSE,
    COPY_BLANK,
    adding_problem,
    copy_task,
    copy_task_baseline,
)


def test_adding_problem_shapes_and_dtypes():
    inputs, targets = adding_problem(np.random.default_rng(0), 7, 30)
    assert inputs.shape == (7, 30, 2) and inputs.dtype == np.float32
    assert targets.shape == (7,) and targets.dtype == np.float32


def test_adding_problem_has_two_markers_one_per_half():
    T = 31
    inputs, _ = adding_problem(np.random.default_rng(1), 500, T)
    markers = inputs[..., 1]
    assert set(np.unique(markers)) == {0.0, 1.0}
    assert np.array_equal(markers.sum(axis=1), np.full(500, 2.0))
    assert np.array_equal(markers[:, : T // 2].sum(axis=1), np.ones(500))
    assert np.array_equal(markers[:, T // 2:].sum(axis=1), np.ones(500))
    # every position of each half is used
    assert (markers.sum(axis=0) > 0).all()


def test_adding_problem_target_is_the_sum_of_the_marked_values():
    inputs, targets = adding_problem(np.random.default_rng(2), 50, 20)
    values, markers = inputs[..., 0], inputs[..., 1]
    assert ((values >= 0) & (values <= 1)).all()
    np.testing.assert_allclose(targets, (values * markers).sum(axis=1), rtol=1e-6)


def test_adding_problem_baseline_is_one_sixth():
    _, targets = adding_problem(np.random.default_rng(3), 200_000, 10)
    assert abs(targets.mean() - 1.0) < 0.005
    assert abs(np.mean((targets - 1.0) ** 2) - ADDING_BASELINE_MSE) < 0.002
    assert math.isclose(ADDING_BASELINE_MSE, 2 / 12)


def test_adding_problem_is_deterministic_and_smallest_length_works():
    a = adding_problem(np.random.default_rng(4), 3, 2)
    b = adding_problem(np.random.default_rng(4), 3, 2)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert np.array_equal(a[0][..., 1], np.ones((3, 2)))


@pytest.mark.parametrize("kwargs, name", [
    ({"rng": 0}, "rng"),
    ({"num_sequences": 0}, "num_sequences"),
    ({"num_sequences": 2.5}, "num_sequences"),
    ({"length": 1}, "length"),
    ({"length": True}, "length"),
])
def test_adding_problem_bad_inputs(kwargs, name):
    args = {"rng": np.random.default_rng(0), "num_sequences": 4, "length": 10, **kwargs}
    with pytest.raises(ValueError, match=name):
        adding_problem(**args)


def test_copy_task_layout():
    S, T, K = 4, 6, 5
    inputs, targets = copy_task(np.random.default_rng(5), 9, S, T, alphabet_size=K)
    assert inputs.shape == targets.shape == (9, T + 2 * S)
    assert inputs.dtype == targets.dtype == np.int64
    symbols = inputs[:, :S]
    assert ((symbols >= 1) & (symbols <= K)).all()
    assert (inputs[:, S:S + T - 1] == COPY_BLANK).all()
    assert (inputs[:, S + T - 1] == K + 1).all()
    assert (inputs[:, S + T:] == COPY_BLANK).all()
    assert (targets[:, :T + S] == COPY_BLANK).all()
    assert np.array_equal(targets[:, T + S:], symbols)
    assert targets.max() <= K


def test_copy_task_delay_one_puts_the_delimiter_right_after_the_symbols():
    inputs, _ = copy_task(np.random.default_rng(6), 2, 3, 1)
    assert (inputs[:, 3] == 9).all() and inputs.shape == (2, 7)


def test_copy_task_baseline_matches_the_memoryless_prediction():
    S, T, K = 10, 100, 8
    assert math.isclose(copy_task_baseline(S, T, K), 10 * math.log(8) / 120)
    # the memoryless predictor: blank for sure, then uniform over the symbols
    _, targets = copy_task(np.random.default_rng(7), 20, S, T, alphabet_size=K)
    probs = np.zeros((T + 2 * S, K + 1))
    probs[:T + S, COPY_BLANK] = 1.0
    probs[T + S:, 1:] = 1.0 / K
    with np.errstate(divide="ignore"):
        nll = -np.log(probs[np.arange(T + 2 * S), targets])
    assert math.isclose(nll.mean(), copy_task_baseline(S, T, K), rel_tol=1e-12)


@pytest.mark.parametrize("kwargs, name", [
    ({"rng": None}, "rng"),
    ({"num_sequences": -1}, "num_sequences"),
    ({"num_symbols": 0}, "num_symbols"),
    ({"delay": 0}, "delay"),
    ({"alphabet_size": 1}, "alphabet_size"),
])
def test_copy_task_bad_inputs(kwargs, name):
    args = {"rng": np.random.default_rng(0), "num_sequences": 4, "num_symbols": 3, "delay": 5,
            **kwargs}
    with pytest.raises(ValueError, match=name):
        copy_task(**args)
    if name in ("num_symbols", "delay", "alphabet_size"):
        base = {"num_symbols": 3, "delay": 5, "alphabet_size": 8}
        base.update({k: v for k, v in kwargs.items() if k in base})
        with pytest.raises(ValueError, match=name):
            copy_task_baseline(**base)
