"""Interpolated Kneser-Ney n-grams over integer token ids (characters or words alike).

    KneserNeyNGram(n, V).fit(ids)              modified Kneser-Ney, discounts from the counts
    KneserNeyNGram(n, V, 0.75).fit(ids)        interpolated Kneser-Ney with one discount
    KneserNeyNGram(n, V, 0.75, continuation=False)
                                               interpolated absolute discounting (raw counts)
    model.log2_prob(ids, start)                log2 P(ids[t] | up to n-1 ids before t), t >= start
    model.distribution(context)                P(. | context) over all V tokens, shape (V,)

The probability of token ``w`` after the context ``h`` (the previous ``k - 1`` tokens) is built
level by level, from the uniform distribution up (Chen & Goodman 1998, 1999):

    P_0(w) = 1 / V
    P_k(w | h) = (max(c_k(h w) - D_k(c_k(h w)), 0) + gamma_k(h) P_{k-1}(w | h')) / c_k(h)
    gamma_k(h) = D_k(1) N_1(h) + D_k(2) N_2(h) + D_k(3+) N_3+(h)

where ``h'`` drops the oldest token of ``h``, ``c_k(h) = sum_w c_k(h w)``, ``N_r(h)`` is the
number of tokens ``w`` with ``c_k(h w) = r`` (``3+``: at least 3), and ``D_k(c)`` is the
discount for a count ``c`` (``D_k(0) = 0``). At the top level ``k = n`` the counts ``c_n`` are
the raw counts of the training text; below it they are *continuation counts*: ``c_k(h w)`` is
the number of distinct tokens seen just before ``h w`` (Kneser & Ney 1995). A level whose
context ``h`` has ``c_k(h) = 0`` (never seen, or too close to the start of the text) passes
``P_{k-1}`` on unchanged. Every ``P_k(. | h)`` sums to one over the ``V`` tokens, and every
token keeps a positive probability while some discount on its path is positive. The text is not
padded: a k-gram seen only at the very start of the training text has no token before it (its
continuation count is 0), and a target with fewer than ``n - 1`` tokens before it starts from
the level its context allows, with continuation counts (as ``nltk.lm.KneserNeyInterpolated``).
``order`` is n, the n-gram order: chapter 1's model with ``k`` characters of context is
``n = k + 1``.

Implementation: every distinct k-gram of the training text gets an integer id, the rank of the
key ``(id of its first k - 1 tokens) * V + last token``; keys are sorted (``np.unique``) and
looked up with ``np.searchsorted``, so any order works for any V and nothing loops in Python over
tokens.
"""

import numbers

import numpy as np

from rnnbook.shapes import check_tokens

__all__ = ["KneserNeyNGram", "modified_discounts"]


def modified_discounts(count_of_counts):
    """Chen & Goodman's estimates ``D(1), D(2), D(3+)`` from counts of counts.

    ``Y = n1 / (n1 + 2 n2)`` and ``D(r) = r - (r + 1) Y n_{r+1} / n_r`` for r = 1, 2, 3, where
    ``n_r`` is the number of n-grams seen exactly ``r`` times (``Y = 1/2`` if ``n1 = n2 = 0``,
    and an ``n_r = 0`` in a denominator counts as 1); each estimate is clipped to
    ``[0.05 r, 0.95 r]``, a range real text does not reach (on degenerate counts, e.g. a text
    repeated twice so that ``n1 = 0``, the formula would discount every count entirely).

    Args:
        count_of_counts: (n1, n2, n3, n4), non-negative integers.

    Returns:
        float64 array of shape (3,).
    """
    n = np.asarray(count_of_counts, dtype=np.float64)
    if n.shape != (4,) or np.any(n < 0):
        raise ValueError(f"count_of_counts: expected 4 non-negative numbers, got {n.tolist()}")
    y = n[0] / (n[0] + 2 * n[1]) if n[0] + 2 * n[1] > 0 else 0.5
    r = np.arange(1, 4, dtype=np.float64)
    d = r - (r + 1) * y * n[1:] / np.maximum(n[:3], 1)
    return np.clip(d, 0.05 * r, 0.95 * r)


def _as_ids(name, ids, vocab_size, min_length):
    if hasattr(ids, "detach"):
        ids = ids.detach().cpu().numpy()
    array = np.asarray(ids)
    if array.ndim != 1:
        raise ValueError(f"{name}: expected a 1-D sequence of token ids, shape (T,), got shape "
                         f"{array.shape}")
    if array.size < min_length:
        raise ValueError(f"{name}: expected at least {min_length} tokens, got {array.size}")
    if array.size:
        check_tokens(name, array, vocab_size)
    return array.astype(np.int64)


