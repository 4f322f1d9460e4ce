"""Baselines for language models, all in bits per held-out token.

    uniform_bits(V)                                 log2 V: every token equally likely
    compressor_bits(train, held_out, method)        gzip -9 or xz -9e, conditional on train
    best_char_ngram(train_ids, held_ids, V, ...)    CharNGram, order and alpha chosen on
                                                    validation (the end of the training ids)
    InterpolatedNGram(order).fit(tokens)            a word (or any token) n-gram with
                                                    interpolated absolute discounting
    best_word_ngram(train_ids, held_ids, V, ...)    its order chosen on validation
    KneserNeyNGram(order, V).fit(tokens)            interpolated modified Kneser-Ney, the
                                                    standard n-gram (rnnbook.kneser_ney)
    best_kneser_ney(train_ids, held_ids, V, ...)    its order and discount chosen on validation
    adaptive_kneser_ney_bits(train, held, V, ...)   a Kneser-Ney model re-counted every B held-out
                                                    tokens on the text read so far
    paired_block_test(bits_a, bits_b, block, lags)  Diebold-Mariano test on block means, with the
                                                    95 % interval and the 80 %-power difference

A compressor is a language model too: a code of L bits for a text is a distribution that gives it
probability ``2**-L``. "Conditional on the training text" means the bits needed to compress
train + held-out minus the bits for train alone, per held-out character: the compressor may use
everything it learned from the training text, as a trained model may.
"""

import gzip
import lzma
import math
import numbers

import numpy as np

from rnnbook.data.corpora import CharNGram
from rnnbook.kneser_ney import KneserNeyNGram, _as_ids

__all__ = ["InterpolatedNGram", "KneserNeyNGram", "adaptive_kneser_ney_bits", "best_char_ngram",
           "best_kneser_ney", "best_word_ngram", "compressor_bits", "paired_block_test",
           "uniform_bits"]

COMPRESSORS = {
    "gzip -9": lambda data: gzip.compress(data, compresslevel=9, mtime=0),
    "xz -9e": lambda data: lzma.compress(data, preset=9 | lzma.PRESET_EXTREME),
}


def uniform_bits(vocab_size):
    """``log2 V``, the bits per token of the uniform distribution over ``V`` tokens."""
    if not isinstance(vocab_size, numbers.Integral) or vocab_size < 1:
        raise ValueError(f"vocab_size: expected a positive integer, got {vocab_size!r}")
    return math.log2(vocab_size)


def compressor_bits(train_text, held_text, method):
    """Bits per character of ``held_text`` for a compressor that has seen ``train_text``.

    ``(8 * len(C(train + held)) - 8 * len(C(train))) / len(held)`` with ``C`` gzip at level 9
    (``method="gzip -9"``) or xz at preset 9 with the extreme flag (``"xz -9e"``), from Python's
    ``gzip`` and ``lzma`` modules. gzip's window is 32 KiB, so it remembers little of a long
    training text; xz's dictionary (64 MiB at -9) holds all of it.
    """
    if method not in COMPRESSORS:
        raise ValueError(f"method: expected one of {sorted(COMPRESSORS)}, got {method!r}")
    for name, value in (("train_text", train_text), ("held_text", held_text)):
        if not isinstance(value, str) or not value:
            raise ValueError(f"{name}: expected a non-empty str, got {value!r:.40}")
    compress = COMPRESSORS[method]
    train = train_text.encode("utf-8")
    both = train + held_text.encode("utf-8")
    return 8 * (len(compress(both)) - len(compress(train))) / len(held_text)


def _validation_size(size, valid_fraction, n_valid, keep=1):
    """How many of the last training ids are the validation part; leaves ``keep`` to fit on."""
    if n_valid is not None:
        if not (isinstance(n_valid, numbers.Integral) and 0 < n_valid <= size - keep):
            raise ValueError(f"n_valid: expected an integer in [1, {size - keep}], got "
                             f"{n_valid!r}")
        return int(n_valid)
    count = int(round(valid_fraction * size)) if isinstance(valid_fraction, numbers.Real) else 0
    if not 0 < count <= size - keep:
        raise ValueError(f"valid_fraction: expected a number in (0, 1) that leaves at least "
                         f"{keep} training ids, got {valid_fraction!r}")
    return count


def best_char_ngram(train_ids, held_ids, vocab_size, orders=range(0, 9),
                    alphas=(0.003, 0.01, 0.03, 0.1, 0.3), valid_fraction=0.1, n_valid=None):
    """The best add-alpha :class:`~rnnbook.data.corpora.CharNGram` on held-out text.

    The order and alpha are chosen on a validation part (the last ``valid_fraction`` of the
    training ids, or the last ``n_valid`` of them) by a model fitted on the rest; the chosen
    model is then refitted on all the training ids and scored on ``held_ids``, each held-out id
    predicted from the ``order`` ids before it (the first ones from the end of the training
    ids).

    Returns:
        dict with ``order``, ``alpha``, ``valid_bits`` (per character, on validation),
        ``held_bits`` (per held-out character), ``table`` {(order, alpha): valid bits}.
    """
    train_ids, held_ids = np.asarray(train_ids), np.asarray(held_ids)
    n_valid = _validation_size(train_ids.size, valid_fraction, n_valid)
    fit_part = train_ids[:-n_valid]
    table = {}
    for order in orders:
        for alpha in alphas:
            model = CharNGram(order, vocab_size, alpha).fit(fit_part)
            table[(order, alpha)] = model.cross_entropy(train_ids[-n_valid - order:])
    order, alpha = min(table, key=table.get)
    model = CharNGram(order, vocab_size, alpha).fit(train_ids)
    context = train_ids[train_ids.size - order:] if order else train_ids[:0]
    held = model.cross_entropy(np.concatenate([context, held_ids]))
    return {"order": order, "alpha": alpha, "valid_bits": table[(order, alpha)],
            "held_bits": held, "table": table}


