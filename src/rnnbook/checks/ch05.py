"""Checks for the exercises of Chapter 5, LSTM and GRU.

Each ``check_*`` function takes the learner's answer (a function), calls it on small inputs of
known answer, and either prints one ``passed: ...`` line or raises :class:`CheckFailed` with a
message that names the likely slip: gates in the wrong order, the reset gate in Cho's place
instead of PyTorch's, the update gate on the wrong side, a forgotten second bias, the backward
state read as the forward one, and in the backward steps a cell path without the forget gate, a
missing path from ``h_next`` into the cell or a wrong sigmoid derivative. Every check calls the
answer on copies of its arrays (:func:`~rnnbook.checks.call_unchanged`): an answer that changes
an argument in place fails, by the argument's name.

Shapes follow the book's notation: batch-major arrays, states (N, H), weights stored as
(out_features, in_features) with the gates stacked in PyTorch's order, LSTM (i, f, g, o) in
``W_xh`` (4H, D), ``W_hh`` (4H, H), ``b`` (4H,), GRU (r, z, n) in ``W_xh`` (3H, D),
``W_hh`` (3H, H) and two biases (3H,).
"""

import itertools
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
    "check_bidirectional_summary",
    "check_cell_path_jacobian",
    "check_gated_parameter_count",
    "check_gru_step",
    "check_gru_step_backward",
    "check_lstm_step",
    "check_lstm_step_backward",
    "check_torch_to_onnx_order",
]


def _rng(seed):
    return np.random.default_rng(seed)


def _sigmoid(u):
    return 0.5 * (1.0 + np.tanh(0.5 * u))


def _pair(name, result):
    """``result`` as a pair, or a failure that says a pair was expected."""
    __tracebackhide__ = True
    if not isinstance(result, tuple | list) or len(result) != 2:
        fail(f"`{name}` should return a pair; got {type(result).__name__}.",
             "end the function with `return h_next, c_next`.")
    return result


# ---------------------------------------------------------------------------------------------
# One LSTM step
# ---------------------------------------------------------------------------------------------


def _lstm_variants(x, h, c, W_xh, W_hh, b, order="ifgo", squash_c=True, use_i=True,
                   one_minus_f=False):
    a = x @ W_xh.T + h @ W_hh.T + b
    blocks = dict(zip(order, np.split(a, 4, axis=1), strict=True))
    i, f, o = _sigmoid(blocks["i"]), _sigmoid(blocks["f"]), _sigmoid(blocks["o"])
    g = np.tanh(blocks["g"])
    if one_minus_f:
        f = 1.0 - f
    c_next = f * c + (i * g if use_i else g)
    h_next = o * (np.tanh(c_next) if squash_c else c_next)
    return h_next, c_next


def check_lstm_step(lstm_step):
    """Check ``lstm_step(x, h_prev, c_prev, W_xh, W_hh, b) -> (h_next, c_next)``, each (N, H).

    Expected: ``a = x @ W_xh.T + h_prev @ W_hh.T + b`` split into (i, f, g, o);
    ``c_next = sigmoid(f) * c_prev + sigmoid(i) * tanh(g)``, ``h_next = sigmoid(o) * tanh(c_next)``.
    """
    __tracebackhide__ = True
    rng = _rng(50)
    N, D, H = 3, 4, 5
    x, h, c = rng.normal(size=(N, D)), rng.normal(size=(N, H)), 2.0 * rng.normal(size=(N, H))
    W_xh, W_hh, b = rng.normal(size=(4 * H, D)), rng.normal(size=(4 * H, H)), rng.normal(size=4 * H)
    name = "lstm_step"
    h_next, c_next = _pair(name, call_unchanged(
        name, lstm_step, ["x", "h_prev", "c_prev", "W_xh", "W_hh", "b"], x, h, c, W_xh, W_hh, b))
    h_next = expect_shape("h_next", h_next, (N, H),
                          hint="each state has one row per example: shape (N, H).")
    c_next = expect_shape("c_next", c_next, (N, H),
                          hint="each state has one row per example: shape (N, H).")
    h_next, c_next = expect_numeric("h_next", h_next), expect_numeric("c_next", c_next)
    h_ref, c_ref = _lstm_variants(x, h, c, W_xh, W_hh, b)
    if np.allclose(h_next, c_ref) and np.allclose(c_next, h_ref):
        fail("your pair is (c_next, h_next), in the wrong order.", "return h_next, c_next.")
    wrong_c = [
        (_lstm_variants(x, h, c, W_xh, W_hh, b, order="ifog")[1],
         "uses the gate order (i, f, o, g).",
         "PyTorch stacks the blocks (i, f, g, o): rows [2H, 3H) are the candidate g, "
         "rows [3H, 4H) the output gate o."),
        (_lstm_variants(x, h, c, W_xh, W_hh, b, order="figo")[1],
         "swaps the input and forget gates.",
         "block 0 (rows [0, H)) is the input gate i, block 1 the forget gate f."),
        (_lstm_variants(x, h, c, W_xh, W_hh, b, use_i=False)[1],
         "adds the candidate without the input gate.", "c_next = f * c_prev + i * g."),
        (_lstm_variants(x, h, c, W_xh, W_hh, b, one_minus_f=True)[1],
         "multiplies c_prev by 1 - f.", "the forget gate keeps what it multiplies: f * c_prev."),
    ]
    diagnose("c_next", c_next, wrong_c, c_ref)
    expect_close("c_next", c_next, c_ref, rtol=1e-6, atol=1e-8)
    diagnose("h_next", h_next, [
        (_lstm_variants(x, h, c, W_xh, W_hh, b, squash_c=False)[0],
         "is o * c_next: the tanh of the cell state is missing.",
         "h_next = o * tanh(c_next), which keeps h in (-1, 1)."),
        (np.tanh(c_ref), "is tanh(c_next) without the output gate.",
         "multiply by o = sigmoid of block 3."),
    ], h_ref)
    expect_close("h_next", h_next, h_ref, rtol=1e-6, atol=1e-8)
    passed("lstm_step: h_next and c_next are right, gates in the order (i, f, g, o)")


