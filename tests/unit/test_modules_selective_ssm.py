"""rnnbook.modules.selective_ssm: the zero-order hold; the scan form against the step loop."""

import math

import pytest
import torch

from rnnbook.modules.selective_ssm import SelectiveSSM, expm1_over, zoh_discretise
from rnnbook.scan import linear_recurrence_loop

DTYPE = torch.float64
TOL = {"rtol": 1e-10, "atol": 1e-10}
VARIANTS = [(True, "zoh"), (True, "mamba"), (False, "zoh"), (False, "mamba")]


def generator(seed=0):
    return torch.Generator().manual_seed(seed)


def layer(selective=True, discretisation="zoh", D=5, N=3, seed=0):
    """A float64 layer whose parameters are all perturbed away from their initial values."""
    torch.manual_seed(seed)
    module = SelectiveSSM(D, N, selective=selective, discretisation=discretisation).double()
    with torch.no_grad():
        for p in module.parameters():
            p.add_(0.1 * torch.randn_like(p))
    return module


# --- (exp(z) - 1) / z -------------------------------------------------------------------------

def test_expm1_over_is_one_at_zero_and_matches_the_formula_elsewhere():
    z = torch.tensor([-30.0, -2.0, -0.5, -1e-3, 0.0, 1e-3, 0.7, 5.0], dtype=DTYPE)
    got = expm1_over(z)
    assert got[4] == 1.0
    nonzero = z != 0
    expected = torch.expm1(z[nonzero]) / z[nonzero]
    torch.testing.assert_close(got[nonzero], expected, rtol=1e-15, atol=0)


def test_expm1_over_is_continuous_across_the_series_threshold():
    # the series and expm1(z)/z agree to rounding on both sides of |z| = 1e-4
    z = torch.tensor([-1.0001e-4, -0.9999e-4, 0.9999e-4, 1.0001e-4], dtype=DTYPE)
    got = expm1_over(z)
    exact = torch.tensor([sum(float(v) ** k / math.factorial(k + 1) for k in range(8))
                          for v in z], dtype=DTYPE)
    torch.testing.assert_close(got, exact, rtol=1e-15, atol=0)


def test_expm1_over_has_finite_gradients_with_the_right_value_at_zero():
    z = torch.tensor([0.0, 1e-9, -1e-5, -0.3, 2.0], dtype=DTYPE, requires_grad=True)
    expm1_over(z).sum().backward()
    assert torch.isfinite(z.grad).all()
    assert abs(z.grad[0].item() - 0.5) < 1e-15  # d/dz (1 + z/2 + ...) at 0
    assert torch.autograd.gradcheck(expm1_over, (z.detach().clone().requires_grad_(),))


def test_expm1_over_rejects_non_tensors_and_complex():
    with pytest.raises(TypeError, match="z"):
        expm1_over(0.5)
    with pytest.raises(ValueError, match="z"):
        expm1_over(torch.zeros(2, dtype=torch.complex128))


# --- zero-order hold --------------------------------------------------------------------------

def augmented_expm(delta, a, b):
    """ZOH by the matrix exponential of [[a, b], [0, 0]] * delta: (Abar, Bbar) for scalars."""
    M = torch.tensor([[a, b], [0.0, 0.0]], dtype=DTYPE) * delta
    E = torch.linalg.matrix_exp(M)
    return E[0, 0].item(), E[0, 1].item()


@pytest.mark.parametrize("delta, a, b", [(0.1, -1.0, 2.0), (1.5, -3.0, -0.4), (0.01, -0.2, 1.0),
                                         (2.0, -16.0, 0.3), (0.3, 0.5, 1.0)])
def test_zoh_matches_the_matrix_exponential(delta, a, b):
    Abar, Bbar = zoh_discretise(*(torch.tensor(v, dtype=DTYPE) for v in (delta, a, b)))
    ref_A, ref_B = augmented_expm(delta, a, b)
    assert abs(Abar.item() - ref_A) < 1e-13 * max(1, abs(ref_A))
    assert abs(Bbar.item() - ref_B) < 1e-13 * max(1, abs(ref_B))


def test_zoh_takes_the_limit_delta_a_to_zero():
    delta = torch.tensor([0.0, 1e-14, 1e-8, 0.5, 0.5], dtype=DTYPE)
    A = torch.tensor([-1.0, -2.0, -3.0, -1e-13, 0.0], dtype=DTYPE)
    B = torch.full((5,), 0.7, dtype=DTYPE)
    Abar, Bbar = zoh_discretise(delta, A, B)
    assert torch.isfinite(Bbar).all()
    assert Bbar[0] == 0 and Abar[0] == 1  # no step, no change
    assert Bbar[4] == 0.5 * 0.7 and Abar[4] == 1  # A = 0: the input is integrated exactly
    # first order in delta * A: Bbar = delta B (1 + delta A / 2 + ...)
    expected = delta * B * (1 + delta * A / 2)
    torch.testing.assert_close(Bbar[:4], expected[:4], rtol=1e-12, atol=0)


