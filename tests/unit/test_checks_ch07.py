"""rnnbook.checks.ch07: each check accepts right answers and names the slips people make.

Every wrong answer tried on the chapter's exercises is kept here: run through the visible check
(which must name it) and through the hidden tests of exercises.ipynb (which must take points for
it). Right answers written differently (in float32, with another library, without in-place
updates) pass both and earn every point.
"""

import contextlib
import io
import pathlib
import re
import warnings

import nbformat
import numpy as np
import pytest
import scipy.linalg
import torch
from exercise_harness import HIDDEN, ExerciseCells

from rnnbook import scan
from rnnbook.checks import CheckFailed, ch07
from rnnbook.exercise_copies import strip_regions

EXERCISES = (pathlib.Path(__file__).parents[2] / "chapters" / "07_linear_recurrences"
             / "exercises.ipynb")


def failure(check, answer):
    """The message of the CheckFailed raised by ``check(answer)``."""
    with pytest.raises(CheckFailed) as info:
        with contextlib.redirect_stdout(io.StringIO()):
            check(answer)
    return str(info.value)


def passes(check, answer):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        check(answer)
    return out.getvalue()


def not_written(*args):
    raise NotImplementedError()


CELLS = ExerciseCells(EXERCISES, "ch07")
notebook_cells = CELLS.cells
hidden_test = CELLS.hidden_test
run_cell = CELLS.run_cell
points_of = CELLS.points


def full(grade_id):
    """What the hidden tests return for an answer that earns every point."""
    _, cell = notebook_cells(grade_id)
    return (float(points_of(grade_id)) if "Credit(" in cell else None), []


def to_f32(x):
    """An array in float32 (complex64 if complex); anything else unchanged."""
    if not isinstance(x, np.ndarray):
        return x
    return x.astype(np.complex64 if np.iscomplexobj(x) else np.float32)


def f32(answer):
    """The answer computed in float32 (complex64): a right answer must still pass."""
    return lambda *args: answer(*[to_f32(a) for a in args])


def sigmoid(u):
    return 1.0 / (1.0 + np.exp(-u))


UNCHANGED = "leaves its inputs unchanged"


# ---------------------------------------------------------------------------------- combine

def combine(left, right):
    (a1, b1), (a2, b2) = left, right
    return a2 * a1, a2 * b1 + b2


def combine_slip(slip):
    def answer(left, right):
        (a1, b1), (a2, b2) = left, right
        return {"swapped": (a1 * a2, a1 * b2 + b1), "no a2": (a2 * a1, b1 + b2),
                "a1 on b1": (a2 * a1, a1 * b1 + b2), "a2 alone": (a2, a2 * b1 + b2),
                "a1 + a2": (a1 + a2, a2 * b1 + b2), "a2 on b2": (a2 * a1, a2 * (b1 + b2)),
                "pair swapped": (a2 * b1 + b2, a2 * a1), "one value": a2 * b1 + b2,
                "none": None}[slip]
    return answer


def combine_in_place(left, right):
    (a1, b1), (a2, b2) = left, right
    b2 += a2 * b1  # the right numbers, but the caller's b2 is overwritten
    return a2 * a1, b2


def combine_f32(left, right):
    (a1, b1), (a2, b2) = left, right
    return combine((to_f32(a1), to_f32(b1)), (to_f32(a2), to_f32(b2)))


def combine_torch(left, right):
    (a1, b1), (a2, b2) = ((torch.as_tensor(x) for x in pair) for pair in (left, right))
    return torch.mul(a2, a1), torch.addcmul(b2, a2, b1)


def combine_lead(left, right):
    return scan.combine(left, right)


PAIR_A, PAIR_B = "a of the pair", "b of the pair"
FOLDS = "folds over 9 steps"
COMBINE_WRONG = [  # (slip, words of the visible check, hidden cases it fails)
    ("swapped", "composed in the wrong order", [PAIR_B, FOLDS]),
    ("no a2", "factor a2 on b1 is missing", [PAIR_B, FOLDS]),
    ("a1 on b1", "multiplied by its own step's factor", [PAIR_B, FOLDS]),
    ("a2 on b2", "b2 is multiplied by its own step's factor", [PAIR_B, FOLDS]),
    ("a2 alone", "is a2 alone", [PAIR_A, FOLDS]),  # the right fold uses the a it returns
    ("a1 + a2", "is a1 + a2", [PAIR_A, FOLDS]),
    ("pair swapped", "(b, a), in the wrong order", [PAIR_A, PAIR_B, FOLDS, UNCHANGED]),
]


def test_combine_reference_and_other_right_answers_pass_and_earn_every_point():
    for answer in (combine, combine_f32, combine_torch, combine_lead):
        assert passes(ch07.check_combine, answer).startswith("passed: combine")
        assert hidden_test("ch07-combine-tests", combine=answer) == full("ch07-combine-tests")


@pytest.mark.parametrize("slip, words, lost", COMBINE_WRONG, ids=[w[0] for w in COMBINE_WRONG])
def test_combine_slips_are_named_and_lose_their_parts(slip, words, lost):
    answer = combine_slip(slip)
    assert words in failure(ch07.check_combine, answer)
    earned, failed = hidden_test("ch07-combine-tests", combine=answer)
    assert [f.split(",")[0] for f in failed] == lost
    assert earned == (0.0 if UNCHANGED in lost else 1.0)


@pytest.mark.parametrize("slip, words", [
    ("one value", "should return 2 values"),
    ("none", "got NoneType"),
])
def test_combine_that_returns_no_pair_earns_nothing(slip, words):
    assert words in failure(ch07.check_combine, combine_slip(slip))
    assert hidden_test("ch07-combine-tests", combine=combine_slip(slip))[0] == 0.0


def test_combine_in_place_is_named_and_loses_its_half_point():
    assert "changes its argument `right[1] (b2)` in place" in failure(ch07.check_combine,
                                                                      combine_in_place)
    assert hidden_test("ch07-combine-tests", combine=combine_in_place) == (1.5, [UNCHANGED])


