"""rnnbook.models.sequence: shapes, final-state readout, torch/book equivalence, gate traces."""

import pytest
import torch
from torch import nn

from rnnbook.models.sequence import (
    RecurrentEncoder,
    SequenceClassifier,
    SequenceRegressor,
    SequenceTagger,
    gru_gate_trace,
    lstm_gate_trace,
    recurrent_layer,
)


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("num_layers", [1, 2])
def test_encoder_shapes_and_final_state(kind, bidirectional, num_layers):
    torch.manual_seed(0)
    enc = RecurrentEncoder(3, 5, kind=kind, num_layers=num_layers, bidirectional=bidirectional)
    x = torch.randn(4, 7, 3)
    outputs, final = enc(x)
    dirs = 2 if bidirectional else 1
    assert outputs.shape == (4, 7, 5 * dirs) and final.shape == (4, 5 * dirs)
    # forward final = output at the last step; reverse final = reverse output at step 0
    assert torch.allclose(final[:, :5], outputs[:, -1, :5])
    if bidirectional:
        assert torch.allclose(final[:, 5:], outputs[:, 0, 5:])
        assert not torch.allclose(final[:, 5:], outputs[:, -1, 5:])


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_book_impl_is_a_drop_in(kind):
    torch.manual_seed(1)
    a = SequenceRegressor(2, 6, kind=kind, num_layers=2, bidirectional=True)
    b = SequenceRegressor(2, 6, kind=kind, num_layers=2, bidirectional=True, impl="book")
    assert isinstance(a.encoder.rnn, getattr(nn, kind.upper()))
    assert not isinstance(b.encoder.rnn, getattr(nn, kind.upper()))
    b.load_state_dict(a.state_dict())
    x = torch.randn(3, 9, 2)
    assert torch.allclose(a(x), b(x), atol=1e-6)


def test_regressor_classifier_tagger_outputs():
    torch.manual_seed(2)
    assert SequenceRegressor(2, 4)(torch.randn(5, 6, 2)).shape == (5, 1)
    assert SequenceRegressor(2, 4, output_size=3, kind="gru")(torch.randn(5, 6, 2)).shape == (5, 3)
    clf = SequenceClassifier(2, 4, 7, kind="rnn", bidirectional=True)
    assert clf(torch.randn(5, 6, 2)).shape == (5, 7) and clf.num_classes == 7
    tagger = SequenceTagger(10, 8, 9)
    tokens = torch.randint(0, 10, (3, 12))
    assert tagger(tokens).shape == (3, 12, 9)


def test_unidirectional_tagger_is_causal_and_bidirectional_is_not():
    torch.manual_seed(3)
    tokens = torch.randint(0, 5, (2, 10))
    changed = tokens.clone()
    changed[:, 7] = (changed[:, 7] + 1) % 5
    for bidirectional, same_before in [(False, True), (True, False)]:
        tagger = SequenceTagger(5, 6, 4, kind="gru", bidirectional=bidirectional)
        a, b = tagger(tokens), tagger(changed)
        assert torch.allclose(a[:, :7], b[:, :7]) is same_before
        assert not torch.allclose(a[:, 7:], b[:, 7:])


def test_forget_bias():
    enc = RecurrentEncoder(2, 3, kind="lstm", num_layers=2, forget_bias=1.0)
    for layer in range(2):
        total = getattr(enc.rnn, f"bias_ih_l{layer}") + getattr(enc.rnn, f"bias_hh_l{layer}")
        assert torch.equal(total[3:6], torch.ones(3))
        assert not torch.equal(total[:3], torch.ones(3))
    with pytest.raises(ValueError, match="forget_bias"):
        RecurrentEncoder(2, 3, kind="gru", forget_bias=1.0)


@pytest.mark.parametrize("impl", ["torch", "book"])
def test_lstm_gate_trace_reproduces_the_layer(impl):
    torch.manual_seed(4)
    lstm = recurrent_layer("lstm", 3, 4, impl=impl)
    x = torch.randn(2, 8, 3)
    trace = lstm_gate_trace(lstm, x)
    output, (h_n, c_n) = lstm(x)
    assert set(trace) == set("ifgoch") and all(v.shape == (2, 8, 4) for v in trace.values())
    assert torch.allclose(trace["h"], output, atol=1e-6)
    assert torch.allclose(trace["c"][:, -1], c_n[0], atol=1e-6)
    for gate in "ifo":
        assert ((trace[gate] > 0) & (trace[gate] < 1)).all()
    # the cell update holds step by step
    c_prev = torch.cat([torch.zeros(2, 1, 4), trace["c"][:, :-1]], dim=1)
    assert torch.allclose(trace["c"], trace["f"] * c_prev + trace["i"] * trace["g"], atol=1e-6)


@pytest.mark.parametrize("impl", ["torch", "book"])
def test_gru_gate_trace_reproduces_the_layer(impl):
    torch.manual_seed(5)
    gru = recurrent_layer("gru", 3, 4, impl=impl)
    x = torch.randn(2, 8, 3)
    trace = gru_gate_trace(gru, x)
    output, _ = gru(x)
    assert set(trace) == set("rznh")
    assert torch.allclose(trace["h"], output, atol=1e-6)


def test_gate_trace_without_bias():
    torch.manual_seed(6)
    lstm = nn.LSTM(2, 3, batch_first=True, bias=False)
    x = torch.randn(1, 5, 2)
    assert torch.allclose(lstm_gate_trace(lstm, x)["h"], lstm(x)[0], atol=1e-6)


@pytest.mark.parametrize("call, name", [
    (lambda: recurrent_layer("transformer", 2, 3), "kind"),
    (lambda: recurrent_layer("lstm", 2, 3, impl="keras"), "impl"),
    (lambda: recurrent_layer("lstm", 0, 3), "input_size"),
    (lambda: recurrent_layer("lstm", 2, 3, num_layers=0), "num_layers"),
    (lambda: recurrent_layer("lstm", 2, 3, dropout=0.5), "dropout"),
    (lambda: recurrent_layer("lstm", 2, 3, num_layers=2, dropout=1.5), "dropout"),
    (lambda: SequenceRegressor(2, 3, output_size=0), "output_size"),
    (lambda: SequenceClassifier(2, 3, 0), "num_classes"),
    (lambda: SequenceTagger(0, 3, 2), "vocab_size"),
    (lambda: SequenceRegressor(2, 3)(torch.randn(4, 5, 3)), r"x: expected .*\(N, T, 2\)"),
    (lambda: SequenceRegressor(2, 3)(torch.randn(5, 2)), "x"),
    (lambda: SequenceTagger(4, 3, 2)(torch.randn(2, 5)), "tokens: expected an int64"),
    (lambda: SequenceTagger(4, 3, 2)(torch.full((2, 5), 4)), r"tokens: expected ids in 0 \.\. 3"),
    (lambda: lstm_gate_trace(nn.GRU(2, 3, batch_first=True), torch.randn(1, 4, 2)), "lstm"),
    (lambda: lstm_gate_trace(nn.LSTM(2, 3), torch.randn(1, 4, 2)), "batch_first"),
    (lambda: gru_gate_trace(nn.GRU(2, 3, batch_first=True), torch.randn(1, 4, 5)), "x"),
])
def test_bad_arguments(call, name):
    with pytest.raises(ValueError, match=name):
        call()