# ---------------------------------------------------------------------------------------------
# One GRU step
# ---------------------------------------------------------------------------------------------


def _gru_variants(x, h, W_xh, W_hh, b_xh, b_hh, order="rzn", reset="after", z_on_old=True,
                  bias_inside=True):
    blocks_x = dict(zip(order, np.split(x @ W_xh.T + b_xh, 3, axis=1), strict=True))
    blocks_h = dict(zip(order, np.split(h @ W_hh.T + b_hh, 3, axis=1), strict=True))
    r = _sigmoid(blocks_x["r"] + blocks_h["r"])
    z = _sigmoid(blocks_x["z"] + blocks_h["z"])
    H = h.shape[1]
    W_hn, b_hn = W_hh[2 * H:], b_hh[2 * H:]                # the candidate is block 2 in both orders
    if reset == "before":
        n = np.tanh(blocks_x["n"] + (r * h) @ W_hn.T + b_hn)
    elif bias_inside:
        n = np.tanh(blocks_x["n"] + r * blocks_h["n"])
    else:
        n = np.tanh(blocks_x["n"] + r * (h @ W_hn.T) + b_hn)
    return (1.0 - z) * n + z * h if z_on_old else z * n + (1.0 - z) * h


def check_gru_step(gru_step):
    """Check ``gru_step(x, h_prev, W_xh, W_hh, b_xh, b_hh) -> h_next`` of shape (N, H).

    Expected (``torch.nn.GRU``): ``r, z = sigmoid(...)``,
    ``n = tanh(x W_xn^T + b_xn + r * (h W_hn^T + b_hn))``, ``h_next = (1 - z) * n + z * h_prev``.
    """
    __tracebackhide__ = True
    rng = _rng(51)
    N, D, H = 3, 4, 5
    x, h = rng.normal(size=(N, D)), rng.normal(size=(N, H))
    W_xh, W_hh = rng.normal(size=(3 * H, D)), rng.normal(size=(3 * H, H))
    b_xh, b_hh = rng.normal(size=3 * H), 2.0 * rng.normal(size=3 * H)
    name = "gru_step"
    out = call_unchanged(name, gru_step, ["x", "h_prev", "W_xh", "W_hh", "b_xh", "b_hh"],
                          x, h, W_xh, W_hh, b_xh, b_hh)
    out = expect_shape(name, out, (N, H), hint="the new state has one row per example: (N, H).")
    out = expect_numeric(name, out)
    args = (x, h, W_xh, W_hh, b_xh, b_hh)
    expected = _gru_variants(*args)
    diagnose(name, out, [
        (_gru_variants(*args, reset="before"),
         "applies the reset gate to h_prev before the product, as in Cho et al. (2014).",
         "torch.nn.GRU (and cuDNN) apply it after: r * (h_prev @ W_hn.T + b_hn)."),
        (_gru_variants(*args, z_on_old=False),
         "puts the update gate on the candidate: z * n + (1 - z) * h_prev.",
         "in PyTorch's convention z keeps the old state: (1 - z) * n + z * h_prev."),
        (_gru_variants(*args, bias_inside=False),
         "adds b_hn outside the reset gate.",
         "the reset gate multiplies the whole recurrent term, bias included: "
         "r * (h_prev @ W_hn.T + b_hn)."),
        (_gru_variants(*args, order="zrn"),
         "reads the blocks in the order (z, r, n).",
         "PyTorch stacks them (r, z, n): rows [0, H) reset, [H, 2H) update, [2H, 3H) candidate."),
    ], expected)
    expect_close(name, out, expected, rtol=1e-6, atol=1e-8)
    passed("gru_step: the torch.nn.GRU update, reset gate after the product")


