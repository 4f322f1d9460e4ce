"""Checks for the exercises of Chapter 7, where recurrence went next.

Each ``check_*`` function takes the learner's answer (a function), calls it on small inputs of
known answer, and either prints one ``passed: ...`` line or raises :class:`CheckFailed` with a
message that names the likely slip: the scan operator composed in the wrong order or without the
factor ``a2`` on ``b1``, a doubling scan that stops a round early or updates ``a`` before ``b``,
minGRU's update gate on the wrong side, the LRU's eigenvalues without the inner exponentials or
its normalisation without the square root, linear attention with ``phi = relu`` or without its
normaliser, and a zero-order hold taken for an Euler step or divided by ``delta * A = 0``. Every
check calls the answer on copies of its arrays (:func:`~rnnbook.checks.call_unchanged`): an
answer that changes an argument in place fails, by the argument's name.

The linear recurrence is ``h_t = a_t * h_{t-1} + b_t`` (elementwise), time on axis 0, and the
scan operator on pairs is ``(a1, b1) . (a2, b2) = (a2 * a1, a2 * b1 + b2)``, the left pair the
earlier step. Weights are stored as (out_features, in_features) and batches are batch-major.
Values are compared to 1e-5 relative (1e-4 where a float32 answer loses more), loose enough for
an answer computed in float32 and far below the error of every slip named here.
"""

import numbers

import numpy as np

from rnnbook.checks._core import (
    as_array,
    call_answer,
    call_unchanged,
    diagnose,
    expect_close,
    expect_equal,
    expect_numeric,
    expect_shape,
    expect_tuple,
    fail,
    passed,
)

__all__ = [
    "check_combine",
    "check_hillis_steele_cost",
    "check_inclusive_scan",
    "check_linear_attention_step",
    "check_log_space_scan",
    "check_lru_eigenvalues",
    "check_min_gru_step",
    "check_zoh_discretise",
]

RTOL, ATOL = 1e-5, 1e-8


def _rng(seed):
    return np.random.default_rng(seed)


def _sigmoid(u):
    return 0.5 * (1.0 + np.tanh(0.5 * u))



def _close_or_false(value, expected):
    """True if ``value`` is an array close to ``expected`` (False for anything else)."""
    try:
        value = np.asarray(value)
        return value.shape == np.shape(expected) and bool(np.allclose(value, expected))
    except (TypeError, ValueError):
        return False


def _values(name, value, expected, slips, rtol=RTOL, atol=ATOL, hint=None):
    """Judge one returned array: shape, finite numbers, the named slips, then the values."""
    __tracebackhide__ = True
    value = expect_shape(name, value, np.shape(expected), hint)
    value = expect_numeric(name, value)
    diagnose(name, value, slips, expected, rtol=rtol, atol=atol)
    return expect_close(name, value, expected, rtol=rtol, atol=atol)


# ---------------------------------------------------------------------------------------------
# The scan operator
# ---------------------------------------------------------------------------------------------


def _combine(left, right):
    """The reference operator: (a1, b1) . (a2, b2) = (a2 a1, a2 b1 + b2)."""
    (a1, b1), (a2, b2) = left, right
    return a2 * a1, a2 * b1 + b2


def _loop(a, b):
    """h_t = a_t h_{t-1} + b_t from h_0 = 0, time on axis 0; h has the shape of b."""
    h = np.zeros(np.broadcast_shapes(a.shape, b.shape), dtype=np.result_type(a, b))
    state = np.zeros_like(h[0])
    for t in range(len(b)):
        state = a[t] * state + b[t]
        h[t] = state
    return h


def _combine_inputs(rng, shape, complex_=False):
    """Two pairs (a1, b1), (a2, b2): factors of modulus in [0.3, 1.5], normal offsets."""
    def factor():
        a = rng.uniform(0.3, 1.5, size=shape)
        return a * np.exp(1j * rng.uniform(-np.pi, np.pi, size=shape)) if complex_ else a

    def offset():
        b = rng.normal(size=shape)
        return b + 1j * rng.normal(size=shape) if complex_ else b

    return factor(), offset(), factor(), offset()