def test_combine_returning_lists_passes_like_the_hidden_tests():
    def as_lists(left, right):
        a, b = combine(left, right)
        return a.tolist(), b.tolist()

    assert passes(ch07.check_combine, as_lists).startswith("passed: combine")
    assert hidden_test("ch07-combine-tests", combine=as_lists) == full("ch07-combine-tests")


def test_a_real_answer_for_complex_pairs_fails_without_a_warning():
    def real_a(left, right):
        a, b = combine(left, right)
        return np.abs(a), b

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert "your `a` differs" in failure(ch07.check_combine, real_a)


def test_combine_not_written_earns_nothing():
    assert "not written yet" in failure(ch07.check_combine, not_written)
    assert hidden_test("ch07-combine-tests", combine=not_written)[0] == 0.0


def test_the_reference_operator_is_associative_and_folds_to_the_loop():
    rng = np.random.default_rng(0)
    a, b = rng.uniform(0.3, 1.5, size=(3, 4)), rng.normal(size=(3, 4))
    x, y, w = zip(a, b, strict=True)
    left, right = ch07._combine(ch07._combine(x, y), w), ch07._combine(x, ch07._combine(y, w))
    assert np.allclose(left[0], right[0]) and np.allclose(left[1], right[1])
    assert np.allclose(left[1], scan.scan_sequential(a, b)[-1])


# ------------------------------------------------------------------------- inclusive_scan

def inclusive_scan(a, b):
    A, B = np.broadcast_arrays(np.asarray(a), np.asarray(b))
    dtype = np.result_type(A, B)
    A, B = A.astype(dtype), B.astype(dtype)
    T, d = len(B), 1
    while d < T:
        A, B = (np.concatenate([A[:d], A[d:] * A[:-d]]),
                np.concatenate([B[:d], A[d:] * B[:-d] + B[d:]]))
        d *= 2
    return B


def scan_blelloch(a, b):
    return scan.scan_blelloch(a, b)


def scan_loop(a, b):
    # a plain loop gives the same values: graded as right (part (b) asks about the doubling)
    h, state = [], np.zeros_like(b[0])
    for a_t, b_t in zip(a, b, strict=True):
        state = a_t * state + b_t
        h.append(state)
    return np.stack(h)


def scan_torch(a, b):
    # a learner who uses the library's PyTorch scan (batch of one, time on dim 1)
    h = scan.linear_scan(torch.as_tensor(a)[None], torch.as_tensor(b)[None])
    return h[0].numpy()


def scan_slip(slip):
    def answer(a, b):
        A, B = np.array(a, dtype=np.result_type(a, b)), np.array(b, dtype=np.result_type(a, b))
        T, d, k = len(B), 1, 0
        last = int(np.floor(np.log2(T))) if slip == "rounds down" else None
        while d < T and (last is None or k < last):
            if slip == "a first":
                A[d:] = A[d:] * A[:-d]
                B[d:] = A[d:] * B[:-d] + B[d:]
            elif slip == "swapped":
                A[d:], B[d:] = A[d:] * A[:-d], A[:-d] * B[d:] + B[:-d]
            else:
                A[d:], B[d:] = A[d:] * A[:-d], A[d:] * B[:-d] + B[d:]
            d, k = 2 * d, k + 1
        if slip == "exclusive":
            return np.concatenate([np.zeros_like(B[:1]), B[:-1]])
        if slip == "real":
            return B.real
        return B
    if slip == "cumsum":
        return lambda a, b: np.cumsum(b, axis=0)
    if slip == "cumprod":
        return lambda a, b: np.cumprod(a, axis=0) * np.cumsum(b, axis=0)
    if slip == "backwards":
        return lambda a, b: scan_loop(a[::-1], b[::-1])[::-1]
    if slip == "last only":
        return lambda a, b: inclusive_scan(a, b)[-1]
    return answer


def scan_in_place(a, b):
    # the doubling written into the caller's arrays (from the end, so the values are right)
    T, d = len(b), 1
    while d < T:
        for t in range(T - 1, d - 1, -1):
            a[t], b[t] = a[t] * a[t - d], a[t] * b[t - d] + b[t]
        d *= 2
    return b


SCAN_CELL = "ch07-scan-tests"
SCAN_REAL = "the states of real sequences, T = 1, 2, 8, 13"
SCAN_COMPLEX = "complex states, extra axes"


def run_scan_cell(scan_answer, cost_answer=None):
    cost = cost_answer or hillis_steele_cost
    return hidden_test(SCAN_CELL, inclusive_scan=scan_answer, hillis_steele_cost=cost)


def test_inclusive_scan_right_answers_pass_and_earn_every_point():
    for answer in (inclusive_scan, f32(inclusive_scan), scan_blelloch, scan_loop, scan_torch):
        assert passes(ch07.check_inclusive_scan, answer).startswith("passed: inclusive_scan")
        assert run_scan_cell(answer) == (4.0, [])


@pytest.mark.parametrize("slip, words", [
    ("exclusive", "exclusive scan"),
    ("cumsum", "running sum of b"),
    ("cumprod", "running product of a"),
    ("backwards", "backwards in time"),
    ("a first", "updates a before b"),
    ("swapped", "pairs swapped"),
    ("rounds down", "stops a round early: 2 rounds cover only 4 steps, T = 7"),
    ("real", "is real; expected complex"),
    ("last only", "has shape (3,); expected (7, 3)"),
])
def test_inclusive_scan_slips_are_named_and_lose_points(slip, words):
    assert words in failure(ch07.check_inclusive_scan, scan_slip(slip))
    earned, failed = run_scan_cell(scan_slip(slip))
    assert earned < 4.0
    assert SCAN_REAL in failed or SCAN_COMPLEX in failed


def test_inclusive_scan_in_place_is_named_and_loses_a_point():
    assert "changes its argument `a` in place" in failure(ch07.check_inclusive_scan,
                                                          scan_in_place)
    assert run_scan_cell(scan_in_place) == (3.0, [UNCHANGED])


def test_inclusive_scan_not_written_earns_nothing():
    assert "not written yet" in failure(ch07.check_inclusive_scan, not_written)
    assert run_scan_cell(not_written, not_written) == (0.0, [SCAN_REAL, SCAN_COMPLEX,
                                                             "the cost", UNCHANGED])


