"""The Linear Recurrent Unit (LRU) of Orvieto et al. (2023), written from the paper's equations.

A diagonal, complex, linear recurrence with a real input and a real output::

    x_t = Lambda * x_{t-1} + gamma * (B u_t)          x_t complex (N,), u_t real (H,)
    y_t = Re(C x_t) + D * u_t                          y_t real (H,)

with ``Lambda = diag(lambda_1 .. lambda_N)`` and every eigenvalue parameterised as

    lambda_j = exp(-exp(nu_log_j) + i exp(theta_log_j)),

so that ``|lambda_j| = exp(-exp(nu_log_j)) < 1`` for every real ``nu_log_j`` (stable by
construction; in floating point ``|lambda_j|`` rounds to exactly 1 once ``exp(nu_log_j)`` falls
below about half the machine epsilon, never above 1). Initialisation, as in the paper:

* the eigenvalues are drawn uniformly on the ring ``r_min <= |lambda| <= r_max`` with phase in
  ``[0, max_phase]``: ``|lambda|^2`` uniform on ``[r_min^2, r_max^2]`` (so ``|lambda|`` has density
  proportional to ``r``, which makes the points uniform in area), phase uniform;
* ``gamma_j = sqrt(1 - |lambda_j|^2)``, which keeps the state's variance at that of ``B u_t``
  for white-noise input; in the paper gamma is a trainable parameter (``gamma_log``) initialised
  there, and so it is here (``normalize=False`` drops it: ``gamma = 1``);
* ``B = (B_re + i B_im)``, entries ``N(0, 1 / (2H))`` each part; ``C = (C_re + i C_im)``, entries
  ``N(0, 1 / N)`` each part; ``D`` entries ``N(0, 1)``.

Shapes: B batch size, T sequence length, H = ``d_model`` (input and output size), N = ``d_state``.
The scan form (:meth:`LRU.forward`) computes all states with :func:`rnnbook.scan.linear_scan`; the
step form (:meth:`LRU.step`, :meth:`LRU.forward_loop`) is the reference it is checked against.
"""

import math
import numbers

import torch
from torch import nn

from rnnbook.modules._validation import check_positive_int
from rnnbook.scan import linear_scan
from rnnbook.shapes import check_shape

__all__ = ["LRU", "lru_eigenvalues", "lru_parameter_count", "ring_init", "ring_radius_cdf",
           "stable_gamma"]


def _check_real_tensor(name, value):
    if not isinstance(value, torch.Tensor):
        raise ValueError(f"{name}: expected a torch.Tensor, got {type(value).__name__}")
    if not value.is_floating_point():
        raise ValueError(f"{name}: expected a real floating-point tensor, got dtype {value.dtype}")


def lru_eigenvalues(nu_log, theta_log):
    """The eigenvalue map ``(nu_log, theta_log) -> lambda = exp(-exp(nu_log) + i exp(theta_log))``.

    ``|lambda| = exp(-exp(nu_log))`` lies in (0, 1) for every real ``nu_log`` (in floating point:
    in [0, 1]); ``arg lambda = exp(theta_log)``.

    Args:
        nu_log: real tensor (...), the log of the decay rate ``-log |lambda|``.
        theta_log: real tensor of the same shape, the log of the phase.

    Returns:
        complex tensor (...) (complex64 for float32 input, complex128 for float64).
    """
    _check_real_tensor("nu_log", nu_log)
    _check_real_tensor("theta_log", theta_log)
    if nu_log.shape != theta_log.shape:
        raise ValueError(f"theta_log: expected the shape of nu_log {tuple(nu_log.shape)}, "
                         f"got {tuple(theta_log.shape)}")
    if nu_log.dtype != theta_log.dtype:
        raise ValueError(f"theta_log: expected dtype {nu_log.dtype} (that of nu_log), "
                         f"got {theta_log.dtype}")
    modulus = torch.exp(-torch.exp(nu_log))
    phase = torch.exp(theta_log)
    return torch.polar(modulus, phase)


def _check_ring(r_min, r_max, max_phase):
    for name, value in (("r_min", r_min), ("r_max", r_max), ("max_phase", max_phase)):
        if not isinstance(value, numbers.Real) or isinstance(value, bool) or not math.isfinite(
                value):
            raise ValueError(f"{name}: expected a finite real number, got {value!r}")
    if not 0 <= r_min <= r_max <= 1:
        raise ValueError(f"r_min, r_max: expected 0 <= r_min <= r_max <= 1, "
                         f"got r_min={r_min!r}, r_max={r_max!r}")
    if not 0 < max_phase <= 2 * math.pi:
        raise ValueError(f"max_phase: expected a value in (0, 2 pi], got {max_phase!r}")