def check_combine(combine):
    """Check ``combine(left, right) -> (a, b)`` on pairs ``left = (a1, b1)``, ``right = (a2, b2)``.

    Expected: ``(a2 * a1, a2 * b1 + b2)``, elementwise, for real and complex arrays; folded over a
    sequence from the left, it gives the states of the loop ``h_t = a_t h_{t-1} + b_t``.
    """
    __tracebackhide__ = True
    rng = _rng(70)
    name = "combine"

    def call(a1, b1, a2, b2):
        return combine((a1, b1), (a2, b2))

    for label, complex_ in (("real", False), ("complex", True)):
        a1, b1, a2, b2 = _combine_inputs(rng, (3, 4), complex_)
        result = call_unchanged(name, call, ["left[0] (a1)", "left[1] (b1)", "right[0] (a2)",
                                             "right[1] (b2)"], a1, b1, a2, b2)
        a, b = expect_tuple(f"{name} ({label} arrays)", result, ["a", "b"])
        a_ref, b_ref = _combine((a1, b1), (a2, b2))
        shape = "each half of the pair has the shape of the inputs: (3, 4)."
        a = expect_shape("a", a, a_ref.shape, shape)
        b = expect_shape("b", b, b_ref.shape, shape)
        if _close_or_false(a, b_ref) and _close_or_false(b, a_ref):
            fail("your pair is (b, a), in the wrong order.", "return a, b.")
        _values("a", a, a_ref, [
            (a2, "is a2 alone: the two factors are not composed.",
             "two steps multiply the state by a1, then by a2: a = a2 * a1."),
            (a1 + a2, "is a1 + a2: factors compose by multiplication.",
             "h_2 = a2 (a1 h_0 + b1) + b2, so the factor of h_0 is a2 * a1."),
        ])
        _values("b", b, b_ref, [
            (a1 * b2 + b1, "is a1 * b2 + b1: the pairs are composed in the wrong order (right "
             "pair first).",
             "left is the earlier step: h_2 = a2 (a1 h_0 + b1) + b2, so b = a2 * b1 + b2."),
            (b1 + b2, "is b1 + b2: the factor a2 on b1 is missing.",
             "b1 is carried through the second step, which multiplies it by a2: "
             "b = a2 * b1 + b2."),
            (a1 * b1 + b2, "is a1 * b1 + b2: b1 is multiplied by its own step's factor.",
             "b1 enters the state after a1 has acted; only the later step's a2 multiplies it."),
            (a2 * (b1 + b2), "is a2 * (b1 + b2): b2 is multiplied by its own step's factor.",
             "h_2 = a2 h_1 + b2: b2 is added after the multiplication."),
        ])
    # folded from the left over a sequence, in two groupings: the loop's final state
    a, b = _combine_inputs(rng, (6, 2))[:2]
    h = _loop(a, b)

    def step(left, right):  # the answer's pair as arrays, so that it can be combined again
        result = expect_tuple(name, call_answer(name, combine, left, right), ["a", "b"])
        return tuple(np.asarray(half) for half in result)

    pair = (a[0], b[0])
    for t in range(1, 6):
        pair = step(pair, (a[t], b[t]))
    expect_close("b of combine folded over 6 steps", pair[1], h[-1], rtol=RTOL, atol=ATOL)
    tree = step(step((a[0], b[0]), (a[1], b[1])), step((a[2], b[2]), (a[3], b[3])))
    expect_close("b of ((x1 . x2) . (x3 . x4))", tree[1], h[3], rtol=RTOL, atol=ATOL,
                 hint="the operator must be associative: any grouping gives h_4.")
    passed("combine: (a2 a1, a2 b1 + b2), associative, folds to the loop")


# ---------------------------------------------------------------------------------------------
# The inclusive scan and its cost
# ---------------------------------------------------------------------------------------------


def _hillis_steele(a, b, rounds=None, a_first=False, swapped=False):
    """The doubling scan (or a slip of it): ``rounds`` rounds instead of ceil(log2 T), ``a``
    updated before ``b`` reads it, or the operator's pairs swapped."""
    A, B = np.array(a, dtype=complex), np.array(b, dtype=complex)
    A, B = np.broadcast_arrays(A, B)
    A, B = A.copy(), B.copy()
    T = len(B)
    R = int(np.ceil(np.log2(T))) if rounds is None else rounds
    for k in range(R):
        d = 2**k
        if d >= T:
            break
        if swapped:
            A_new, B_new = A[d:] * A[:-d], A[:-d] * B[d:] + B[:-d]
        elif a_first:
            A[d:] = A[d:] * A[:-d]
            A_new, B_new = A[d:], A[d:] * B[:-d] + B[d:]
        else:
            A_new, B_new = A[d:] * A[:-d], A[d:] * B[:-d] + B[d:]
        A[d:], B[d:] = A_new, B_new
    return B if np.iscomplexobj(a) or np.iscomplexobj(b) else B.real


