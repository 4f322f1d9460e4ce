"""Tests of rnnbook.models.language_model: the model, TBPTT loss, evaluation, training, cache."""

import math

import pytest
import torch

from rnnbook.data.lm_batches import TBPTTBatches, eval_windows
from rnnbook.decoding import greedy_decode
from rnnbook.models import language_model as lm
from rnnbook.models.language_model import (
    LanguageModel,
    TBPTTLoss,
    detach_state,
    held_out_nats,
    train_language_model,
)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_forward_shapes_and_step_fn_match(kind):
    torch.manual_seed(0)
    model = LanguageModel(11, 5, 7, num_layers=2, kind=kind).eval()
    tokens = torch.randint(0, 11, (3, 6))
    logits, state = model(tokens)
    assert logits.shape == (3, 6, 11)
    h = state[0] if kind == "lstm" else state
    assert h.shape == (2, 3, 7)
    step_state = None
    for t in range(6):
        log_probs, step_state = model.step_fn(tokens[:, t], step_state)
        assert log_probs.shape == (3, 11)
        torch.testing.assert_close(log_probs.exp().sum(1), torch.ones(3, dtype=torch.float64))
        torch.testing.assert_close(log_probs.float(), torch.log_softmax(logits[:, t], -1),
                                   atol=1e-5, rtol=1e-5)
    hidden, cells = model.hidden_states(tokens)
    assert hidden.shape == (3, 6, 7)
    assert (cells is not None) == (kind == "lstm")


def test_bad_arguments():
    with pytest.raises(ValueError, match="kind"):
        LanguageModel(5, kind="rnn2")
    with pytest.raises(ValueError, match="hidden_size"):
        LanguageModel(5, hidden_size=0)
    model = LanguageModel(5, 3, 4)
    with pytest.raises(ValueError, match="tokens"):
        model(torch.zeros(2, 3))
    with pytest.raises(ValueError, match="tokens"):
        model(torch.full((2, 3), 5))
    with pytest.raises(ValueError, match="ids"):
        model.warm_up(torch.zeros(0, dtype=torch.long))


def test_warm_up_then_decode_continues_the_prompt():
    torch.manual_seed(1)
    model = LanguageModel(6, 4, 8, kind="gru").eval()
    prompt = torch.tensor([1, 2, 3, 4])
    state, last = model.warm_up(prompt)
    assert last == 4
    continued = greedy_decode(model.step_fn, state, last, 5)
    logits, _ = model(torch.cat([prompt, torch.tensor(continued[:1])])[None])
    assert continued[0] == int(logits[0, 3].argmax())


def test_tbptt_loss_carries_state_like_one_long_sequence():
    torch.manual_seed(2)
    model = LanguageModel(7, 3, 5).eval()
    ids = torch.randint(0, 7, (2 * 4 * 5 + 8,))
    batches = TBPTTBatches(ids, 2, 5)
    loss_fn = TBPTTLoss(batches)
    losses = [float(loss_fn(model, batches(j)).detach()) for j in range(len(batches))]
    rows = batches.rows
    width = len(batches) * 5
    logits, _ = model(rows[:, :width])
    full = torch.nn.functional.cross_entropy(logits.reshape(-1, 7),
                                             rows[:, 1:width + 1].reshape(-1))
    assert sum(losses) / len(losses) == pytest.approx(float(full.detach()), rel=1e-5)
    assert loss_fn.state is not None and not loss_fn.state[0].requires_grad
    loss_fn(model, batches(len(batches)))  # a new pass resets the carried state
    assert detach_state(None) is None


def test_held_out_nats_matches_a_direct_computation():
    torch.manual_seed(3)
    model = LanguageModel(9, 4, 6, kind="gru").eval()
    ids = torch.randint(0, 9, (123,))
    got = held_out_nats(model, eval_windows(ids, 50, 3, 7))
    logits, _ = model(ids[None, :-1])
    direct = torch.nn.functional.cross_entropy(logits[0, 49:], ids[50:])
    # rows restart from a zero state, so the two agree only approximately; a model that
    # ignores its state makes them equal
    assert abs(got - float(direct.detach())) < 0.2
    frozen = LanguageModel(9, 4, 6, kind="gru").eval()
    with torch.no_grad():
        for p in frozen.rnn.parameters():
            p.zero_()
    logits, _ = frozen(ids[None, :-1])
    direct = torch.nn.functional.cross_entropy(logits[0, 49:], ids[50:])
    assert held_out_nats(frozen, eval_windows(ids, 50, 3, 7)) == pytest.approx(
        float(direct.detach()), rel=1e-5)


