"""Checks for the exercises of Chapter 6, part 1: language models and text generation.

Each ``check_*`` takes the learner's function, calls it on inputs of known answer, and prints
one ``passed: ...`` line or raises :class:`~rnnbook.checks.CheckFailed` naming the likely slip.

    check_bits_per_char(bits_per_char)       total nats over a text -> bits per character
    check_tempered_top_k(tempered_top_k)     logits (V,) -> the sampling distribution (V,)
    check_beam_step(beam_step)               one step of beam search: scores (B,), log_probs
                                             (B, V) -> the best K (beam, token, score)
"""

import math

import numpy as np

from rnnbook.checks._core import (
    as_array,
    call_answer,
    expect_close,
    expect_equal,
    expect_numeric,
    expect_shape,
    fail,
    passed,
)

__all__ = ["check_beam_step", "check_bits_per_char", "check_tempered_top_k"]

LN2 = math.log(2.0)


def _scalar(name, value):
    __tracebackhide__ = True
    array = expect_numeric(name, value)
    if array.size != 1:
        fail(f"your `{name}` has shape {array.shape}; expected one number.",
             "return a float, not an array of per-character values.")
    return float(array.reshape(()))


# ---------------------------------------------------------------------------------------------
# Bits per character
# ---------------------------------------------------------------------------------------------


def check_bits_per_char(bits_per_char):
    """Check ``bits_per_char(total_nats, num_chars) -> float``: ``total_nats / num_chars / ln 2``.

    ``total_nats`` is the summed cross-entropy (natural log) of a model over ``num_chars``
    predicted characters.
    """
    __tracebackhide__ = True
    cases = [(1386.29, 1000), (52.0, 40), (3.0 * LN2 * 7, 7)]
    for total, n in cases:
        got = _scalar("bits_per_char", call_answer("bits_per_char", bits_per_char, total, n))
        expected = total / n / LN2
        wrong = [
            (total / n, "is the mean loss in nats, not bits",
             "divide the mean loss in nats by ln 2 (log2 x = ln x / ln 2)."),
            (total / n * LN2, "multiplies by ln 2 instead of dividing",
             "one nat is 1 / ln 2 = 1.44 bits, so bits are more than nats."),
            (total / LN2, "is the total over the text, not per character",
             "divide by the number of characters."),
            (math.exp(total / n), "is the perplexity (exp of the mean nats)",
             "bits per character is the mean loss divided by ln 2, not its exponential."),
            (2 ** (total / n / LN2), "is the perplexity, 2 ** bits",
             "return the bits themselves."),
            (total / n / math.log(10), "divides by ln 10 (digits, not bits)",
             "bits are base 2: divide by ln 2."),
        ]
        for value, message, hint in wrong:
            if not math.isclose(value, expected, rel_tol=1e-9) and \
                    math.isclose(got, value, rel_tol=1e-6):
                fail(f"your `bits_per_char({total}, {n})` = {got:.6g} {message}.", hint)
        if not math.isclose(got, expected, rel_tol=1e-6):
            fail(f"your `bits_per_char({total}, {n})` = {got:.6g}; expected {expected:.6g}.",
                 "bits per character = total nats / number of characters / ln 2.")
    passed("bits_per_char converts summed nats to bits per character")


# ---------------------------------------------------------------------------------------------
# Temperature and top-k
# ---------------------------------------------------------------------------------------------


def _softmax(s):
    e = np.exp(s - s.max())
    return e / e.sum()


def reference_tempered_top_k(logits, temperature, top_k):
    """softmax(logits / T) restricted to the top_k largest logits and renormalised."""
    logits = np.asarray(logits, dtype=float)
    keep = np.argsort(-logits, kind="stable")[:top_k]
    out = np.zeros_like(logits)
    out[keep] = _softmax(logits[keep] / temperature)
    return out


def check_tempered_top_k(tempered_top_k):
    """Check ``tempered_top_k(logits, temperature, top_k) -> probs (V,)``.

    Expected: zero outside the ``top_k`` largest logits; inside, ``softmax(logits / T)``
    renormalised over the kept tokens.
    """
    __tracebackhide__ = True
    rng = np.random.default_rng(61)
    cases = [(rng.normal(size=8) * 2, 0.5, 3), (rng.normal(size=8) * 2, 2.0, 5),
             (np.array([1.0, 3.0, 0.0, 2.0, -1.0]), 1.0, 2), (rng.normal(size=6), 0.7, 6)]
    for logits, T, k in cases:
        got = as_array("probs", call_answer("tempered_top_k", tempered_top_k, logits.copy(), T, k))
        expected = reference_tempered_top_k(logits, T, k)
        expect_shape("probs", got, expected.shape,
                     "return one probability per token of the vocabulary, zeros included.")
        got = expect_numeric("probs", got).astype(float)
        full = _softmax(logits / T)
        not_renormalised = np.where(expected > 0, full, 0.0)
        order = np.argsort(-logits, kind="stable")
        least = np.zeros_like(expected)
        least[order[-k:]] = _softmax(logits[order[-k:]] / T)
        wrong = [
            (not_renormalised, "does not sum to one: the kept probabilities were not "
             "renormalised", "after zeroing the other tokens, divide by the sum of the kept ones."),
            (reference_tempered_top_k(logits * T, 1.0, k), "multiplies the logits by the "
             "temperature", "divide the logits by the temperature: T < 1 sharpens, T > 1 "
             "flattens."),
            (least,
             "keeps the k *least* likely tokens", "sort in descending order (or use the k "
             "largest logits)."),
            (full, "ignores top_k", "set every token outside the k most likely to zero."),
            (reference_tempered_top_k(logits, 1.0, k), "ignores the temperature",
             "divide the logits by the temperature before the softmax."),
            (reference_tempered_top_k(logits, T, min(k + 1, logits.size)), "keeps k + 1 tokens",
             "an off-by-one in the cut: keep exactly k tokens."),
        ]
        for value, message, hint in wrong:
            if value.shape == expected.shape and not np.allclose(value, expected, atol=1e-9) \
                    and np.allclose(got, value, atol=1e-7):
                fail(f"your `tempered_top_k` (T = {T}, top_k = {k}) {message}.", hint)
        expect_close("probs", got, expected, rtol=1e-6, atol=1e-8,
                     hint="softmax(logits / T) over the top_k largest logits, zero elsewhere.")
    passed("tempered_top_k gives softmax(logits / T) over the top k, renormalised")


