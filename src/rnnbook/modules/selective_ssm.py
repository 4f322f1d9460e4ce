"""A small selective state-space layer (Mamba's S6) in plain PyTorch, and its time-invariant twin.

Each of the D channels of the input runs its own diagonal state-space system with a state of
size N. In continuous time, for channel d::

    h'(t) = A_d h(t) + B x_d(t),    y_d(t) = C . h(t) + skip_d x_d(t)

with ``A_d = -exp(A_log[d])`` diagonal and negative (S4D-real initialisation ``A_dn = -(n + 1)``,
Gu, Gupta, Goel and Re 2022). Sampled with a step ``Delta`` and the input held constant over the
step (zero-order hold), it becomes the linear recurrence::

    h_t = Abar_t * h_{t-1} + Bbar_t x_t,     Abar = exp(Delta A),
    Bbar = (Delta A)^{-1} (exp(Delta A) - 1) Delta B        (exact zero-order hold)
    Bbar ~ Delta B                                            (first order; what Mamba uses)
    y_t = C_t . h_t + skip * x_t

computed for all t at once by :func:`rnnbook.scan.linear_scan`, or step by step by
:meth:`SelectiveSSM.step`.

``selective=True`` (Gu and Dao 2023): Delta, B and C are functions of the input at each step::

    Delta_t = softplus(W_Delta x_t + b_Delta)   (N_batch, T, D)   one step size per channel
    B_t = W_B x_t,  C_t = W_C x_t               (N_batch, T, N)   shared by the channels

``selective=False``: the time-invariant counterpart with exactly the same number of parameters.
Delta = softplus(b_Delta) (D,), B and C (D, N) are learned constants (one B and C per channel, as
in S4D), and the D x D weight that the selective layer spends on computing Delta_t from x_t mixes
the channels before the recurrence instead (``u_t = W_in x_t``, a fixed linear map, so the layer
stays linear and time-invariant). Both layers have ``D*D + D + 2*D*N`` projection parameters plus
``A_log`` (D, N) and ``skip`` (D,): ``D*D + 3*D*N + 2*D`` in all.

The layer uses the exact zero-order hold by default (``discretisation="zoh"``);
``discretisation="mamba"`` uses ``Bbar = Delta B`` with the exact ``Abar``, as Mamba's code does.
"""

import math

import torch
from torch import nn
from torch.nn import functional as F

from rnnbook.modules._validation import check_positive_int, check_tensor
from rnnbook.scan import linear_scan

__all__ = ["DISCRETISATIONS", "SelectiveSSM", "expm1_over", "zoh_discretise"]

DISCRETISATIONS = ("zoh", "mamba")

# below this |z| the series of (exp(z) - 1) / z is used: its error there, about z**4 / 120, is
# far below float64's rounding (2e-16 relative) and the division is never taken near 0
_SERIES_BELOW = 1e-4


def expm1_over(z):
    """``(exp(z) - 1) / z`` elementwise, with its limit 1 at ``z = 0``; stable for small ``|z|``.

    For ``|z| < 1e-4`` the series ``1 + z/2 + z**2/6 + z**3/24`` is used (error below 1e-18);
    elsewhere ``expm1(z) / z``, whose ``expm1`` has no cancellation. Gradients are finite
    everywhere, z = 0 included.

    Args:
        z: a real floating-point tensor of any shape.

    Returns:
        A tensor of the shape and dtype of ``z``.
    """
    check_tensor("z", z)
    if z.is_complex():
        raise ValueError("z: expected a real tensor, got a complex one")
    small = z.abs() < _SERIES_BELOW
    safe = torch.where(small, torch.ones_like(z), z)  # no 0 / 0, not even in the unused branch
    series = 1 + z * (1 / 2 + z * (1 / 6 + z / 24))
    return torch.where(small, series, torch.expm1(safe) / safe)


