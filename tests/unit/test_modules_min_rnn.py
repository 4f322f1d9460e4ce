"""minGRU and minLSTM: the scan equals the step loop and the equations, in values and gradients."""

import pytest
import torch

from rnnbook.models.equal_budget import TASK_KINDS, TaskModel, matched_hidden_size
from rnnbook.modules.min_rnn import (
    MinGRU,
    MinLSTM,
    MinRNN,
    g,
    log_g,
    min_gru_parameter_count,
    min_lstm_parameter_count,
)

LAYERS = [MinGRU, MinLSTM]
SHAPES = [(1, 1, 1, 1), (3, 7, 4, 5), (2, 33, 3, 6), (4, 64, 2, 3)]  # B, T, D, H


def make(cls, D, H, log_space=False, seed=0):
    torch.manual_seed(seed)
    return cls(D, H, log_space=log_space).double()


def inputs(B, T, D, H, seed=1, positive_h0=False):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(B, T, D, generator=gen, dtype=torch.float64)
    h0 = torch.randn(B, H, generator=gen, dtype=torch.float64)
    return x, (h0.abs() + 0.1 if positive_h0 else h0)


def by_hand(layer, x, h0):
    """The paper's equations, written out step by step without the module's helpers."""
    h, out = h0, []
    for t in range(x.shape[1]):
        x_t = x[:, t]
        cand = layer.linear_h(x_t)
        if layer.log_space:
            cand = torch.where(cand >= 0, cand + 0.5, torch.sigmoid(cand))
        if isinstance(layer, MinGRU):
            z = torch.sigmoid(layer.linear_z(x_t))
            h = (1 - z) * h + z * cand
        else:
            f, i = torch.sigmoid(layer.linear_f(x_t)), torch.sigmoid(layer.linear_i(x_t))
            h = f / (f + i) * h + i / (f + i) * cand
        out.append(h)
    return torch.stack(out, dim=1)


@pytest.mark.parametrize("cls", LAYERS)
@pytest.mark.parametrize("log_space", [False, True])
@pytest.mark.parametrize("shape", SHAPES)
def test_scan_equals_loop_and_equations(cls, log_space, shape):
    B, T, D, H = shape
    layer = make(cls, D, H, log_space)
    x, h0 = inputs(B, T, D, H, positive_h0=log_space)
    for start in (h0, None):
        reference = by_hand(layer, x, torch.zeros(B, H, dtype=x.dtype) if start is None
                            else start)
        scan, loop = layer(x, start), layer.forward_loop(x, start)
        assert scan.shape == loop.shape == (B, T, H)
        assert (scan - reference).abs().max() < 1e-10
        assert (loop - reference).abs().max() < 1e-10


@pytest.mark.parametrize("cls", LAYERS)
@pytest.mark.parametrize("log_space", [False, True])
def test_step_generates_the_same_states(cls, log_space):
    layer = make(cls, 3, 4, log_space)
    x, h0 = inputs(2, 9, 3, 4, positive_h0=log_space)
    h = h0
    for t in range(9):
        h = layer.step(x[:, t], h)
    assert (h - layer(x, h0)[:, -1]).abs().max() < 1e-10


@pytest.mark.parametrize("cls", LAYERS)
def test_step_from_none_starts_at_zero(cls):
    layer = make(cls, 3, 4)
    x, _ = inputs(2, 1, 3, 4)
    assert torch.equal(layer.step(x[:, 0], None), layer.step(x[:, 0], torch.zeros(2, 4).double()))


@pytest.mark.parametrize("cls", LAYERS)
@pytest.mark.parametrize("log_space", [False, True])
def test_gradients_of_scan_equal_those_of_the_loop(cls, log_space):
    layer = make(cls, 3, 4, log_space)
    x, h0 = inputs(2, 21, 3, 4, positive_h0=log_space)
    weights = torch.randn(2, 21, 4, generator=torch.Generator().manual_seed(5),
                          dtype=torch.float64)
    grads = []
    for form in (layer.forward, layer.forward_loop):
        xs, hs = x.clone().requires_grad_(), h0.clone().requires_grad_()
        loss = (form(xs, hs) * weights).sum()
        params = list(layer.parameters())
        grads.append(torch.autograd.grad(loss, [xs, hs, *params]))
    for scan_grad, loop_grad in zip(*grads, strict=True):
        assert (scan_grad - loop_grad).abs().max() < 1e-10


@pytest.mark.parametrize("cls", LAYERS)
def test_gradcheck_of_the_scan(cls):
    for log_space in (False, True):
        layer = make(cls, 2, 3, log_space)
        x, h0 = inputs(2, 6, 2, 3, positive_h0=True)
        assert torch.autograd.gradcheck(layer, (x.requires_grad_(), h0.requires_grad_()))


