"""The LRU layer: eigenvalue map, ring initialisation, scan form against the step loop."""

import math

import numpy as np
import pytest
import torch
from scipy import stats

from rnnbook.modules.lru import (
    LRU,
    lru_eigenvalues,
    lru_parameter_count,
    ring_init,
    ring_radius_cdf,
    stable_gamma,
)

F64 = torch.float64


def make(d_model=3, d_state=5, seed=0, **kwargs):
    kwargs.setdefault("dtype", F64)
    return LRU(d_model, d_state, generator=torch.Generator().manual_seed(seed), **kwargs)


def random_state(B, N, seed=1):
    g = torch.Generator().manual_seed(seed)
    return torch.complex(torch.randn(B, N, generator=g, dtype=F64),
                         torch.randn(B, N, generator=g, dtype=F64))


# --- the eigenvalue map ------------------------------------------------------------------------

def test_eigenvalue_map_matches_formula():
    nu_log = torch.tensor([-3.0, 0.0, 1.5], dtype=F64)
    theta_log = torch.tensor([-1.0, 0.5, 1.8], dtype=F64)
    lam = lru_eigenvalues(nu_log, theta_log)
    expected = np.exp(-np.exp(nu_log.numpy()) + 1j * np.exp(theta_log.numpy()))
    np.testing.assert_allclose(lam.numpy(), expected, rtol=1e-14)
    assert lam.dtype == torch.complex128


def test_eigenvalue_map_never_leaves_the_closed_unit_disc():
    extreme = torch.linspace(-80, 80, 4001, dtype=F64)
    nu_log = torch.cat([extreme, torch.randn(1000, dtype=F64) * 20])
    theta_log = torch.randn(len(nu_log), dtype=F64) * 5
    for dtype in (torch.float32, F64):
        nu, theta = nu_log.to(dtype), theta_log.to(dtype)
        modulus = torch.exp(-torch.exp(nu))  # the modulus the map sets
        assert (modulus <= 1).all()
        # the complex number's own modulus: within a few rounding errors of it
        eps = torch.finfo(dtype).eps
        assert ((lru_eigenvalues(nu, theta).abs() - modulus).abs() <= 4 * eps).all()
    # strictly inside while exp(nu_log) is above the float64 rounding limit
    assert (torch.exp(-torch.exp(nu_log))[torch.exp(nu_log) > 2**-52] < 1).all()


def test_eigenvalue_map_rejects_bad_input():
    with pytest.raises(ValueError, match="theta_log"):
        lru_eigenvalues(torch.zeros(3), torch.zeros(4))
    with pytest.raises(ValueError, match="nu_log"):
        lru_eigenvalues(torch.zeros(3, dtype=torch.int64), torch.zeros(3))
    with pytest.raises(ValueError, match="theta_log"):
        lru_eigenvalues(torch.zeros(3), np.zeros(3))
    with pytest.raises(ValueError, match="theta_log"):
        lru_eigenvalues(torch.zeros(3), torch.zeros(3, dtype=F64))


# --- the ring initialisation -------------------------------------------------------------------

def test_ring_init_lies_on_the_ring_and_sector():
    g = torch.Generator().manual_seed(0)
    nu_log, theta_log = ring_init(2000, 0.4, 0.9, math.pi / 3, generator=g, dtype=F64)
    lam = lru_eigenvalues(nu_log, theta_log)
    assert lam.shape == (2000,)
    assert (lam.abs() >= 0.4 - 1e-12).all() and (lam.abs() <= 0.9 + 1e-12).all()
    phase = torch.exp(theta_log)
    assert (phase >= 0).all() and (phase <= math.pi / 3 + 1e-12).all()


def test_ring_init_radius_follows_the_area_law():
    g = torch.Generator().manual_seed(3)
    nu_log, theta_log = ring_init(5000, 0.5, 0.99, generator=g, dtype=F64)
    r = lru_eigenvalues(nu_log, theta_log).abs().numpy()
    p_area = stats.kstest(r, lambda x: ring_radius_cdf(x, 0.5, 0.99)).pvalue
    p_uniform = stats.kstest(r, stats.uniform(0.5, 0.49).cdf).pvalue
    assert p_area > 1e-3
    assert p_uniform < 1e-6  # |lambda| itself is not uniform


def test_ring_init_phase_is_uniform():
    g = torch.Generator().manual_seed(4)
    _, theta_log = ring_init(5000, 0.0, 1.0, max_phase=2.0, generator=g, dtype=F64)
    assert stats.kstest(torch.exp(theta_log).numpy(), stats.uniform(0, 2.0).cdf).pvalue > 1e-3


def test_ring_init_is_reproducible_and_typed():
    a = ring_init(7, 0.1, 0.8, generator=torch.Generator().manual_seed(5))
    b = ring_init(7, 0.1, 0.8, generator=torch.Generator().manual_seed(5))
    assert all(torch.equal(x, y) for x, y in zip(a, b, strict=True))
    assert a[0].dtype == torch.float32 and a[0].shape == (7,)