def _scan_slips(a, b):
    T = len(b)
    h = _loop(a, b)
    slips = [
        (np.concatenate([np.zeros_like(h[:1]), h[:-1]]),
         "is the exclusive scan: entry t holds h_{t-1}.",
         "h_1 = b_1 (from h_0 = 0): the scan is inclusive, entry t combines steps 1..t."),
        (np.cumsum(b, axis=0), "is the running sum of b: the factors a_t are ignored.",
         "every step multiplies the state by a_t before adding b_t."),
        (np.cumprod(a, axis=0) * np.cumsum(b, axis=0),
         "multiplies the running product of a by the running sum of b.",
         "b_s is multiplied only by the factors after it, a_{s+1} ... a_t."),
        (_loop(a[::-1], b[::-1])[::-1], "runs the recurrence backwards in time.",
         "step 1 comes first: h_t depends on b_1 ... b_t."),
        (_hillis_steele(a, b, a_first=True),
         "updates a before b in the same round, so b uses the new a.",
         "within a round compute both halves from the old arrays: "
         "A_new = A[d:] * A[:-d], B_new = A[d:] * B[:-d] + B[d:], then assign."),
        (_hillis_steele(a, b, swapped=True),
         "applies the operator with its pairs swapped (the later step on the left).",
         "combine(earlier, later): B[d:] = A[d:] * B[:-d] + B[d:]."),
    ]
    if T > 2 and 2 ** int(np.floor(np.log2(T))) != T:
        R = int(np.floor(np.log2(T)))
        slips.append((_hillis_steele(a, b, rounds=R),
                      f"stops a round early: {R} rounds cover only {2**R} steps, T = {T}.",
                      "run rounds with offsets d = 1, 2, 4, ... while d < T: ceil(log2 T) "
                      "rounds."))
    return [(wrong.real if not np.iscomplexobj(h) else wrong, message, hint)
            for wrong, message, hint in slips]


def check_inclusive_scan(inclusive_scan):
    """Check ``inclusive_scan(a, b) -> h`` with ``h_t = a_t h_{t-1} + b_t`` from ``h_0 = 0``.

    ``a`` and ``b`` have shape (T, ...), time on axis 0, real or complex; ``h`` has their shape.
    """
    __tracebackhide__ = True
    rng = _rng(71)
    cases = [
        ("T = 7, shape (7, 3)", rng.uniform(0.5, 1.1, size=(7, 3)), rng.normal(size=(7, 3))),
        ("T = 1, shape (1,)", rng.uniform(0.5, 1.1, size=1), rng.normal(size=1)),
        ("complex, shape (5, 2, 2)", 0.9 * np.exp(1j * rng.uniform(-3, 3, size=(5, 2, 2))),
         rng.normal(size=(5, 2, 2)) + 1j * rng.normal(size=(5, 2, 2))),
    ]
    for label, a, b in cases:
        name = f"inclusive_scan ({label})"
        h = call_unchanged("inclusive_scan", inclusive_scan, ["a", "b"], a, b)
        expected = _loop(a, b)
        h = expect_shape(name, h, expected.shape,
                         "h has one state per step: the shape of b, time on axis 0.")
        if np.iscomplexobj(expected) and not np.iscomplexobj(h):
            fail(f"your `{name}` is real; expected complex states.",
                 "keep the complex dtype of a and b (no np.zeros(...) of floats to fill, or "
                 "give it dtype=np.result_type(a, b)).")
        _values(name, h, expected, _scan_slips(a, b))
    passed("inclusive_scan: every h_t, real and complex, T = 1, 5, 7")


def _cost(T):
    rounds = int(np.ceil(np.log2(T))) if T > 1 else 0
    return rounds, sum(T - 2**k for k in range(rounds))


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_hillis_steele_cost(hillis_steele_cost):
    """Check ``hillis_steele_cost(T) -> (rounds, combines)`` of the doubling scan.

    Expected: ``rounds = ceil(log2 T)`` (0 for T = 1), and ``combines``, the number of
    applications of the operator at one position each, ``sum over d = 1, 2, 4, ... < T`` of
    ``T - d``.
    """
    __tracebackhide__ = True
    for T in (1, 2, 7, 8, 1000):
        label = f"hillis_steele_cost({T})"
        result = expect_tuple(label, call_answer("hillis_steele_cost", hillis_steele_cost, T),
                           ["rounds", "combines"])
        rounds, combines = _cost(T)
        for what, got in zip(("rounds", "combines"), result, strict=True):
            if not _is_int(got):
                fail(f"your `{what}` of `{label}` is {got!r} of type {type(got).__name__}; "
                     "expected an int.", "counts are whole numbers: return ints (int(...)).")
        got_rounds, got_combines = int(result[0]), int(result[1])
        if (got_rounds, got_combines) == (combines, rounds) and rounds != combines:
            fail(f"your `{label}` is ({got_rounds}, {got_combines}): the pair is "
                 "(combines, rounds), in the wrong order.", "return rounds, combines.")
        if got_rounds != rounds:
            slips = {int(np.floor(np.log2(T))): "log2 T rounded down leaves out the last "
                     "steps when T is not a power of two.",
                     T - 1: "that is the loop's number of steps, not the number of doubling "
                     "rounds.",
                     rounds + 1: "one round too many."}
            message = slips.get(got_rounds)
            fail(f"your `rounds` of `{label}` is {got_rounds}, expected {rounds}"
                 + (f": {message}" if message else "."),
                 "round k combines each position t >= d with t - d, d = 2**k; rounds go on "
                 "while d < T: ceil(log2 T) of them.")
        if got_combines != combines:
            slips = {T * rounds: "counts T combines in every round; positions t < d have "
                     "nothing to combine with.",
                     T - 1: "is the loop's count (or Blelloch's up-sweep), not the doubling "
                     "scan's.",
                     (T - 1) * rounds: "counts T - 1 combines in every round; round k "
                     "skips its first d = 2**k positions."}
            message = slips.get(got_combines)
            expect_equal(f"combines of {label}", got_combines, combines,
                         hint=(f"it {message} " if message else "")
                         + "Round k does T - d combines, d = 2**k.")
    passed("hillis_steele_cost: ceil(log2 T) rounds, sum of T - d combines")