def test_the_reference_scans_agree_with_the_library():
    rng = np.random.default_rng(1)
    for T in (1, 2, 3, 7, 8, 13, 64, 100):
        a, b = rng.uniform(0.5, 1.1, size=(T, 2)), rng.normal(size=(T, 2))
        h, stats = scan.scan_hillis_steele(a, b, stats=True)
        assert np.allclose(ch07._loop(a, b), scan.scan_sequential(a, b), atol=1e-12)
        assert np.allclose(ch07._hillis_steele(a, b), h, atol=1e-12)
        assert ch07._cost(T) == hillis_steele_cost(T) == (stats.depth, stats.work)


# --------------------------------------------------------------------- hillis_steele_cost

def hillis_steele_cost(T):
    rounds, combines, d = 0, 0, 1
    while d < T:
        rounds, combines, d = rounds + 1, combines + T - d, 2 * d
    return rounds, combines


def cost_closed_form(T):
    rounds = int(np.ceil(np.log2(T))) if T > 1 else 0
    return rounds, np.int64(rounds * T - 2**rounds + 1)


def cost_from_the_library(T):
    stats = scan.scan_hillis_steele(np.ones(T), np.ones(T), stats=True)[1]
    return stats.depth, stats.work


def cost_slip(slip):
    def answer(T):
        rounds, combines = hillis_steele_cost(T)
        floor = int(np.floor(np.log2(T))) if T > 1 else 0
        return {"floor": (floor, combines), "loop": (T - 1, T - 1),
                "T per round": (rounds, T * rounds), "T-1 per round": (rounds, (T - 1) * rounds),
                "float": (float(np.ceil(np.log2(T))), combines), "swapped": (combines, rounds),
                "one more": (rounds + 1, combines), "bool": (True, combines),
                "one value": rounds}[slip]
    return answer


def test_hillis_steele_cost_right_answers_pass_and_earn_every_point():
    for answer in (hillis_steele_cost, cost_closed_form, cost_from_the_library):
        assert passes(ch07.check_hillis_steele_cost, answer).startswith("passed: hillis")
        assert run_scan_cell(inclusive_scan, answer) == (4.0, [])


@pytest.mark.parametrize("slip, words", [
    ("floor", "log2 T rounded down"),
    ("loop", "loop's number of steps"),
    ("T per round", "counts T combines in every round"),
    ("T-1 per round", "counts T - 1 combines in every round"),
    ("float", "expected an int"),
    ("bool", "expected an int"),
    ("swapped", "(combines, rounds), in the wrong order"),
    ("one more", "one round too many"),
    ("one value", "should return 2 values"),
])
def test_hillis_steele_cost_slips_are_named_and_lose_the_cost_point(slip, words):
    assert words in failure(ch07.check_hillis_steele_cost, cost_slip(slip))
    assert run_scan_cell(inclusive_scan, cost_slip(slip)) == (3.0, ["the cost"])


# --------------------------------------------------------------------------- min_gru_step

def min_gru_step(x_t, h_prev, W_z, b_z, W_h, b_h, slip=None):
    if slip == "weights swapped":
        W_z, b_z, W_h, b_h = W_h, b_h, W_z, b_z
    z = sigmoid(x_t @ W_z.T + b_z)
    cand = x_t @ W_h.T + b_h
    cand = {"tanh": np.tanh, "sigmoid": sigmoid}.get(slip, lambda u: u)(cand)
    if slip == "z swapped":
        return z * h_prev + (1 - z) * cand
    if slip == "no bias":
        return (1 - z) * h_prev + z * (x_t @ W_h.T)
    return (1 - z) * h_prev + z * cand


def min_gru_torch(x_t, h_prev, W_z, b_z, W_h, b_h):
    x, h = torch.as_tensor(x_t), torch.as_tensor(h_prev)
    z = torch.sigmoid(torch.nn.functional.linear(x, torch.as_tensor(W_z), torch.as_tensor(b_z)))
    cand = torch.nn.functional.linear(x, torch.as_tensor(W_h), torch.as_tensor(b_h))
    return torch.lerp(h, cand, z)  # (1 - z) h + z h~


def min_gru_in_place(x_t, h_prev, W_z, b_z, W_h, b_h):
    z = sigmoid(x_t @ W_z.T + b_z)
    h_prev *= 1 - z
    h_prev += z * (x_t @ W_h.T + b_h)
    return h_prev


MIN_GRU = "ch07-min-gru-step-tests"


def test_min_gru_step_right_answers_pass_visible_and_hidden():
    for answer in (min_gru_step, f32(min_gru_step), min_gru_torch):
        assert passes(ch07.check_min_gru_step, answer).startswith("passed: min_gru_step")
        assert hidden_test(MIN_GRU, min_gru_step=answer) == (None, [])


@pytest.mark.parametrize("slip, words", [
    ("z swapped", "puts z on the old state"),
    ("tanh", "squashes the candidate with tanh"),
    ("sigmoid", "squashes the candidate with a sigmoid"),
    ("weights swapped", "uses W_h and b_h for the gate"),
    ("no bias", "differs"),
])
def test_min_gru_step_slips_are_named_and_fail_the_hidden_tests(slip, words):
    def answer(*args):
        return min_gru_step(*args, slip=slip)
    assert words in failure(ch07.check_min_gru_step, answer)
    with pytest.raises(AssertionError):
        hidden_test(MIN_GRU, min_gru_step=answer)


def test_min_gru_step_with_transposed_weights_fails_with_a_shape_error():
    def answer(x_t, h_prev, W_z, b_z, W_h, b_h):
        return min_gru_step(x_t, h_prev, W_z.T, b_z, W_h.T, b_h)
    with pytest.raises(ValueError):  # (N, D) @ (H, D) cannot multiply: NumPy says where
        ch07.check_min_gru_step(answer)


def test_min_gru_step_in_place_is_named_visible_and_hidden():
    assert "changes its argument `h_prev` in place" in failure(ch07.check_min_gru_step,
                                                               min_gru_in_place)
    with pytest.raises(AssertionError, match=UNCHANGED):
        hidden_test(MIN_GRU, min_gru_step=min_gru_in_place)