@pytest.mark.parametrize("kwargs, name", [
    ({"d_state": 0}, "d_state"),
    ({"d_state": 2.0}, "d_state"),
    ({"r_min": -0.1}, "r_min"),
    ({"r_max": 1.2}, "r_max"),
    ({"r_min": 0.9, "r_max": 0.5}, "r_min"),
    ({"max_phase": 0.0}, "max_phase"),
    ({"max_phase": 7.0}, "max_phase"),
    ({"r_max": float("nan")}, "r_max"),
])
def test_ring_init_rejects_bad_arguments(kwargs, name):
    args = {"d_state": 4, "r_min": 0.0, "r_max": 1.0, "max_phase": math.pi} | kwargs
    with pytest.raises(ValueError, match=name):
        ring_init(**args)


def test_ring_radius_cdf():
    assert ring_radius_cdf(0.5, 0.5, 1.0) == 0.0
    assert ring_radius_cdf(1.0, 0.5, 1.0) == 1.0
    assert ring_radius_cdf(0.3, 0.5, 1.0) == 0.0
    assert math.isclose(ring_radius_cdf(math.sqrt(0.625), 0.5, 1.0), 0.5)
    np.testing.assert_allclose(ring_radius_cdf(np.array([0.0, 0.5, 2.0]), 0.0, 1.0),
                               [0.0, 0.25, 1.0])
    with pytest.raises(ValueError, match="r_max"):
        ring_radius_cdf(0.5, 0.7, 0.7)


def test_stable_gamma():
    lam = torch.polar(torch.tensor([0.0, 0.6, 1.0], dtype=F64), torch.tensor([0.3, 2.0, 1.0],
                                                                               dtype=F64))
    np.testing.assert_allclose(stable_gamma(lam).numpy(), [1.0, 0.8, 0.0], atol=1e-15)
    with pytest.raises(ValueError, match="lam"):
        stable_gamma(torch.tensor([1.5 + 0j]))
    with pytest.raises(ValueError, match="lam"):
        stable_gamma(np.array([0.5]))


# --- the layer -------------------------------------------------------------------------------

def test_parameters_shapes_and_count():
    m = make(d_model=3, d_state=5)
    shapes = {name: tuple(p.shape) for name, p in m.named_parameters()}
    assert shapes == {"nu_log": (5,), "theta_log": (5,), "gamma_log": (5,), "B_re": (5, 3),
                      "B_im": (5, 3), "C_re": (3, 5), "C_im": (3, 5), "D": (3,)}
    assert sum(p.numel() for p in m.parameters()) == lru_parameter_count(3, 5) == 78
    bare = make(d_model=3, d_state=5, normalize=False)
    assert bare.gamma_log is None
    assert sum(p.numel() for p in bare.parameters()) == lru_parameter_count(3, 5, False) == 73
    assert torch.equal(bare.gamma(), torch.ones(5, dtype=F64))


def test_initialisation_follows_the_paper():
    H, N = 16, 400
    m = make(d_model=H, d_state=N, r_min=0.3, r_max=0.95, max_phase=1.0)
    lam = m.eigenvalues().detach()
    assert (lam.abs() >= 0.3 - 1e-12).all() and (lam.abs() <= 0.95 + 1e-12).all()
    assert (lam.angle() >= 0).all() and (lam.angle() <= 1.0 + 1e-12).all()
    torch.testing.assert_close(m.gamma().detach(), torch.sqrt(1 - lam.abs() ** 2))
    # variances of the entries, within 15 % of the paper's 1/(2H), 1/N
    for name, var in (("B_re", 1 / (2 * H)), ("B_im", 1 / (2 * H)), ("C_re", 1 / N),
                      ("C_im", 1 / N)):
        assert abs(getattr(m, name).detach().var().item() / var - 1) < 0.15, name


def test_float32_layer_holds_float32_parameters():
    m = make(dtype=torch.float32)
    assert all(p.dtype == torch.float32 for p in m.parameters())
    y = m(torch.randn(2, 4, 3))
    assert y.dtype == torch.float32 and y.shape == (2, 4, 3)


@pytest.mark.parametrize("T", [1, 2, 7, 33])
@pytest.mark.parametrize("with_state", [False, True])
def test_scan_form_equals_step_loop(T, with_state):
    m = make(d_model=3, d_state=5, r_min=0.5, r_max=0.999)
    u = torch.randn(4, T, 3, dtype=F64, generator=torch.Generator().manual_seed(T))
    x0 = random_state(4, 5) if with_state else None
    y_loop, x_loop = m.forward_loop(u, x0)
    assert y_loop.shape == (4, T, 3) and x_loop.shape == (4, T, 5)
    assert (m(u, x0) - y_loop).abs().max() < 1e-10
    assert (m.states(u, x0) - x_loop).abs().max() < 1e-10


def test_step_loop_follows_the_equations():
    m = make(d_model=2, d_state=3)
    u = torch.randn(1, 6, 2, dtype=F64)
    y, x = m.forward_loop(u)
    with torch.no_grad():
        lam = m.eigenvalues().numpy()
        gamma = m.gamma().numpy()
        B = (m.B_re + 1j * m.B_im).numpy()
        C = (m.C_re + 1j * m.C_im).numpy()
        D = m.D.numpy()
    state = np.zeros(3, complex)
    for t in range(6):
        ut = u[0, t].numpy()
        state = lam * state + gamma * (B @ ut)
        np.testing.assert_allclose(x[0, t].detach().numpy(), state, atol=1e-13)
        np.testing.assert_allclose(y[0, t].detach().numpy(), (C @ state).real + D * ut,
                                   atol=1e-13)