def test_log_space_on_long_sequences_in_float32():
    """Gates near 1 over 4096 steps: the log-space scan stays finite and equals the loop."""
    torch.manual_seed(0)
    layer = MinGRU(2, 8, log_space=True)
    x = torch.randn(2, 4096, 2)
    scan, loop = layer(x), layer.forward_loop(x)
    assert torch.isfinite(scan).all()
    assert (scan - loop).abs().max() < 1e-3 * loop.abs().max()


def test_g_and_log_g():
    v = torch.linspace(-30, 30, 601, dtype=torch.float64)
    expected = torch.where(v >= 0, v + 0.5, torch.sigmoid(v))
    assert torch.equal(g(v), expected)
    assert (g(v) > 0).all()
    # log sigmoid(v) = v - log(1 + e^v), exact to rounding also where sigmoid(v) is tiny
    log_expected = torch.where(v >= 0, torch.log(v.clamp(min=0) + 0.5), v - torch.log1p(v.exp()))
    assert (log_g(v) - log_expected).abs().max() < 1e-12
    assert g(torch.tensor(0.0)) == 0.5 and g(torch.tensor(-1e-12)) == pytest.approx(0.5)
    v = v.clone().requires_grad_()
    log_g(v).sum().backward()
    assert torch.isfinite(v.grad).all()


@pytest.mark.parametrize("cls", LAYERS)
def test_coefficients_are_a_convex_combination(cls):
    layer = make(cls, 3, 4)
    x, _ = inputs(2, 5, 3, 4)
    a, b = layer.coefficients(x)
    assert a.shape == b.shape == (2, 5, 4)
    assert ((a > 0) & (a < 1)).all()
    # b = (1 - a) * candidate: h_t is a weighted average of h_{t-1} and the candidate
    assert (b - (1 - a) * layer.linear_h(x)).abs().max() < 1e-12


@pytest.mark.parametrize(("cls", "count", "blocks"),
                         [(MinGRU, min_gru_parameter_count, 2),
                          (MinLSTM, min_lstm_parameter_count, 3)])
@pytest.mark.parametrize(("D", "H"), [(1, 1), (2, 32), (10, 48), (64, 7)])
def test_parameter_counts(cls, count, blocks, D, H):
    layer = cls(D, H)
    total = sum(p.numel() for p in layer.parameters())
    assert layer.num_parameters() == count(D, H) == total == blocks * H * (D + 1)


@pytest.mark.parametrize("kind", ["gru", "lstm"])
def test_stack(kind):
    torch.manual_seed(0)
    stack = MinRNN(3, 4, kind=kind, num_layers=2).double()
    x, _ = inputs(2, 11, 3, 4)
    h0 = torch.rand(2, 2, 4, dtype=torch.float64)
    outputs, h_n = stack(x, h0)
    first = stack.layers[0].forward_loop(x, h0[0])
    second = stack.layers[1].forward_loop(first, h0[1])
    assert outputs.shape == (2, 11, 4) and h_n.shape == (2, 2, 4)
    assert (outputs - second).abs().max() < 1e-10
    assert (h_n[0] - first[:, -1]).abs().max() < 1e-10
    assert stack.num_parameters() == sum(p.numel() for p in stack.parameters())
    per_layer = min_gru_parameter_count if kind == "gru" else min_lstm_parameter_count
    assert stack.num_parameters() == per_layer(3, 4) + per_layer(4, 4)


# -------------------------------------------------------------------------------------------------
# Bad input


@pytest.mark.parametrize("cls", LAYERS)
@pytest.mark.parametrize(("kwargs", "name"), [
    ({"input_size": 0}, "input_size"),
    ({"hidden_size": 2.5}, "hidden_size"),
    ({"hidden_size": True}, "hidden_size"),
    ({"log_space": "yes"}, "log_space"),
])
def test_bad_sizes(cls, kwargs, name):
    args = {"input_size": 3, "hidden_size": 4, **kwargs}
    with pytest.raises(ValueError, match=name):
        cls(**args)


@pytest.mark.parametrize("cls", LAYERS)
def test_bad_input_shapes(cls):
    layer = cls(3, 4)
    with pytest.raises(ValueError, match=r"x: expected 3 axes"):
        layer(torch.randn(5, 3))
    with pytest.raises(ValueError, match=r"x: .*\(2, 5, 7\).*input_size"):
        layer(torch.randn(2, 5, 7))
    with pytest.raises(ValueError, match=r"x: .*empty sequence"):
        layer(torch.randn(2, 0, 3))
    with pytest.raises(ValueError, match=r"x: expected a floating-point"):
        layer(torch.ones(2, 5, 3, dtype=torch.int64))
    with pytest.raises(ValueError, match=r"h0: .*\(3, 4\)"):
        layer(torch.randn(2, 5, 3), torch.randn(3, 4))
    with pytest.raises(ValueError, match=r"h0: .*\(2, 5\).*hidden_size"):
        layer.forward_loop(torch.randn(2, 5, 3), torch.randn(2, 5))
    with pytest.raises(ValueError, match=r"x_t: expected 2 axes"):
        layer.step(torch.randn(2, 5, 3), None)
    with pytest.raises(ValueError, match=r"h: .*\(2, 3\)"):
        layer.step(torch.randn(2, 3), torch.randn(2, 3))
    with pytest.raises(ValueError, match=r"x is torch.float64"):
        layer(torch.randn(2, 5, 3, dtype=torch.float64))


