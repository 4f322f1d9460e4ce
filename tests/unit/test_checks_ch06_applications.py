"""rnnbook.checks.ch06.applications: each check accepts the reference and rejects wrong answers."""

import math
import pathlib
import re
from statistics import NormalDist

import nbformat
import numpy as np
import pytest
import torch

from rnnbook.checks import CheckFailed
from rnnbook.checks.ch06 import applications as ch06b


def failure(check, answer):
    with pytest.raises(CheckFailed) as info:
        check(answer)
    return str(info.value)


def not_written(*args):
    raise NotImplementedError()


# ----------------------------------------------------------------------------- split_and_scale

def split_and_scale(series, n_valid, n_test):
    a = len(series) - n_valid - n_test
    z = (series - series[:a].mean()) / series[:a].std()
    return z[:a], z[a:a + n_valid], z[a + n_valid:]


def whole_series(series, n_valid, n_test):
    a = len(series) - n_valid - n_test
    z = (series - series.mean()) / series.std()
    return z[:a], z[a:a + n_valid], z[a + n_valid:]


def shuffled(series, n_valid, n_test):
    z = np.concatenate(split_and_scale(series, n_valid, n_test))
    z = np.random.default_rng(0).permutation(z)
    a = len(series) - n_valid - n_test
    return z[:a], z[a:a + n_valid], z[a + n_valid:]


def own_stats(series, n_valid, n_test):
    a = len(series) - n_valid - n_test
    parts = series[:a], series[a:a + n_valid], series[a + n_valid:]
    return tuple((p - p.mean()) / p.std() for p in parts)


def ddof1(series, n_valid, n_test):
    a = len(series) - n_valid - n_test
    z = (series - series[:a].mean()) / series[:a].std(ddof=1)
    return z[:a], z[a:a + n_valid], z[a + n_valid:]


def off_by_one(series, n_valid, n_test):
    a = len(series) - n_valid - n_test + 1
    z = (series - series[:a].mean()) / series[:a].std()
    return z[:a], z[a:a + n_valid], z[a + n_valid:]


def test_split_and_scale_reference_passes(capsys):
    ch06b.check_split_and_scale(split_and_scale)
    assert capsys.readouterr().out.startswith("passed: split_and_scale")


@pytest.mark.parametrize("answer, words", [
    (whole_series, "whole series"),
    (shuffled, "time order"),
    (own_stats, "its own mean"),
    (ddof1, "ddof=1"),
    (off_by_one, "shape"),
    (lambda s, v, t: (s[:len(s) - v - t], s[len(s) - v - t:len(s) - t], s[len(s) - t:]),
     "not scaled"),
    (lambda s, v, t: None, "three arrays"),
    (not_written, "not written yet"),
])
def test_split_and_scale_wrong_answers(answer, words):
    assert words in failure(ch06b.check_split_and_scale, answer)


# --------------------------------------------------------------------------- interval_coverage

def coverage(y, mean, std, level):
    z = NormalDist().inv_cdf((1 + level) / 2)
    return float(np.mean(np.abs(y - mean) <= z * std))


def test_interval_coverage_reference_passes(capsys):
    ch06b.check_interval_coverage(coverage)
    assert capsys.readouterr().out.startswith("passed: interval_coverage")


def test_interval_coverage_accepts_a_torch_answer():
    def torch_coverage(y, mean, std, level):
        z = math.sqrt(2) * torch.special.erfinv(torch.tensor(level, dtype=torch.float64))
        inside = (torch.from_numpy(y) - torch.from_numpy(mean)).abs() <= z * torch.from_numpy(std)
        return inside.double().mean()
    ch06b.check_interval_coverage(torch_coverage)


@pytest.mark.parametrize("answer, words", [
    (lambda y, m, s, q: 1 - coverage(y, m, s, q), "outside"),
    (lambda y, m, s, q: float(np.mean(np.abs(y - m) <= NormalDist().inv_cdf(q) * s)),
     "one-sided"),
    (lambda y, m, s, q: float(np.mean(np.abs(y - m) <= NormalDist().inv_cdf((1 + q) / 2) * s ** 2)),
     "variance"),
    (lambda y, m, s, q: float(np.mean(np.abs(y - m) <= 2 * s)), "z = 2"),
    (lambda y, m, s, q: 100 * coverage(y, m, s, q), "percentage"),
    (lambda y, m, s, q: np.abs(y - m) <= 1.28 * s, "one number"),
    (lambda y, m, s, q: float(np.mean(np.abs(y - m) <= 1.6449 * s)), "expected"),
    (not_written, "not written yet"),
])
def test_interval_coverage_wrong_answers(answer, words):
    assert words in failure(ch06b.check_interval_coverage, answer)


# --------------------------------------------------------------------------- masked_last_state

def last(outputs, lengths):
    return outputs[np.arange(len(outputs)), lengths - 1]


def test_masked_last_state_reference_passes(capsys):
    ch06b.check_masked_last_state(last)
    assert capsys.readouterr().out.startswith("passed: masked_last_state")


