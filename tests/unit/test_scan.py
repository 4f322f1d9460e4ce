"""The scans of rnnbook.scan against the step loop, autograd and bad input."""

import math

import numpy as np
import pytest
import torch

from rnnbook.scan import (
    ScanStats,
    combine,
    linear_recurrence_loop,
    linear_scan,
    log_space_scan,
    scan_blelloch,
    scan_hillis_steele,
    scan_sequential,
)

LENGTHS = [1, 2, 3, 5, 8, 13, 64, 100]


def _pairs(rng, T, shape=(3,), complex_=False):
    a = rng.uniform(-1, 1, size=(T, *shape))
    b = rng.normal(size=(T, *shape))
    if complex_:
        a = a * np.exp(1j * rng.uniform(0, np.pi, size=a.shape))
        b = b + 1j * rng.normal(size=b.shape)
    return a, b


def test_combine_is_associative_and_composes_steps():
    rng = np.random.default_rng(0)
    p, q, r = (tuple(rng.normal(size=(2, 4))) for _ in range(3))
    left = combine(combine(p, q), r)
    right = combine(p, combine(q, r))
    np.testing.assert_allclose(left, right, rtol=1e-13)
    h = rng.normal(size=4)
    a, b = combine(p, q)
    np.testing.assert_allclose(a * h + b, q[0] * (p[0] * h + p[1]) + q[1], rtol=1e-13)


def test_sequential_matches_a_hand_loop():
    a = np.array([0.5, 2.0, -1.0])
    b = np.array([1.0, 1.0, 3.0])
    np.testing.assert_allclose(scan_sequential(a, b, h0=np.array(4.0)), [3.0, 7.0, -4.0])


@pytest.mark.parametrize("scan", [scan_hillis_steele, scan_blelloch])
@pytest.mark.parametrize("T", LENGTHS)
@pytest.mark.parametrize("complex_", [False, True])
def test_numpy_scans_equal_the_loop(scan, T, complex_):
    rng = np.random.default_rng(T)
    a, b = _pairs(rng, T, complex_=complex_)
    h0 = rng.normal(size=3)
    a_copy, b_copy = a.copy(), b.copy()
    np.testing.assert_allclose(scan(a, b, h0), scan_sequential(a, b, h0), rtol=0, atol=1e-12)
    np.testing.assert_array_equal(a, a_copy)
    np.testing.assert_array_equal(b, b_copy)


@pytest.mark.parametrize("T", LENGTHS)
def test_scan_costs(T):
    rng = np.random.default_rng(1)
    a, b = _pairs(rng, T)
    levels = math.ceil(math.log2(T)) if T > 1 else 0
    _, hs = scan_hillis_steele(a, b, stats=True)
    assert hs == ScanStats(levels, sum(T - 2**r for r in range(levels)))
    _, bl = scan_blelloch(a, b, stats=True)
    assert bl == ScanStats(2 * levels + 1, 2 * (2**levels - 1) + T)


def test_numpy_broadcast_decay():
    rng = np.random.default_rng(2)
    a = np.array([0.9, 0.5])
    b = rng.normal(size=(7, 2))
    expected = scan_sequential(np.broadcast_to(a, b.shape), b)
    np.testing.assert_allclose(scan_blelloch(a, b), expected, atol=1e-14)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"a": np.ones(3), "b": np.ones((0, 3))}, "b: expected an array of shape"),
        ({"a": np.ones(3), "b": np.ones(3, dtype=int)}, "b: expected a float or complex"),
        ({"a": np.ones((4, 2)), "b": np.ones((3, 2))}, "a: expected a shape that broadcasts"),
        ({"a": np.ones(3), "b": np.ones(3), "h0": np.ones(3)}, r"h0: expected shape \(\)"),
    ],
)
@pytest.mark.parametrize("scan", [scan_sequential, scan_hillis_steele, scan_blelloch])
def test_numpy_bad_input(scan, kwargs, match):
    with pytest.raises(ValueError, match=match):
        scan(**kwargs)


