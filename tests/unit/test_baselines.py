"""Tests of rnnbook.baselines: compressors, character and word n-grams."""

import math

import numpy as np
import pytest

from rnnbook.baselines import (
    InterpolatedNGram,
    best_char_ngram,
    best_kneser_ney,
    best_word_ngram,
    compressor_bits,
    uniform_bits,
)
from rnnbook.data.corpora import CharNGram
from rnnbook.kneser_ney import KneserNeyNGram


def test_uniform_bits():
    assert uniform_bits(8) == 3.0
    with pytest.raises(ValueError, match="vocab_size"):
        uniform_bits(0)


@pytest.mark.parametrize("method", ["gzip -9", "xz -9e"])
def test_compressor_bits_conditional_on_train(method):
    rng = np.random.default_rng(0)
    train = "".join(rng.choice(list("abcdefgh"), size=5000))
    # a held-out text that repeats the training text costs far less than fresh random text
    repeat = compressor_bits(train, train[:2000], method)
    fresh = compressor_bits(train, "".join(rng.choice(list("abcdefgh"), size=2000)), method)
    assert repeat < 1.0 < fresh
    assert 3.0 < fresh < 4.5  # no code beats log2(8) = 3 bits on random letters


def test_compressor_bits_bad_arguments():
    with pytest.raises(ValueError, match="method"):
        compressor_bits("a", "b", "bzip2")
    with pytest.raises(ValueError, match="held_text"):
        compressor_bits("a", "", "gzip -9")


def test_best_char_ngram_finds_the_order_of_a_markov_source():
    rng = np.random.default_rng(1)
    # a second-order source: the next id is a function of the previous two, plus 5 % noise
    ids = [0, 1]
    for _ in range(30000):
        nxt = (ids[-1] + 2 * ids[-2]) % 5 if rng.random() > 0.05 else int(rng.integers(5))
        ids.append(nxt)
    ids = np.array(ids)
    result = best_char_ngram(ids[:27000], ids[27000:], 5, orders=range(0, 5))
    assert result["order"] >= 2
    best = {k: min(v for (o, _), v in result["table"].items() if o == k) for k in range(5)}
    assert best[2] < best[1] - 1.0  # the context of two ids is what carries the information
    k = result["order"]
    model = CharNGram(k, 5, result["alpha"]).fit(ids[:27000])
    assert result["held_bits"] == pytest.approx(model.cross_entropy(ids[27000 - k:]))


def test_interpolated_ngram_is_a_distribution():
    rng = np.random.default_rng(2)
    ids = rng.integers(0, 6, size=400)
    ids[::3] = 2
    model = InterpolatedNGram(3, 7, 0.6).fit(ids)
    for context in [(), (2,), (2, 4), (5, 5), (6, 6)]:
        total = sum(model.prob(context, w) for w in range(7))
        assert total == pytest.approx(1.0)
    assert model.prob((1, 2), 6) > 0  # never seen, still positive
    assert model.cross_entropy(ids, 2) < math.log2(7)


def test_interpolated_unigram_without_discount_limit_is_close_to_frequencies():
    ids = [0] * 90 + [1] * 10
    model = InterpolatedNGram(1, 2, 0.01).fit(ids)
    assert model.prob((), 0) == pytest.approx(0.9, abs=0.01)


def test_best_word_ngram_prefers_context_on_structured_text():
    rng = np.random.default_rng(3)
    ids = []
    for _ in range(3000):
        a = int(rng.integers(10))
        ids += [a, (a + 3) % 10]
    result = best_word_ngram(ids[:5000], ids[5000:], 10, orders=(1, 2, 3))
    assert result["order"] >= 2
    assert result["held_bits"] < result["table"][(1, 0.75)]


def test_interpolated_ngram_bad_arguments():
    with pytest.raises(ValueError, match="order"):
        InterpolatedNGram(0, 5)
    with pytest.raises(ValueError, match="discount"):
        InterpolatedNGram(2, 5, 1.0)
    with pytest.raises(ValueError, match="ids"):
        InterpolatedNGram(2, 5).fit([0, 9])
    with pytest.raises(ValueError, match="fit"):
        InterpolatedNGram(2, 5).prob((), 1)


def test_n_valid_chooses_on_exactly_the_last_ids():
    # the first 900 ids follow one rule and the last 300 another: validating on the last 300
    # (n_valid) must score what a model fitted on the first 900 gives there, whatever the fraction
    rng = np.random.default_rng(2)
    first = rng.integers(0, 4, 900)
    last = np.tile([0, 1, 2, 3], 75)
    train = np.concatenate([first, last])
    kn = best_kneser_ney(train, last[:40], 4, orders=(1, 2), discounts=(0.5,), n_valid=300)
    expected = KneserNeyNGram(2, 4, 0.5).fit(first).cross_entropy(train, 900)
    assert kn["table"][(2, 0.5)] == pytest.approx(expected)
    add = best_char_ngram(train, last[:40], 4, orders=(1,), alphas=(0.1,), n_valid=300)
    assert add["valid_bits"] == pytest.approx(
        CharNGram(1, 4, 0.1).fit(first).cross_entropy(train[899:]))
    word = best_word_ngram(train, last[:40], 4, orders=(2,), discounts=(0.5,), n_valid=300)
    assert word["valid_bits"] == pytest.approx(
        InterpolatedNGram(2, 4, 0.5).fit(first).cross_entropy(train, 900))
    for bad in (0, 1200, 2.5):
        with pytest.raises(ValueError, match="n_valid"):
            best_char_ngram(train, last, 4, n_valid=bad)