def zoh_discretise(delta, A, B):
    """The exact zero-order-hold discretisation of the diagonal system ``h' = A h + B x``.

    Elementwise (A is diagonal): for a step ``delta`` over which the input is held constant,
    ``h(t + delta) = Abar h(t) + Bbar x(t)`` with::

        Abar = exp(delta * A)
        Bbar = (delta * A)^{-1} (exp(delta * A) - 1) * delta * B     -> delta * B as delta*A -> 0

    The limit is taken exactly (:func:`expm1_over`), so ``A = 0`` or ``delta = 0`` is allowed.

    Args:
        delta: real floating tensor of step sizes, broadcastable with ``A`` and ``B``
            (the layer passes shape (N_batch, T, D, 1)).
        A: real floating tensor, the diagonal of the continuous-time state matrix (the layer
            passes (D, N), all entries negative).
        B: real floating tensor, the input vector of the continuous-time system (the layer passes
            (N_batch, T, 1, N) when selective, (D, N) when not).

    Returns:
        ``(Abar, Bbar)``, two tensors of the broadcast shape of the three arguments
        (in the layer (N_batch, T, D, N)).

    Raises:
        ValueError: an argument that is not a real floating tensor, of another dtype than
            ``delta``, or that does not broadcast with the others.
    """
    check_tensor("delta", delta)
    check_tensor("A", A, like=("delta", delta))
    check_tensor("B", B, like=("delta", delta))
    for name, value in (("delta", delta), ("A", A), ("B", B)):
        if value.is_complex():
            raise ValueError(f"{name}: expected a real tensor, got a complex one")
    try:
        torch.broadcast_shapes(delta.shape, A.shape, B.shape)
    except RuntimeError as error:
        raise ValueError(
            f"delta, A, B: shapes {tuple(delta.shape)}, {tuple(A.shape)} and {tuple(B.shape)} "
            f"do not broadcast together ({error})"
        ) from None
    z = delta * A
    return torch.exp(z), expm1_over(z) * delta * B