class InterpolatedNGram(KneserNeyNGram):
    """An n-gram model with interpolated absolute discounting, down to the uniform distribution.

    ``P_n(w | h) = max(c(h, w) - d, 0) / c(h) + d * N1+(h) / c(h) * P_{n-1}(w | h')``, where ``h``
    holds the previous ``n - 1`` tokens, ``h'`` drops the oldest of them, ``c`` counts the
    training tokens, ``N1+(h)`` is the number of distinct tokens seen after ``h``, and
    ``d in (0, 1)`` is the discount. A context never seen falls back to ``P_{n-1}`` entirely; the
    unigram level interpolates with ``1 / V``, so every token keeps a positive probability.
    This is :class:`~rnnbook.kneser_ney.KneserNeyNGram` with one discount and *raw* counts at
    every level: without Kneser-Ney's continuation counts at the lower levels it is the weaker
    model (it shares the implementation, hence ``fit``, ``prob``, ``log2_prob``, ...).

    Args:
        order: n >= 1 (1 = unigram).
        vocab_size: V; token ids are integers in [0, V).
        discount: d in (0, 1).
    """

    def __init__(self, order, vocab_size, discount=0.75):
        if not (isinstance(discount, numbers.Real) and 0 < discount < 1):
            raise ValueError(f"discount: expected a number in (0, 1), got {discount!r}")
        super().__init__(order, vocab_size, float(discount), continuation=False)


def best_word_ngram(train_ids, held_ids, vocab_size, orders=(1, 2, 3, 4),
                    discounts=(0.5, 0.75, 0.9), valid_fraction=0.1, n_valid=None):
    """The :class:`InterpolatedNGram` with order and discount chosen on validation.

    Absolute discounting without continuation counts: :func:`best_kneser_ney` is the stronger,
    standard baseline.

    As :func:`best_char_ngram`: chosen on the last ``valid_fraction`` (or ``n_valid``) of the
    training ids by a model fitted on the rest, refitted on all training ids, scored on
    ``held_ids`` (predicted with the end of the training ids as their first context).

    Returns:
        dict with ``order``, ``discount``, ``valid_bits``, ``held_bits`` (per held-out token),
        ``table`` {(order, discount): valid bits}.
    """
    train_ids, held_ids = [int(i) for i in train_ids], [int(i) for i in held_ids]
    cut = len(train_ids) - _validation_size(len(train_ids), valid_fraction, n_valid)
    table = {}
    for order in orders:
        model = InterpolatedNGram(order, vocab_size).fit(train_ids[:cut])
        for d in discounts:
            model.discount = d
            table[(order, d)] = model.cross_entropy(train_ids, cut)
    order, d = min(table, key=table.get)
    model = InterpolatedNGram(order, vocab_size, d).fit(train_ids)
    held = model.cross_entropy(train_ids + held_ids, len(train_ids))
    return {"order": order, "discount": d, "valid_bits": table[(order, d)],
            "held_bits": held, "table": table}


def best_kneser_ney(train_ids, held_ids, vocab_size, orders=range(1, 14),
                    discounts=("modified", 0.6, 0.75, 0.9), valid_fraction=0.1, n_valid=None):
    """The :class:`~rnnbook.kneser_ney.KneserNeyNGram` with order and discount chosen on validation.

    As :func:`best_word_ngram`: each (order, discount) is fitted on the training ids but their
    last ``valid_fraction`` and scored on that last part; the best pair is refitted on all the
    training ids and scored on ``held_ids`` (predicted with the end of the training ids as their
    first context). Works for characters and words alike.

    Args:
        train_ids, held_ids: integer token ids, shapes (T,) and (H,), values in [0, V).
        vocab_size: V.
        orders: n-gram orders n to try (n - 1 tokens of context).
        discounts: values of ``KneserNeyNGram``'s ``discount`` to try: ``"modified"`` (three
            discounts per level from the counts of counts) or one number in [0, 1].
        valid_fraction: the share of the training ids, at their end, that is the validation part.
        n_valid: None, or the size of that part as a number of ids (it overrides
            ``valid_fraction``; for a validation part of whole documents placed last).

    Returns:
        dict with ``order``, ``discount``, ``valid_bits``, ``held_bits`` (per held-out token),
        ``table`` {(order, discount): valid bits} and ``model`` (the refitted model).
    """
    train_ids = _as_ids("train_ids", train_ids, vocab_size, 1)
    held_ids = _as_ids("held_ids", held_ids, vocab_size, 1)
    orders, discounts = list(orders), list(discounts)
    if not orders or not discounts:
        raise ValueError(f"orders, discounts: expected at least one of each, got {orders!r} "
                         f"and {discounts!r}")
    cut = train_ids.size - _validation_size(train_ids.size, valid_fraction, n_valid,
                                            keep=max(orders))
    table = {}
    for order in orders:
        model = KneserNeyNGram(order, vocab_size, discounts[0]).fit(train_ids[:cut])
        for d in discounts:
            model.discount = d
            table[(order, d)] = model.cross_entropy(train_ids, cut)
    order, d = min(table, key=table.get)
    model = KneserNeyNGram(order, vocab_size, d).fit(train_ids)
    held = model.cross_entropy(np.concatenate([train_ids, held_ids]), train_ids.size)
    return {"order": order, "discount": d, "valid_bits": table[(order, d)],
            "held_bits": held, "table": table, "model": model}