def test_training_learns_a_repeating_text():
    ids = torch.tensor([0, 1, 2, 3, 2, 1] * 100)
    model, history = train_language_model(ids, 4, hidden_size=16, embedding_dim=4,
                                          batch_size=4, bptt=12, steps=150, lr=1e-2)
    assert history.step_loss[-1] < 0.1 < math.log(4) < history.step_loss[0] + 0.2
    assert not model.training


def test_train_char_lm_caches_by_arguments(tmp_path, monkeypatch):
    monkeypatch.setattr(lm, "cache_dir", lambda: tmp_path)
    kwargs = dict(hidden_size=8, embedding_dim=4, batch_size=8, bptt=16, steps=3)
    first = lm.train_char_lm(**kwargs)
    assert not first.cached and len(list(tmp_path.glob("charlm-*.pt"))) == 1
    second = lm.train_char_lm(**kwargs)
    assert second.cached and second.held_bits == first.held_bits
    assert second.history.step_loss == first.history.step_loss
    lm.train_char_lm(**{**kwargs, "steps": 4})
    assert len(list(tmp_path.glob("charlm-*.pt"))) == 2
    assert first.held_bits < math.log2(len(first.vocab)) + 0.5


def test_char_lm_data_holds_out_whole_topics_with_no_copy_of_training_text():
    from rnnbook.data.corpora import load_pydoc_topics, split_pydoc_topics
    from rnnbook.data.lm_batches import copied_fraction

    data = lm.char_lm_data(0.1)
    split = split_pydoc_topics(0.1)
    assert data["train_text"] == split["train_text"]
    assert data["held_text"] == split["held_text"]
    assert data["held_topics"] == split["held_topics"]
    assert data["text"] == data["train_text"] + data["held_text"]
    assert data["cut"] == len(data["train_text"])
    assert data["ids"].numel() == len(data["text"])
    assert data["vocab"].decode(data["ids"][data["cut"]:].numpy()) == data["held_text"]
    topics = load_pydoc_topics()
    for name in data["held_topics"]:
        assert topics[name] in data["held_text"]
    assert 0.09 < len(data["held_text"]) / len(data["text"]) < 0.12
    assert copied_fraction(data["train_text"], data["held_text"], 64) == 0.0


def test_dynamic_eval_scores_before_learning_and_leaves_the_model_alone():
    torch.manual_seed(0)
    model = LanguageModel(6, 4, 8).eval()
    ids = torch.randint(0, 6, (90,))
    before = [p.detach().clone() for p in model.parameters()]
    static = lm.dynamic_eval_nats(model, ids, 40, 0.0, window=7)
    # lr = 0: the one-stream static score
    with torch.no_grad():
        logits, _ = model(ids[None, 39:-1])
    direct = torch.nn.functional.cross_entropy(logits[0], ids[40:], reduction="none")
    assert static == pytest.approx(float(direct.mean()), rel=1e-5)
    each = lm.dynamic_eval_losses(model, ids, 40, 0.0, window=7)
    assert each.shape == (50,) and torch.allclose(each, direct.double(), rtol=1e-5)
    # with learning, the first window's losses are still the static ones
    assert torch.allclose(lm.dynamic_eval_losses(model, ids, 40, 5.0, window=7)[:7], each[:7])
    # the first window is scored before any step, so it does not depend on lr
    first = lm.dynamic_eval_nats(model, ids[:47], 40, 0.0, window=7)
    assert lm.dynamic_eval_nats(model, ids[:47], 40, 5.0, window=7) == pytest.approx(first)
    # learning helps on a text that repeats itself
    repeat = torch.arange(6).repeat(30)
    assert lm.dynamic_eval_nats(model, repeat, 30, 0.5, window=6) < \
        lm.dynamic_eval_nats(model, repeat, 30, 0.0, window=6) - 0.1
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))
    for kwargs, name in (({"start": 0}, "start"), ({"lr": -1.0}, "lr"),
                         ({"window": 0}, "window")):
        args = {"start": 40, "lr": 0.1, "window": 7, **kwargs}
        with pytest.raises(ValueError, match=name):
            lm.dynamic_eval_nats(model, ids, **args)