def test_min_gru_step_is_the_recurrence_with_a_1_minus_z():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(9, 3))
    W_z, b_z, W_h, b_h = rng.normal(size=(2, 3)), rng.normal(size=2), rng.normal(size=(2, 3)), \
        rng.normal(size=2)
    z = sigmoid(x @ W_z.T + b_z)
    h = scan.scan_sequential(1 - z, z * (x @ W_h.T + b_h))
    state = np.zeros((1, 2))
    for t in range(9):
        state = ch07._min_gru(x[t:t + 1], state, W_z, b_z, W_h, b_h)
        assert np.allclose(state[0], h[t], atol=1e-12)


# ------------------------------------------------------------------------ lru_eigenvalues

def lru_eigenvalues(nu_log, theta_log):
    lam = np.exp(-np.exp(nu_log) + 1j * np.exp(theta_log))
    return lam, np.sqrt(1 - np.abs(lam) ** 2)


def lru_polar(nu_log, theta_log):
    r = np.exp(-np.exp(nu_log))
    return r * (np.cos(np.exp(theta_log)) + 1j * np.sin(np.exp(theta_log))), \
        np.sqrt(-np.expm1(-2 * np.exp(nu_log)))


def lru_torch(nu_log, theta_log):
    nu, th = torch.as_tensor(nu_log), torch.as_tensor(theta_log)
    lam = torch.polar(torch.exp(-torch.exp(nu)), torch.exp(th))
    return lam.numpy(), torch.sqrt(1 - lam.abs() ** 2).numpy()


def lru_in_place(nu_log, theta_log):
    np.exp(nu_log, out=nu_log)  # the right numbers, but the caller's parameters are gone
    np.exp(theta_log, out=theta_log)
    lam = np.exp(-nu_log + 1j * theta_log)
    return lam, np.sqrt(1 - np.abs(lam) ** 2)


def lru_slip(lam_slip=None, gamma_slip=None):
    def answer(nu_log, theta_log):
        nu, th = np.exp(nu_log), np.exp(theta_log)
        lam = {"no inner exp": np.exp(-nu_log + 1j * theta_log),
               "theta not exp": np.exp(-nu + 1j * theta_log),
               "nu not exp": np.exp(-nu_log + 1j * th),
               "no minus": np.exp(nu + 1j * th),
               "conjugate": np.exp(-nu - 1j * th),
               "modulus only": np.exp(-nu),
               "no 1j": np.exp(-nu + th)}.get(lam_slip, np.exp(-nu + 1j * th))
        right = np.exp(-nu + 1j * th)
        gamma = {"no sqrt": 1 - np.abs(right) ** 2,
                 "not squared": np.sqrt(1 - np.abs(right)),
                 "inverse": 1 / np.sqrt(1 - np.abs(right) ** 2),
                 "lam squared": np.sqrt(1 - right**2 + 0j),
                 "abs of lam squared": np.sqrt(np.abs(1 - right**2))}.get(
                     gamma_slip, np.sqrt(1 - np.abs(right) ** 2))
        return lam, gamma
    return answer


LRU = "ch07-lru-tests"


def test_lru_right_answers_pass_and_earn_every_point():
    for answer in (lru_eigenvalues, f32(lru_eigenvalues), lru_polar, lru_torch):
        assert passes(ch07.check_lru_eigenvalues, answer).startswith("passed: lru")
        assert hidden_test(LRU, lru_eigenvalues=answer) == (2.0, [])


@pytest.mark.parametrize("slip, words", [
    ("no inner exp", "both inner exponentials are missing"),
    ("theta not exp", "uses theta_log as the angle"),
    ("nu not exp", "inner exponential exp(nu_log) is missing"),
    ("no minus", "the minus sign is missing"),
    ("conjugate", "complex conjugate"),
    ("modulus only", "the phase exp(1j * exp(theta_log)) is missing"),
    ("no 1j", "the factor 1j is missing"),
])
def test_lru_eigenvalue_slips_are_named_and_cost_one_point(slip, words):
    answer = lru_slip(lam_slip=slip)
    assert words in failure(ch07.check_lru_eigenvalues, answer)
    assert hidden_test(LRU, lru_eigenvalues=answer) == (1.0, ["lam, for three sizes"])


@pytest.mark.parametrize("slip, words", [
    ("no sqrt", "the square root is missing"),
    ("not squared", "the modulus is not squared"),
    ("inverse", "the inverse of the normalisation"),
    ("lam squared", "lam is squared, not its modulus"),
    ("abs of lam squared", "lam is squared, not its modulus"),
])
def test_lru_normalisation_slips_are_named_and_cost_half_a_point(slip, words):
    answer = lru_slip(gamma_slip=slip)
    assert words in failure(ch07.check_lru_eigenvalues, answer)
    assert hidden_test(LRU, lru_eigenvalues=answer) == (1.5, ["gamma, for three sizes"])


def test_lru_pair_in_the_wrong_order_is_named_and_earns_nothing():
    def answer(nu_log, theta_log):
        return lru_eigenvalues(nu_log, theta_log)[::-1]
    assert "(gamma, lam), in the wrong order" in failure(ch07.check_lru_eigenvalues, answer)
    assert hidden_test(LRU, lru_eigenvalues=answer)[0] == 0.0


def test_lru_in_place_is_named_and_loses_half_a_point():
    assert "changes its argument `nu_log` in place" in failure(ch07.check_lru_eigenvalues,
                                                               lru_in_place)
    assert hidden_test(LRU, lru_eigenvalues=lru_in_place) == (1.5, [UNCHANGED])


def test_lru_gamma_gives_a_white_noise_driven_state_unit_variance():
    # E|h|^2 = gamma^2 sum_k |lam|^(2k) = 1 for h_t = lam h_{t-1} + gamma x_t, x white, var 1
    nu, th = ch07._lru_inputs(np.random.default_rng(3), 5)
    lam, gamma = lru_eigenvalues(nu, th)
    powers = np.abs(lam)[:, None] ** (2 * np.arange(20000))
    assert np.allclose(gamma**2 * powers.sum(axis=1), 1.0, atol=1e-9)
    assert np.all(np.abs(lam) < 1)


