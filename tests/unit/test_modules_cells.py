"""rnnbook.modules cells against torch.nn.RNNCell, LSTMCell and GRUCell, in float64."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnbook import modules

DTYPE = torch.float64
TOL = {"rtol": 1e-10, "atol": 1e-10}



# name: (our class, torch's class, extra constructor arguments, number of states)
CELLS = {
    "rnn_tanh": (modules.RNNCell, torch.nn.RNNCell, {}, 1),
    "rnn_relu": (modules.RNNCell, torch.nn.RNNCell, {"nonlinearity": "relu"}, 1),
    "lstm": (modules.LSTMCell, torch.nn.LSTMCell, {}, 2),
    "gru": (modules.GRUCell, torch.nn.GRUCell, {}, 1),
}


def make_pair(kind, input_size, hidden_size, bias=True):
    """Our cell and torch's, torch's weights copied into ours with a strict load_state_dict."""
    ours_cls, torch_cls, extra, _ = CELLS[kind]
    ours = ours_cls(input_size, hidden_size, bias=bias, dtype=DTYPE, **extra)
    ref = torch_cls(input_size, hidden_size, bias=bias, dtype=DTYPE, **extra)
    ours.load_state_dict(ref.state_dict(), strict=True)
    return ours, ref


def random_inputs(kind, batch, input_size, hidden_size, with_hx, generator):
    """(input, hx) with requires_grad; batch None gives one unbatched example."""
    lead = () if batch is None else (batch,)

    def rand(*shape):
        return torch.randn(*shape, dtype=DTYPE, generator=generator).requires_grad_()

    x = rand(*lead, input_size)
    if not with_hx:
        return x, None
    states = tuple(rand(*lead, hidden_size) for _ in range(CELLS[kind][3]))
    return x, states if len(states) == 2 else states[0]


def leaves(x, hx):
    """The input and the initial states: the tensors whose gradients we compare."""
    if hx is None:
        return [x]
    return [x, *hx] if isinstance(hx, tuple) else [x, hx]


def outputs_and_grads(cell, x, hx, generator):
    """Run the cell, reduce its outputs with fixed random weights, return outputs and gradients."""
    out = cell(x) if hx is None else cell(x, hx)
    outs = list(out) if isinstance(out, tuple) else [out]
    loss = sum((o * torch.randn(o.shape, dtype=DTYPE, generator=generator)).sum() for o in outs)
    wrt = leaves(x, hx) + list(cell.parameters())
    return outs, torch.autograd.grad(loss, wrt)


@pytest.mark.parametrize("kind", CELLS)
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("batch", [3, None], ids=["batched", "unbatched"])
@pytest.mark.parametrize("with_hx", [True, False], ids=["hx", "no-hx"])
def test_cell_matches_torch(kind, bias, batch, with_hx):
    ours, ref = make_pair(kind, 4, 5, bias)
    gen = torch.Generator().manual_seed(0)
    x, hx = random_inputs(kind, batch, 4, 5, with_hx, gen)
    ours_out, ours_grads = outputs_and_grads(ours, x, hx, torch.Generator().manual_seed(1))
    ref_out, ref_grads = outputs_and_grads(ref, x, hx, torch.Generator().manual_seed(1))
    assert len(ours_out) == len(ref_out) == CELLS[kind][3]
    for a, b in zip(ours_out, ref_out, strict=True):
        assert a.shape == b.shape
        torch.testing.assert_close(a, b, **TOL)
    for a, b in zip(ours_grads, ref_grads, strict=True):
        torch.testing.assert_close(a, b, **TOL)


@pytest.mark.parametrize("kind", CELLS)
@pytest.mark.parametrize("bias", [True, False])
def test_cell_state_dict_round_trip(kind, bias):
    """Same names and shapes as torch.nn: strict loading works in both directions."""
    ours_cls, torch_cls, extra, _ = CELLS[kind]
    ours = ours_cls(3, 6, bias=bias, dtype=DTYPE, **extra)
    ref = torch_cls(3, 6, bias=bias, dtype=DTYPE, **extra)
    assert [(n, p.shape) for n, p in ours.named_parameters()] == [
        (n, p.shape) for n, p in ref.named_parameters()
    ]
    ref.load_state_dict(ours.state_dict(), strict=True)
    x = torch.randn(2, 3, dtype=DTYPE)
    out_ours, out_ref = ours(x), ref(x)
    if isinstance(out_ours, tuple):
        out_ours, out_ref = torch.cat(out_ours), torch.cat(out_ref)
    torch.testing.assert_close(out_ours, out_ref, **TOL)


@pytest.mark.parametrize("kind", CELLS)
def test_cell_initialisation_is_torchs(kind):
    """U(-1/sqrt(H), 1/sqrt(H)), drawn in torch's order: the same seed gives the same weights."""
    ours_cls, torch_cls, extra, _ = CELLS[kind]
    torch.manual_seed(7)
    ours = ours_cls(3, 16, **extra)
    torch.manual_seed(7)
    ref = torch_cls(3, 16, **extra)
    for (name, a), b in zip(ours.named_parameters(), ref.parameters(), strict=True):
        assert a.dtype == torch.float32
        assert torch.equal(a, b), name
        assert a.abs().max() <= 1 / math.sqrt(16)