def test_closed_form_of_the_state():
    # x_t = sum_k lambda^k gamma B u_{t-k}
    m = make(d_model=2, d_state=4, r_min=0.8, r_max=0.99)
    u = torch.randn(1, 9, 2, dtype=F64)
    with torch.no_grad():
        x = m.states(u)[0, -1]
        lam, b = m.eigenvalues(), m.input_term(u)[0]
        closed = sum(lam**k * b[8 - k] for k in range(9))
    assert (x - closed).abs().max() < 1e-12


@pytest.mark.parametrize("normalize", [True, False])
def test_gradients_of_scan_equal_gradients_of_loop(normalize):
    m = make(d_model=3, d_state=4, r_min=0.6, r_max=0.99, normalize=normalize)
    g = torch.Generator().manual_seed(7)
    u = torch.randn(2, 19, 3, dtype=F64, generator=g).requires_grad_()
    x0 = random_state(2, 4).requires_grad_()
    w = torch.randn(2, 19, 3, dtype=F64, generator=g)

    def grads(run):
        m.zero_grad()
        u.grad = x0.grad = None
        (run() * w).sum().backward()
        return [p.grad.clone() for p in m.parameters()] + [u.grad.clone(), x0.grad.clone()]

    scan = grads(lambda: m(u, x0))
    loop = grads(lambda: m.forward_loop(u, x0)[0])
    for a, b in zip(scan, loop, strict=True):
        assert (a - b).abs().max() < 1e-10


def test_gradcheck_of_scan_form():
    m = make(d_model=2, d_state=3, r_min=0.5, r_max=0.9)
    u = torch.randn(1, 5, 2, dtype=F64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda v: m(v), (u,))


def test_state_jacobian_is_diag_lambda_power():
    m = make(d_model=2, d_state=3, r_min=0.9, r_max=0.999)
    u = torch.randn(1, 12, 2, dtype=F64)
    lam = m.eigenvalues().detach()

    def final_state(z):  # real view (re, im) of x_0 -> real view of x_T
        x_T = m.states(u, torch.complex(z[:3], z[3:]).unsqueeze(0))[0, -1]
        return torch.cat([x_T.real, x_T.imag])

    J = torch.autograd.functional.jacobian(final_state, torch.zeros(6, dtype=F64))
    p = lam**12
    expected = torch.cat([torch.cat([torch.diag(p.real), -torch.diag(p.imag)], 1),
                          torch.cat([torch.diag(p.imag), torch.diag(p.real)], 1)])
    assert (J - expected).abs().max() < 1e-12
    assert abs(torch.linalg.matrix_norm(J, 2) - lam.abs().max() ** 12) < 1e-12


@pytest.mark.parametrize("kwargs, name", [
    ({"d_model": 0}, "d_model"),
    ({"d_state": -1}, "d_state"),
    ({"r_min": 0.5, "r_max": 0.2}, "r_min"),
    ({"max_phase": -1.0}, "max_phase"),
    ({"dtype": torch.float16}, "dtype"),
])
def test_constructor_rejects_bad_arguments(kwargs, name):
    args = {"d_model": 2, "d_state": 3} | kwargs
    with pytest.raises(ValueError, match=name):
        LRU(**args)


def test_forward_rejects_bad_input():
    m = make(d_model=3, d_state=5)
    with pytest.raises(ValueError, match="u"):
        m(torch.randn(2, 4, 2, dtype=F64))
    with pytest.raises(ValueError, match="u"):
        m(torch.randn(4, 3, dtype=F64))
    with pytest.raises(ValueError, match="u"):
        m(torch.randn(2, 4, 3))  # float32 input to a float64 layer
    with pytest.raises(ValueError, match="u"):
        m(torch.randint(0, 3, (2, 4, 3)))
    with pytest.raises(ValueError, match="u"):
        m(np.zeros((2, 4, 3)))
    with pytest.raises(ValueError, match="u"):
        m(torch.zeros(2, 0, 3, dtype=F64))
    u = torch.randn(2, 4, 3, dtype=F64)
    with pytest.raises(ValueError, match="state"):
        m(u, torch.zeros(2, 5, dtype=F64))  # real, not complex
    with pytest.raises(ValueError, match="state"):
        m(u, torch.zeros(2, 4, dtype=torch.complex128))
    with pytest.raises(ValueError, match="state"):
        m(u, torch.zeros(3, 5, dtype=torch.complex128))
    with pytest.raises(ValueError, match="u"):
        m.step(u)  # a sequence where one step is expected


def test_lru_parameter_count_rejects_bad_sizes():
    with pytest.raises(ValueError, match="d_model"):
        lru_parameter_count(0, 3)
    with pytest.raises(ValueError, match="d_state"):
        lru_parameter_count(3, True)