def test_lru_float32_errors_are_far_inside_the_tolerance():
    nu, th = ch07._lru_inputs(np.random.default_rng(73), 6)
    for got, want in zip(f32(lru_eigenvalues)(nu, th), lru_eigenvalues(nu, th), strict=True):
        assert np.allclose(got, want, rtol=ch07.LRU_RTOL / 5, atol=0)


# ------------------------------------------------------------------ linear_attention_step

def phi(u):
    return np.where(u > 0, u + 1.0, np.exp(np.minimum(u, 0.0)))


def linear_attention_step(S, z, q, k, v):
    fq, fk = phi(q), phi(k)
    S_new = S + np.einsum("nk,nv->nkv", fk, v)
    z_new = z + fk
    return (np.einsum("nk,nkv->nv", fq, S_new) / np.einsum("nk,nk->n", fq, z_new)[:, None],
            S_new, z_new)


def attention_torch(S, z, q, k, v):
    S, z, q, k, v = (torch.as_tensor(x) for x in (S, z, q, k, v))
    fq, fk = torch.nn.functional.elu(q) + 1, torch.nn.functional.elu(k) + 1
    S_new = S + fk.unsqueeze(2) * v.unsqueeze(1)
    z_new = z + fk
    y = (fq.unsqueeze(1) @ S_new).squeeze(1) / (fq * z_new).sum(-1, keepdim=True)
    return y.numpy(), S_new.numpy(), z_new.numpy()


def attention_loops(S, z, q, k, v):
    # one example at a time, with np.outer: new arrays, nothing changed in place
    y, S_new, z_new = [], [], []
    for n in range(len(q)):
        S_n = S[n] + np.outer(phi(k[n]), v[n])
        z_n = z[n] + phi(k[n])
        y.append(phi(q[n]) @ S_n / (phi(q[n]) @ z_n))
        S_new.append(S_n)
        z_new.append(z_n)
    return np.array(y), np.array(S_new), np.array(z_new)


def attention_in_place(S, z, q, k, v):
    S += np.einsum("nk,nv->nkv", phi(k), v)
    z += phi(k)
    return np.einsum("nk,nkv->nv", phi(q), S) / np.einsum("nk,nk->n", phi(q), z)[:, None], S, z


def attention_slip(slip):
    def answer(S, z, q, k, v):
        feature = {"relu": lambda u: np.maximum(u, 0.0), "elu": lambda u: phi(u) - 1.0,
                   "exp": np.exp}.get(slip, phi)
        fq = q if slip == "no phi on q" else feature(q)
        fk = k if slip == "no phi on k" else feature(k)
        if slip == "vk":
            return None, np.einsum("nv,nk->nvk", v, fk), z + fk
        S_new = S + np.einsum("nk,nv->nkv", fk, v)
        z_new = z if slip == "z not updated" else z + fk
        S_read, z_read = (S, z) if slip == "read before" else (S_new, z_new)
        if slip == "old z":
            z_read = z
        y = np.einsum("nk,nkv->nv", fq, S_read)
        if slip != "no normaliser":
            y = y / np.einsum("nk,nk->n", fq, z_read)[:, None]
        return y, S_new, z_new
    return answer


ATTENTION = "ch07-linear-attention-tests"
ATTENTION_WRONG = [
    ("relu", "uses phi = relu", ["y", "S_new", "z_new"]),
    ("elu", "uses phi = elu without the + 1", ["y", "S_new", "z_new"]),
    ("exp", "uses phi = exp", ["y", "S_new", "z_new"]),
    ("vk", "stores v phi(k)^T, the transpose of the state", ["y", "S_new"]),
    ("no phi on k", "adds k v^T: phi is not applied to k", ["y", "S_new", "z_new"]),
    ("z not updated", "the normaliser's state is not updated", ["y", "z_new"]),
    ("no normaliser", "the normaliser phi(q)^T z_new is missing", ["y"]),
    ("read before", "reads the state before the current token is added", ["y"]),
    ("old z", "the normaliser before the update", ["y"]),
    ("no phi on q", "uses q instead of phi(q)", ["y"]),
]


def test_linear_attention_right_answers_pass_and_earn_every_point():
    for answer in (linear_attention_step, f32(linear_attention_step), attention_torch,
                   attention_loops):
        assert passes(ch07.check_linear_attention_step, answer).startswith("passed: linear")
        assert hidden_test(ATTENTION, linear_attention_step=answer) == (4.0, [])


@pytest.mark.parametrize("slip, words, lost", ATTENTION_WRONG,
                         ids=[w[0] for w in ATTENTION_WRONG])
def test_linear_attention_slips_are_named_and_lose_their_parts(slip, words, lost):
    answer = attention_slip(slip)
    assert words in failure(ch07.check_linear_attention_step, answer)
    earned, failed = hidden_test(ATTENTION, linear_attention_step=answer)
    if len(lost) == 3:  # nothing right: not even the unchanged inputs earn
        assert failed[3:] == [UNCHANGED] and earned == 0.0
        failed = failed[:3]
    assert [f.split(",")[0] for f in failed] == lost
    assert earned == (4.0 - len(lost) if len(lost) < 3 else 0.0)


def test_linear_attention_in_place_is_named_and_loses_a_point():
    assert "changes its argument `S` in place" in failure(ch07.check_linear_attention_step,
                                                          attention_in_place)
    assert hidden_test(ATTENTION, linear_attention_step=attention_in_place) == (3.0, [UNCHANGED])


def test_the_recurrence_equals_causal_linear_attention_computed_as_attention():
    # y_t = sum_{s <= t} (phi(q_t).phi(k_s)) v_s / sum_{s <= t} phi(q_t).phi(k_s)
    rng = np.random.default_rng(4)
    T, Dk, Dv = 6, 3, 2
    q, k, v = rng.normal(size=(T, Dk)), rng.normal(size=(T, Dk)), rng.normal(size=(T, Dv))
    weights = np.tril(phi(q) @ phi(k).T)
    attention = weights @ v / weights.sum(axis=1, keepdims=True)
    S, z = np.zeros((1, Dk, Dv)), np.zeros((1, Dk))
    for t in range(T):
        y, S, z = ch07._attention(S, z, q[t:t + 1], k[t:t + 1], v[t:t + 1])
        assert np.allclose(y[0], attention[t], atol=1e-12)