# ---------------------------------------------------------------------------------------------
# The Jacobian along the cell path over k steps
# ---------------------------------------------------------------------------------------------


def check_cell_path_jacobian(cell_path_jacobian):
    """Check ``cell_path_jacobian(f) -> J`` of shape (H, H), for forget gates ``f`` of shape (k, H).

    Expected: ``J = diag(prod_s f[s])``, the product of the per-step factors ``diag(f_s)``.
    """
    __tracebackhide__ = True
    rng = _rng(52)
    k, H = 6, 4
    f = rng.uniform(0.3, 0.99, size=(k, H))
    name = "cell_path_jacobian(f)"
    J = call_unchanged("cell_path_jacobian", cell_path_jacobian, ["f"], f)
    array = as_array(name, J)
    if array.shape == (H,):
        fail(f"your `{name}` has shape (H,) = {(H,)}; expected the (H, H) matrix.",
             "the Jacobian of c_k with respect to c_0 is a matrix: put the product on a diagonal "
             "(np.diag).")
    J = expect_shape(name, J, (H, H))
    J = expect_numeric(name, J)
    expected = np.diag(f.prod(axis=0))
    diagnose(name, J, [
        (np.diag(f.sum(axis=0)), "sums the forget gates over the steps.",
         "the chain rule multiplies the per-step Jacobians diag(f_s); it does not add them."),
        (np.diag(f[-1]), "is the Jacobian of the last step only.",
         "over k steps, multiply the factors of all k steps."),
        (np.diag(f.mean(axis=0) ** k), "uses the mean gate to the power k.",
         "each step has its own f_s: multiply them, do not average first."),
        (np.outer(f.prod(axis=0), np.ones(H)), "fills whole rows with the product.",
         "each unit's cell state depends only on its own previous value: J is diagonal."),
    ], expected)
    expect_close(name, J, expected, rtol=1e-6, atol=1e-12)
    one = call_unchanged("cell_path_jacobian", cell_path_jacobian, ["f"], f[:1])
    expect_close("cell_path_jacobian(f[:1])", one, np.diag(f[0]), rtol=1e-6, atol=1e-12,
                 hint="with k = 1 the answer is diag(f_1).")
    passed("cell_path_jacobian: diag of the product of the forget gates")


# ---------------------------------------------------------------------------------------------
# Parameter counts of stacked and bidirectional gated layers
# ---------------------------------------------------------------------------------------------


_GATES = {"rnn": 1, "gru": 3, "lstm": 4}


def _count(cell, D, H, L, bidirectional, gates=None, deep_input=True, biases=2, dirs=None):
    G = _GATES[cell] if gates is None else gates
    K = (2 if bidirectional else 1) if dirs is None else dirs
    total = 0
    for layer in range(L):
        d_in = D if layer == 0 or not deep_input else H * K
        total += K * G * H * (d_in + H + biases)
    return total