def test_masked_last_state_accepts_torch():
    ch06b.check_masked_last_state(
        lambda o, n: torch.from_numpy(o)[torch.arange(len(o)), torch.from_numpy(n) - 1])


def _mean_real(o, n):
    mask = (np.arange(o.shape[1])[None, :] < n[:, None])[..., None]
    return (o * mask).sum(1) / n[:, None]


@pytest.mark.parametrize("answer, words", [
    (lambda o, n: o[:, -1], "last column"),
    (lambda o, n: o[np.arange(len(o)), n], "too late"),
    (lambda o, n: o[np.arange(len(o)), n - 2], "too early"),
    (_mean_real, "mean over the real steps"),
    (lambda o, n: o.mean(1), "padding included"),
    (lambda o, n: o[:, 0], "first step"),
    (lambda o, n: o[:, n - 1], "shape"),
    (lambda o, n: o[np.arange(len(o)), np.minimum(n, 3) - 1], "differs"),
    (not_written, "not written yet"),
])
def test_masked_last_state_wrong_answers(answer, words):
    assert words in failure(ch06b.check_masked_last_state, answer)


# ---------------------------------------------------------------------------- attention_step

def softmax(e):
    e = e - e.max(axis=1, keepdims=True)
    w = np.exp(e)
    return w / w.sum(axis=1, keepdims=True)


def attention(s, k, mask, Wq, Wk, b, v, tanh=True, use_mask=True, bias=True, norm=True):
    pre = (s @ Wq.T)[:, None, :] + k @ Wk.T + (b if bias else 0)
    e = (np.tanh(pre) if tanh else pre) @ v
    if not norm:
        w = np.where(mask, e, 0)
    else:
        w = softmax(np.where(mask, e, -np.inf) if use_mask else e)
    return np.einsum("ns,nsh->nh", w, k), w


def test_attention_step_reference_passes(capsys):
    ch06b.check_attention_step(attention)
    assert capsys.readouterr().out.startswith("passed: attention_step")


@pytest.mark.parametrize("answer, words", [
    (lambda *a: attention(*a, use_mask=False), "mask is not applied"),
    (lambda *a: attention(*a, tanh=False), "tanh"),
    (lambda *a: attention(*a, bias=False), "bias"),
    (lambda *a: attention(*a, norm=False), "softmax is missing"),
    (lambda *a: (a[1].mean(1), attention(*a)[1]), "plain mean"),
    (lambda *a: (attention(*a)[0], attention(*a)[1].T), "shape"),
    (lambda *a: attention(*a)[1], "pair"),
    (not_written, "not written yet"),
])
def test_attention_step_wrong_answers(answer, words):
    assert words in failure(ch06b.check_attention_step, answer)


# ------------------------------------------- the hidden tests of the notebook reject them too

