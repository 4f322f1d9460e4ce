"""rnnbook.data.synthetic: shapes, determinism, the task's definition and argument checks."""

import numpy as np
import pytest

from rnnbook.data.synthetic import (
    COPY_BLANK,
    copy_task,
    random_length_sequences,
    sequence_sum,
    sine_prediction,
    sine_waves,
)


def test_sine_waves_shape_range_and_determinism():
    waves = sine_waves(np.random.default_rng(1), 5, 40)
    assert waves.shape == (5, 40) and waves.dtype == np.float64
    assert np.abs(waves).max() <= 1.0
    assert np.array_equal(waves, sine_waves(np.random.default_rng(1), 5, 40))
    assert not np.array_equal(waves, sine_waves(np.random.default_rng(2), 5, 40))


def test_sine_waves_are_sines_of_the_given_period():
    # a sampled sine obeys w[t+1] + w[t-1] = 2 cos(2 pi / P) w[t]; with one period P it is exact
    waves = sine_waves(np.random.default_rng(3), 4, 50, period_range=(20.0, 20.0), amplitude=2.0)
    lhs = waves[:, 2:] + waves[:, :-2]
    assert np.allclose(lhs, 2 * np.cos(2 * np.pi / 20) * waves[:, 1:-1], atol=1e-12)
    assert np.abs(waves).max() <= 2.0 + 1e-12


def test_sine_waves_noise():
    rng_a, rng_b = np.random.default_rng(4), np.random.default_rng(4)
    clean = sine_waves(rng_a, 200, 30, period_range=(25.0, 25.0))
    noisy = sine_waves(rng_b, 200, 30, period_range=(25.0, 25.0), noise_std=0.1)
    assert 0.08 < np.std(noisy - clean) < 0.12


def test_sine_prediction_targets_are_the_next_inputs():
    inputs, targets = sine_prediction(np.random.default_rng(5), 3, 25)
    assert inputs.shape == targets.shape == (3, 25, 1)
    assert np.array_equal(targets[:, :-1], inputs[:, 1:])


def test_random_length_sequences():
    seqs = random_length_sequences(np.random.default_rng(6), 50, 3, length_range=(2, 5))
    assert len(seqs) == 50
    lengths = {len(s) for s in seqs}
    assert lengths == {2, 3, 4, 5}
    assert all(s.shape[1:] == (3,) and s.dtype == np.float64 for s in seqs)


def test_sequence_sum_targets_and_determinism():
    seqs, sums = sequence_sum(np.random.default_rng(7), 40, length_range=(1, 6), input_size=2,
                              scale=0.5)
    assert len(seqs) == 40 and sums.shape == (40, 2) and sums.dtype == np.float64
    assert {len(s) for s in seqs} == {1, 2, 3, 4, 5, 6}
    for s, total in zip(seqs, sums, strict=True):
        assert s.shape[1:] == (2,) and np.allclose(s.sum(axis=0), total, atol=1e-15)
    again, _ = sequence_sum(np.random.default_rng(7), 40, length_range=(1, 6), input_size=2,
                            scale=0.5)
    assert all(np.array_equal(a, b) for a, b in zip(seqs, again, strict=True))
    assert 0.4 < np.std(np.concatenate(seqs)) < 0.6
    one, _ = sequence_sum(np.random.default_rng(8), 3)
    assert all(s.shape[1] == 1 for s in one)


@pytest.mark.parametrize("call, words", [
    (lambda: sine_waves(np.random.RandomState(0), 2, 3), "rng: expected a numpy.random.Generator"),
    (lambda: sine_waves(np.random.default_rng(0), 0, 3), "num_sequences"),
    (lambda: sine_waves(np.random.default_rng(0), 2, 2.5), "length"),
    (lambda: sine_waves(np.random.default_rng(0), 2, 3, period_range=(5, 2)), "period_range"),
    (lambda: sine_waves(np.random.default_rng(0), 2, 3, period_range=(0, 2)), "period_range"),
    (lambda: sine_waves(np.random.default_rng(0), 2, 3, period_range=3), "period_range"),
    (lambda: sine_waves(np.random.default_rng(0), 2, 3, noise_std=-1), "noise_std"),
    (lambda: sine_prediction(np.random.default_rng(0), 2, 0), "length"),
    (lambda: random_length_sequences(np.random.default_rng(0), 2, 0), "input_size"),
    (lambda: random_length_sequences(np.random.default_rng(0), 2, 3, (0, 4)), "length_range"),
    (lambda: random_length_sequences(np.random.default_rng(0), 2, 3, (5, 4)), "length_range"),
    (lambda: random_length_sequences(np.random.default_rng(0), True, 3), "num_sequences"),
    (lambda: sequence_sum(np.random.default_rng(0), 0), "num_sequences"),
    (lambda: sequence_sum(np.random.default_rng(0), 2, (3, 2)), "length_range"),
    (lambda: sequence_sum(np.random.default_rng(0), 2, "ab"), "length_range"),
    (lambda: sequence_sum(np.random.default_rng(0), 2, input_size=0), "input_size"),
    (lambda: sequence_sum(np.random.default_rng(0), 2, scale=0.0), "scale"),
    (lambda: sequence_sum(None, 2), "rng"),
])
def test_bad_arguments_raise(call, words):
    with pytest.raises(ValueError, match=words):
        call()


def test_copy_task_with_given_symbols_copies_them_and_draws_nothing():
    S, T, K = 3, 5, 4
    symbols = np.array([[1, 2, 3], [4, 4, 1]], dtype=np.int32)
    rng = np.random.default_rng(0)
    inputs, targets = copy_task(rng, 2, S, T, alphabet_size=K, symbols=symbols)
    assert inputs.dtype == targets.dtype == np.int64
    assert np.array_equal(inputs[:, :S], symbols)
    assert np.array_equal(targets[:, T + S:], symbols)
    assert (inputs[:, S + T - 1] == K + 1).all()
    assert (targets[:, :T + S] == COPY_BLANK).all()
    # the generator was not used: its next draw is its first
    assert rng.integers(1 << 30) == np.random.default_rng(0).integers(1 << 30)
    # the same symbols drawn by the generator give the same sequences
    drawn, _ = copy_task(np.random.default_rng(3), 2, S, T, alphabet_size=K)
    again, _ = copy_task(np.random.default_rng(9), 2, S, T, alphabet_size=K,
                         symbols=drawn[:, :S])
    assert np.array_equal(drawn, again)


@pytest.mark.parametrize("symbols, words", [
    (np.ones((3, 3), dtype=int), r"symbols: expected shape .*\(2, 3\)"),
    (np.ones((2, 2), dtype=int), r"symbols: expected shape"),
    (np.ones((2, 3)), "symbols: expected an integer array"),
    (np.zeros((2, 3), dtype=int), r"symbols: expected values in 1 \.\. 8"),
    (np.full((2, 3), 9), r"symbols: expected values in 1 \.\. 8"),
])
def test_copy_task_rejects_bad_symbols(symbols, words):
    with pytest.raises(ValueError, match=words):
        copy_task(np.random.default_rng(0), 2, 3, 5, alphabet_size=8, symbols=symbols)