def _lookup(keys, query):
    """Index of each ``query`` in the sorted ``keys``, -1 where absent (or ``query < 0``)."""
    if keys.size == 0:
        return np.full(query.shape, -1, dtype=np.int64)
    pos = np.minimum(np.searchsorted(keys, query), keys.size - 1)
    return np.where((keys[pos] == query) & (query >= 0), pos, -1)


class KneserNeyNGram:
    """Interpolated (modified) Kneser-Ney n-gram model; the formula is in the module docstring.

    Args:
        order: n >= 1, the n-gram order: the model looks at the previous n - 1 tokens.
        vocab_size: V >= 1; token ids are integers in [0, V).
        discount: how the discounts ``D_k(c)`` are set:
            ``"modified"`` (default): modified Kneser-Ney, ``D_k(1), D_k(2), D_k(3+)`` estimated
            at each level from its counts of counts (:func:`modified_discounts`);
            a number d in [0, 1]: one discount for every level and count (Kneser & Ney's
            interpolated model);
            n numbers (unigram level first): one discount per level;
            an array of shape (n, 3): ``D_k(1), D_k(2), D_k(3+)`` for each level k = 1..n,
            with ``0 <= D_k(r) <= r``.
        continuation: True (Kneser-Ney) uses continuation counts below the top level; False
            uses raw counts at every level (interpolated absolute discounting).

    Attributes (after fit):
        discounts: float64 array (n, 3), the discounts in use, row k - 1 for level k.
        count_of_counts: int64 array (n, 4), ``n_1 .. n_4`` of the counts used at each level.
    """

    def __init__(self, order, vocab_size, discount="modified", continuation=True):
        for name, value, low in (("order", order, 1), ("vocab_size", vocab_size, 1)):
            if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < low:
                raise ValueError(f"{name}: expected an integer >= {low}, got {value!r}")
        if not isinstance(continuation, bool):
            raise ValueError(f"continuation: expected True or False, got {continuation!r}")
        self.order, self.vocab_size = int(order), int(vocab_size)
        self.continuation = continuation
        self.discount = discount
        self._discount_table(np.zeros((self.order, 4)))  # reject a bad discount now
        self._keys = None

    # ----------------------------------------------------------------------------- fitting
    def fit(self, ids):
        """Count the k-grams, k = 1..n, of ``ids`` (shape (T,), T >= n); returns ``self``.

        Stores, for each level k: the sorted keys of the distinct k-grams, the count used at
        that level for each (raw at the top or without continuation, else continuation), and
        for each context (a (k-1)-gram id) the total count and ``N_1, N_2, N_3+``.
        """
        x = _as_ids("ids", ids, self.vocab_size, self.order)
        n, V = self.order, self.vocab_size
        keys, raw, first, inverse = [], [], [], []
        prev = np.zeros(x.size, dtype=np.int64)  # id of the (k-1)-gram before each target
        for k in range(1, n + 1):
            u, f, inv, c = np.unique(prev * V + x[k - 1:], return_index=True,
                                     return_inverse=True, return_counts=True)
            keys.append(u), first.append(f), inverse.append(inv.ravel()), raw.append(c)
            prev = inverse[-1][:-1]  # k-gram ending at t - 1, for the targets t = k .. T-1
        counts = []
        for k in range(1, n + 1):
            if k == n or not self.continuation:
                counts.append(raw[k - 1])
            else:  # distinct (k+1)-grams, each credited to the k-gram it ends with
                suffix = inverse[k - 1][first[k] + 1]
                counts.append(np.bincount(suffix, minlength=keys[k - 1].size))
        self._keys, self._count, self._total, self._n123 = keys, counts, [], []
        for k in range(1, n + 1):
            contexts = keys[k - 1] // V
            size = keys[k - 2].size if k > 1 else 1
            c = counts[k - 1]
            self._total.append(np.bincount(contexts, weights=c, minlength=size))
            self._n123.append(np.stack([np.bincount(contexts, weights=sel, minlength=size)
                                        for sel in (c == 1, c == 2, c >= 3)], axis=1))
        self.count_of_counts = np.array([[np.sum(c == r) for r in (1, 2, 3, 4)]
                                         for c in counts], dtype=np.int64)
        return self

    def _discount_table(self, count_of_counts):
        """The (n, 3) discounts from ``self.discount``; ValueError if it is malformed."""
        d, n = self.discount, self.order
        if isinstance(d, str):
            if d != "modified":
                raise ValueError(f"discount: expected 'modified', a number, {n} numbers or an "
                                 f"array of shape ({n}, 3), got {d!r}")
            return np.stack([modified_discounts(row) for row in count_of_counts])
        try:
            table = np.array(d, dtype=np.float64)
        except (TypeError, ValueError):
            table = None
        if table is not None and table.ndim == 0:
            table = np.full((n, 3), float(table))
        elif table is not None and table.shape == (n,):
            table = np.repeat(table[:, None], 3, axis=1)
        if table is None or table.shape != (n, 3):
            raise ValueError(f"discount: expected 'modified', a number, {n} numbers or an "
                             f"array of shape ({n}, 3), got {d!r}")
        if not np.all((table >= 0) & (table <= [1, 2, 3])):
            raise ValueError("discount: expected 0 <= D(1) <= 1, 0 <= D(2) <= 2 and "
                             f"0 <= D(3+) <= 3, got {table.tolist()}")
        return table

    @property
    def discounts(self):
        """The discounts in use: float64 array (n, 3), row k - 1 for level k."""
        self._check_fitted()
        return self._discount_table(self.count_of_counts)

    def _check_fitted(self):
        if self._keys is None:
            raise ValueError(f"{type(self).__name__}: call fit(ids) before using the model")

    # ----------------------------------------------------------------------------- scoring
    def _context_ids(self, y):
        """For each target position t of ``y`` (T,): the id of its context at each level.

        Returns a list of n int64 arrays of shape (T,); entry k - 1 holds the id of the
        (k-1)-gram ``y[t-k+1 : t]`` in the training table, -1 if it never occurred in training
        or ``t < k - 1``. Level 1 has the empty context, id 0.
        """
        V, T = self.vocab_size, y.size
        grams = np.zeros(T, dtype=np.int64)  # id of the j-gram ending at t, j = 0 first
        contexts = [np.zeros(T, dtype=np.int64)]
        for j in range(1, self.order):
            before = np.full(T, -1, dtype=np.int64)
            before[1:] = grams[:-1]
            if j == 1:
                before[:] = 0  # the empty gram precedes every position
            grams = _lookup(self._keys[j - 1], np.where(before >= 0, before * V + y, -1))
            shifted = np.full(T, -1, dtype=np.int64)
            shifted[1:] = grams[:-1]
            contexts.append(shifted)
        return contexts

    def _prob(self, contexts, w):
        """P(w | context) for arrays of context ids (list of n, each (N,)) and tokens w (N,)."""
        table = self.discounts
        p = np.full(w.shape, 1.0 / self.vocab_size)
        for k in range(1, self.order + 1):
            ctx = contexts[k - 1]
            total = np.where(ctx >= 0, self._total[k - 1][np.maximum(ctx, 0)], 0.0)
            use = np.flatnonzero(total > 0)
            if use.size == 0:
                continue
            h = ctx[use]
            found = _lookup(self._keys[k - 1], h * self.vocab_size + w[use])
            c = np.where(found >= 0, self._count[k - 1][np.maximum(found, 0)], 0)
            d = np.where(c > 0, table[k - 1][np.clip(c, 1, 3) - 1], 0.0)
            gamma = self._n123[k - 1][h] @ table[k - 1]
            p[use] = (np.maximum(c - d, 0.0) + gamma * p[use]) / total[use]
        return p

    def log2_prob(self, ids, start=0):
        """``log2 P(ids[t] | ids[t-n+1 : t])`` for ``t = start .. T-1``: shape (T - start,).

        The first targets use the shorter context there is (none for ``ids[0]``).
        """
        self._check_fitted()
        y = _as_ids("ids", ids, self.vocab_size, 1)
        if not isinstance(start, numbers.Integral) or not 0 <= start < y.size:
            raise ValueError(f"start: expected an integer in [0, {y.size}), got {start!r}")
        offset = max(0, int(start) - (self.order - 1))  # older ids are never context
        y = y[offset:]
        contexts = [c[start - offset:] for c in self._context_ids(y)]
        return np.log2(self._prob(contexts, y[start - offset:]))

    def cross_entropy(self, ids, start=0):
        """Mean bits per token of ``ids[start:]``, each predicted from the ids before it."""
        return float(-self.log2_prob(ids, start).mean())

    def distribution(self, context):
        """``P(w | context)`` for every token w: float64 array of shape (V,) summing to one.

        ``context`` is a sequence of the previous token ids (any length; the last n - 1 count).
        """
        self._check_fitted()
        context = _as_ids("context", context, self.vocab_size, 0)
        y = np.append(context[max(0, context.size - self.order + 1):], 0)
        contexts = [np.repeat(c[-1:], self.vocab_size) for c in self._context_ids(y)]
        return self._prob(contexts, np.arange(self.vocab_size))

    def prob(self, context, token):
        """``P(token | context)``; ``context`` is a sequence of the previous token ids."""
        if not isinstance(token, numbers.Integral) or not 0 <= token < self.vocab_size:
            raise ValueError(f"token: expected an integer in [0, {self.vocab_size}), "
                             f"got {token!r}")
        return float(self.distribution(context)[token])