def check_gated_parameter_count(gated_parameter_count):
    """Check ``gated_parameter_count(cell, D, H, num_layers, bidirectional) -> int``.

    Expected: the number of parameters of ``torch.nn.RNN/GRU/LSTM(D, H, num_layers,
    bidirectional=...)``, for ``cell`` in ``"rnn"``, ``"gru"``, ``"lstm"``.
    """
    __tracebackhide__ = True
    cases = [("lstm", 3, 4, 1, False), ("gru", 5, 2, 1, False), ("lstm", 3, 4, 2, False),
             ("gru", 3, 4, 1, True), ("lstm", 6, 5, 3, True), ("rnn", 2, 7, 2, True)]
    for case in cases:
        cell, D, H, L, bi = case
        label = f"gated_parameter_count{case!r}"
        got = call_answer("gated_parameter_count", gated_parameter_count, *case)
        expected = _count(*case)
        if isinstance(got, bool) or not isinstance(got, numbers.Integral):
            fail(f"your `{label}` is {got!r} of type {type(got).__name__}; expected an int.",
                 "a parameter count is a whole number: return an int, e.g. with int(...).")
        value = int(got)
        if value == expected:
            continue
        hints = [
            (_count(*case, deep_input=False), "feeds every layer the input size D.",
             "layer l > 0 reads the states of the layer below: H inputs per direction, "
             "H * 2 when bidirectional."),
            (_count(*case, biases=1), "counts one bias vector per gate block.",
             "torch.nn keeps two, bias_ih and bias_hh: G H (D_in + H + 2) per layer and "
             "direction."),
            (_count(*case, dirs=1), "counts one direction only.",
             "bidirectional=True doubles every layer's parameters (the *_reverse tensors)."),
            (_count(*case, gates={"rnn": 1, "gru": 4, "lstm": 3}[cell]),
             "uses the wrong number of gate blocks.", "the LSTM has 4 blocks, the GRU 3."),
            (_count(*case, deep_input=False, dirs=1), "ignores both depth and direction.",
             "count every layer and direction, with H * directions inputs above layer 0."),
        ]
        for wrong, message, hint in hints:
            if value == wrong and wrong != expected:
                fail(f"your `{label}` is {value}, expected {expected}: it {message}", hint)
        expect_equal(label, value, expected,
                     hint="per layer and direction: G H (D_in + H + 2), with G = 1, 3, 4.")
    passed("gated_parameter_count: right for stacked and bidirectional RNN/GRU/LSTM")


# ---------------------------------------------------------------------------------------------
# Converting LSTM weights from PyTorch's gate order to ONNX's
# ---------------------------------------------------------------------------------------------


def _reorder(W, perm):
    blocks = np.split(W, 4, axis=0)
    return np.concatenate([blocks[k] for k in perm], axis=0)


def check_torch_to_onnx_order(torch_to_onnx_order):
    """Check ``torch_to_onnx_order(W) -> W_onnx``, W of shape (4H, ...) in the order (i, f, g, o).

    Expected: the same blocks in ONNX's order (i, o, f, g), for matrices and bias vectors alike.
    """
    __tracebackhide__ = True
    rng = _rng(53)
    H, D = 3, 2
    W = rng.normal(size=(4 * H, D))
    b = rng.normal(size=4 * H)
    for label, value in [("W", W), ("b", b)]:
        name = f"torch_to_onnx_order({label})"
        out = call_unchanged("torch_to_onnx_order", torch_to_onnx_order, ["W"], value)
        out = expect_shape(name, out, value.shape,
                           hint="reordering the blocks keeps the shape (4H, ...).")
        out = expect_numeric(name, out)
        diagnose(name, out, [
            (value, "is unchanged: the blocks are still in PyTorch's order (i, f, g, o).",
             "ONNX wants (i, o, f, g): blocks 0, 3, 1, 2 of the PyTorch matrix."),
            (_reorder(value, [0, 2, 3, 1]), "applies the inverse permutation (ONNX to PyTorch).",
             "block k of the result is PyTorch block [0, 3, 1, 2][k]."),
            (_reorder(value, [0, 3, 2, 1]), "gives (i, o, g, f).",
             "after the output gate ONNX puts the forget gate, then the cell candidate."),
            (_reorder(value, [0, 1, 3, 2]), "gives (i, f, o, g): only g and o are swapped.",
             "ONNX's order is i, o, f, c (c is our g)."),
        ], _reorder(value, [0, 3, 1, 2]))
        expect_close(name, out, _reorder(value, [0, 3, 1, 2]), rtol=0, atol=0)
    passed("torch_to_onnx_order: (i, f, g, o) -> (i, o, f, g), weights and biases")


# ---------------------------------------------------------------------------------------------
# Reading the final states of a bidirectional network
# ---------------------------------------------------------------------------------------------