class SelectiveSSM(nn.Module):
    """A diagonal state-space layer, selective (Mamba's S6) or time-invariant (S4D-like).

    Args:
        d_model: D, the number of channels (input and output features).
        d_state: N, the state size of each channel.
        selective: True: Delta_t, B_t, C_t computed from x_t; False: learned constants.
        discretisation: ``"zoh"`` (default, exact zero-order hold) or ``"mamba"``
            (``Bbar = Delta B``).
        dt_min, dt_max: the initial step sizes softplus(b_Delta) are spread log-uniformly over
            this range, deterministically (channel d at quantile (d + 1/2) / D); Mamba draws
            them at random from the same log-uniform distribution.

    Parameters:
        A_log (D, N): ``A = -exp(A_log)``, initialised to ``A_dn = -(n + 1)`` (S4D-real).
        skip (D,): the direct term D of the state-space literature (renamed to avoid D = d_model),
            initialised to 1.
        selective: ``delta_proj`` Linear(D, D) (weight and bias b_Delta), ``B_proj`` and
            ``C_proj`` Linear(D, N) without bias.
        time-invariant: ``in_proj`` Linear(D, D) without bias, ``delta_bias`` (D,), ``B`` and
            ``C`` (D, N).

    Call:
        ``layer(x, h0=None)`` with x (N_batch, T, D) returns y (N_batch, T, D) (the scan form);
        ``layer.forward_loop(x, h0=None)`` the same by a loop over :meth:`step`;
        ``layer.states(x, h0=None)`` the states h (N_batch, T, D, N);
        ``layer.step(x_t, h)`` one step: x_t (N_batch, D), h (N_batch, D, N) or None, returns
        ``(y_t, h_t)``. ``h0`` is (N_batch, D, N).
    """

    def __init__(self, d_model, d_state, selective=True, discretisation="zoh", dt_min=1e-3,
                 dt_max=1e-1):
        super().__init__()
        D = check_positive_int("d_model", d_model)
        N = check_positive_int("d_state", d_state)
        if not isinstance(selective, bool):
            raise ValueError(f"selective: expected True or False, got {selective!r}")
        if discretisation not in DISCRETISATIONS:
            raise ValueError(
                f"discretisation: expected one of {DISCRETISATIONS}, got {discretisation!r}"
            )
        if not (isinstance(dt_min, int | float) and isinstance(dt_max, int | float)
                and 0 < dt_min <= dt_max):
            raise ValueError(f"dt_min, dt_max: expected 0 < dt_min <= dt_max, got {dt_min!r}, "
                             f"{dt_max!r}")
        self.d_model, self.d_state = D, N
        self.selective, self.discretisation = selective, discretisation
        self.A_log = nn.Parameter(torch.log(torch.arange(1, N + 1, dtype=torch.float32))
                                  .repeat(D, 1))
        self.skip = nn.Parameter(torch.ones(D))
        quantiles = (torch.arange(D, dtype=torch.float64) + 0.5) / D
        dt = torch.exp(math.log(dt_min) + quantiles * (math.log(dt_max) - math.log(dt_min)))
        dt_bias = (dt + torch.log(-torch.expm1(-dt))).float()  # softplus^{-1}(dt)
        if selective:
            self.delta_proj = nn.Linear(D, D)
            self.B_proj = nn.Linear(D, N, bias=False)
            self.C_proj = nn.Linear(D, N, bias=False)
            with torch.no_grad():
                self.delta_proj.bias.copy_(dt_bias)
        else:
            self.in_proj = nn.Linear(D, D, bias=False)
            self.delta_bias = nn.Parameter(dt_bias)
            self.B = nn.Parameter(torch.randn(D, N) / math.sqrt(N))
            self.C = nn.Parameter(torch.randn(D, N) / math.sqrt(N))

    @property
    def A(self):
        """The continuous-time diagonal, ``-exp(A_log)``, shape (D, N), all entries negative."""
        return -torch.exp(self.A_log)

    def _check_input(self, name, x, spec):
        check_tensor(name, x, like=("A_log", self.A_log))
        if x.ndim != len(spec) or x.shape[-1] != self.d_model or 0 in x.shape:
            raise ValueError(
                f"{name}: expected shape ({', '.join(spec)}) with D = d_model = {self.d_model} "
                f"and no empty axis, got {tuple(x.shape)}"
            )

    def _check_state(self, name, h, batch):
        check_tensor(name, h, like=("A_log", self.A_log))
        expected = (batch, self.d_model, self.d_state)
        if tuple(h.shape) != expected:
            raise ValueError(f"{name}: expected shape (N_batch, D, N) = {expected}, "
                             f"got {tuple(h.shape)}")

    def discretised(self, x):
        """The recurrence's coefficients for the input x, without running it.

        Args:
            x: (N_batch, T, D).

        Returns:
            dict of tensors: ``"delta"`` (N_batch, T, D), ``"Abar"`` and ``"Bbar"``
            (N_batch, T, D, N), ``"C"`` (N_batch, T, D, N) (broadcast over the channels when
            selective) and ``"u"`` (N_batch, T, D), the input the recurrence reads (x itself
            when selective, W_in x when not).
        """
        self._check_input("x", x, ("N_batch", "T", "D"))
        shape = (*x.shape[:2], self.d_model, self.d_state)
        if self.selective:
            delta = F.softplus(self.delta_proj(x))  # (N_batch, T, D)
            B = self.B_proj(x).unsqueeze(-2)  # (N_batch, T, 1, N)
            C = self.C_proj(x).unsqueeze(-2)
            u = x
        else:
            delta = F.softplus(self.delta_bias).expand(x.shape)
            B, C = self.B, self.C  # (D, N)
            u = self.in_proj(x)
        if self.discretisation == "zoh":
            Abar, Bbar = zoh_discretise(delta.unsqueeze(-1), self.A, B)
        else:
            Abar, Bbar = torch.exp(delta.unsqueeze(-1) * self.A), delta.unsqueeze(-1) * B
        return {"delta": delta, "Abar": Abar.expand(shape), "Bbar": Bbar.expand(shape),
                "C": C.expand(shape), "u": u}

    def _readout(self, h, C, x):
        """y = C . h + skip * x over the state axis: h, C (..., D, N), x (..., D) -> (..., D)."""
        return (C * h).sum(-1) + self.skip * x

    def states(self, x, h0=None):
        """The states after every step, by the scan.

        Args:
            x: (N_batch, T, D).  h0: None (zeros) or (N_batch, D, N).

        Returns:
            h: (N_batch, T, D, N).
        """
        return self._scan(self.discretised(x), x, h0)

    def _scan(self, c, x, h0):
        if h0 is not None:
            self._check_state("h0", h0, x.shape[0])
        return linear_scan(c["Abar"], c["Bbar"] * c["u"].unsqueeze(-1), h0)

    def forward(self, x, h0=None):
        """The scan form: all T steps at once by :func:`rnnbook.scan.linear_scan`.

        Args:
            x: (N_batch, T, D).  h0: None (zeros) or (N_batch, D, N).

        Returns:
            y: (N_batch, T, D).
        """
        c = self.discretised(x)
        return self._readout(self._scan(c, x, h0), c["C"], x)

    def step(self, x_t, h=None):
        """One step of the recurrence (the form used for generation).

        Args:
            x_t: (N_batch, D), the input at one step.  h: None (zeros) or (N_batch, D, N).

        Returns:
            ``(y_t, h_t)``: y_t (N_batch, D), h_t (N_batch, D, N).
        """
        self._check_input("x_t", x_t, ("N_batch", "D"))
        if h is None:
            h = x_t.new_zeros(x_t.shape[0], self.d_model, self.d_state)
        else:
            self._check_state("h", h, x_t.shape[0])
        c = self.discretised(x_t.unsqueeze(1))
        h = c["Abar"][:, 0] * h + c["Bbar"][:, 0] * c["u"][:, 0].unsqueeze(-1)
        return self._readout(h, c["C"][:, 0], x_t), h

    def forward_loop(self, x, h0=None):
        """The step form over a whole sequence: a Python loop over :meth:`step`.

        Args:
            x: (N_batch, T, D).  h0: None (zeros) or (N_batch, D, N).

        Returns:
            y: (N_batch, T, D), equal to ``layer(x, h0)`` up to rounding.
        """
        self._check_input("x", x, ("N_batch", "T", "D"))
        h, ys = h0, []
        for t in range(x.shape[1]):
            y_t, h = self.step(x[:, t], h)
            ys.append(y_t)
        return torch.stack(ys, dim=1)