# ---------------------------------------------------------------------------------------------
# The scan in logarithms
# ---------------------------------------------------------------------------------------------

LOG_ATOL = 1e-3  # on log h: a relative error of 0.1 % in h; float32 loses about 1e-4 near 800


def _log_scan(log_a, log_b, exclusive=False):
    """log h_t = a*_t + log sum_{s <= t} exp(log b_s - a*_s), a*_t = sum_{r <= t} log a_r."""
    a_star = np.cumsum(log_a, axis=0)
    inner = a_star - log_a if exclusive else a_star
    return a_star + np.logaddexp.accumulate(log_b - inner, axis=0)


def _log_scan_inputs(rng):
    """(label, log_a, log_b): moderate values; log b near 800, where exp overflows; and a
    strong decay, where the sums inside span hundreds of units of log."""
    return [
        ("moderate values, shape (6, 3)", np.log(rng.uniform(0.3, 0.95, size=(6, 3))),
         rng.normal(size=(6, 3))),
        ("log_b near 800, shape (5, 2)", np.log(rng.uniform(0.3, 0.95, size=(5, 2))),
         rng.uniform(780.0, 800.0, size=(5, 2))),
        ("a strong decay, log_a near -25, T = 40", rng.uniform(-30.0, -20.0, size=(40, 2)),
         rng.normal(size=(40, 2))),
    ]


def check_log_space_scan(log_space_scan):
    """Check ``log_space_scan(log_a, log_b) -> log_h`` for positive ``a_t``, ``b_t``.

    Expected (Heinsen 2023): ``log h_t = a*_t + log sum_{s <= t} exp(log b_s - a*_s)`` with
    ``a*_t = log a_1 + ... + log a_t``, the logarithms of the states of ``h_t = a_t h_{t-1} + b_t``
    from ``h_0 = 0``; arrays (T, ...), time on axis 0, finite even where ``exp(log_b)`` overflows.
    """
    __tracebackhide__ = True
    for label, log_a, log_b in _log_scan_inputs(_rng(76)):
        name = f"log_space_scan ({label})"
        with np.errstate(all="ignore"):
            log_h = call_unchanged("log_space_scan", log_space_scan, ["log_a", "log_b"],
                                   log_a, log_b)
        expected = _log_scan(log_a, log_b)
        log_h = expect_shape(name, log_h, expected.shape,
                             "one log-state per step: the shape of log_b, time on axis 0.")
        if np.issubdtype(np.asarray(log_h).dtype, np.number) and \
                not np.all(np.isfinite(log_h)):
            if np.any(np.isposinf(log_h)) or np.any(np.isnan(log_h)):
                fail(f"your `{name}` has infinite or NaN entries: something overflows, such as "
                     "exp(log_b) for log_b near 800.",
                     "stay in logarithms: a*_t = np.cumsum(log_a) and "
                     "np.logaddexp.accumulate(log_b - a*) never leave them.")
            fail(f"your `{name}` has entries -inf: a sum of exponentials underflowed to 0 "
                 "(a single shift by the maximum leaves the early steps at exp(-1000) = 0).",
                 "np.logaddexp.accumulate adds one term at a time in logarithms and never "
                 "underflows.")
        _values(name, log_h, expected, [
            (np.logaddexp.accumulate(log_b, axis=0), "ignores the factors a: it is the log of "
             "the running sum of b.", "add a*_t = np.cumsum(log_a) outside and subtract a*_s "
             "inside: log h_t = a*_t + logcumsumexp(log_b - a*)_t."),
            (_log_scan(log_a, log_b, exclusive=True), "multiplies each b_t by its own a_t: the "
             "sum inside subtracts a*_{s-1}, not a*_s.", "b_s is multiplied by a_{s+1} ... a_t "
             "only, so subtract the inclusive a*_s = log a_1 + ... + log a_s."),
            (np.cumsum(log_a, axis=0) + np.cumsum(log_b, axis=0), "adds the running sums of "
             "log a and log b: a sum of products is not a product of sums.",
             "log h_t = a*_t + logcumsumexp(log_b - a*)_t."),
        ], rtol=0.0, atol=LOG_ATOL)
    passed("log_space_scan: log h, finite where exp(log_b) overflows")