def check_bidirectional_summary(bidirectional_summary):
    """Check ``bidirectional_summary(h_n, num_layers) -> (N, 2H)``.

    ``h_n`` is the final state of a bidirectional ``torch.nn`` network, shape
    ``(num_layers * 2, N, H)``. Expected: the last layer's forward final state and its backward
    final state, concatenated in that order along the feature axis: ``[h_n[-2], h_n[-1]]``.
    """
    __tracebackhide__ = True
    rng = _rng(54)
    for L in (1, 3):
        N, H = 2, 3
        h_n = rng.normal(size=(2 * L, N, H))
        name = f"bidirectional_summary(h_n, num_layers={L})"
        out = call_unchanged("bidirectional_summary", bidirectional_summary, ["h_n", "num_layers"],
                              h_n, L)
        out = expect_shape(name, out, (N, 2 * H),
                           hint="concatenate the two (N, H) states along the feature axis.")
        out = expect_numeric(name, out)
        diagnose(name, out, [
            (np.concatenate([h_n[-1], h_n[-2]], axis=1), "has backward first, forward second.",
             "h_n is ordered (layer, direction) with forward before backward: "
             "forward = h_n[-2], backward = h_n[-1]; concatenate [forward, backward]."),
            (np.concatenate([h_n[-1], h_n[-1]], axis=1), "repeats h_n[-1] twice.",
             "h_n[-1] is the backward direction only; the forward final state is h_n[-2]."),
            (np.concatenate([h_n[0], h_n[1]], axis=1), "reads the first layer.",
             "the last layer's two directions are the last two entries: h_n[-2], h_n[-1]."),
            (np.concatenate([h_n[L - 1], h_n[-1]], axis=1),
             "groups h_n as (direction, layer); it is (layer, direction).",
             "use h_n.view(num_layers, 2, N, H)[-1]: forward [0], backward [1]."),
        ], np.concatenate([h_n[-2], h_n[-1]], axis=1))
        expect_close(name, out, np.concatenate([h_n[-2], h_n[-1]], axis=1), rtol=0, atol=0)
    passed("bidirectional_summary: [forward final, backward final], last layer")


# ---------------------------------------------------------------------------------------------
# Backward steps: the gradients of one LSTM step and of one GRU step
# ---------------------------------------------------------------------------------------------

# Gradients are compared to 1e-4 relative (and 1e-6 absolute): loose enough for an answer computed
# in float32, and far below the error of any slip the checks name (the tests measure both).
GRAD_RTOL, GRAD_ATOL = 1e-4, 1e-6

_LSTM_GRADS = ("dx", "dh_prev", "dc_prev", "dW_xh", "dW_hh", "db")
_GRU_GRADS = ("dx", "dh_prev", "dW_xh", "dW_hh", "db_xh", "db_hh")


def _sigmoid_grad(s, a, wrong=None):
    """sigmoid'(a) from ``s = sigmoid(a)``; ``wrong`` picks a slip: ``"tanh"`` uses 1 - s**2,
    ``"pre"`` applies s (1 - s) to the pre-activation ``a``."""
    if wrong == "tanh":
        return 1.0 - s**2
    if wrong == "pre":
        return a * (1.0 - a)
    return s * (1.0 - s)


def _lstm_backward(dh, dc_next, x, h, c, W_xh, W_hh, b, *, order="ifgo", stack=None,
                   f_on_cell=True, h_into_c="full", with_dc_next=True, sigmoid_slip=None,
                   g_grad="tanh", df_factor="c_prev"):
    """The six gradients of one LSTM step, or of one of its slips.

    Shapes: ``dh``, ``dc_next``, ``h``, ``c`` (N, H); ``x`` (N, D); ``W_xh`` (4H, D);
    ``W_hh`` (4H, H); ``b`` (4H,). Returns ``(dx, dh_prev, dc_prev, dW_xh, dW_hh, db)``. With the
    defaults it is the right backward pass (the tests compare it with autograd); ``order`` reads
    the pre-activation's blocks in another order, ``stack`` stacks the gate gradients in another
    order, and the other keywords each make one slip.
    """
    a = x @ W_xh.T + h @ W_hh.T + b
    pre = dict(zip(order, np.split(a, 4, axis=1), strict=True))
    i, f, o = _sigmoid(pre["i"]), _sigmoid(pre["f"]), _sigmoid(pre["o"])
    g = np.tanh(pre["g"])
    c_next = f * c + i * g
    tanh_c = np.tanh(c_next)
    into_c = {"full": o * (1.0 - tanh_c**2), "no tanh'": o, "none": 0.0}[h_into_c]
    dc = (dc_next if with_dc_next else 0.0) + dh * into_c
    da = {
        "i": dc * g * _sigmoid_grad(i, pre["i"], sigmoid_slip),
        "f": dc * (c if df_factor == "c_prev" else c_next) * _sigmoid_grad(f, pre["f"],
                                                                          sigmoid_slip),
        "g": dc * i * (1.0 - g**2 if g_grad == "tanh" else g * (1.0 - g)),
        "o": dh * tanh_c * _sigmoid_grad(o, pre["o"], sigmoid_slip),
    }
    da = np.concatenate([da[k] for k in (stack or order)], axis=1)
    dc_prev = dc * f if f_on_cell else dc
    return da @ W_xh, da @ W_hh, dc_prev, da.T @ x, da.T @ h, da.sum(axis=0)


