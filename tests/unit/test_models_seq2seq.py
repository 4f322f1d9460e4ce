"""rnnbook.models.seq2seq: attention weights, padding, teacher forcing and the step function."""

import pytest
import torch

from rnnbook.decoding import beam_search, greedy_decode
from rnnbook.models.seq2seq import AdditiveAttention, LuongAttention, Seq2Seq

KINDS = [False, True, "additive", "dot", "general"]


def _attention(score):
    """One attention module of each score type, query width 4 (5 for "general"), key width 4."""
    torch.manual_seed(0)
    if score == "additive":
        return AdditiveAttention(5, 4, 3)
    return LuongAttention(5 if score == "general" else 4, 4, score)


def test_additive_attention_against_the_formula():
    torch.manual_seed(0)
    att = AdditiveAttention(3, 4, 5)
    q, k = torch.randn(2, 3), torch.randn(2, 6, 4)
    mask = torch.tensor([[True] * 6, [True] * 4 + [False] * 2])
    context, weights = att(q, k, mask)
    e = (torch.tanh((q @ att.W_q.weight.T)[:, None, :] + k @ att.W_k.weight.T + att.W_k.bias)
         @ att.v.weight.T)[..., 0]
    e[1, 4:] = float("-inf")
    expected = torch.softmax(e, -1)
    assert torch.allclose(weights, expected, atol=1e-6)
    assert torch.allclose(weights.sum(-1), torch.ones(2)) and torch.all(weights[1, 4:] == 0)
    assert torch.allclose(context, (expected[..., None] * k).sum(1), atol=1e-6)
    with pytest.raises(ValueError):
        att(q, k, mask[:, :3])
    with pytest.raises(ValueError):
        att(q[:1], k)


@pytest.mark.parametrize("score", ["dot", "general"])
def test_luong_attention_against_the_formula(score):
    torch.manual_seed(0)
    att = LuongAttention(4 if score == "dot" else 3, 4, score)
    q, k = torch.randn(2, att.query_size, dtype=torch.float64), torch.randn(2, 6, 4,
                                                                          dtype=torch.float64)
    att = att.double()
    mask = torch.tensor([[True] * 6, [True] * 3 + [False] * 3])
    context, weights = att(q, k, mask)
    W = torch.eye(4, dtype=torch.float64) if score == "dot" else att.W_a.weight   # (Hq, Hk)
    e = torch.stack([torch.stack([q[n] @ W @ k[n, j] for j in range(6)]) for n in range(2)])
    e[1, 3:] = float("-inf")
    expected = torch.softmax(e, -1)
    assert torch.allclose(weights, expected, atol=1e-12)
    assert torch.allclose(context, (expected[..., None] * k).sum(1), atol=1e-12)
    assert torch.all(weights[1, 3:] == 0)


@pytest.mark.parametrize("score", ["additive", "dot", "general"])
def test_padding_gets_zero_weight_and_its_content_changes_nothing(score):
    att = _attention(score)
    torch.manual_seed(1)
    q, k = torch.randn(3, att.query_size), torch.randn(3, 7, 4)
    mask = torch.arange(7)[None, :] < torch.tensor([[7], [4], [1]])
    context, weights = att(q, k, mask)
    assert torch.all(weights[~mask] == 0) and torch.all(weights[mask] > 0)
    assert torch.allclose(weights.sum(-1), torch.ones(3))
    other = torch.where(mask[..., None], k, 1e3 * torch.randn(3, 7, 4))
    context2, weights2 = att(q, other, mask)
    assert torch.equal(weights2, weights) and torch.equal(context2, context)
    alone, w_alone = att(q[1:2], k[1:2, :4])
    assert torch.allclose(w_alone, weights[1:2, :4], atol=1e-6)
    assert torch.allclose(alone, context[1:2], atol=1e-6)


@pytest.mark.parametrize("score", ["additive", "dot", "general"])
def test_attention_rejects_bad_input(score):
    att = _attention(score)
    q, k = torch.randn(2, att.query_size), torch.randn(2, 5, 4)
    good = torch.ones(2, 5, dtype=torch.bool)
    for bad in [(q[:, :-1], k, good), (q, k[..., :-1], good), (q[:1], k, good),
                (q, k[0], good), (q, k, good[:, :3]), (q, k, good.float()),
                (q, k, torch.tensor([[True] * 5, [False] * 5]))]:
        with pytest.raises(ValueError, match="query|keys|mask"):
            att(*bad)