@pytest.mark.parametrize("T", LENGTHS)
@pytest.mark.parametrize("dtype", [torch.float64, torch.complex128])
def test_linear_scan_equals_loop_with_gradients(T, dtype):
    g = torch.Generator().manual_seed(T)
    a = (torch.rand(2, T, 3, generator=g, dtype=torch.float64) * 2 - 1).to(dtype)
    b = torch.randn(2, T, 3, generator=g, dtype=torch.float64).to(dtype)
    h0 = torch.randn(2, 3, generator=g, dtype=torch.float64).to(dtype)
    inputs = [x.clone().requires_grad_() for x in (a, b, h0)]
    loop_inputs = [x.clone().requires_grad_() for x in (a, b, h0)]
    h = linear_scan(*inputs)
    h_loop = linear_recurrence_loop(*loop_inputs)
    torch.testing.assert_close(h, h_loop, rtol=0, atol=1e-12)
    w = torch.randn(h.shape, generator=g, dtype=torch.float64).to(dtype)
    (h * w).real.sum().backward()
    (h_loop * w).real.sum().backward()
    for x, y in zip(inputs, loop_inputs, strict=True):
        torch.testing.assert_close(x.grad, y.grad, rtol=0, atol=1e-10)


def test_linear_scan_matches_numpy_and_broadcasts_a():
    rng = np.random.default_rng(3)
    b = rng.normal(size=(9, 4))
    a = rng.uniform(0, 1, size=4)
    h = linear_scan(torch.from_numpy(a), torch.from_numpy(b)[None])[0].numpy()
    np.testing.assert_allclose(h, scan_sequential(a, b), atol=1e-13)


def test_linear_scan_stays_finite_in_float32_for_long_decays():
    a = torch.full((1, 4096, 2), 0.5)
    b = torch.ones(1, 4096, 2)
    h = linear_scan(a, b)
    assert torch.isfinite(h).all()
    torch.testing.assert_close(h[0, -1], torch.full((2,), 2.0))


@pytest.mark.parametrize("with_h0", [False, True])
def test_log_space_scan_equals_loop(with_h0):
    g = torch.Generator().manual_seed(4)
    a = torch.rand(2, 50, 3, generator=g, dtype=torch.float64) * 0.9 + 0.05
    b = torch.rand(2, 50, 3, generator=g, dtype=torch.float64) + 0.1
    h0 = torch.rand(2, 3, generator=g, dtype=torch.float64) + 0.1 if with_h0 else None
    log_h0 = None if h0 is None else h0.log()
    log_h = log_space_scan(a.log(), b.log(), log_h0)
    torch.testing.assert_close(log_h.exp(), linear_recurrence_loop(a, b, h0), rtol=1e-12, atol=0)


def test_log_space_scan_gradients_equal_loop():
    g = torch.Generator().manual_seed(5)
    la = (torch.rand(1, 20, 2, generator=g, dtype=torch.float64) * 0.9 + 0.05).log()
    lb = (torch.rand(1, 20, 2, generator=g, dtype=torch.float64) + 0.1).log()
    x1 = [la.clone().requires_grad_(), lb.clone().requires_grad_()]
    x2 = [la.clone().requires_grad_(), lb.clone().requires_grad_()]
    log_space_scan(*x1).exp().sum().backward()
    linear_recurrence_loop(x2[0].exp(), x2[1].exp()).sum().backward()
    for u, v in zip(x1, x2, strict=True):
        torch.testing.assert_close(u.grad, v.grad, rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize(
    ("args", "match"),
    [
        ((np.ones((1, 3)), torch.ones(1, 3)), "a: expected a torch.Tensor"),
        ((torch.ones(3), torch.ones(3)), r"b: expected a tensor of shape \(N, T, ...\)"),
        ((torch.ones(1, 3), torch.ones(1, 3, dtype=torch.int64)), "b: expected a float"),
        ((torch.ones(1, 4, 2), torch.ones(1, 3, 2)), "a: expected a shape that broadcasts"),
        (
            (torch.ones(1, 3, 2), torch.ones(1, 3, 2), torch.ones(2)),
            r"h0: expected a tensor of shape \(1, 2\)",
        ),
    ],
)
@pytest.mark.parametrize("scan", [linear_scan, linear_recurrence_loop])
def test_torch_bad_input(scan, args, match):
    with pytest.raises(ValueError, match=match):
        scan(*args)


def test_log_space_scan_rejects_complex_and_names_its_arguments():
    with pytest.raises(ValueError, match="log_b: expected a real tensor"):
        zeros = torch.zeros(1, 2, dtype=torch.complex64)
        log_space_scan(zeros, zeros)
    with pytest.raises(ValueError, match="log_h0: expected a tensor of shape"):
        log_space_scan(torch.zeros(1, 2, 3), torch.zeros(1, 2, 3), torch.zeros(3))