@pytest.mark.parametrize("cls", LAYERS)
def test_log_space_needs_a_positive_h0(cls):
    layer = cls(3, 4, log_space=True)
    h0 = torch.rand(2, 4) + 0.1
    h0[1, 2] = -0.5
    with pytest.raises(ValueError, match=r"h0: log_space=True needs a positive"):
        layer(torch.randn(2, 5, 3), h0)


def test_stack_bad_arguments():
    with pytest.raises(ValueError, match="kind"):
        MinRNN(3, 4, kind="rnn")
    with pytest.raises(ValueError, match="num_layers"):
        MinRNN(3, 4, num_layers=0)
    with pytest.raises(ValueError, match=r"h0: expected shape \(num_layers, B, H\)"):
        MinRNN(3, 4, num_layers=2)(torch.randn(2, 5, 3), torch.zeros(1, 2, 4))
    with pytest.raises(ValueError, match=r"x: expected 3 axes"):
        MinRNN(3, 4)(torch.randn(5, 3))


@pytest.mark.parametrize("cls", LAYERS)
def test_log_space_with_saturated_gates(cls):
    """Pre-activations of +-40: the log-space scan still equals the loop to 1e-10."""
    layer = make(cls, 3, 4, log_space=True)
    with torch.no_grad():
        for p in layer.parameters():
            p.mul_(40.0)
    x, h0 = inputs(2, 30, 3, 4, positive_h0=True)
    assert (layer(x, h0) - layer.forward_loop(x, h0)).abs().max() < 1e-10


# -------------------------------------------------------------------------------------------------
# The task model and matched sizes


@pytest.mark.parametrize("kind", TASK_KINDS)
@pytest.mark.parametrize("layers", [1, 2])
def test_task_model_shapes(kind, layers):
    torch.manual_seed(0)
    tagger = TaskModel(kind, 6, 9, vocab_size=10, num_layers=layers, per_step=True)
    tokens = torch.randint(0, 10, (3, 7))
    assert tagger(tokens).shape == (3, 7, 9)
    regressor = TaskModel(kind, 6, 1, input_size=2, num_layers=layers)
    assert regressor(torch.randn(3, 7, 2)).shape == (3, 1)


def test_task_model_reads_the_last_layer_at_the_last_step():
    torch.manual_seed(0)
    model = TaskModel("mingru", 5, 2, input_size=3).double()
    x = torch.randn(2, 6, 3, dtype=torch.float64)
    states = model.rnn.layers[0].forward_loop(model.embed(x))
    assert (model(x) - model.head(states[:, -1])).abs().max() < 1e-12


def test_task_model_bad_arguments():
    with pytest.raises(ValueError, match="kind"):
        TaskModel("rnn", 4, 2, input_size=3)
    with pytest.raises(ValueError, match="vocab_size, input_size"):
        TaskModel("gru", 4, 2)
    with pytest.raises(ValueError, match="vocab_size, input_size"):
        TaskModel("gru", 4, 2, input_size=3, vocab_size=5)
    with pytest.raises(ValueError, match=r"x: expected token ids in \[0, 5\)"):
        TaskModel("mingru", 4, 2, vocab_size=5)(torch.tensor([[0, 5]]))
    with pytest.raises(ValueError, match="x: expected an int64"):
        TaskModel("mingru", 4, 2, vocab_size=5)(torch.zeros(2, 3))
    with pytest.raises(ValueError, match=r"x: .*input_size"):
        TaskModel("minlstm", 4, 2, input_size=3)(torch.randn(2, 5, 4))


@pytest.mark.parametrize("kind", TASK_KINDS)
@pytest.mark.parametrize("target", [500, 3409, 10_000])
def test_matched_hidden_size_is_the_closest(kind, target):
    task = dict(output_size=9, vocab_size=10, per_step=True)

    def count(H):
        return sum(p.numel() for p in TaskModel(kind, H, **task).parameters())

    H = matched_hidden_size(kind, target, **task)
    assert abs(count(H) - target) <= abs(count(H + 1) - target)
    if H > 1:
        assert abs(count(H) - target) <= abs(count(H - 1) - target)


def test_matched_hidden_size_reproduces_a_gru():
    task = dict(output_size=1, input_size=2)
    target = sum(p.numel() for p in TaskModel("gru", 24, **task).parameters())
    assert matched_hidden_size("gru", target, **task) == 24
    with pytest.raises(ValueError, match="num_parameters"):
        matched_hidden_size("gru", 0, **task)
