"""rnnbook.modules.RNN, LSTM and GRU against torch.nn.RNN, LSTM and GRU, in float64."""

import math
import warnings

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnbook import modules

DTYPE = torch.float64
TOL = {"rtol": 1e-10, "atol": 1e-10}



# name: (our class, torch's class, extra arguments for ours, extra arguments for both)
LAYERS = {
    "rnn_tanh": (modules.RNN, torch.nn.RNN, {}, {}),
    "rnn_relu": (modules.RNN, torch.nn.RNN, {}, {"nonlinearity": "relu"}),
    "lstm": (modules.LSTM, torch.nn.LSTM, {}, {}),
    "lstm_loop": (modules.LSTM, torch.nn.LSTM, {"fused": False}, {}),
    "gru": (modules.GRU, torch.nn.GRU, {}, {}),
}


def is_lstm(kind):
    return kind.startswith("lstm")


def make_pair(kind, input_size, hidden_size, **kwargs):
    """Our layer and torch's, torch's weights copied into ours with a strict load_state_dict."""
    ours_cls, torch_cls, ours_extra, extra = LAYERS[kind]
    ours = ours_cls(input_size, hidden_size, dtype=DTYPE, **extra, **ours_extra, **kwargs)
    ref = torch_cls(input_size, hidden_size, dtype=DTYPE, **extra, **kwargs)
    ours.load_state_dict(ref.state_dict(), strict=True)
    return ours, ref


def random_inputs(kind, module, T, N, with_hx, generator):
    """(input, hx) with requires_grad in the layout the module expects; N None: unbatched."""

    def rand(*shape):
        return torch.randn(*shape, dtype=DTYPE, generator=generator).requires_grad_()

    D, H = module.input_size, module.hidden_size
    L = module.num_layers * (2 if module.bidirectional else 1)
    if N is None:
        x, state_shape = rand(T, D), (L, H)
    else:
        x = rand(N, T, D) if module.batch_first else rand(T, N, D)
        state_shape = (L, N, H)
    if not with_hx:
        return x, None
    if is_lstm(kind):
        return x, (rand(*state_shape), rand(*state_shape))
    return x, rand(*state_shape)


def run(module, x, hx, generator):
    """Outputs (output, h_n[, c_n]) and the gradients of a random weighting of all of them with
    respect to the input, the initial states and every parameter (in named_parameters order)."""
    output, last = module(x) if hx is None else module(x, hx)
    outs = [output, *last] if isinstance(last, tuple) else [output, last]
    loss = sum((o * torch.randn(o.shape, dtype=DTYPE, generator=generator)).sum() for o in outs)
    states = [] if hx is None else (list(hx) if isinstance(hx, tuple) else [hx])
    wrt = [x, *states, *module.parameters()]
    return outs, torch.autograd.grad(loss, wrt)


def assert_same(kind, ours, ref, T, N, with_hx, seed=0):
    x, hx = random_inputs(kind, ours, T, N, with_hx, torch.Generator().manual_seed(seed))
    ours_outs, ours_grads = run(ours, x, hx, torch.Generator().manual_seed(seed + 1))
    ref_outs, ref_grads = run(ref, x, hx, torch.Generator().manual_seed(seed + 1))
    for a, b in zip(ours_outs, ref_outs, strict=True):
        assert a.shape == b.shape
        torch.testing.assert_close(a, b, **TOL)
    for a, b in zip(ours_grads, ref_grads, strict=True):
        torch.testing.assert_close(a, b, **TOL)


@pytest.mark.parametrize("kind", LAYERS)
@pytest.mark.parametrize("num_layers", [1, 2, 3])
@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
@pytest.mark.parametrize("batch_first", [False, True], ids=["TND", "NTD"])
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no-bias"])
def test_layer_matches_torch(kind, num_layers, bidirectional, batch_first, bias):
    ours, ref = make_pair(kind, 4, 5, num_layers=num_layers, bidirectional=bidirectional,
                          batch_first=batch_first, bias=bias)
    assert_same(kind, ours, ref, T=6, N=3, with_hx=True)