# ---------------------------------------------------------------------------------------------
# One minGRU step
# ---------------------------------------------------------------------------------------------


def _min_gru(x, h, W_z, b_z, W_h, b_h, swap_z=False, squash=None, weights_swapped=False):
    if weights_swapped:
        W_z, b_z, W_h, b_h = W_h, b_h, W_z, b_z
    z = _sigmoid(x @ W_z.T + b_z)
    cand = x @ W_h.T + b_h
    if squash == "tanh":
        cand = np.tanh(cand)
    elif squash == "sigmoid":
        cand = _sigmoid(cand)
    return z * h + (1.0 - z) * cand if swap_z else (1.0 - z) * h + z * cand


def check_min_gru_step(min_gru_step):
    """Check ``min_gru_step(x_t, h_prev, W_z, b_z, W_h, b_h) -> h_t`` of shape (N, H).

    Expected (Feng et al. 2024): ``z = sigmoid(x_t W_z^T + b_z)``, ``h~ = x_t W_h^T + b_h`` (no
    squashing), ``h_t = (1 - z) * h_prev + z * h~``; ``x_t`` (N, D), ``h_prev`` (N, H), ``W_z``,
    ``W_h`` (H, D), ``b_z``, ``b_h`` (H,).
    """
    __tracebackhide__ = True
    rng = _rng(72)
    N, D, H = 3, 4, 5
    args = (rng.normal(size=(N, D)), rng.normal(size=(N, H)), rng.normal(size=(H, D)),
            rng.normal(size=H), rng.normal(size=(H, D)), 2.0 * rng.normal(size=H))
    name = "min_gru_step"
    out = call_unchanged(name, min_gru_step, ["x_t", "h_prev", "W_z", "b_z", "W_h", "b_h"], *args)
    expected = _min_gru(*args)
    _values(name, out, expected, [
        (_min_gru(*args, swap_z=True),
         "puts z on the old state: z * h_prev + (1 - z) * h~.",
         "in the minGRU paper's convention z lets the candidate in: "
         "h_t = (1 - z) * h_prev + z * h~."),
        (_min_gru(*args, squash="tanh"), "squashes the candidate with tanh.",
         "minGRU's candidate is linear in x_t: h~ = x_t W_h^T + b_h, no activation."),
        (_min_gru(*args, squash="sigmoid"), "squashes the candidate with a sigmoid.",
         "minGRU's candidate is linear in x_t: h~ = x_t W_h^T + b_h, no activation."),
        (_min_gru(*args, weights_swapped=True),
         "uses W_h and b_h for the gate and W_z and b_z for the candidate.",
         "z = sigmoid(x_t W_z^T + b_z), h~ = x_t W_h^T + b_h."),
    ], hint="the new state has one row per example: (N, H).")
    passed("min_gru_step: h_t = (1 - z) h_prev + z h~, z and h~ from x_t only")


# ---------------------------------------------------------------------------------------------
# The LRU's eigenvalues and normalisation
# ---------------------------------------------------------------------------------------------

LRU_RTOL = 1e-4  # gamma near |lambda| = 1 loses about 1e-5 relative in float32


def _lru_inputs(rng, H):
    r = rng.uniform(0.5, 0.995, size=H)
    theta = rng.uniform(0.05, np.pi, size=H)
    return np.log(-np.log(r)), np.log(theta)