def test_zoh_is_more_accurate_than_the_naive_formula_for_small_steps():
    # (exp(z) - 1) / z computed literally cancels: at z = -1e-15 it is off by 1e-4 relative
    delta, A, B = (torch.tensor(v, dtype=DTYPE) for v in (1e-15, -1.0, 1.0))
    naive = (torch.exp(delta * A) - 1) / (delta * A) * delta * B
    _, Bbar = zoh_discretise(delta, A, B)
    assert abs(Bbar.item() / 1e-15 - 1) < 1e-15
    assert abs(naive.item() / 1e-15 - 1) > 1e-4  # the slip this guards against


def test_zoh_broadcasts_as_the_layer_uses_it():
    g = generator()
    delta = torch.rand(2, 7, 4, 1, dtype=DTYPE, generator=g)
    A = -torch.rand(4, 3, dtype=DTYPE, generator=g) - 0.1
    B = torch.randn(2, 7, 1, 3, dtype=DTYPE, generator=g)
    Abar, Bbar = zoh_discretise(delta, A, B)
    assert Abar.shape == Bbar.shape == (2, 7, 4, 3)
    torch.testing.assert_close(Abar, torch.exp(delta * A).expand(2, 7, 4, 3))
    torch.testing.assert_close(Bbar, (Abar - 1) / A * B, **TOL)  # delta cancels


def test_zoh_gradients_pass_gradcheck_near_and_away_from_zero():
    g = generator(1)
    delta = torch.tensor([0.0, 1e-6, 0.2, 1.3], dtype=DTYPE, requires_grad=True)
    A = (-torch.rand(4, dtype=DTYPE, generator=g) - 0.5).requires_grad_()
    B = torch.randn(4, dtype=DTYPE, generator=g).requires_grad_()
    assert torch.autograd.gradcheck(lambda *args: zoh_discretise(*args), (delta, A, B))


def test_zoh_rejects_bad_arguments():
    x = torch.ones(3, dtype=DTYPE)
    with pytest.raises(TypeError, match="delta"):
        zoh_discretise([1.0], x, x)
    with pytest.raises(ValueError, match="A"):
        zoh_discretise(x, torch.ones(3, dtype=torch.float32), x)
    with pytest.raises(ValueError, match="B"):
        zoh_discretise(x, x, torch.ones(3, dtype=torch.int64))
    with pytest.raises(ValueError, match="do not broadcast"):
        zoh_discretise(x, x, torch.ones(4, dtype=DTYPE))
    with pytest.raises(ValueError, match="delta"):
        c = torch.ones(3, dtype=torch.complex128)
        zoh_discretise(c, c, c)


# --- the layer --------------------------------------------------------------------------------

@pytest.mark.parametrize("D, N", [(1, 1), (4, 8), (16, 16)])
def test_selective_and_time_invariant_layers_have_equal_parameter_counts(D, N):
    counts = [sum(p.numel() for p in SelectiveSSM(D, N, selective=s).parameters())
              for s in (True, False)]
    assert counts[0] == counts[1] == D * D + 3 * D * N + 2 * D


def test_initialisation_is_s4d_real_with_steps_in_range():
    module = SelectiveSSM(6, 4)
    torch.testing.assert_close(module.A, -torch.arange(1.0, 5.0).repeat(6, 1))
    dt = torch.nn.functional.softplus(module.delta_proj.bias)
    assert (dt > 1e-3).all() and (dt < 1e-1).all()
    assert (dt.diff() > 0).all()  # spread log-uniformly, one per channel
    lti = SelectiveSSM(6, 4, selective=False)
    torch.testing.assert_close(torch.nn.functional.softplus(lti.delta_bias), dt)


@pytest.mark.parametrize("selective, discretisation", VARIANTS)
@pytest.mark.parametrize("with_h0", [False, True])
def test_scan_form_equals_the_step_loop(selective, discretisation, with_h0):
    module = layer(selective, discretisation)
    g = generator(2)
    x = torch.randn(3, 11, 5, dtype=DTYPE, generator=g)
    h0 = torch.randn(3, 5, 3, dtype=DTYPE, generator=g) if with_h0 else None
    torch.testing.assert_close(module(x, h0), module.forward_loop(x, h0), **TOL)