# ------------------------------------------------------------------------- zoh_discretise

def zoh_discretise(delta, A, B):
    x = delta * A
    safe = np.where(x == 0.0, 1.0, x)
    ratio = np.where(x == 0.0, 1.0, np.expm1(safe) / safe)
    return np.exp(x), (ratio * delta)[:, None] * B


def zoh_series(delta, A, B):
    # a threshold and a Taylor series below it, written without np.expm1
    x = delta * A
    small = np.abs(x) < 1e-5
    ratio = np.where(small, 1 + x / 2 + x**2 / 6, (np.exp(x) - 1) / np.where(small, 1.0, x))
    return np.exp(x), delta[:, None] * ratio[:, None] * B


def zoh_torch(delta, A, B):
    x = torch.as_tensor(delta) * torch.as_tensor(A)
    ratio = torch.where(x == 0, torch.ones_like(x), torch.expm1(x) / torch.where(
        x == 0, torch.ones_like(x), x))
    return torch.exp(x).numpy(), ((ratio * torch.as_tensor(delta))[:, None]
                                  * torch.as_tensor(B)).numpy()


def zoh_matrix_exponential(delta, A, B):
    # the textbook way: exp of the block matrix [[A, B], [0, 0]] times delta, row by row
    H, D = B.shape
    A_bar, B_bar = np.empty(H), np.empty((H, D))
    for j in range(H):
        block = np.zeros((1 + D, 1 + D))
        block[0, 0], block[0, 1:] = A[j], B[j]
        E = scipy.linalg.expm(delta[j] * block)
        A_bar[j], B_bar[j] = E[0, 0], E[0, 1:]
    return A_bar, B_bar


def zoh_in_place(delta, A, B):
    A *= delta  # the caller's A becomes delta * A
    ratio = np.where(A == 0.0, 1.0, np.expm1(A) / np.where(A == 0.0, 1.0, A))
    B *= (ratio * delta)[:, None]
    return np.exp(A), B


def zoh_slip(slip):
    def answer(delta, A, B):
        x, d = delta * A, delta[:, None]
        right = zoh_discretise(delta, A, B)
        A_bar = {"exp(A)": np.exp(A), "euler A": 1 + x}.get(slip, right[0])
        B_bar = {"euler B": d * B, "exp": np.exp(x)[:, None] * d * B,
                 "no delta": zoh_discretise(delta, A, B)[1] / d,
                 "no division": np.expm1(x)[:, None] * B,
                 "naive": ((np.exp(x) - 1) / x)[:, None] * d * B,
                 "naive guarded": np.where(x == 0, 1.0, (np.exp(x) - 1) / np.where(
                     x == 0, 1.0, x))[:, None] * d * B}.get(slip, right[1])
        return A_bar, B_bar
    return answer


ZOH = "ch07-zoh-tests"
ZOH_WRONG = [
    ("exp(A)", "is exp(A): the step delta is missing", ["A_bar"]),
    ("euler A", "is 1 + delta * A, the Euler step", ["A_bar"]),
    ("euler B", "is delta * B, the Euler step", ["B_bar"]),  # right in the limit
    ("exp", "is exp(delta * A) * delta * B", ["B_bar"]),
    ("no delta", "the factor delta is missing", ["B_bar", "B_bar where"]),
    ("no division", "the division by A is missing", ["B_bar", "B_bar where"]),
    ("naive", "divides by delta * A = 0", ["B_bar where"]),
    ("naive guarded", "loses its digits", ["B_bar where"]),
]


def test_zoh_right_answers_pass_and_earn_every_point():
    for answer in (zoh_discretise, f32(zoh_discretise), zoh_series, zoh_torch,
                   zoh_matrix_exponential):
        assert passes(ch07.check_zoh_discretise, answer).startswith("passed: zoh")
        assert hidden_test(ZOH, zoh_discretise=answer) == (4.0, [])


@pytest.mark.parametrize("slip, words, lost", ZOH_WRONG, ids=[w[0] for w in ZOH_WRONG])
def test_zoh_slips_are_named_and_lose_their_parts(slip, words, lost):
    answer = zoh_slip(slip)
    assert words in failure(ch07.check_zoh_discretise, answer)
    earned, failed = hidden_test(ZOH, zoh_discretise=answer)
    assert [f.split(",")[0] if f.startswith("B_bar,") else f[:11] if f.startswith("B_bar where")
            else f for f in failed] == lost
    assert earned == 4.0 - len(lost)


def test_zoh_in_place_is_named_and_loses_a_point():
    assert "changes its argument `A` in place" in failure(ch07.check_zoh_discretise,
                                                          zoh_in_place)
    assert hidden_test(ZOH, zoh_discretise=zoh_in_place) == (3.0, [UNCHANGED])


def test_the_reference_zoh_is_the_exact_solution_of_the_held_system():
    # against scipy's matrix exponential of the augmented system, including the integrator
    rng = np.random.default_rng(5)
    delta, A, B = ch07._zoh_inputs(rng, H=6, D=3, singular=True)
    for got, want in zip(ch07._zoh(delta, A, B), zoh_matrix_exponential(delta, A, B),
                         strict=True):
        assert np.allclose(got, want, rtol=1e-12, atol=0)


# ------------------------------------------------------------------------- log_space_scan

def log_space_scan(log_a, log_b):
    a_star = np.cumsum(log_a, axis=0)
    return a_star + np.logaddexp.accumulate(log_b - a_star, axis=0)


def log_scan_library(log_a, log_b):
    # the library's PyTorch scan, batch of one
    return scan.log_space_scan(torch.as_tensor(log_a)[None], torch.as_tensor(log_b)[None])[0] \
        .numpy()


def log_scan_torch(log_a, log_b):
    a_star = np.cumsum(log_a, axis=0)
    return a_star + torch.logcumsumexp(torch.as_tensor(log_b - a_star), dim=0).numpy()