# ---------------------------------------------------------------------------------------------
# One beam-search step
# ---------------------------------------------------------------------------------------------


def reference_beam_step(scores, log_probs, beam_size):
    """The ``beam_size`` best (beam, token) extensions by total score, best first (ties: the
    lower flat index ``beam * V + token`` first)."""
    total = (np.asarray(scores, float)[:, None] + np.asarray(log_probs, float)).reshape(-1)
    flat = np.argsort(-total, kind="stable")[:beam_size]
    V = np.asarray(log_probs).shape[1]
    return flat // V, flat % V, total[flat]


def check_beam_step(beam_step):
    """Check ``beam_step(scores, log_probs, beam_size) -> (beams, tokens, new_scores)``.

    ``scores`` (B,) are the summed log-probabilities of the live beams, ``log_probs`` (B, V) the
    next-token log-probabilities of each; the answer is the ``beam_size`` best extensions over
    all ``B * V``, best first: integer arrays ``beams`` and ``tokens`` and float ``new_scores``,
    each of shape (beam_size,).
    """
    __tracebackhide__ = True
    rng = np.random.default_rng(62)
    cases = []
    for B, V, K in [(3, 5, 3), (2, 6, 4), (4, 4, 2)]:
        logits = rng.normal(size=(B, V)) * 1.5
        log_probs = logits - np.log(np.exp(logits).sum(1, keepdims=True))
        scores = np.sort(rng.normal(size=B) * 2 - 3)[::-1].copy()
        cases.append((scores, log_probs, K))
    # a case where the best beam's extensions are all worse than the second beam's best
    cases.append((np.array([-1.0, -1.2]), np.log(np.array([[0.3, 0.3, 0.4], [0.9, 0.05, 0.05]])),
                  2))
    for scores, log_probs, K in cases:
        out = call_answer("beam_step", beam_step, scores.copy(), log_probs.copy(), K)
        if not (isinstance(out, tuple | list) and len(out) == 3):
            fail("your `beam_step` should return three arrays: (beams, tokens, new_scores).")
        beams, tokens, new = (as_array(n, v) for n, v in
                              zip(("beams", "tokens", "new_scores"), out, strict=True))
        b_ref, t_ref, s_ref = reference_beam_step(scores, log_probs, K)
        B, V = log_probs.shape
        for name, value in (("beams", beams), ("tokens", tokens), ("new_scores", new)):
            expect_shape(name, value, (K,), "one entry per surviving hypothesis (beam_size).")
        new = expect_numeric("new_scores", new).astype(float)
        beams, tokens = beams.astype(int), tokens.astype(int)
        if np.any(tokens >= V) or np.any(tokens < 0):
            fail(f"your `tokens` has values outside [0, {V}).",
                 "a flat index into the (B, V) scores is beam * V + token: take it modulo V.")
        if np.allclose(new, -s_ref) or np.all(np.diff(new) > 0):
            fail("your `new_scores` are in increasing order: the worst extensions first.",
                 "log-probabilities are negative; the best hypothesis has the largest score.")
        lp_only = reference_beam_step(np.zeros_like(scores), log_probs, K)
        if not np.allclose(lp_only[2], s_ref) and np.allclose(new, lp_only[2]):
            fail("your `beam_step` ranks by the next token's log-probability alone.",
                 "add each beam's score so far: total = scores[:, None] + log_probs.")
        per_beam = np.array([scores[b] + log_probs[b].max() for b in range(B)])
        top_each = np.sort(per_beam)[::-1][:K]
        if len(top_each) == K and not np.allclose(top_each, s_ref) and np.allclose(new, top_each):
            fail("your `beam_step` keeps only the best token of each beam.",
                 "rank all B * V extensions together: one beam may supply several survivors.")
        product = scores[:, None] * log_probs
        if np.allclose(new, np.sort(product.reshape(-1))[::-1][:K]):
            fail("your `beam_step` multiplies log-probabilities.",
                 "probabilities multiply, so log-probabilities add.")
        expect_close("new_scores", new, s_ref, rtol=1e-9, atol=1e-9,
                     hint="the K largest values of scores[:, None] + log_probs, best first.")
        expect_equal("beams", beams, b_ref, "the beam is the row of the flat index: flat // V.")
        expect_equal("tokens", tokens, t_ref, "the token is the column: flat % V.")
    passed("beam_step keeps the best beam_size extensions over all beams")