def check_lru_eigenvalues(lru_eigenvalues):
    """Check ``lru_eigenvalues(nu_log, theta_log) -> (lam, gamma)``, each of shape (H,).

    Expected (Orvieto et al. 2023): ``lam = exp(-exp(nu_log) + 1j * exp(theta_log))`` (complex,
    inside the unit disc) and ``gamma = sqrt(1 - |lam|**2)`` (real, positive).
    """
    __tracebackhide__ = True
    nu, th = _lru_inputs(_rng(73), 6)
    name = "lru_eigenvalues"
    lam, gamma = expect_tuple(name, call_unchanged(name, lru_eigenvalues, ["nu_log", "theta_log"],
                                                nu, th), ["lam", "gamma"])
    lam_ref = np.exp(-np.exp(nu) + 1j * np.exp(th))
    gamma_ref = np.sqrt(1.0 - np.abs(lam_ref) ** 2)
    lam = expect_shape("lam", lam, lam_ref.shape, "one eigenvalue per state: shape (H,).")
    if _close_or_false(lam, gamma_ref) and _close_or_false(gamma, lam_ref):
        fail("your pair is (gamma, lam), in the wrong order.", "return lam, gamma.")
    lam = expect_numeric("lam", lam)
    if not np.iscomplexobj(lam):
        diagnose("lam", lam, [
            (np.exp(-np.exp(nu)), "is the modulus exp(-exp(nu_log)) alone: the phase "
             "exp(1j * exp(theta_log)) is missing.", "lam = exp(-exp(nu_log) + 1j * "
             "exp(theta_log)) is complex."),
            (np.exp(-np.exp(nu) + np.exp(th)), "adds exp(theta_log) to the real part: the "
             "factor 1j is missing.", "the angle enters as 1j * exp(theta_log)."),
        ])
        fail("your `lam` is real; expected complex eigenvalues.",
             "lam = exp(-exp(nu_log) + 1j * exp(theta_log)): use 1j (NumPy makes the "
             "result complex).")
    _values("lam", lam, lam_ref, [
        (np.exp(-nu + 1j * th), "is exp(-nu_log + 1j * theta_log): both inner exponentials "
         "are missing, so |lam| can leave the unit disc.",
         "the modulus is exp(-exp(nu_log)) < 1 for every nu_log: lam = exp(-exp(nu_log) + "
         "1j * exp(theta_log))."),
        (np.exp(-np.exp(nu) + 1j * th), "uses theta_log as the angle: exp(theta_log) is "
         "missing.", "the angle is theta = exp(theta_log) (positive)."),
        (np.exp(-nu + 1j * np.exp(th)), "has modulus exp(-nu_log): the inner exponential "
         "exp(nu_log) is missing.",
         "nu = exp(nu_log) > 0 keeps |lam| = exp(-nu) < 1 for any nu_log."),
        (np.exp(np.exp(nu) + 1j * np.exp(th)), "has modulus exp(+exp(nu_log)) > 1: the minus "
         "sign is missing.", "lam = exp(-exp(nu_log) + 1j * exp(theta_log))."),
        (np.conj(lam_ref), "is the complex conjugate: the angle has the wrong sign.",
         "lam = exp(-exp(nu_log) + 1j * exp(theta_log)), with +1j."),
    ], rtol=LRU_RTOL, atol=1e-7, hint="one eigenvalue per state: shape (H,).")
    gamma = expect_shape("gamma", gamma, gamma_ref.shape,
                         "one normalisation per state: shape (H,).")
    gamma = expect_numeric("gamma", gamma)
    if np.iscomplexobj(gamma) and np.allclose(gamma, np.sqrt(1.0 - lam_ref**2 + 0j)):
        fail("your `gamma` is sqrt(1 - lam**2), complex: lam is squared, not its modulus.",
             "gamma = sqrt(1 - |lam|**2) is real: use np.abs(lam)**2.")
    _values("gamma", gamma, gamma_ref, [
        (1.0 - np.abs(lam_ref) ** 2, "is 1 - |lam|**2: the square root is missing.",
         "gamma = sqrt(1 - |lam|**2), so that an input of unit variance keeps unit variance "
         "in the state."),
        (np.sqrt(1.0 - np.abs(lam_ref)), "is sqrt(1 - |lam|): the modulus is not squared.",
         "the variance of a state driven by white noise is 1 / (1 - |lam|**2): gamma = "
         "sqrt(1 - |lam|**2)."),
        (1.0 / gamma_ref, "is 1 / sqrt(1 - |lam|**2), the inverse of the normalisation.",
         "gamma scales the input down: gamma = sqrt(1 - |lam|**2) <= 1."),
        (np.sqrt(np.abs(1.0 - lam_ref**2)), "is sqrt(|1 - lam**2|): lam is squared, not its "
         "modulus.", "gamma = sqrt(1 - |lam|**2): use np.abs(lam)**2."),
    ], rtol=LRU_RTOL, atol=1e-7)
    passed("lru_eigenvalues: lam inside the unit disc, gamma = sqrt(1 - |lam|^2)")


# ---------------------------------------------------------------------------------------------
# One step of causal linear attention
# ---------------------------------------------------------------------------------------------


def _elu1(u):
    return np.where(u > 0, u + 1.0, np.exp(np.minimum(u, 0.0)))


def _attention(S, z, q, k, v, phi=_elu1, kv="kv", read="after", normalise=True,
               update_z=True, phi_on_q=True, phi_on_k=True):
    fk = phi(k) if phi_on_k else k
    fq = phi(q) if phi_on_q else q
    outer = fk[:, :, None] * v[:, None, :] if kv == "kv" else v[:, :, None] * fk[:, None, :]
    S_new = S + outer
    z_new = z + fk if update_z else z
    S_read, z_read = (S_new, z_new) if read == "after" else (S, z)
    if read == "old z":
        S_read, z_read = S_new, z
    num = np.einsum("nk,nkv->nv", fq, S_read) if kv == "kv" else \
        np.einsum("nk,nvk->nv", fq, S_read)
    y = num / np.einsum("nk,nk->n", fq, z_read)[:, None] if normalise else num
    return y, S_new, z_new