def adaptive_kneser_ney_bits(train_ids, held_ids, vocab_size, order, every,
                             discount="modified"):
    """Bits of each held-out token under a Kneser-Ney n-gram that keeps counting as it reads.

    The held-out ids are read in blocks of ``every`` tokens. Block ``b`` is scored by a
    ``KneserNeyNGram(order, V, discount)`` counted on the training ids followed by the held-out
    ids before the block, so every token is scored before it is counted (the n-gram's
    counterpart of dynamic evaluation). ``every >= len(held_ids)`` gives the static model.

    Args:
        train_ids, held_ids: integer token ids, shapes (T,) and (H,), values in [0, V).
        vocab_size: V.
        order: the n-gram order n.
        every: B, the number of held-out tokens between two re-counts (a positive integer).
        discount: as ``KneserNeyNGram``'s.

    Returns:
        float64 array of shape (H,): ``-log2 p`` of each held-out token.
    """
    train_ids = _as_ids("train_ids", train_ids, vocab_size, 1)
    held_ids = _as_ids("held_ids", held_ids, vocab_size, 1)
    if not isinstance(every, numbers.Integral) or isinstance(every, bool) or every < 1:
        raise ValueError(f"every: expected a positive integer, got {every!r}")
    ids = np.concatenate([train_ids, held_ids])
    bits = []
    for start in range(train_ids.size, ids.size, int(every)):
        model = KneserNeyNGram(order, vocab_size, discount).fit(ids[:start])
        bits.append(-model.log2_prob(ids[:start + int(every)], start))
    return np.concatenate(bits)


def paired_block_test(bits_a, bits_b, block, lags=2):
    """Diebold-Mariano test of two models' per-token losses, on means over blocks of tokens.

    Neighbouring tokens' losses are correlated, so the paired differences are averaged over
    consecutive blocks of ``block`` tokens (a last partial block is dropped) and their mean is
    tested with Newey-West standard errors over ``lags`` blocks, as
    :func:`rnnbook.forecast_scores.diebold_mariano` does (same mean and p-value).

    Args:
        bits_a, bits_b: per-token losses of the two models on the same tokens, shape (T,).
        block: tokens per block, a positive integer; at least 4 blocks must fit in T.
        lags: Newey-West lags, an integer in [0, number of blocks - 1).

    Returns:
        dict with ``blocks`` (their number), ``diff`` (mean of a - b; negative favours a),
        ``se`` (its standard error), ``p`` (two-sided), ``ci`` (the 95 % interval of the mean
        difference) and ``mde`` (the smallest true difference the test detects at the 5 % level
        with 80 % power, ``(1.96 + 0.84) se``).
    """
    import statsmodels.api as sm
    from scipy.stats import norm

    a = np.asarray(bits_a, dtype=np.float64)
    b = np.asarray(bits_b, dtype=np.float64)
    if a.ndim != 1 or a.shape != b.shape:
        raise ValueError(f"bits_a, bits_b: expected two 1-D arrays of one shape (T,), got "
                         f"{a.shape} and {b.shape}")
    if not isinstance(block, numbers.Integral) or isinstance(block, bool) or block < 1 or \
            a.size // block < 4:
        raise ValueError(f"block: expected a positive integer with at least 4 blocks in "
                         f"{a.size} tokens, got {block!r}")
    n = a.size // int(block)
    d = (a - b)[:n * block].reshape(n, block).mean(axis=1)
    if not isinstance(lags, numbers.Integral) or isinstance(lags, bool) or \
            not 0 <= lags < n - 1:
        raise ValueError(f"lags: expected an integer in [0, {n - 1}), got {lags!r}")
    fit = sm.OLS(d, np.ones_like(d)).fit(cov_type="HAC", cov_kwds={"maxlags": int(lags)})
    diff, se = float(d.mean()), float(fit.bse[0])
    z = norm.isf(0.025)
    return {"blocks": n, "diff": diff, "se": se, "p": float(fit.pvalues[0]),
            "ci": (diff - z * se, diff + z * se), "mde": (z + norm.isf(0.2)) * se}