def ring_init(d_state, r_min=0.0, r_max=1.0, max_phase=2 * math.pi, generator=None,
              dtype=torch.float32):
    """Draw ``(nu_log, theta_log)`` so that the eigenvalues are uniform on a ring (sector).

    ``|lambda|^2 = u_1 (r_max^2 - r_min^2) + r_min^2`` and ``arg lambda = max_phase * u_2`` with
    ``u_1, u_2`` uniform on [0, 1): the eigenvalues are uniform in area on
    ``{r_min <= |lambda| <= r_max, 0 <= arg lambda <= max_phase}``. Then
    ``nu_log = log(-log|lambda|)`` (as ``log(-log(|lambda|^2) / 2)``) and
    ``theta_log = log(arg lambda)``. Drawn in float64, returned in ``dtype``.

    Args:
        d_state: N, the number of eigenvalues.
        r_min, r_max: the ring's radii, ``0 <= r_min <= r_max <= 1``.
        max_phase: the largest phase, in (0, 2 pi].
        generator: optional ``torch.Generator`` (default: torch's global one).
        dtype: floating dtype of the result.

    Returns:
        (nu_log, theta_log): two real tensors (N,).
    """
    check_positive_int("d_state", d_state)
    _check_ring(r_min, r_max, max_phase)
    u1 = torch.rand(d_state, generator=generator, dtype=torch.float64)
    u2 = torch.rand(d_state, generator=generator, dtype=torch.float64)
    radius_sq = u1 * (r_max**2 - r_min**2) + r_min**2
    nu_log = torch.log(-0.5 * torch.log(radius_sq))
    theta_log = torch.log(max_phase * u2)
    return nu_log.to(dtype), theta_log.to(dtype)


def ring_radius_cdf(r, r_min, r_max):
    """The distribution function of ``|lambda|`` under :func:`ring_init`.

    ``P(|lambda| <= r) = (r^2 - r_min^2) / (r_max^2 - r_min^2)`` on ``[r_min, r_max]`` (0 below,
    1 above). Accepts NumPy arrays, torch tensors or floats; needs ``r_min < r_max``.
    """
    _check_ring(r_min, r_max, 2 * math.pi)
    if r_min == r_max:
        raise ValueError(f"r_max: expected r_min < r_max for a distribution function, "
                         f"got r_min = r_max = {r_min!r}")
    value = (r * r - r_min**2) / (r_max**2 - r_min**2)
    return value.clip(0, 1) if hasattr(value, "clip") else min(max(value, 0.0), 1.0)


def stable_gamma(lam):
    """The normalisation ``gamma = sqrt(1 - |lambda|^2)`` (elementwise).

    For ``x_t = lambda x_{t-1} + gamma b_t`` with white ``b_t`` of variance ``s^2``, the stationary
    variance of ``x_t`` is ``gamma^2 s^2 / (1 - |lambda|^2) = s^2``.

    Args:
        lam: complex (or real) tensor (...), ``|lambda| <= 1``.

    Returns:
        real tensor (...).
    """
    if not isinstance(lam, torch.Tensor):
        raise ValueError(f"lam: expected a torch.Tensor, got {type(lam).__name__}")
    modulus_sq = lam.abs() ** 2
    if (modulus_sq > 1).any():
        raise ValueError("lam: expected |lambda| <= 1 for every eigenvalue, got larger ones")
    return torch.sqrt(1 - modulus_sq)