def test_luong_attention_rejects_bad_sizes():
    with pytest.raises(ValueError, match="dot score"):
        LuongAttention(3, 4, "dot")
    with pytest.raises(ValueError, match="score"):
        LuongAttention(4, 4, "concat")
    with pytest.raises(ValueError, match="key_size"):
        LuongAttention(4, 0)


@pytest.mark.parametrize("attention", KINDS)
def test_forward_shapes_and_padding_invariance(attention):
    torch.manual_seed(0)
    model = Seq2Seq(12, 9, 4, 6, attention=attention).eval()
    src = torch.tensor([[4, 5, 6, 0], [7, 8, 9, 10]])
    tgt = torch.tensor([[1, 4, 5], [1, 6, 7]])
    logits, weights = model(src, torch.tensor([3, 4]), tgt)
    assert logits.shape == (2, 3, 9)
    assert (weights is None) == (not attention)
    if attention:
        assert weights.shape == (2, 3, 4) and torch.all(weights[0, :, 3] == 0)
    padded_otherwise = src.clone()
    padded_otherwise[0, 3] = 11
    logits2, weights2 = model(padded_otherwise, torch.tensor([3, 4]), tgt)
    assert torch.equal(logits2, logits)
    alone, _ = model(src[:1, :3], torch.tensor([3]), tgt[:1])
    assert torch.allclose(alone, logits[:1], atol=1e-5)


def test_luong_query_is_the_state_after_the_step():
    """The first step's weights depend on the first target token only with Luong's query."""
    torch.manual_seed(0)
    src, lengths = torch.tensor([[4, 5, 6, 7]]), torch.tensor([4])
    for attention, depends in [("additive", False), ("dot", True), ("general", True)]:
        model = Seq2Seq(12, 9, 4, 6, attention=attention).eval()
        _, w1 = model(src, lengths, torch.tensor([[1]]))
        _, w2 = model(src, lengths, torch.tensor([[5]]))
        assert torch.equal(w1, w2) != depends, attention


def test_luong_sizes():
    model = Seq2Seq(12, 9, 4, 6, attention="general")
    assert model.decoder.hidden_size == 12 and model.attend.W_a.weight.shape == (12, 12)
    assert model.combine.weight.shape == (12, 24) and model.out.weight.shape == (9, 12)
    assert Seq2Seq(12, 9, 4, 6, attention=True).decoder.hidden_size == 6


@pytest.mark.parametrize("attention", KINDS)
def test_step_fn_agrees_with_batched_greedy_and_teacher_forcing(attention):
    torch.manual_seed(1)
    model = Seq2Seq(12, 9, 4, 6, attention=attention).eval()
    src, lengths = torch.tensor([[4, 5, 6, 7, 8]]), torch.tensor([5])
    ids, _ = model.greedy(src, lengths, 6)
    state = model.initial_state(src, lengths)
    assert greedy_decode(model.step_fn, state, 1, 6) == ids[0].tolist()
    logits, _ = model(src, lengths, torch.cat([torch.tensor([[1]]), ids[:, :-1]], 1))
    assert torch.equal(logits.argmax(-1), ids)
    beams = beam_search(model.step_fn, state, 1, 6, beam_size=3)
    log_probs = torch.log_softmax(logits, -1)[0, torch.arange(6), ids[0]].sum().item()
    assert beams[0][1] >= log_probs - 1e-5


@pytest.mark.parametrize("args", [(torch.tensor([[1.0, 2.0]]), torch.tensor([2])),
                                  (torch.tensor([[1, 2]]), torch.tensor([3])),
                                  (torch.tensor([[1, 20]]), torch.tensor([2])),
                                  (torch.tensor([[1, 2]]), torch.tensor([1, 1]))])
def test_bad_source(args):
    with pytest.raises(ValueError):
        Seq2Seq(12, 9, 4, 6).encode(*args)


def test_bad_sizes():
    with pytest.raises(ValueError):
        Seq2Seq(0, 9)
    with pytest.raises(ValueError, match="attention"):
        Seq2Seq(12, 9, attention="concat")
    with pytest.raises(ValueError):
        Seq2Seq(12, 9)(torch.tensor([[4, 5]]), torch.tensor([2]), torch.tensor([1, 2]))
