"""Checks for the exercises of Chapter 5, LSTM and GRU.

Each ``check_*`` function takes the learner's answer (a function), calls it on small inputs of
known answer, and either prints one ``passed: ...`` line or raises :class:`CheckFailed` with a
message that names the likely slip: gates in the wrong order, the reset gate in Cho's place
instead of PyTorch's, the update gate on the wrong side, a forgotten second bias, the backward
state read as the forward one.

Shapes follow the book's notation: batch-major arrays, states (N, H), weights stored as
(out_features, in_features) with the gates stacked in PyTorch's order, LSTM (i, f, g, o) in
``W_xh`` (4H, D), ``W_hh`` (4H, H), ``b`` (4H,), GRU (r, z, n) in ``W_xh`` (3H, D),
``W_hh`` (3H, H) and two biases (3H,).
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
    fail,
    passed,
)

__all__ = [
    "check_bidirectional_summary",
    "check_cell_path_jacobian",
    "check_gated_parameter_count",
    "check_gru_step",
    "check_lstm_step",
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
    expect_close(name, J, expected, rtol=1e-8, atol=1e-12)
    one = call_answer("cell_path_jacobian", cell_path_jacobian, f[:1])
    expect_close("cell_path_jacobian(f[:1])", one, np.diag(f[0]), rtol=1e-8, atol=1e-12,
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