def _gru_backward(dh, x, h, W_xh, W_hh, b_xh, b_hh, *, order="rzn", stack=None, reset="after",
                  z_on_old=True, direct=True, r_on_hn=True, b_hn_in_dr=True, sigmoid_slip=None,
                  tanh_grad=True):
    """The six gradients of one ``torch.nn.GRU`` step, or of one of its slips.

    Shapes: ``dh``, ``h`` (N, H); ``x`` (N, D); ``W_xh`` (3H, D); ``W_hh`` (3H, H); ``b_xh``,
    ``b_hh`` (3H,). Returns ``(dx, dh_prev, dW_xh, dW_hh, db_xh, db_hh)``. With the defaults it is
    the right backward pass; ``reset="before"`` is the gradient of Cho et al.'s GRU, which applies
    the reset gate to ``h`` before the product with ``W_hn``.
    """
    H = h.shape[1]
    stack = stack or order
    px = dict(zip(order, np.split(x @ W_xh.T + b_xh, 3, axis=1), strict=True))
    ph = dict(zip(order, np.split(h @ W_hh.T + b_hh, 3, axis=1), strict=True))
    rows = {k: slice(j * H, (j + 1) * H) for j, k in enumerate(order)}
    W_hn, b_hn = W_hh[rows["n"]], b_hh[rows["n"]]
    r, z = _sigmoid(px["r"] + ph["r"]), _sigmoid(px["z"] + ph["z"])
    if reset == "before":
        n = np.tanh(px["n"] + (r * h) @ W_hn.T + b_hn)
    else:
        n = np.tanh(px["n"] + r * ph["n"])
    keep = z if z_on_old else 1.0 - z  # the weight of h_prev in h_next
    dz = dh * (h - n) if z_on_old else dh * (n - h)
    dan = dh * (1.0 - keep) * ((1.0 - n**2) if tanh_grad else 1.0)
    dh_prev = dh * keep if direct else np.zeros_like(h)
    if reset == "before":
        d_rh = dan @ W_hn  # the gradient at r * h
        dr, dhn = d_rh * h, dan
        dh_prev = dh_prev + d_rh * r
    else:
        dr = dan * (ph["n"] if b_hn_in_dr else ph["n"] - b_hn)
        dhn = dan * r if r_on_hn else dan
    dar = dr * _sigmoid_grad(r, px["r"] + ph["r"], sigmoid_slip)
    daz = dz * _sigmoid_grad(z, px["z"] + ph["z"], sigmoid_slip)
    dax = np.concatenate([{"r": dar, "z": daz, "n": dan}[k] for k in stack], axis=1)
    dah = np.concatenate([{"r": dar, "z": daz, "n": dhn}[k] for k in stack], axis=1)
    if reset == "before":  # the n block of W_hh multiplies r * h, and h_prev's share came above
        dah_n = np.zeros_like(dah)
        dah_n[:, rows["n"]] = dah[:, rows["n"]]
        dah_rz = dah - dah_n
        dW_hh = dah_rz.T @ h + dah_n.T @ (r * h)
        dh_prev = dh_prev + dah_rz @ W_hh
    else:
        dW_hh = dah.T @ h
        dh_prev = dh_prev + dah @ W_hh
    return dax @ W_xh, dh_prev, dax.T @ x, dW_hh, dax.sum(axis=0), dah.sum(axis=0)



def _close(a, b):
    return a.shape == b.shape and np.allclose(a, b, rtol=GRAD_RTOL, atol=GRAD_ATOL)


def _expect_gradients(name, result, names, expected, slips):
    """Judge a backward step's gradients, in the order returned, naming the slip behind the
    first wrong one. ``slips`` is a list of ``(gradients of the slip, message, hint)``. Two
    gradients count as swapped only when each equals the other's expected value."""
    __tracebackhide__ = True
    got = []
    for grad, value, want in zip(names, expect_tuple(name, result, names), expected, strict=True):
        value = expect_shape(grad, value, want.shape)  # a gradient has its variable's shape
        got.append(expect_numeric(grad, value))
    for k, grad in enumerate(names):
        if _close(got[k], expected[k]):
            continue
        for j, other in enumerate(names):
            if (j != k and _close(got[k], expected[j]) and _close(got[j], expected[k])
                    and not _close(expected[j], expected[k])):  # a true swap, both ways
                fail(f"your `{grad}` is the expected `{other}`: two gradients are swapped.",
                     f"return them in the order {', '.join(names)}.")
        diagnose(grad, got[k], [(slip[k], message, hint) for slip, message, hint in slips],
                 expected[k], rtol=GRAD_RTOL, atol=GRAD_ATOL)
        expect_close(grad, got[k], expected[k], rtol=GRAD_RTOL, atol=GRAD_ATOL)