@pytest.mark.parametrize("kind", LAYERS)
@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
@pytest.mark.parametrize("batch", [3, None], ids=["batched", "unbatched"])
@pytest.mark.parametrize("with_hx", [True, False], ids=["hx", "no-hx"])
@pytest.mark.parametrize("batch_first", [False, True], ids=["TND", "NTD"])
def test_layer_matches_torch_unbatched_and_without_hx(
    kind, bidirectional, batch, with_hx, batch_first
):
    ours, ref = make_pair(kind, 3, 4, num_layers=2, bidirectional=bidirectional,
                          batch_first=batch_first)
    assert_same(kind, ours, ref, T=5, N=batch, with_hx=with_hx)


@pytest.mark.parametrize("kind", LAYERS)
@pytest.mark.parametrize("bias", [True, False])
def test_state_dict_round_trip(kind, bias):
    """Same names, shapes and registration order as torch.nn; strict loading both ways."""
    ours_cls, torch_cls, ours_extra, extra = LAYERS[kind]
    kwargs = {"num_layers": 3, "bidirectional": True, "bias": bias, "dtype": DTYPE, **extra}
    ours, ref = ours_cls(3, 4, **ours_extra, **kwargs), torch_cls(3, 4, **kwargs)
    assert [(n, p.shape) for n, p in ours.named_parameters()] == [
        (n, p.shape) for n, p in ref.named_parameters()
    ]
    ref.load_state_dict(ours.state_dict(), strict=True)
    x = torch.randn(5, 2, 3, dtype=DTYPE)
    torch.testing.assert_close(ours(x)[0], ref(x)[0], **TOL)


@pytest.mark.parametrize("kind", LAYERS)
def test_initialisation_is_torchs(kind):
    """U(-1/sqrt(H), 1/sqrt(H)), drawn in torch's order: the same seed gives the same weights."""
    ours_cls, torch_cls, ours_extra, extra = LAYERS[kind]
    kwargs = {"num_layers": 2, "bidirectional": True, **extra}
    torch.manual_seed(3)
    ours = ours_cls(3, 9, **ours_extra, **kwargs)
    torch.manual_seed(3)
    ref = torch_cls(3, 9, **kwargs)
    for (name, a), b in zip(ours.named_parameters(), ref.parameters(), strict=True):
        assert a.dtype == torch.float32
        assert torch.equal(a, b), name
        assert a.abs().max() <= 1 / math.sqrt(9)


