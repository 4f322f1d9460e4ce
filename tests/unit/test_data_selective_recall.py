"""Selective copying and associative recall: layout, targets, baselines and bad input."""

import math

import numpy as np
import pytest

from rnnbook.data.synthetic import (
    COPY_BLANK,
    associative_recall_task,
    selective_copy_baseline,
    selective_copy_task,
)


def test_selective_copy_layout_and_targets():
    rng = np.random.default_rng(0)
    S, L, K = 4, 20, 6
    inputs, targets = selective_copy_task(rng, 50, S, L, alphabet_size=K)
    assert inputs.shape == targets.shape == (50, L + S)
    assert inputs.dtype == targets.dtype == np.int64
    body = inputs[:, :L]
    assert ((body > 0) & (body <= K)).sum(axis=1).tolist() == [S] * 50
    assert (inputs[:, L:] == K + 1).all()
    assert (targets[:, :L] == COPY_BLANK).all()
    for row, target in zip(body, targets, strict=True):
        np.testing.assert_array_equal(row[row > 0], target[L:])
    # the positions vary from sequence to sequence
    assert len({tuple(np.flatnonzero(row)) for row in body}) > 40


def test_selective_copy_is_reproducible_and_baseline():
    a = selective_copy_task(np.random.default_rng(5), 3, 2, 8)
    b = selective_copy_task(np.random.default_rng(5), 3, 2, 8)
    np.testing.assert_array_equal(a[0], b[0])
    assert selective_copy_baseline(4, 20, 6) == pytest.approx(4 * math.log(6) / 24)


@pytest.mark.parametrize(
    ("args", "match"),
    [
        ((3, 5, 4), "num_symbols: expected at most length = 4"),
        ((0, 2, 4), "num_sequences: expected a positive integer"),
        ((3, 2, 4, 1), "alphabet_size: expected an integer >= 2"),
    ],
)
def test_selective_copy_bad_input(args, match):
    with pytest.raises(ValueError, match=match):
        selective_copy_task(np.random.default_rng(0), *args)
    with pytest.raises(ValueError, match="rng: expected a numpy.random.Generator"):
        selective_copy_task(0, 3, 2, 4)


def test_associative_recall_layout_and_targets():
    rng = np.random.default_rng(1)
    P, n_keys, n_values = 5, 12, 7
    inputs, targets = associative_recall_task(rng, 200, P, n_keys, n_values)
    assert inputs.shape == (200, 2 * P + 1) and targets.shape == (200,)
    keys, values, query = inputs[:, 0:2 * P:2], inputs[:, 1:2 * P:2], inputs[:, -1]
    assert keys.max() < n_keys and values.min() >= n_keys
    assert values.max() < n_keys + n_values
    assert all(len(set(row)) == P for row in keys)
    for k, v, q, y in zip(keys, values, query, targets, strict=True):
        (where,) = np.flatnonzero(k == q)
        assert v[where] - n_keys == y
    # every pair position is queried
    positions = [int(np.flatnonzero(k == q)[0]) for k, q in zip(keys, query, strict=True)]
    assert set(positions) == set(range(P))


@pytest.mark.parametrize(
    ("args", "match"),
    [
        ((5, 4, 3), "num_pairs: expected at most num_keys = 4"),
        ((2, 4, 1), "num_values: expected an integer >= 2"),
        ((0, 4, 3), "num_pairs: expected a positive integer"),
    ],
)
def test_associative_recall_bad_input(args, match):
    with pytest.raises(ValueError, match=match):
        associative_recall_task(np.random.default_rng(0), 3, *args)