def _orders(letters):
    """Every order of the gate letters except the right one."""
    return ["".join(p) for p in itertools.permutations(letters) if "".join(p) != letters]


def _lstm_slips(*args):
    """The slips that :func:`check_lstm_step_backward` names: (gradients, message, hint)."""
    cell = "c_next = f * c_prev + i * g, so dc_prev = dc * f"
    into_c = "dc = dc_next + dh_next * o * (1 - tanh(c_next)**2)"
    slips = [
        (dict(f_on_cell=False), "passes dc on to c_prev without the forget gate "
         "(dc_prev = dc).", f"{cell}: the factor f_t of the cell path."),
        (dict(h_into_c="none"), "leaves out the path from h_next into the cell: the "
         "o * (1 - tanh(c_next)**2) term is missing.",
         f"h_next = o * tanh(c_next) depends on c_next too: {into_c}."),
        (dict(h_into_c="no tanh'"), "leaves out tanh' on the path from h_next into the cell "
         "(dc = dc_next + dh_next * o).", f"{into_c}."),
        (dict(with_dc_next=False), "leaves out dc_next: the cell gradient comes only through "
         "h_next.", f"c_next also goes on to the next step: {into_c}."),
        (dict(sigmoid_slip="tanh"), "uses 1 - s**2, the derivative of tanh, for the sigmoid "
         "gates.", "sigmoid'(a) = s * (1 - s) with s = sigmoid(a), for i, f and o."),
        (dict(sigmoid_slip="pre"), "applies the sigmoid derivative to the pre-activation, "
         "a * (1 - a).", "sigmoid'(a) = s * (1 - s) with s = sigmoid(a), the gate's value."),
        (dict(g_grad="sigmoid"), "uses the sigmoid derivative g * (1 - g) for the candidate.",
         "g = tanh(a_g), so its derivative is 1 - g**2."),
        (dict(df_factor="c_next"), "multiplies the forget gate's gradient by c_next.",
         "c_next = f * c_prev + i * g: the forget gate multiplies c_prev, so df = dc * c_prev."),
    ]
    slips += [(dict(stack=order), f"stacks the gate gradients in the order "
               f"({', '.join(order)}).", "stack them as the rows of W_xh, W_hh and b, "
               "(i, f, g, o): rows [0, H) input gate, [H, 2H) forget gate, [2H, 3H) "
               "candidate, [3H, 4H) output gate.") for order in _orders("ifgo")]
    slips += [(dict(order=order), f"reads the blocks of the pre-activation in the order "
               f"({', '.join(order)}).", "PyTorch stacks them (i, f, g, o), in the forward "
               "and the backward pass.") for order in _orders("ifgo")]
    return [(_lstm_backward(*args, **kw), message, hint) for kw, message, hint in slips]