def _attention_inputs(rng, N=2, Dk=4, Dv=3, steps=3):
    """A state after ``steps`` earlier tokens, and the current token's q, k, v."""
    S, z = np.zeros((N, Dk, Dv)), np.zeros((N, Dk))
    for _ in range(steps):
        k, v = rng.normal(size=(N, Dk)), rng.normal(size=(N, Dv))
        S, z = S + _elu1(k)[:, :, None] * v[:, None, :], z + _elu1(k)
    return S, z, rng.normal(size=(N, Dk)), rng.normal(size=(N, Dk)), rng.normal(size=(N, Dv))


def check_linear_attention_step(linear_attention_step):
    """Check ``linear_attention_step(S, z, q, k, v) -> (y, S_new, z_new)``.

    Expected (Katharopoulos et al. 2020), with ``phi(u) = elu(u) + 1``:
    ``S_new = S + phi(k) v^T`` per example, ``z_new = z + phi(k)``,
    ``y = phi(q)^T S_new / (phi(q)^T z_new)``. Shapes: ``S`` (N, Dk, Dv), ``z`` (N, Dk),
    ``q``, ``k`` (N, Dk), ``v`` (N, Dv); ``y`` (N, Dv).
    """
    __tracebackhide__ = True
    args = _attention_inputs(_rng(74))
    S, z, q, k, v = args
    N, Dk, Dv = S.shape
    name = "linear_attention_step"
    result = call_unchanged(name, linear_attention_step, ["S", "z", "q", "k", "v"], *args)
    y, S_new, z_new = expect_tuple(name, result, ["y", "S_new", "z_new"])
    y_ref, S_ref, z_ref = _attention(*args)
    relu = _attention(*args, phi=lambda u: np.maximum(u, 0.0))
    elu = _attention(*args, phi=lambda u: _elu1(u) - 1.0)
    expo = _attention(*args, phi=np.exp)
    phi_slips = [
        (relu, "uses phi = relu: phi(u) = elu(u) + 1, which is positive everywhere.",
         "relu is zero for negative u, and the normaliser can be 0; use "
         "np.where(u > 0, u + 1, np.exp(u))."),
        (elu, "uses phi = elu without the + 1: phi(u) = elu(u) + 1.",
         "elu(u) is negative for u < 0, and the normaliser can cross 0; add 1."),
        (expo, "uses phi = exp: the book's feature map is elu(u) + 1.",
         "phi(u) = u + 1 for u > 0 and exp(u) for u <= 0."),
    ]
    S_new = as_array("S_new", S_new)
    if S_new.shape == (N, Dv, Dk) and Dk != Dv:
        fail(f"your `S_new` has shape {S_new.shape}; expected {(N, Dk, Dv)}: it stores "
             "v phi(k)^T, the transpose of the state.",
             "the state maps a query to a value: S has shape (N, Dk, Dv) and grows by "
             "phi(k) v^T, phi(k)[:, :, None] * v[:, None, :].")
    _values("S_new", S_new, S_ref, [(s[1], m, h) for s, m, h in phi_slips] + [
        (_attention(*args, phi_on_k=False)[1], "adds k v^T: phi is not applied to k.",
         "S_new = S + phi(k) v^T."),
        (S, "is S: the state is not updated.", "S_new = S + phi(k) v^T, one outer product "
         "per example."),
    ], hint="S_new has the shape of S: (N, Dk, Dv).")
    _values("z_new", z_new, z_ref, [(s[2], m, h) for s, m, h in phi_slips] + [
        (z, "is z: the normaliser's state is not updated.", "z_new = z + phi(k)."),
        (z + k, "is z + k: phi is not applied to k.", "z_new = z + phi(k)."),
    ], hint="z_new has the shape of z: (N, Dk).")
    _values("y", y, y_ref, [(s[0], m, h) for s, m, h in phi_slips] + [
        (_attention(*args, normalise=False)[0], "is phi(q)^T S_new: the normaliser "
         "phi(q)^T z_new is missing.", "divide by phi(q)^T z_new, one number per example."),
        (_attention(*args, read="before")[0], "reads the state before the current token is "
         "added.", "causal attention includes the current token: update S and z first, "
         "then read them."),
        (_attention(*args, read="old z")[0], "divides by phi(q)^T z, the normaliser before "
         "the update.", "use z_new, which includes phi(k) of the current token."),
        (_attention(*args, phi_on_q=False)[0], "uses q instead of phi(q).",
         "the query goes through the same feature map: phi(q)^T S_new / phi(q)^T z_new."),
    ], hint="one output per example: (N, Dv).")
    passed("linear_attention_step: phi = elu + 1, S += phi(k) v^T, normalised")


# ---------------------------------------------------------------------------------------------
# The zero-order hold
# ---------------------------------------------------------------------------------------------

ZOH_RTOL = 1e-5