def log_scan_running(log_a, log_b):
    # the recurrence itself in logarithms: log h_t = logaddexp(log a_t + log h_{t-1}, log b_t)
    out, state = [], np.full(log_b.shape[1:], -np.inf)
    for la, lb in zip(log_a, log_b, strict=True):
        state = np.logaddexp(la + state, lb)
        out.append(state)
    return np.array(out)


def log_scan_slip(slip):
    def answer(log_a, log_b):
        a_star = np.cumsum(log_a, axis=0)
        if slip == "naive":
            return np.log(ch07._loop(np.exp(log_a), np.exp(log_b)))
        if slip == "global shift":
            x = log_b - a_star
            top = x.max(axis=0)
            return a_star + np.log(np.cumsum(np.exp(x - top), axis=0)) + top
        if slip == "no a":
            return np.logaddexp.accumulate(log_b, axis=0)
        if slip == "exclusive":
            return a_star + np.logaddexp.accumulate(log_b - a_star + log_a, axis=0)
        if slip == "sums":
            return a_star + np.cumsum(log_b, axis=0)
        if slip == "log of cumsum":
            return a_star + np.log(np.cumsum(np.exp(log_b - a_star), axis=0))
        raise ValueError(slip)
    return answer


def log_scan_in_place(log_a, log_b):
    np.cumsum(log_a, axis=0, out=log_a)  # the caller's log_a becomes a*
    log_b -= log_a
    return log_a + np.logaddexp.accumulate(log_b, axis=0)


LOG_SCAN = "ch07-log-scan-tests"
LOG_MODERATE, LOG_LARGE, LOG_DECAY = ("moderate values", "log_b near 1000",
                                      "a strong decay")


def test_log_space_scan_right_answers_pass_and_earn_every_point():
    for answer in (log_space_scan, f32(log_space_scan), log_scan_library, log_scan_torch,
                   log_scan_running):
        assert passes(ch07.check_log_space_scan, answer).startswith("passed: log_space_scan")
        assert hidden_test(LOG_SCAN, log_space_scan=answer) == (2.0, [])


@pytest.mark.parametrize("slip, words, lost", [
    ("naive", "something overflows", [LOG_LARGE]),
    ("log of cumsum", "something overflows", [LOG_LARGE, LOG_DECAY]),
    ("global shift", "underflowed to 0", [LOG_DECAY]),
    ("no a", "ignores the factors a", [LOG_MODERATE, LOG_LARGE, LOG_DECAY]),
    ("exclusive", "multiplies each b_t by its own a_t", [LOG_MODERATE, LOG_LARGE, LOG_DECAY]),
    ("sums", "a sum of products is not a product of sums", [LOG_MODERATE, LOG_LARGE,
                                                            LOG_DECAY]),
])
def test_log_space_scan_slips_are_named_and_lose_their_parts(slip, words, lost):
    answer = log_scan_slip(slip)
    assert words in failure(ch07.check_log_space_scan, answer)
    earned, failed = hidden_test(LOG_SCAN, log_space_scan=answer)
    nothing_right = len(lost) == 3  # then the unchanged inputs earn nothing either
    assert [f.split(",")[0] for f in failed] == lost + ([UNCHANGED] if nothing_right else [])
    assert earned == (0.0 if nothing_right else 2.0 - 0.5 * len(lost))


def test_log_space_scan_in_place_is_named_and_loses_half_a_point():
    assert "changes its argument `log_a` in place" in failure(ch07.check_log_space_scan,
                                                              log_scan_in_place)
    assert hidden_test(LOG_SCAN, log_space_scan=log_scan_in_place) == (1.5, [UNCHANGED])


def test_the_reference_log_scan_is_the_log_of_the_loop_and_of_the_library():
    rng = np.random.default_rng(6)
    log_a, log_b = np.log(rng.uniform(0.2, 1.0, size=(30, 3))), rng.normal(size=(30, 3))
    assert np.allclose(ch07._log_scan(log_a, log_b),
                       np.log(scan.scan_sequential(np.exp(log_a), np.exp(log_b))), atol=1e-12)
    assert np.allclose(ch07._log_scan(log_a, log_b), log_scan_library(log_a, log_b), atol=1e-10)


def test_log_space_scan_float32_errors_are_far_inside_the_tolerance():
    for _, log_a, log_b in ch07._log_scan_inputs(np.random.default_rng(76)):
        got = f32(log_space_scan)(log_a, log_b)
        assert np.allclose(got, ch07._log_scan(log_a, log_b), rtol=0, atol=ch07.LOG_ATOL / 4)


# -------------------------------------------------------------- every exercise, every slip

EVERY_CHECK = [
    (ch07.check_combine, combine), (ch07.check_inclusive_scan, inclusive_scan),
    (ch07.check_hillis_steele_cost, hillis_steele_cost), (ch07.check_min_gru_step, min_gru_step),
    (ch07.check_lru_eigenvalues, lru_eigenvalues),
    (ch07.check_linear_attention_step, linear_attention_step),
    (ch07.check_zoh_discretise, zoh_discretise),
    (ch07.check_log_space_scan, log_space_scan),
]


@pytest.mark.parametrize("check, answer", EVERY_CHECK, ids=[c.__name__ for c, _ in EVERY_CHECK])
def test_a_passing_check_prints_two_short_lines(check, answer):
    printed = passes(check, answer)
    assert printed.startswith("passed: ") and len(printed.splitlines()) == 2
    assert max(len(line) for line in printed.splitlines()) <= 79