CHAPTER = pathlib.Path(__file__).resolve().parents[2] / "chapters" / "06_applications"
EXERCISES = CHAPTER / "exercises.ipynb"
HIDDEN = re.compile(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", re.S)


def hidden_tests(grade_id):
    """The hidden part of the test cell ``grade_id`` of the chapter's exercises."""
    for cell in nbformat.read(EXERCISES, as_version=4).cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
            return HIDDEN.search(cell.source).group(1)
    pytest.fail(f"no test cell {grade_id} in {CHAPTER / 'exercises.ipynb'}")


def run_hidden(grade_id, name, answer):
    exec(hidden_tests(grade_id), {"np": np, "math": math, name: answer})


@pytest.mark.parametrize("grade_id, name, right, wrong", [
    ("ch06-split-and-scale-tests", "split_and_scale", split_and_scale,
     [whole_series, shuffled, own_stats, ddof1, off_by_one]),
    ("ch06-interval-coverage-tests", "interval_coverage", coverage,
     [lambda y, m, s, q: 1 - coverage(y, m, s, q),
      lambda y, m, s, q: float(np.mean(np.abs(y - m) <= NormalDist().inv_cdf(q) * s)),
      lambda y, m, s, q: float(np.mean(np.abs(y - m) <= 2 * s)),
      lambda y, m, s, q: 100 * coverage(y, m, s, q)]),
    ("ch06-masked-last-state-tests", "masked_last_state", last,
     [lambda o, n: o[:, -1], lambda o, n: o[np.arange(len(o)), n - 2], _mean_real]),
    ("ch06-attention-step-tests", "attention_step", attention,
     [lambda *a: attention(*a, use_mask=False), lambda *a: attention(*a, tanh=False),
      lambda *a: attention(*a, bias=False), lambda *a: (a[1].mean(1), attention(*a)[1])]),
])
def test_hidden_tests_accept_the_reference_and_reject_wrong_answers(grade_id, name, right, wrong):
    run_hidden(grade_id, name, right)
    for answer in wrong:
        with pytest.raises((AssertionError, IndexError, ValueError)):
            run_hidden(grade_id, name, answer)


# ------------------------------------------------ review: further plausible slips, all rejected

def train_and_valid_stats(series, n_valid, n_test):
    a = len(series) - n_valid - n_test
    z = (series - series[:a + n_valid].mean()) / series[:a + n_valid].std()
    return z[:a], z[a:a + n_valid], z[a + n_valid:]


def valid_test_swapped(series, n_valid, n_test):
    a = len(series) - n_valid - n_test
    z = (series - series[:a].mean()) / series[:a].std()
    return z[:a], z[a + n_test:], z[a:a + n_test]


def in_place_whole(series, n_valid, n_test):
    a = len(series) - n_valid - n_test
    series -= series.mean()
    series /= series.std()
    return series[:a], series[a:a + n_valid], series[a + n_valid:]


def in_place_right(series, n_valid, n_test):
    a = len(series) - n_valid - n_test
    series -= series[:a].mean()
    series /= series[:a].std()
    return series[:a], series[a:a + n_valid], series[a + n_valid:]


def test_split_and_scale_review_slips(capsys):
    for answer in (train_and_valid_stats, valid_test_swapped, in_place_whole):
        failure(ch06b.check_split_and_scale, answer)
        with pytest.raises(AssertionError):
            run_hidden("ch06-split-and-scale-tests", "split_and_scale", answer)
    ch06b.check_split_and_scale(in_place_right)      # mutating the input is not a mistake
    assert capsys.readouterr().out.startswith("passed: split_and_scale")


def _z(q):
    return NormalDist().inv_cdf((1 + q) / 2)


def upper_only(y, m, s, q):
    return float(np.mean(y - m <= _z(q) * s))


def fixed_z(y, m, s, q):
    return float(np.mean(np.abs(y - m) <= 1.645 * s))


def count_inside(y, m, s, q):
    return int(np.sum(np.abs(y - m) <= _z(q) * s))


def test_interval_coverage_review_slips():
    for answer in (upper_only, fixed_z, count_inside):
        failure(ch06b.check_interval_coverage, answer)
        with pytest.raises(AssertionError):
            run_hidden("ch06-interval-coverage-tests", "interval_coverage", answer)


def longest(o, n):
    return o[np.arange(len(o)), np.max(n) - 1]


def sorted_lengths(o, n):
    return o[np.arange(len(o)), np.sort(n) - 1]


def from_the_end(o, n):
    return o[np.arange(len(o)), -n]


def test_masked_last_state_review_slips():
    for answer in (longest, sorted_lengths, from_the_end):
        failure(ch06b.check_masked_last_state, answer)
        with pytest.raises(AssertionError):
            run_hidden("ch06-masked-last-state-tests", "masked_last_state", answer)


def test_attention_step_review_slips():
    def zeroed_after_softmax(s, k, mask, Wq, Wk, b, v):
        _, w = attention(s, k, mask, Wq, Wk, b, v, use_mask=False)
        w = w * mask                                   # masked, but not renormalised
        return np.einsum("ns,nsh->nh", w, k), w

    def sigmoid_weights(s, k, mask, Wq, Wk, b, v):
        e = np.tanh((s @ Wq.T)[:, None, :] + k @ Wk.T + b) @ v
        w = np.where(mask, 1 / (1 + np.exp(-e)), 0)
        return np.einsum("ns,nsh->nh", w, k), w

    def dot_product(s, k, mask, Wq, Wk, b, v):
        e = np.einsum("na,nsa->ns", s @ Wq.T, k @ Wk.T)
        w = softmax(np.where(mask, e, -np.inf))
        return np.einsum("ns,nsh->nh", w, k), w

    for answer in (zeroed_after_softmax, sigmoid_weights, dot_product):
        failure(ch06b.check_attention_step, answer)
        with pytest.raises(AssertionError):
            run_hidden("ch06-attention-step-tests", "attention_step", answer)


# ------------------------------- issue 19: an in-place answer is judged alike by both tests

def in_place_ddof1(series, n_valid, n_test):
    a = len(series) - n_valid - n_test
    series -= series[:a].mean()
    series /= series[:a].std(ddof=1)
    return series[:a], series[a:a + n_valid], series[a + n_valid:]


def in_place_float32(series, n_valid, n_test):
    z = np.asarray(series, dtype=np.float32)
    return in_place_right(z, n_valid, n_test)


def test_split_and_scale_in_place_answers_get_one_verdict(capsys):
    # needs /work/pending/ch6_apps_exercises.py applied to exercises.ipynb: the hidden test then
    # calls the answer on a copy, as the visible check does, so a right in-place answer passes
    for answer in (in_place_right, in_place_float32):
        ch06b.check_split_and_scale(answer)
        assert capsys.readouterr().out.startswith("passed: split_and_scale")
        run_hidden("ch06-split-and-scale-tests", "split_and_scale", answer)
    failure(ch06b.check_split_and_scale, in_place_ddof1)
    with pytest.raises(AssertionError):
        run_hidden("ch06-split-and-scale-tests", "split_and_scale", in_place_ddof1)
