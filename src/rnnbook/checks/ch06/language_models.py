"""Checks for the exercises of Chapter 6, part 1: language models and text generation.

Each ``check_*`` takes the learner's function, calls it on inputs of known answer, and prints
one ``passed: ...`` line or raises :class:`~rnnbook.checks.CheckFailed` naming the likely slip.

    check_bits_per_char(bits_per_char)       total nats over a text -> bits per character
    check_tempered_top_k(tempered_top_k)     logits (V,) -> the sampling distribution (V,)
    check_beam_step(beam_step)               one step of beam search: scores (B,), log_probs
                                             (B, V) -> the best K (beam, token, score)
    check_masked_bits_per_token(f)           logits (N, T, V), ids (N, T), mask (N, T) ->
                                             held-out bits per predicted token
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

__all__ = ["check_beam_step", "check_bits_per_char", "check_masked_bits_per_token",
           "check_tempered_top_k"]

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
    passed("bits_per_char is right")


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
             (np.array([1.0, 3.0, 0.0, 2.0, -1.0]), 1.0, 2), (rng.normal(size=6), 0.7, 6),
             (np.array([10.0, 9.0, 8.0, 4.0]), 0.01, 2)]   # small T: exp overflows unless shifted
    for logits, T, k in cases:
        got = as_array("probs", call_answer("tempered_top_k", tempered_top_k, logits.copy(), T, k))
        expected = reference_tempered_top_k(logits, T, k)
        expect_shape("probs", got, expected.shape,
                     "return one probability per token of the vocabulary, zeros included.")
        got = expect_numeric("probs", got, "at a small temperature logits / T is large: "
                             "subtract the largest kept value before the exponential."
                             ).astype(float)
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
    passed("tempered_top_k is right")


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


# each row holds 4, 2 and 1 four times each (divided by 28: probabilities); B * V = 48
TIED_48 = [[1, 4, 2, 2, 2, 1, 4, 4, 2, 1, 1, 4], [1, 1, 2, 2, 4, 2, 2, 4, 4, 1, 1, 4],
           [2, 2, 2, 2, 4, 4, 1, 1, 1, 1, 4, 4], [4, 4, 2, 1, 4, 2, 2, 1, 1, 2, 1, 4]]


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
    # ties: the statement's rule (the lower flat index beam * V + token first) decides
    cases.append((np.array([-1.0, -1.0]), np.log(np.array([[0.5, 0.25, 0.25]] * 2)), 3))
    # 16 ties among 48 extensions: np.argsort's default sort is not stable at this size
    cases.append((np.full(4, -2.0), np.log(np.array(TIED_48) / 28), 5))
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
        expect_close("new_scores", new, s_ref, rtol=1e-6, atol=1e-9,
                     hint="the K largest values of scores[:, None] + log_probs, best first.")
        if np.allclose(new, s_ref, rtol=1e-6, atol=1e-9) and \
                not (np.array_equal(beams, b_ref) and np.array_equal(tokens, t_ref)) and \
                np.allclose(log_probs[beams % B, tokens % V] + scores[beams % B], s_ref) and \
                np.unique(s_ref).size < K:
            fail(f"your `beam_step` breaks ties in another order: (beams, tokens) = "
                 f"({beams.tolist()}, {tokens.tolist()}), expected ({b_ref.tolist()}, "
                 f"{t_ref.tolist()}).",
                 "among equal scores the lower flat index beam * V + token comes first: a "
                 "stable sort of -total keeps that order (np.argsort(-total, kind='stable')); "
                 "reversing an ascending sort or torch.topk does not.")
        expect_equal("beams", beams, b_ref, "the beam is the row of the flat index: flat // V.")
        expect_equal("tokens", tokens, t_ref, "the token is the column: flat % V.")
    passed("beam_step is right")


# ---------------------------------------------------------------------------------------------
# Bits per token from logits, ids and a padding mask
# ---------------------------------------------------------------------------------------------


def _log_softmax(logits):
    z = logits - logits.max(-1, keepdims=True)
    return z - np.log(np.exp(z).sum(-1, keepdims=True))


def _picked(logits, ids):
    """log p of ids[:, 1:] predicted by logits[:, :-1]: shape (N, T - 1)."""
    return np.take_along_axis(_log_softmax(logits)[:, :-1], ids[:, 1:, None], -1)[..., 0]


def reference_masked_bits_per_token(logits, ids, mask):
    """Mean -log2 p over the real targets: logits[:, t] predicts ids[:, t + 1], which counts
    when mask[:, t + 1] is True."""
    logits, ids, mask = np.asarray(logits, float), np.asarray(ids), np.asarray(mask, bool)
    target_mask = mask[:, 1:]
    return float(-(_picked(logits, ids) * target_mask).sum() / target_mask.sum() / LN2)


def _masked_wrong_answers(logits, ids, mask):
    """(value, message, hint) for the slips the chapter warns about."""
    log_p = _log_softmax(logits)
    m = mask[:, 1:]
    picked = _picked(logits, ids)
    same = np.take_along_axis(log_p, ids[..., None], -1)[..., 0]            # no shift
    back = np.take_along_axis(log_p[:, 1:], ids[:, :-1, None], -1)[..., 0]  # wrong way
    per_seq = [-(picked[n][m[n]]).mean() / LN2 for n in range(len(ids)) if m[n].any()]
    return [
        (-(same[:, 1:] * m).sum() / m.sum() / LN2, "scores each id with the logits of its own "
         "position: the targets are not shifted", "logits[:, t] predicts the *next* id, "
         "ids[:, t + 1]: compare logits[:, :-1] with ids[:, 1:]."),
        (-(same * mask).sum() / mask.sum() / LN2, "scores each id with the logits of its own "
         "position: the targets are not shifted", "logits[:, t] predicts the *next* id, "
         "ids[:, t + 1]: compare logits[:, :-1] with ids[:, 1:]."),
        (-(back * m).sum() / m.sum() / LN2, "shifts the targets the wrong way",
         "logits[:, t] predicts ids[:, t + 1]: drop the last logits and the first ids."),
        (float(np.mean(per_seq)), "averages per sequence, then over sequences",
         "every real target weighs the same: sum over all of them, divide by their number."),
        (-picked.mean() / LN2, "counts the padding in the mean",
         "sum and count only the targets whose mask is True (mask[:, 1:])."),
        (-(picked * mask[:, :-1]).sum() / mask[:, :-1].sum() / LN2,
         "masks the targets with the mask of the inputs (mask[:, :-1])",
         "a target counts when *it* is real: use mask[:, 1:]."),
        (-(picked * m).sum() / m.sum(), "is in nats, not bits", "divide by ln 2."),
        (-(picked * m).sum() / LN2, "is the total over the text, not per token",
         "divide by the number of real targets."),
    ]


def _masked_case(rng, lengths, V, T, scale=2.0):
    N = len(lengths)
    logits = rng.normal(size=(N, T, V)) * scale
    ids = rng.integers(0, V, size=(N, T))
    mask = np.arange(T)[None, :] < np.asarray(lengths)[:, None]
    ids[~mask] = 0                                   # padding id
    return logits, ids, mask


def check_masked_bits_per_token(masked_bits_per_token):
    """Check ``masked_bits_per_token(logits, ids, mask) -> float``.

    ``logits`` (N, T, V) are a model's outputs after reading ``ids`` (N, T), a batch padded at
    the end; ``mask`` (N, T) is True on real ids. ``logits[:, t]`` predicts ``ids[:, t + 1]``;
    the answer is the mean of ``-log2 p`` over every real target, each target weighing the same.
    """
    __tracebackhide__ = True
    rng = np.random.default_rng(63)
    cases = [_masked_case(rng, [6, 4, 2], 5, 6), _masked_case(rng, [3, 7, 7, 5], 4, 7),
             _masked_case(rng, [8], 6, 8, scale=4.0)]
    for logits, ids, mask in cases:
        got = _scalar("bits", call_answer("masked_bits_per_token", masked_bits_per_token,
                                          logits.copy(), ids.copy(), mask.copy()))
        expected = reference_masked_bits_per_token(logits, ids, mask)
        shape = f"logits {logits.shape}, lengths {mask.sum(1).tolist()}"
        for value, message, hint in _masked_wrong_answers(logits, ids, mask):
            if not math.isclose(value, expected, rel_tol=1e-6) and \
                    math.isclose(got, value, rel_tol=1e-6):
                fail(f"your `masked_bits_per_token` ({shape}) = {got:.6g} {message}.", hint)
        if not math.isclose(got, expected, rel_tol=1e-6):
            fail(f"your `masked_bits_per_token` ({shape}) = {got:.6g}; expected "
                 f"{expected:.6g}.", "the mean of -log2 softmax(logits[:, t])[ids[:, t + 1]] "
                 "over the targets with mask[:, t + 1] True.")
    passed("masked_bits_per_token is right")