class LRU(nn.Module):
    """One Linear Recurrent Unit layer (sequence to sequence, real in and out).

    Args:
        d_model: H, the size of the input u_t and of the output y_t.
        d_state: N, the number of complex state units.
        r_min, r_max: ring of the initial eigenvalues' moduli, ``0 <= r_min <= r_max <= 1``
            (paper's defaults 0 and 1).
        max_phase: the initial eigenvalues' phases are uniform on [0, max_phase] (default 2 pi).
        normalize: use the trainable normalisation gamma (initialised to sqrt(1 - |lambda|^2));
            ``False`` fixes gamma = 1 and registers no ``gamma_log``.
        generator: optional ``torch.Generator`` for the initialisation.
        dtype: floating dtype of the parameters (float32 for training, float64 for checks).

    Parameters (real tensors): ``nu_log`` (N,), ``theta_log`` (N,), ``gamma_log`` (N,) (if
    ``normalize``), ``B_re``, ``B_im`` (N, H), ``C_re``, ``C_im`` (H, N), ``D`` (H,): in all
    ``4 N H + 3 N + H`` numbers (``4 N H + 2 N + H`` without ``gamma_log``).

    Shapes: input ``u`` (B, T, H) real; state (B, N) complex; output ``y`` (B, T, H) real.
    """

    def __init__(self, d_model, d_state, r_min=0.0, r_max=1.0, max_phase=2 * math.pi,
                 normalize=True, generator=None, dtype=torch.float32):
        super().__init__()
        check_positive_int("d_model", d_model)
        check_positive_int("d_state", d_state)
        _check_ring(r_min, r_max, max_phase)
        if dtype not in (torch.float32, torch.float64):
            raise ValueError(f"dtype: expected torch.float32 or torch.float64, got {dtype}")
        self.d_model, self.d_state = d_model, d_state
        self.r_min, self.r_max, self.max_phase = float(r_min), float(r_max), float(max_phase)
        self.normalize = bool(normalize)
        H, N = d_model, d_state
        nu_log, theta_log = ring_init(N, r_min, r_max, max_phase, generator, torch.float64)
        self.nu_log = nn.Parameter(nu_log.to(dtype))
        self.theta_log = nn.Parameter(theta_log.to(dtype))
        if self.normalize:
            gamma = stable_gamma(lru_eigenvalues(nu_log, theta_log))
            self.gamma_log = nn.Parameter(torch.log(gamma).to(dtype))
        else:
            self.register_parameter("gamma_log", None)

        def normal(shape, std):
            return nn.Parameter(
                (torch.randn(shape, generator=generator, dtype=torch.float64) * std).to(dtype))

        self.B_re = normal((N, H), 1 / math.sqrt(2 * H))
        self.B_im = normal((N, H), 1 / math.sqrt(2 * H))
        self.C_re = normal((H, N), 1 / math.sqrt(N))
        self.C_im = normal((H, N), 1 / math.sqrt(N))
        self.D = normal((H,), 1.0)

    def extra_repr(self):
        return (f"d_model={self.d_model}, d_state={self.d_state}, r_min={self.r_min}, "
                f"r_max={self.r_max}, max_phase={self.max_phase:.4g}, "
                f"normalize={self.normalize}")

    # --- the pieces of the equations ------------------------------------------------------

    def eigenvalues(self):
        """lambda (N,), complex."""
        return lru_eigenvalues(self.nu_log, self.theta_log)

    def gamma(self):
        """gamma (N,), real: ``exp(gamma_log)``, or ones without normalisation."""
        if self.gamma_log is None:
            return torch.ones_like(self.nu_log)
        return torch.exp(self.gamma_log)

    def input_term(self, u):
        """``gamma * (B u_t)`` for every step: (B, T, H) real -> (B, T, N) complex."""
        gamma = self.gamma()
        return torch.complex(u @ self.B_re.T, u @ self.B_im.T) * gamma

    def readout(self, x, u):
        """``y = Re(C x) + D * u``: x (..., N) complex, u (..., H) real -> (..., H) real."""
        return x.real @ self.C_re.T - x.imag @ self.C_im.T + self.D * u

    # --- checks -----------------------------------------------------------------------------

    def _complex_dtype(self):
        return torch.complex64 if self.nu_log.dtype == torch.float32 else torch.complex128

    def _check_input(self, u, state, step=False):
        _check_real_tensor("u", u)
        if u.dtype != self.nu_log.dtype:
            raise ValueError(f"u: expected dtype {self.nu_log.dtype} (the parameters'), "
                             f"got {u.dtype}")
        spec = ("B", "H") if step else ("B", "T", "H")
        dims = {"H": (self.d_model, "d_model")}
        check_shape("u", u, spec, dims)
        if state is not None:
            if not isinstance(state, torch.Tensor):
                raise ValueError(f"state: expected a torch.Tensor, got {type(state).__name__}")
            if state.dtype != self._complex_dtype():
                raise ValueError(f"state: expected dtype {self._complex_dtype()}, "
                                 f"got {state.dtype}")
            check_shape("state", state, ("B", "N"), {**dims, "N": (self.d_state, "d_state"),
                                                     "B": (u.shape[0], "u")})

    # --- the two forms ----------------------------------------------------------------------

    def states(self, u, state=None):
        """All states x_1 .. x_T by the parallel scan.

        Args:
            u: real tensor (B, T, H).
            state: optional complex tensor (B, N), x_0 (zeros when None).

        Returns:
            complex tensor (B, T, N).
        """
        self._check_input(u, state)
        return linear_scan(self.eigenvalues(), self.input_term(u), state)

    def forward(self, u, state=None):
        """The outputs y_1 .. y_T (B, T, H), real, from the states of :meth:`states` (same
        arguments)."""
        return self.readout(self.states(u, state), u)

    def step(self, u_t, state=None):
        """One step of the recurrence.

        Args:
            u_t: real tensor (B, H).
            state: optional complex tensor (B, N), x_{t-1} (zeros when None).

        Returns:
            (y_t, x_t): real tensor (B, H) and complex tensor (B, N).
        """
        self._check_input(u_t, state, step=True)
        b_t = self.input_term(u_t)
        x_t = b_t if state is None else self.eigenvalues() * state + b_t
        return self.readout(x_t, u_t), x_t

    def forward_loop(self, u, state=None):
        """The outputs and all states by a Python loop over :meth:`step` (the reference form).

        Args:
            u: real tensor (B, T, H).
            state: optional complex tensor (B, N), x_0 (zeros when None).

        Returns:
            (y, x): real tensor (B, T, H) and complex tensor (B, T, N).
        """
        self._check_input(u, state)
        ys, xs = [], []
        for t in range(u.shape[1]):
            y_t, state = self.step(u[:, t], state)
            ys.append(y_t)
            xs.append(state)
        return torch.stack(ys, dim=1), torch.stack(xs, dim=1)


def lru_parameter_count(d_model, d_state, normalize=True):
    """``4 N H + 3 N + H`` (``4 N H + 2 N + H`` without gamma): the parameters of :class:`LRU`."""
    check_positive_int("d_model", d_model)
    check_positive_int("d_state", d_state)
    return 4 * d_state * d_model + (3 if normalize else 2) * d_state + d_model
