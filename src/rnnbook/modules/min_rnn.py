"""minGRU and minLSTM (Feng et al. 2024): gated recurrences whose gates read the input only.

Take the state out of a GRU's or an LSTM's gates and candidate and the update becomes linear in
the previous state, ``h_t = a_t * h_{t-1} + b_t`` with ``a_t`` and ``b_t`` functions of ``x_t``
alone, so all the states of a sequence follow from one parallel scan (:mod:`rnnbook.scan`):

    minGRU    z_t = sigmoid(linear_z(x_t)),  h~_t = linear_h(x_t)
              h_t = (1 - z_t) * h_{t-1} + z_t * h~_t
    minLSTM   f_t = sigmoid(linear_f(x_t)),  i_t = sigmoid(linear_i(x_t)),  h~_t = linear_h(x_t)
              f'_t = f_t / (f_t + i_t),  i'_t = i_t / (f_t + i_t)
              h_t = f'_t * h_{t-1} + i'_t * h~_t

``z_t`` follows the paper: it is the share of the *new* candidate (``torch.nn.GRU``'s update gate
is the share of the old state, so the paper's ``z_t`` is one minus PyTorch's).

Each layer offers three ways to compute the same function:

    layer(x, h0)              the scan: rnnbook.scan.linear_scan on (a, b), or, with
                              log_space=True, rnnbook.scan.log_space_scan on (log a, log b)
    layer.forward_loop(x, h0) the step loop, one ``layer.step`` per time step
    layer.step(x_t, h)        one step, for generation with a constant-size state

``log_space=True`` is the paper's log-space variant, and it changes the model, not only the
arithmetic: the candidate passes through ``g(v) = v + 1/2`` for ``v >= 0`` and ``sigmoid(v)``
for ``v < 0`` (continuous, positive, linear for ``v >= 0``), so that every ``b_t`` is positive and
has a logarithm, and the state stays positive (a convex combination of positive candidates and a
positive ``h0``). The loop and ``step`` apply the same ``g``, so all three forms still agree.

Shapes: B batch, T steps, D = input_size, H = hidden_size. Inputs are batch-major ``(B, T, D)``;
outputs ``(B, T, H)``, the state after every step; ``h0`` is ``(B, H)`` (zeros when None).

    min_gru_parameter_count(D, H)    2 H (D + 1)
    min_lstm_parameter_count(D, H)   3 H (D + 1)
    MinRNN(D, H, kind, num_layers)   a stack of minGRU or minLSTM layers, each reading the outputs
                                     of the one below
"""


import torch
from torch import nn
from torch.nn import functional as F

from rnnbook.modules._validation import check_positive_int, check_tensor
from rnnbook.scan import linear_scan, log_space_scan
from rnnbook.shapes import check_shape

__all__ = [
    "KINDS",
    "MinGRU",
    "MinLSTM",
    "MinRNN",
    "g",
    "log_g",
    "min_gru_parameter_count",
    "min_lstm_parameter_count",
]

KINDS = ("gru", "lstm")




def min_gru_parameter_count(input_size, hidden_size):
    """Parameters of a :class:`MinGRU` layer: two ``D -> H`` affine maps, ``2 H (D + 1)``."""
    D = check_positive_int("input_size", input_size)
    H = check_positive_int("hidden_size", hidden_size)
    return 2 * H * (D + 1)


def min_lstm_parameter_count(input_size, hidden_size):
    """Parameters of a :class:`MinLSTM` layer: three ``D -> H`` affine maps, ``3 H (D + 1)``."""
    D = check_positive_int("input_size", input_size)
    H = check_positive_int("hidden_size", hidden_size)
    return 3 * H * (D + 1)


def g(v):
    """The paper's positive activation: ``v + 1/2`` for ``v >= 0``, ``sigmoid(v)`` for ``v < 0``.

    Continuous (both branches give 1/2 at 0), positive and increasing; elementwise, any shape.
    """
    return torch.where(v >= 0, F.relu(v) + 0.5, torch.sigmoid(v))


def log_g(v):
    """``log g(v)``, computed without ``log`` of a small number: ``logsigmoid(v)`` for ``v < 0``.

    Each branch is finite for every ``v`` (the ``v >= 0`` branch reads ``relu(v)``), so the
    gradient of the branch ``torch.where`` discards is never NaN.
    """
    return torch.where(v >= 0, torch.log(F.relu(v) + 0.5), F.logsigmoid(v))


