"""Tests of adaptive_kneser_ney_bits and paired_block_test (rnnbook.baselines)."""

import numpy as np
import pytest

from rnnbook.baselines import adaptive_kneser_ney_bits, paired_block_test
from rnnbook.forecast_scores import diebold_mariano
from rnnbook.kneser_ney import KneserNeyNGram


def _ids(n, seed=0):
    return np.random.default_rng(seed).integers(0, 5, size=n)


def test_adaptive_kneser_ney_scores_each_block_with_the_text_before_it():
    train, held = _ids(300), _ids(70, 1)
    bits = adaptive_kneser_ney_bits(train, held, 5, order=3, every=25)
    assert bits.shape == (70,)
    ids = np.concatenate([train, held])
    for start in (300, 325, 350):
        model = KneserNeyNGram(3, 5).fit(ids[:start])
        want = -model.log2_prob(ids[:start + 25], start)
        np.testing.assert_allclose(bits[start - 300:start - 275], want, rtol=1e-12)


def test_adaptive_kneser_ney_with_one_block_is_the_static_model():
    train, held = _ids(300), _ids(70, 1)
    static = -KneserNeyNGram(3, 5).fit(train).log2_prob(np.concatenate([train, held]), 300)
    np.testing.assert_allclose(adaptive_kneser_ney_bits(train, held, 5, 3, every=70), static)


def test_adaptive_kneser_ney_learns_a_repeat_in_the_held_out_text():
    train = _ids(2000)
    phrase = np.random.default_rng(2).integers(0, 5, size=200)
    held = np.concatenate([phrase, phrase])
    static = adaptive_kneser_ney_bits(train, held, 5, 8, every=400)
    adaptive = adaptive_kneser_ney_bits(train, held, 5, 8, every=200)
    np.testing.assert_allclose(adaptive[:200], static[:200])
    assert adaptive[200:].mean() < static[200:].mean() - 0.5


def test_paired_block_test_matches_diebold_mariano_and_its_interval():
    rng = np.random.default_rng(0)
    a, b = rng.normal(1.0, 1, 1000), rng.normal(1.1, 1, 1000)
    test = paired_block_test(a, b, block=50, lags=2)
    diff, p = diebold_mariano(a.reshape(20, 50).mean(1), b.reshape(20, 50).mean(1), lags=2)
    assert test["blocks"] == 20
    assert test["diff"] == pytest.approx(diff) and test["p"] == pytest.approx(p)
    lo, hi = test["ci"]
    assert lo == pytest.approx(diff - 1.959964 * test["se"])
    assert hi == pytest.approx(diff + 1.959964 * test["se"])
    assert test["mde"] == pytest.approx(2.801585 * test["se"])
    assert test["se"] > 0


def test_paired_block_test_drops_a_partial_block():
    a, b = _ids(1010).astype(float), _ids(1010, 1).astype(float)
    assert paired_block_test(a, b, 100)["diff"] == pytest.approx((a - b)[:1000].mean())


def test_bad_arguments():
    with pytest.raises(ValueError, match="every"):
        adaptive_kneser_ney_bits(_ids(50), _ids(10), 5, 3, every=0)
    with pytest.raises(ValueError, match="bits_a, bits_b"):
        paired_block_test(np.zeros(100), np.zeros(99), 10)
    with pytest.raises(ValueError, match="block"):
        paired_block_test(np.zeros(100), np.ones(100), 30)
    with pytest.raises(ValueError, match="lags"):
        paired_block_test(np.zeros(100), np.ones(100), 20, lags=4)