@pytest.mark.parametrize("selective, discretisation", VARIANTS)
def test_states_equal_the_reference_loop_of_the_recurrence(selective, discretisation):
    module = layer(selective, discretisation)
    x = torch.randn(2, 9, 5, dtype=DTYPE, generator=generator(3))
    c = module.discretised(x)
    expected = linear_recurrence_loop(c["Abar"], c["Bbar"] * c["u"].unsqueeze(-1))
    h = module.states(x)
    torch.testing.assert_close(h, expected, **TOL)
    y_t, h_1 = module.step(x[:, 0])
    torch.testing.assert_close(h_1, expected[:, 0], **TOL)


@pytest.mark.parametrize("selective, discretisation", VARIANTS)
def test_gradients_of_the_scan_equal_those_of_the_loop(selective, discretisation):
    module = layer(selective, discretisation)
    g = generator(4)
    x = torch.randn(2, 13, 5, dtype=DTYPE, generator=g, requires_grad=True)
    h0 = torch.randn(2, 5, 3, dtype=DTYPE, generator=g, requires_grad=True)
    weights = torch.randn(2, 13, 5, dtype=DTYPE, generator=g)
    leaves = [x, h0, *module.parameters()]
    grads = []
    for run in (module.forward, module.forward_loop):
        grads.append(torch.autograd.grad((run(x, h0) * weights).sum(), leaves))
    for name, a, b in zip(["x", "h0", *dict(module.named_parameters())], *grads, strict=True):
        torch.testing.assert_close(a, b, **TOL, msg=f"gradient of {name}")


def test_mamba_discretisation_uses_delta_b():
    module = layer(True, "mamba")
    x = torch.randn(2, 4, 5, dtype=DTYPE, generator=generator(5))
    c = module.discretised(x)
    B = module.B_proj(x).unsqueeze(-2)
    torch.testing.assert_close(c["Bbar"], (c["delta"].unsqueeze(-1) * B).expand_as(c["Bbar"]))
    zoh = layer(True, "zoh").discretised(x)
    torch.testing.assert_close(c["Abar"], zoh["Abar"])  # the same Abar either way


def test_only_the_selective_layer_has_input_dependent_steps():
    x = torch.randn(2, 6, 5, dtype=DTYPE, generator=generator(6))
    delta = layer(True).discretised(x)["delta"]
    assert delta.std(dim=1).min() > 0  # varies over time in every channel
    delta = layer(False).discretised(x)["delta"]
    assert (delta == delta[:1, :1]).all()  # one constant per channel


@pytest.mark.parametrize("selective", [True, False])
def test_superposition_holds_for_the_time_invariant_layer_only(selective):
    # an LTI layer is linear in its input (a convolution plus the skip term); a selective one
    # is not, since its coefficients depend on the input
    module = layer(selective)
    g = generator(7)
    x1, x2 = (torch.randn(2, 8, 5, dtype=DTYPE, generator=g) for _ in range(2))
    close = torch.allclose(module(x1 + 2 * x2), module(x1) + 2 * module(x2), **TOL)
    assert close == (not selective)


def test_layer_trains_in_float32():
    module = SelectiveSSM(4, 2)
    x = torch.randn(3, 5, 4)
    module(x).sum().backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in module.parameters())


def test_layer_rejects_bad_arguments():
    for kwargs, name in [({"d_model": 0, "d_state": 2}, "d_model"),
                         ({"d_model": 2, "d_state": 1.5}, "d_state"),
                         ({"d_model": 2, "d_state": 2, "selective": 1}, "selective"),
                         ({"d_model": 2, "d_state": 2, "discretisation": "euler"},
                          "discretisation"),
                         ({"d_model": 2, "d_state": 2, "dt_min": 0.2, "dt_max": 0.1}, "dt_min")]:
        with pytest.raises(ValueError, match=name):
            SelectiveSSM(**kwargs)
    module = SelectiveSSM(4, 2)
    with pytest.raises(ValueError, match="x: expected shape"):
        module(torch.randn(3, 5, 3))
    with pytest.raises(ValueError, match="x: expected shape"):
        module(torch.randn(5, 4))
    with pytest.raises(ValueError, match="x: expected shape"):
        module(torch.randn(3, 0, 4))
    with pytest.raises(ValueError, match="x"):
        module(torch.randn(3, 5, 4, dtype=DTYPE))
    with pytest.raises(ValueError, match="h0"):
        module(torch.randn(3, 5, 4), torch.zeros(3, 4, 3))
    with pytest.raises(ValueError, match="x_t"):
        module.step(torch.randn(3, 5, 4))
    with pytest.raises(ValueError, match="h: expected"):
        module.step(torch.randn(3, 4), torch.zeros(2, 4, 2))