def _gru_slips(*args):
    """The slips that :func:`check_gru_step_backward` names: (gradients, message, hint)."""
    slips = [
        (dict(reset="before"), "is the gradient of Cho et al.'s GRU, with the reset gate "
         "applied to h_prev before the product (W_hn (r * h_prev)).",
         "torch.nn.GRU applies it after: n = tanh(x W_xn^T + b_xn + r * (h_prev W_hn^T + "
         "b_hn)), so dr = da_n * (h_prev @ W_hn.T + b_hn) and the hidden side gets da_n * r."),
        (dict(b_hn_in_dr=False), "leaves b_hn out of the reset gate's gradient "
         "(dr = da_n * (h_prev @ W_hn.T)).",
         "r multiplies the whole recurrent term, bias included: "
         "dr = da_n * (h_prev @ W_hn.T + b_hn)."),
        (dict(r_on_hn=False), "gives the hidden side of the candidate block the input side's "
         "gradient, without the factor r.",
         "n = tanh(xn + r * hn): the gradient at hn is da_n * r, so the n blocks of db_hh and "
         "db_xh differ."),
        (dict(direct=False), "leaves out the direct path from h_prev to h_next, z * dh_next.",
         "h_next = (1 - z) * n + z * h_prev: dh_prev starts as dh_next * z."),
        (dict(z_on_old=False), "puts the update gate on the candidate "
         "(h_next = z * n + (1 - z) * h_prev).",
         "in PyTorch z keeps the old state: h_next = (1 - z) * n + z * h_prev."),
        (dict(sigmoid_slip="tanh"), "uses 1 - s**2, the derivative of tanh, for the sigmoid "
         "gates.", "sigmoid'(a) = s * (1 - s) with s = sigmoid(a), for r and z."),
        (dict(sigmoid_slip="pre"), "applies the sigmoid derivative to the pre-activation, "
         "a * (1 - a).", "sigmoid'(a) = s * (1 - s) with s = sigmoid(a), the gate's value."),
        (dict(tanh_grad=False), "leaves out the derivative of tanh at the candidate.",
         "n = tanh(...): the gradient at its argument is dn * (1 - n**2)."),
    ]
    slips += [(dict(stack=order), f"stacks the gate gradients in the order "
               f"({', '.join(order)}).", "stack them as the rows of W_xh, W_hh and the biases, "
               "(r, z, n): rows [0, H) reset, [H, 2H) update, [2H, 3H) candidate.")
              for order in _orders("rzn")]
    slips += [(dict(order=order), f"reads the blocks of the pre-activations in the order "
               f"({', '.join(order)}).", "PyTorch stacks them (r, z, n), in the forward and "
               "the backward pass.") for order in _orders("rzn")]
    return [(_gru_backward(*args, **kw), message, hint) for kw, message, hint in slips]


def _lstm_backward_inputs(rng, N=3, D=4, H=5):
    """Random arguments of ``lstm_step_backward``: gates away from saturation, so that every
    slip changes some gradient by far more than the tolerance."""
    return (rng.normal(size=(N, H)), rng.normal(size=(N, H)), rng.normal(size=(N, D)),
            rng.normal(size=(N, H)), 2.0 * rng.normal(size=(N, H)),
            0.5 * rng.normal(size=(4 * H, D)), 0.5 * rng.normal(size=(4 * H, H)),
            0.5 * rng.normal(size=4 * H))


def _gru_backward_inputs(rng, N=3, D=4, H=5):
    """Random arguments of ``gru_step_backward``; ``b_hh`` is large enough for b_hn to matter."""
    return (rng.normal(size=(N, H)), rng.normal(size=(N, D)), rng.normal(size=(N, H)),
            0.5 * rng.normal(size=(3 * H, D)), 0.5 * rng.normal(size=(3 * H, H)),
            0.5 * rng.normal(size=3 * H), 2.0 * rng.normal(size=3 * H))


def check_lstm_step_backward(lstm_step_backward):
    """Check ``lstm_step_backward(dh_next, dc_next, x, h_prev, c_prev, W_xh, W_hh, b)``.

    Expected: the gradients ``(dx, dh_prev, dc_prev, dW_xh, dW_hh, db)`` of the loss
    ``sum(dh_next * h_next) + sum(dc_next * c_next)`` through one step of :func:`check_lstm_step`'s
    LSTM; shapes (N, D), (N, H), (N, H), (4H, D), (4H, H), (4H,).
    """
    __tracebackhide__ = True
    args = _lstm_backward_inputs(_rng(55))
    name = "lstm_step_backward"
    result = call_unchanged(name, lstm_step_backward, ["dh_next", "dc_next", "x", "h_prev",
                                                      "c_prev", "W_xh", "W_hh", "b"], *args)
    _expect_gradients(name, result, _LSTM_GRADS, _lstm_backward(*args), _lstm_slips(*args))
    passed("lstm_step_backward: all six gradients, the cell path through f")


def check_gru_step_backward(gru_step_backward):
    """Check ``gru_step_backward(dh_next, x, h_prev, W_xh, W_hh, b_xh, b_hh)``.

    Expected: the gradients ``(dx, dh_prev, dW_xh, dW_hh, db_xh, db_hh)`` of the loss
    ``sum(dh_next * h_next)`` through one step of ``torch.nn.GRU`` (as in :func:`check_gru_step`);
    shapes (N, D), (N, H), (3H, D), (3H, H), (3H,), (3H,).
    """
    __tracebackhide__ = True
    args = _gru_backward_inputs(_rng(56))
    name = "gru_step_backward"
    result = call_unchanged(name, gru_step_backward, ["dh_next", "x", "h_prev", "W_xh", "W_hh",
                                                     "b_xh", "b_hh"], *args)
    _expect_gradients(name, result, _GRU_GRADS, _gru_backward(*args), _gru_slips(*args))
    passed("gru_step_backward: all six gradients, reset gate after the product")