class _MinLayer(nn.Module):
    """What minGRU and minLSTM share: argument checks, the three forms, the parameter count.

    A subclass defines ``_pre(x)`` (the affine maps of the input, a tuple of (..., H) tensors),
    ``_coefficients(pre)`` -> ``(a, b)`` and ``_log_coefficients(pre)`` -> ``(log a, log b)``.
    """

    def __init__(self, input_size, hidden_size, names, log_space):
        super().__init__()
        self.input_size = check_positive_int("input_size", input_size)
        self.hidden_size = check_positive_int("hidden_size", hidden_size)
        if not isinstance(log_space, bool):
            raise ValueError(f"log_space: expected True or False, got {log_space!r}")
        self.log_space = log_space
        self._names = names
        for name in names:
            setattr(self, f"linear_{name}", nn.Linear(self.input_size, self.hidden_size))

    def _pre(self, x):
        return tuple(getattr(self, f"linear_{name}")(x) for name in self._names)

    def _candidate(self, v):
        return g(v) if self.log_space else v

    def num_parameters(self):
        """The number of parameters, ``len(names) * H * (D + 1)``."""
        return len(self._names) * self.hidden_size * (self.input_size + 1)

    def extra_repr(self):
        return (f"{self.input_size}, {self.hidden_size}"
                + (", log_space=True" if self.log_space else ""))

    # -- argument checks ------------------------------------------------------------------------

    def _check_input(self, x, h0):
        check_tensor("x", x, like=("weight", self.linear_h.weight))
        dims = {"D": (self.input_size, "input_size"), "H": (self.hidden_size, "hidden_size")}
        check_shape("x", x, ("B", "T", "D"), dims)
        self._check_state("h0", h0, x, dims)

    def _check_state(self, name, h, like, dims):
        if h is None:
            return
        check_tensor(name, h, like=("x", like))
        check_shape(name, h, ("B", "H"), dims)
        if self.log_space and not bool((h > 0).all()):
            raise ValueError(f"{name}: log_space=True needs a positive initial state "
                             f"(the scan works with log h), got a minimum of {float(h.min())}")

    # -- the three forms ------------------------------------------------------------------------

    def coefficients(self, x):
        """The recurrence's coefficients: ``h_t = a_t * h_{t-1} + b_t``.

        Args:
            x: tensor (B, T, D) (or (B, D) for one step).

        Returns:
            ``(a, b)``, two tensors (B, T, H) (or (B, H)); ``a_t`` is in (0, 1).
        """
        return self._coefficients(self._pre(x))

    def forward(self, x, h0=None):
        """All states by the parallel scan.

        Args:
            x: float tensor (B, T, D).
            h0: optional tensor (B, H), the state before the first step (zeros when None;
                positive when ``log_space``).

        Returns:
            h: tensor (B, T, H), ``h[:, t]`` the state after step t + 1.
        """
        self._check_input(x, h0)
        pre = self._pre(x)
        if not self.log_space:
            a, b = self._coefficients(pre)
            return linear_scan(a, b, h0)
        log_a, log_b = self._log_coefficients(pre)
        log_h0 = None if h0 is None else torch.log(h0)
        return torch.exp(log_space_scan(log_a, log_b, log_h0))

    def step(self, x_t, h):
        """One step: the state after reading ``x_t``.

        Args:
            x_t: float tensor (B, D).
            h: tensor (B, H), the previous state (None: zeros).

        Returns:
            tensor (B, H).
        """
        check_tensor("x_t", x_t, like=("weight", self.linear_h.weight))
        dims = {"D": (self.input_size, "input_size"), "H": (self.hidden_size, "hidden_size")}
        check_shape("x_t", x_t, ("B", "D"), dims)
        if h is None:
            h = x_t.new_zeros(x_t.shape[0], self.hidden_size)
        else:
            check_tensor("h", h, like=("x_t", x_t))
            check_shape("h", h, ("B", "H"), dims)
        a, b = self._coefficients(self._pre(x_t))
        return a * h + b

    def forward_loop(self, x, h0=None):
        """All states by the step loop (the sequential form): ``step`` once per time step.

        Args and returns as :meth:`forward`.
        """
        self._check_input(x, h0)
        h = x.new_zeros(x.shape[0], self.hidden_size) if h0 is None else h0
        states = []
        for t in range(x.shape[1]):
            h = self.step(x[:, t], h)
            states.append(h)
        return torch.stack(states, dim=1)