def test_every_named_slip_is_far_from_the_right_answer():
    """On the checks' inputs no named slip is within 100 times the tolerance of the answer, so
    no diagnosis can fire on a right answer nor the tolerance accept a slip."""
    def far(wrong, right, rtol):
        wrong, right = np.asarray(wrong), np.asarray(right)
        return wrong.shape != right.shape or not np.allclose(wrong, right, rtol=100 * rtol,
                                                             atol=0)
    rng = np.random.default_rng(71)
    a, b = rng.uniform(0.5, 1.1, size=(7, 3)), rng.normal(size=(7, 3))
    for wrong, message, _ in ch07._scan_slips(a, b):
        assert far(wrong, ch07._loop(a, b), ch07.RTOL), message
    args = _attention_args = ch07._attention_inputs(np.random.default_rng(74))
    right = ch07._attention(*args)
    for kw in [dict(phi=lambda u: np.maximum(u, 0)), dict(normalise=False), dict(read="before"),
               dict(read="old z"), dict(phi_on_q=False)]:
        assert far(ch07._attention(*_attention_args, **kw)[0], right[0], ch07.RTOL), kw
    nu, th = ch07._lru_inputs(np.random.default_rng(73), 6)
    lam, gamma = lru_eigenvalues(nu, th)
    for slip in ("no sqrt", "not squared", "inverse"):
        assert far(lru_slip(gamma_slip=slip)(nu, th)[1], gamma, ch07.LRU_RTOL), slip
    for slip in ("no inner exp", "theta not exp", "nu not exp", "no minus", "conjugate"):
        assert far(lru_slip(lam_slip=slip)(nu, th)[0], lam, ch07.LRU_RTOL), slip
    delta, A, B = ch07._zoh_inputs(np.random.default_rng(0), singular=True)
    with np.errstate(all="ignore"):
        naive = zoh_slip("naive guarded")(delta, A, B)[1]
    right = zoh_discretise(delta, A, B)[1]
    assert far(naive[1], right[1], ch07.ZOH_RTOL)  # delta * A = -1.5e-16
    assert not np.allclose(naive[2], right[2], rtol=10 * ch07.ZOH_RTOL, atol=0)  # -1e-13


# ------------------------------------------------------------------ the cells' form, graded

PARTIAL = {"ch07-combine-tests": (2, "ch07.check_combine(combine)"),
           "ch07-scan-tests": (4, "ch07.check_inclusive_scan(inclusive_scan)\n"
                                  "    ch07.check_hillis_steele_cost(hillis_steele_cost)"),
           "ch07-lru-tests": (2, "ch07.check_lru_eigenvalues(lru_eigenvalues)"),
           "ch07-linear-attention-tests": (4, "ch07.check_linear_attention_step("
                                              "linear_attention_step)"),
           "ch07-zoh-tests": (4, "ch07.check_zoh_discretise(zoh_discretise)"),
           "ch07-log-scan-tests": (2, "ch07.check_log_space_scan(log_space_scan)")}


@pytest.mark.parametrize("grade_id", PARTIAL)
def test_a_partial_credit_cell_has_the_books_form(grade_id):
    points, check = PARTIAL[grade_id]
    _, source = notebook_cells(grade_id)
    first, last = HIDDEN.findall(source)
    assert source.startswith(f"credit = Credit(points={points})\n### BEGIN HIDDEN TESTS\n")
    assert last == "credit.earned()\n" and "credit.earned()" not in first
    assert strip_regions(source) == (f"credit = Credit(points={points})\n"
                                     f"with credit.visible():\n    {check}\n")
    assert points_of(grade_id) == points


def test_the_exercises_are_worth_20_points():
    nb = nbformat.read(EXERCISES, as_version=4)
    assert sum(c.metadata.nbgrader.get("points", 0) for c in nb.cells
               if "nbgrader" in c.metadata) == 20


GRADED_WRONG = [
    ("ch07-combine-tests", {"combine": combine_slip("no a2")}, "factor a2 on b1"),
    ("ch07-scan-tests", {"inclusive_scan": scan_slip("a first"),
                         "hillis_steele_cost": hillis_steele_cost}, "updates a before b"),
    ("ch07-lru-tests", {"lru_eigenvalues": lru_slip(gamma_slip="no sqrt")}, "square root"),
    ("ch07-linear-attention-tests", {"linear_attention_step": attention_slip("old z")},
     "the normaliser before the update"),
    ("ch07-zoh-tests", {"zoh_discretise": zoh_slip("euler B")}, "the Euler step"),
    ("ch07-log-scan-tests", {"log_space_scan": log_scan_slip("global shift")}, "underflowed"),
]


@pytest.mark.parametrize("grade_id, answers, words", GRADED_WRONG,
                         ids=[g[0] for g in GRADED_WRONG])
def test_a_graded_cell_prints_the_visible_failure_and_scores_the_cases(grade_id, answers, words):
    namespace, printed = run_cell(grade_id, **answers)
    assert 0 < namespace["credit"].earned() < points_of(grade_id)
    assert "failed: the visible check: " in printed and words in printed.replace("\n    ", " ")
    assert max(len(line) for line in printed.splitlines()) <= 79


@pytest.mark.parametrize("grade_id, answers, words", GRADED_WRONG,
                         ids=[g[0] for g in GRADED_WRONG])
def test_the_learners_copy_of_a_cell_fails_on_a_wrong_answer(grade_id, answers, words):
    with pytest.raises(CheckFailed, match=re.escape(words)):
        run_cell(grade_id, learner=True, **answers)


RIGHT = {"ch07-combine-tests": {"combine": combine},
         "ch07-scan-tests": {"inclusive_scan": inclusive_scan,
                             "hillis_steele_cost": hillis_steele_cost},
         "ch07-min-gru-step-tests": {"min_gru_step": min_gru_step},
         "ch07-lru-tests": {"lru_eigenvalues": lru_eigenvalues},
         "ch07-linear-attention-tests": {"linear_attention_step": linear_attention_step},
         "ch07-zoh-tests": {"zoh_discretise": zoh_discretise},
         "ch07-log-scan-tests": {"log_space_scan": log_space_scan}}


@pytest.mark.parametrize("grade_id", RIGHT)
def test_the_learners_copy_of_a_cell_passes_a_right_answer(grade_id):
    namespace, printed = run_cell(grade_id, learner=True, **RIGHT[grade_id])
    assert printed.startswith("passed: ")
    if "credit" in namespace:
        assert namespace["credit"].results == []


@pytest.mark.parametrize("grade_id", RIGHT)
def test_answers_that_return_none_earn_nothing(grade_id):
    # the grading round trip's "checks patched" student: stubs that return None
    nones = {name: (lambda *args: None) for name in RIGHT[grade_id]}
    try:
        earned, _ = hidden_test(grade_id, **nones)
    except (AssertionError, TypeError):
        earned = 0.0
    assert not earned