def _phi1(x):
    """(exp(x) - 1) / x, accurately, with its limit 1 at x = 0."""
    x = np.asarray(x, dtype=float)
    safe = np.where(x == 0.0, 1.0, x)
    return np.where(x == 0.0, 1.0, np.expm1(safe) / safe)


def _zoh(delta, A, B):
    return np.exp(delta * A), (_phi1(delta * A) * delta)[:, None] * B


def _zoh_inputs(rng, H=4, D=2, singular=False):
    delta = rng.uniform(0.01, 1.0, size=H)
    A = -rng.uniform(0.1, 2.0, size=H)
    if singular:  # delta * A exactly 0 (an integrator) and tiny
        A[0] = 0.0
        delta[1], A[1] = 1e-8, -1.5e-8
        delta[2], A[2] = 1e-3, -1e-10
    return delta, A, rng.normal(size=(H, D))


def check_zoh_discretise(zoh_discretise):
    """Check ``zoh_discretise(delta, A, B) -> (A_bar, B_bar)`` for a diagonal ``A``.

    Expected: ``A_bar = exp(delta * A)`` and ``B_bar = (exp(delta * A) - 1) / (delta * A) *
    delta * B`` row by row, whose limit where ``delta * A = 0`` is ``delta * B``, computed without
    cancellation where ``delta * A`` is tiny. Shapes: ``delta``, ``A`` (H,), ``B`` (H, D);
    ``A_bar`` (H,), ``B_bar`` (H, D).
    """
    __tracebackhide__ = True
    rng = _rng(75)
    name = "zoh_discretise"
    for singular in (False, True):
        delta, A, B = _zoh_inputs(rng, singular=singular)
        with np.errstate(all="ignore"):
            result = call_unchanged(name, zoh_discretise, ["delta", "A", "B"], delta, A, B)
        A_bar, B_bar = expect_tuple(name, result, ["A_bar", "B_bar"])
        A_ref, B_ref = _zoh(delta, A, B)
        if not singular:
            _values("A_bar", A_bar, A_ref, [
                (np.exp(A), "is exp(A): the step delta is missing.", "A_bar = exp(delta * A)."),
                (1.0 + delta * A, "is 1 + delta * A, the Euler step, not the zero-order hold.",
                 "holding the input constant over the step gives A_bar = exp(delta * A)."),
            ], rtol=ZOH_RTOL, hint="A is diagonal, stored as its diagonal: A_bar has shape "
                                   "(H,).")
            d = delta[:, None]
            _values("B_bar", B_bar, B_ref, [
                (d * B, "is delta * B, the Euler step: the zero-order hold integrates "
                 "exp(s A) over the step.",
                 "B_bar = (exp(delta A) - 1) / (delta A) * delta * B."),
                (np.exp(delta * A)[:, None] * d * B, "is exp(delta * A) * delta * B.",
                 "integrate exp(s A) B for s from 0 to delta: "
                 "(exp(delta A) - 1) / A * B."),
                (_phi1(delta * A)[:, None] * B, "is (exp(delta A) - 1) / (delta A) * B: the "
                 "factor delta is missing.", "B_bar = (exp(delta A) - 1) / (delta A) * delta "
                 "* B."),
                ((np.exp(delta * A) - 1.0)[:, None] * B, "is (exp(delta A) - 1) * B: the "
                 "division by A is missing.", "B_bar = (exp(delta A) - 1) / A * B."),
            ], rtol=ZOH_RTOL, hint="B_bar has the shape of B: (H, D).")
            continue
        label = "where delta * A is 0 or tiny"
        A_bar = _values(f"A_bar ({label})", A_bar, A_ref, [], rtol=ZOH_RTOL)
        B_bar = expect_shape(f"B_bar ({label})", B_bar, B_ref.shape)
        if not np.all(np.isfinite(as_array("B_bar", B_bar))):
            fail(f"your `B_bar` has NaN or infinite entries {label}: it divides by "
                 "delta * A = 0 (A[0] = 0 here).",
                 "the limit of (exp(x) - 1) / x at x = 0 is 1, so B_bar = delta * B there: "
                 "use np.where, or a series 1 + x / 2 for tiny x.")
        B_bar = expect_numeric(f"B_bar ({label})", B_bar)
        bad = ~np.isclose(B_bar, B_ref, rtol=ZOH_RTOL, atol=0.0).all(axis=1)
        if bad[1:].any() and not bad[3:].any():
            x = delta * A
            fail(f"your `B_bar` loses its digits {label} (delta * A = {x[1]:.2g} and "
                 f"{x[2]:.2g} in rows 1 and 2): exp(x) - 1 cancels for tiny x.",
                 "use np.expm1(x) / x, which is accurate for tiny x (and 1 at x = 0).")
        expect_close(f"B_bar ({label})", B_bar, B_ref, rtol=ZOH_RTOL, atol=0.0)
    passed("zoh_discretise: exp(delta A), and B_bar with its limit at delta A = 0")