class MinGRU(_MinLayer):
    """The minGRU layer of Feng et al. (2024).

    ``z_t = sigmoid(linear_z(x_t))``, ``h~_t = linear_h(x_t)`` (``g(linear_h(x_t))`` with
    ``log_space``), ``h_t = (1 - z_t) * h_{t-1} + z_t * h~_t``.

    Args:
        input_size: D.  hidden_size: H.
        log_space: compute the scan in logarithms, with the positive candidate ``g`` (see the
            module's docstring).

    Parameters:
        ``linear_z.weight``, ``linear_h.weight`` (H, D); ``linear_z.bias``, ``linear_h.bias`` (H,):
        ``2 H (D + 1)`` numbers, :meth:`num_parameters`.

    Call:
        ``layer(x, h0=None)`` with x (B, T, D), h0 (B, H) returns h (B, T, H); also
        :meth:`forward_loop` (the same by the step loop) and :meth:`step` (one step).
    """

    def __init__(self, input_size, hidden_size, log_space=False):
        super().__init__(input_size, hidden_size, ("z", "h"), log_space)

    def _coefficients(self, pre):
        k, v = pre
        z = torch.sigmoid(k)
        return 1 - z, z * self._candidate(v)

    def _log_coefficients(self, pre):
        k, v = pre
        # 1 - z = sigmoid(-k)
        return F.logsigmoid(-k), F.logsigmoid(k) + log_g(v)


class MinLSTM(_MinLayer):
    """The minLSTM layer of Feng et al. (2024).

    ``f_t = sigmoid(linear_f(x_t))``, ``i_t = sigmoid(linear_i(x_t))``, normalised to
    ``f'_t = f_t / (f_t + i_t)`` and ``i'_t = i_t / (f_t + i_t)`` (so ``f'_t + i'_t = 1``);
    ``h~_t = linear_h(x_t)`` (``g(linear_h(x_t))`` with ``log_space``);
    ``h_t = f'_t * h_{t-1} + i'_t * h~_t``.

    Args:
        input_size: D.  hidden_size: H.  log_space: as in :class:`MinGRU`.

    Parameters:
        ``linear_f``, ``linear_i``, ``linear_h``, each a weight (H, D) and a bias (H,):
        ``3 H (D + 1)`` numbers, :meth:`num_parameters`.

    Call:
        as :class:`MinGRU`.
    """

    def __init__(self, input_size, hidden_size, log_space=False):
        super().__init__(input_size, hidden_size, ("f", "i", "h"), log_space)

    def _coefficients(self, pre):
        kf, ki, v = pre
        f, i = torch.sigmoid(kf), torch.sigmoid(ki)
        return f / (f + i), i / (f + i) * self._candidate(v)

    def _log_coefficients(self, pre):
        kf, ki, v = pre
        # with d = log(i / f): f' = 1 / (1 + e^d) = sigmoid(-d), i' = sigmoid(d)
        d = F.logsigmoid(ki) - F.logsigmoid(kf)
        return F.logsigmoid(-d), F.logsigmoid(d) + log_g(v)


_LAYERS = {"gru": MinGRU, "lstm": MinLSTM}


class MinRNN(nn.Module):
    """A stack of minGRU or minLSTM layers; layer l + 1 reads the outputs of layer l.

    In a single layer the gates see only the current input; from the second layer on they see
    the states of the layer below, so the state of layer 1 reaches the gates of layer 2.

    Args:
        input_size: D.  hidden_size: H (every layer).
        kind: ``"gru"`` (minGRU) or ``"lstm"`` (minLSTM).
        num_layers: L.  log_space: as in :class:`MinGRU`, for every layer.

    Call:
        ``stack(x, h0=None)`` with x (B, T, D) and h0 None or (L, B, H) returns
        ``(outputs, h_n)``: outputs (B, T, H), the last layer's states; h_n (L, B, H), every
        layer's final state (the convention of ``torch.nn.GRU`` with ``batch_first=True``).
    """

    def __init__(self, input_size, hidden_size, kind="gru", num_layers=1, log_space=False):
        super().__init__()
        if kind not in KINDS:
            raise ValueError(f"kind: expected one of {KINDS}, got {kind!r}")
        self.kind = kind
        self.num_layers = check_positive_int("num_layers", num_layers)
        self.input_size = check_positive_int("input_size", input_size)
        self.hidden_size = check_positive_int("hidden_size", hidden_size)
        self.layers = nn.ModuleList(
            _LAYERS[kind](input_size if layer == 0 else hidden_size, hidden_size, log_space)
            for layer in range(self.num_layers))

    def num_parameters(self):
        """The sum of the layers' counts."""
        return sum(layer.num_parameters() for layer in self.layers)

    def forward(self, x, h0=None):
        self.layers[0]._check_input(x, None)
        if h0 is not None:
            check_tensor("h0", h0, like=("x", x))
            expected = (self.num_layers, x.shape[0], self.hidden_size)
            if tuple(h0.shape) != expected:
                raise ValueError(f"h0: expected shape (num_layers, B, H) = {expected}, "
                                 f"got {tuple(h0.shape)}")
        finals = []
        for index, layer in enumerate(self.layers):
            x = layer(x, None if h0 is None else h0[index])
            finals.append(x[:, -1])
        return x, torch.stack(finals)