def test_long_sequence_and_float32():
    """A longer sequence in float32 (the training precision) stays close to torch.nn."""
    torch.manual_seed(0)
    ref = torch.nn.LSTM(8, 16, num_layers=2)
    ours = modules.LSTM(8, 16, num_layers=2)
    ours.load_state_dict(ref.state_dict())
    x = torch.randn(200, 4, 8)
    out, (h, c) = ours(x)
    ref_out, (ref_h, ref_c) = ref(x)
    torch.testing.assert_close(out, ref_out, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(c, ref_c, rtol=1e-4, atol=1e-5)


# -------------------------------------------------------------------------------------------------
# The fused LSTM against the reference loop


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("T", [1, 2, 7])
def test_fused_lstm_layer_equals_reference_loop(bias, T):
    torch.manual_seed(T)
    loop = modules.LSTM(3, 4, num_layers=2, bidirectional=True, bias=bias, dtype=DTYPE,
                        fused=False)
    fused = modules.LSTM(3, 4, num_layers=2, bidirectional=True, bias=bias, dtype=DTYPE)
    fused.load_state_dict(loop.state_dict())
    assert_same("lstm", fused, loop, T=T, N=2, with_hx=True, seed=T)


def test_fused_lstm_layer_passes_gradcheck():
    """An independent check of the hand-written backward pass: finite differences."""
    gen = torch.Generator().manual_seed(0)

    def rand(*shape):
        return (0.5 * torch.randn(*shape, dtype=DTYPE, generator=gen)).requires_grad_()

    T, N, D, H = 4, 2, 3, 2
    args = (rand(T, N, D), rand(N, H), rand(N, H), rand(4 * H, D), rand(4 * H, H), rand(4 * H),
            rand(4 * H))
    assert torch.autograd.gradcheck(modules.fused_lstm_layer, args)


def test_fused_lstm_is_differentiable_once_and_the_loop_twice():
    x = torch.randn(3, 2, 2, dtype=DTYPE, requires_grad=True)
    for fused in (True, False):
        lstm = modules.LSTM(2, 3, dtype=DTYPE, fused=fused)
        (grad,) = torch.autograd.grad(lstm(x)[0].pow(2).sum(), x, create_graph=True)
        if fused:
            with pytest.raises(RuntimeError, match="differentiate twice"):
                grad.sum().backward()
        else:
            (second,) = torch.autograd.grad(grad.sum(), x)
            assert second.shape == x.shape


def test_fused_lstm_does_not_change_saved_tensors():
    """Backward twice with retain_graph gives the same gradients: nothing saved is overwritten."""
    lstm = modules.LSTM(2, 3, dtype=DTYPE)
    x = torch.randn(4, 2, 2, dtype=DTYPE, requires_grad=True)
    loss = lstm(x)[0].sum()
    (first,) = torch.autograd.grad(loss, x, retain_graph=True)
    (second,) = torch.autograd.grad(loss, x)
    assert torch.equal(first, second)


# -------------------------------------------------------------------------------------------------
# Dropout between layers


@pytest.mark.parametrize("kind", LAYERS)
def test_dropout_is_identity_in_eval_mode(kind):
    ours, ref = make_pair(kind, 3, 4, num_layers=3, dropout=0.5, bidirectional=True)
    ours.eval()
    ref.eval()
    assert_same(kind, ours, ref, T=5, N=2, with_hx=True)


@pytest.mark.parametrize("kind", LAYERS)
def test_dropout_in_training_acts_between_layers_only(kind):
    """In training, dropout changes the output and the top layer's final state, but not the first
    layer's final states: dropout acts on each layer's output, after the recurrence."""
    ours, _ = make_pair(kind, 3, 4, num_layers=2, dropout=0.5, bidirectional=True)
    x = torch.randn(6, 2, 3, dtype=DTYPE)
    ours.eval()
    out_eval, last_eval = ours(x)
    ours.train()
    torch.manual_seed(0)
    out_train, last_train = ours(x)
    torch.manual_seed(0)
    out_again, _ = ours(x)
    h_eval, h_train = (last_eval[0], last_train[0]) if is_lstm(kind) else (last_eval, last_train)
    assert not torch.allclose(out_train, out_eval)
    torch.testing.assert_close(h_train[:2], h_eval[:2], rtol=0, atol=0)  # layer 0, both ways
    assert not torch.allclose(h_train[2:], h_eval[2:])
    torch.testing.assert_close(out_again, out_train, rtol=0, atol=0)  # same seed, same mask


@pytest.mark.parametrize("kind", LAYERS)
def test_dropout_one_feeds_zeros_to_the_next_layer(kind):
    """With p = 1 every input of layer 1 is zero, so the output is that of a one-layer module
    holding layer 1's weights, run on a zero sequence."""
    ours_cls, _, ours_extra, extra = LAYERS[kind]
    deep = ours_cls(3, 4, num_layers=2, dropout=1.0, dtype=DTYPE, **extra, **ours_extra)
    top = ours_cls(4, 4, num_layers=1, dtype=DTYPE, **extra, **ours_extra)
    top.load_state_dict({name.replace("_l1", "_l0"): value
                         for name, value in deep.state_dict().items() if name.endswith("_l1")})
    deep.train()
    out, _ = deep(torch.randn(5, 2, 3, dtype=DTYPE))
    expected, _ = top(torch.zeros(5, 2, 4, dtype=DTYPE))
    torch.testing.assert_close(out, expected, **TOL)


@pytest.mark.parametrize("kind", LAYERS)
def test_dropout_in_training_matches_torch_with_the_same_seed(kind):
    """torch.nn draws its masks with the same dropout, in the same order: same seed, same numbers.
    (A property of the pinned torch version; if it ever fails, the other dropout tests still
    define the behaviour.)"""
    ours, ref = make_pair(kind, 3, 4, num_layers=3, dropout=0.3, bidirectional=True)
    x = torch.randn(6, 2, 3, dtype=DTYPE)
    torch.manual_seed(5)
    out_ours = ours(x)[0]
    torch.manual_seed(5)
    out_ref = ref(x)[0]
    torch.testing.assert_close(out_ours, out_ref, **TOL)


def test_dropout_with_one_layer_warns_like_torch():
    with pytest.warns(UserWarning, match="dropout"):
        modules.LSTM(3, 4, dropout=0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        modules.LSTM(3, 4, num_layers=2, dropout=0.5)


# -------------------------------------------------------------------------------------------------
# Odds and ends


def test_attributes_and_repr_follow_torch():
    lstm = modules.LSTM(3, 4, num_layers=2, batch_first=True, bidirectional=True)
    ref = torch.nn.LSTM(3, 4, num_layers=2, batch_first=True, bidirectional=True)
    for name in ("input_size", "hidden_size", "num_layers", "bias", "batch_first", "dropout",
                 "bidirectional", "proj_size"):
        assert getattr(lstm, name) == getattr(ref, name), name
    assert repr(lstm) == "LSTM(3, 4, num_layers=2, batch_first=True, bidirectional=True)"
    assert repr(modules.RNN(2, 5, nonlinearity="relu")) == "RNN(2, 5, nonlinearity='relu')"
    lstm.flatten_parameters()  # accepted, does nothing


def test_positional_arguments_follow_torch():
    """RNN takes nonlinearity fourth; LSTM and GRU take bias fourth, as in torch.nn."""
    rnn = modules.RNN(3, 4, 2, "relu", False, True, 0.0, True)
    assert (rnn.num_layers, rnn.nonlinearity, rnn.bias, rnn.batch_first, rnn.bidirectional) == (
        2, "relu", False, True, True)
    gru = modules.GRU(3, 4, 2, False, True, 0.0, True)
    assert (gru.num_layers, gru.bias, gru.batch_first, gru.bidirectional) == (2, False, True, True)


@settings(max_examples=40, deadline=None)
@given(
    kind=st.sampled_from(sorted(LAYERS)),
    T=st.integers(1, 6),
    N=st.one_of(st.none(), st.integers(1, 4)),
    D=st.integers(1, 5),
    H=st.integers(1, 5),
    num_layers=st.integers(1, 3),
    bidirectional=st.booleans(),
    batch_first=st.booleans(),
    bias=st.booleans(),
    with_hx=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_layer_matches_torch_on_random_shapes(
    kind, T, N, D, H, num_layers, bidirectional, batch_first, bias, with_hx, seed
):
    torch.manual_seed(seed)
    ours, ref = make_pair(kind, D, H, num_layers=num_layers, bidirectional=bidirectional,
                          batch_first=batch_first, bias=bias)
    assert_same(kind, ours, ref, T=T, N=N, with_hx=with_hx, seed=seed)


@settings(max_examples=30, deadline=None)
@given(
    T=st.integers(1, 8),
    N=st.integers(1, 4),
    D=st.integers(1, 5),
    H=st.integers(1, 5),
    bias=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_fused_lstm_layer_equals_reference_loop_on_random_shapes(T, N, D, H, bias, seed):
    torch.manual_seed(seed)
    loop = modules.LSTM(D, H, bias=bias, dtype=DTYPE, fused=False)
    fused = modules.LSTM(D, H, bias=bias, dtype=DTYPE, fused=True)
    fused.load_state_dict(loop.state_dict())
    assert_same("lstm", fused, loop, T=T, N=N, with_hx=True, seed=seed)