def test_lstm_cell_equations_by_hand():
    """The LSTM cell is the textbook formula with the gates stacked as (i, f, g, o)."""
    cell = modules.LSTMCell(2, 3, dtype=DTYPE)
    x = torch.randn(4, 2, dtype=DTYPE)
    h, c = torch.randn(4, 3, dtype=DTYPE), torch.randn(4, 3, dtype=DTYPE)
    z = x @ cell.weight_ih.T + cell.bias_ih + h @ cell.weight_hh.T + cell.bias_hh
    i, f, g, o = z[:, 0:3], z[:, 3:6], z[:, 6:9], z[:, 9:12]
    c_new = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    h_new = torch.sigmoid(o) * torch.tanh(c_new)
    got_h, got_c = cell(x, (h, c))
    torch.testing.assert_close(got_h, h_new, **TOL)
    torch.testing.assert_close(got_c, c_new, **TOL)


def test_gru_cell_resets_after_the_product():
    """PyTorch's GRU: n = tanh(W_in x + b_in + r * (W_hn h + b_hn)), not W_hn (r * h)."""
    cell = modules.GRUCell(2, 3, dtype=DTYPE)
    x, h = torch.randn(4, 2, dtype=DTYPE), torch.randn(4, 3, dtype=DTYPE)
    gx = x @ cell.weight_ih.T + cell.bias_ih
    gh = h @ cell.weight_hh.T + cell.bias_hh
    r = torch.sigmoid(gx[:, :3] + gh[:, :3])
    z = torch.sigmoid(gx[:, 3:6] + gh[:, 3:6])
    n = torch.tanh(gx[:, 6:] + r * gh[:, 6:])
    torch.testing.assert_close(cell(x, h), (1 - z) * n + z * h, **TOL)


def test_cell_repr_names_its_arguments():
    assert repr(modules.RNNCell(3, 4, nonlinearity="relu")) == (
        "RNNCell(3, 4, nonlinearity='relu')"
    )
    assert repr(modules.LSTMCell(3, 4, bias=False)) == "LSTMCell(3, 4, bias=False)"


@settings(max_examples=25, deadline=None)
@given(
    kind=st.sampled_from(sorted(CELLS)),
    batch=st.one_of(st.none(), st.integers(1, 5)),
    input_size=st.integers(1, 6),
    hidden_size=st.integers(1, 6),
    bias=st.booleans(),
    with_hx=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_cell_matches_torch_on_random_shapes(
    kind, batch, input_size, hidden_size, bias, with_hx, seed
):
    torch.manual_seed(seed)
    ours, ref = make_pair(kind, input_size, hidden_size, bias)
    gen = torch.Generator().manual_seed(seed)
    x, hx = random_inputs(kind, batch, input_size, hidden_size, with_hx, gen)
    ours_out, ours_grads = outputs_and_grads(ours, x, hx, torch.Generator().manual_seed(seed))
    ref_out, ref_grads = outputs_and_grads(ref, x, hx, torch.Generator().manual_seed(seed))
    for a, b in zip([*ours_out, *ours_grads], [*ref_out, *ref_grads], strict=True):
        torch.testing.assert_close(a, b, **TOL)
