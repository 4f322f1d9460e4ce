"""rnnbook.models.seq2seq: attention weights, padding, teacher forcing and the step function."""

import pytest
import torch

from rnnbook.decoding import beam_search, greedy_decode
from rnnbook.models.seq2seq import AdditiveAttention, Seq2Seq


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


@pytest.mark.parametrize("attention", [False, True])
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
    alone, _ = model(src[:1, :3], torch.tensor([3]), tgt[:1])
    assert torch.allclose(alone, logits[:1], atol=1e-5)


@pytest.mark.parametrize("attention", [False, True])
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
    with pytest.raises(ValueError):
        Seq2Seq(12, 9)(torch.tensor([[4, 5]]), torch.tensor([2]), torch.tensor([1, 2]))
