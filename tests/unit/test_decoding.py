"""Tests of rnnbook.decoding: greedy, sampling and beam search over a step function."""

import itertools

import numpy as np
import pytest
import torch
from scipy import stats

from rnnbook.decoding import beam_search, greedy_decode, sample, tempered_probs


class TinyModel:
    """A random recurrent model small enough to enumerate: V tokens, hidden size H, one layer.

    The state is a tensor (1, B, H), as for torch.nn.GRU/RNN; ``lstm=True`` uses an (h, c)
    tuple instead, so both layouts are exercised.
    """

    def __init__(self, V=4, H=3, seed=0, lstm=False, sharpness=2.0):
        g = torch.Generator().manual_seed(seed)
        self.V, self.H, self.lstm = V, H, lstm
        self.E = torch.randn(V, H, generator=g, dtype=torch.float64)
        self.W = torch.randn(H, H, generator=g, dtype=torch.float64)
        self.U = sharpness * torch.randn(V, H, generator=g, dtype=torch.float64)
        self.calls = []

    def initial_state(self):
        h = torch.zeros(1, 1, self.H, dtype=torch.float64)
        return (h, h.clone()) if self.lstm else h

    def __call__(self, tokens, state):
        self.calls.append(tokens.shape[0])
        h = state[0] if self.lstm else state
        h_new = torch.tanh(h[0] @ self.W.T + self.E[tokens])
        log_probs = torch.log_softmax(h_new @ self.U.T, dim=-1)
        new = (h_new[None], state[1]) if self.lstm else h_new[None]
        return log_probs, new

    def sequence_log_prob(self, start, tokens):
        state, token, total = self.initial_state(), start, 0.0
        for nxt in tokens:
            lp, state = self(torch.tensor([token]), state)
            total += float(lp[0, nxt])
            token = nxt
        return total


def exhaustive(model, start, max_len, end_token=None):
    """Every sequence the decoders can return, with its log-probability, best first."""
    results = []
    for length in range(1, max_len + 1):
        for seq in itertools.product(range(model.V), repeat=length):
            seq = list(seq)
            if end_token is not None:
                if end_token in seq[:-1]:
                    continue
                if length < max_len and seq[-1] != end_token:
                    continue
            elif length < max_len:
                continue
            results.append((seq, model.sequence_log_prob(start, seq)))
    results.sort(key=lambda r: (-r[1], len(r[0]), r[0]))
    return results


@pytest.mark.parametrize("lstm", [False, True])
@pytest.mark.parametrize("end_token", [None, 0])
def test_full_width_beam_equals_exhaustive_search(lstm, end_token):
    model = TinyModel(V=4, lstm=lstm, seed=3)
    expected = exhaustive(model, start=1, max_len=3, end_token=end_token)
    got = beam_search(model, model.initial_state(), 1, 3, beam_size=len(expected),
                      end_token=end_token)
    assert [seq for seq, _ in got] == [seq for seq, _ in expected]
    np.testing.assert_allclose([s for _, s in got], [s for _, s in expected], atol=1e-10)


def test_beam_returns_the_best_of_exhaustive_when_wide_enough_and_batches_beams():
    model = TinyModel(V=3, seed=5)
    expected = exhaustive(model, start=0, max_len=4)
    got = beam_search(model, model.initial_state(), 0, 4, beam_size=81)
    assert got[0][0] == expected[0][0]
    assert max(model.calls) == 27  # all beams of step 4 ran as one batch


def test_beam_sorted_and_scores_are_sums_of_log_probs():
    model = TinyModel(V=5, seed=1)
    got = beam_search(model, model.initial_state(), 2, 6, beam_size=3, end_token=4)
    scores = [s for _, s in got]
    assert scores == sorted(scores, reverse=True)
    for seq, score in got:
        assert score == pytest.approx(model.sequence_log_prob(2, seq), abs=1e-10)


def test_length_penalty_normalises_by_length():
    model = TinyModel(V=5, seed=2)
    got = beam_search(model, model.initial_state(), 2, 5, beam_size=4, end_token=0,
                      length_penalty=1.0)
    for seq, score in got:
        assert score == pytest.approx(model.sequence_log_prob(2, seq) / len(seq), abs=1e-10)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("lstm", [False, True])
def test_beam_size_one_equals_greedy(seed, lstm):
    model = TinyModel(V=6, seed=seed, lstm=lstm)
    greedy = greedy_decode(model, model.initial_state(), 0, 8, end_token=5)
    beam = beam_search(model, model.initial_state(), 0, 8, beam_size=1, end_token=5)
    assert len(beam) == 1 and beam[0][0] == greedy


def test_greedy_stops_after_end_token_and_at_max_len():
    model = TinyModel(V=6, seed=0)
    free = greedy_decode(model, model.initial_state(), 0, 10)
    assert len(free) == 10
    end = free[2]
    stopped = greedy_decode(model, model.initial_state(), 0, 10, end_token=end)
    assert stopped[-1] == end and end not in stopped[:-1] and len(stopped) <= 3


@pytest.mark.parametrize("seed", range(4))
def test_top_k_one_equals_greedy(seed):
    model = TinyModel(V=7, seed=seed)
    greedy = greedy_decode(model, model.initial_state(), 3, 12)
    for temperature in (0.5, 1.0, 3.0):
        g = torch.Generator().manual_seed(seed)
        assert sample(model, model.initial_state(), 3, 12, temperature=temperature, top_k=1,
                      generator=g) == greedy


def test_sample_is_reproducible_with_a_generator():
    model = TinyModel(V=7, seed=1)
    a = sample(model, model.initial_state(), 0, 30, generator=torch.Generator().manual_seed(4))
    b = sample(model, model.initial_state(), 0, 30, generator=torch.Generator().manual_seed(4))
    assert a == b


def _fixed_step(log_probs):
    def step_fn(tokens, state):
        return log_probs.expand(tokens.shape[0], -1), state
    return step_fn


@pytest.mark.parametrize("temperature,top_k", [(1.0, None), (0.5, None), (2.0, None), (1.5, 3)])
def test_sampled_frequencies_match_the_tempered_distribution(temperature, top_k):
    logits = torch.tensor([[2.0, 1.0, 0.5, 0.0, -1.0]], dtype=torch.float64)
    log_probs = torch.log_softmax(logits, dim=-1)
    n = 20000
    draws = sample(_fixed_step(log_probs), None, 0, n, temperature=temperature, top_k=top_k,
                   generator=torch.Generator().manual_seed(123))
    counts = np.bincount(draws, minlength=5)
    expected = torch.softmax(logits[0] / temperature, dim=0).numpy()
    if top_k is not None:
        expected[np.argsort(-expected)[top_k:]] = 0
        expected /= expected.sum()
    assert np.all(counts[expected == 0] == 0)
    keep = expected > 0
    _, p_value = stats.chisquare(counts[keep], n * expected[keep])
    assert p_value > 1e-3


def test_tempered_probs_limits():
    lp = torch.log_softmax(torch.tensor([[3.0, 1.0, 0.0]]), dim=-1)
    np.testing.assert_allclose(tempered_probs(lp, 1.0).numpy(), lp.exp().numpy(), atol=1e-6)
    cold = tempered_probs(lp, 0.01).numpy()
    assert cold[0, 0] > 0.999
    hot = tempered_probs(lp, 1000.0).numpy()
    np.testing.assert_allclose(hot, 1 / 3, atol=1e-3)


@pytest.mark.parametrize("call,name", [
    (lambda m, s: sample(m, s, 0, 5, temperature=0), "temperature"),
    (lambda m, s: sample(m, s, 0, 5, temperature=-1.0), "temperature"),
    (lambda m, s: sample(m, s, 0, 5, top_k=0), "top_k"),
    (lambda m, s: sample(m, s, 0, 5, top_k=7), "top_k"),
    (lambda m, s: sample(m, s, 0, 5, generator=3), "generator"),
    (lambda m, s: sample(m, s, 0, 0), "max_len"),
    (lambda m, s: greedy_decode(m, s, 0, 0), "max_len"),
    (lambda m, s: greedy_decode(m, s, 0, 2.5), "max_len"),
    (lambda m, s: greedy_decode(m, s, 9, 3), "start_token"),
    (lambda m, s: greedy_decode(m, s, -1, 3), "start_token"),
    (lambda m, s: greedy_decode(m, s, 0, 3, end_token=6), "end_token"),
    (lambda m, s: beam_search(m, s, 0, 3, beam_size=0), "beam_size"),
    (lambda m, s: beam_search(m, s, 0, 3, beam_size=1.5), "beam_size"),
    (lambda m, s: beam_search(m, s, 0, 0, beam_size=2), "max_len"),
    (lambda m, s: beam_search(m, s, 0, 3, beam_size=2, length_penalty=-1), "length_penalty"),
    (lambda m, s: greedy_decode(m, torch.zeros(1, 2, 3, dtype=torch.float64), 0, 3), "state"),
    (lambda m, s: beam_search(m, (torch.zeros(1, 2, 3),) * 2, 0, 3, beam_size=2), "state"),
    (lambda m, s: sample(m, "h", 0, 3), "state"),
])
def test_bad_arguments_raise_naming_them(call, name):
    model = TinyModel(V=6)
    with pytest.raises(ValueError, match=name):
        call(model, model.initial_state())


def test_step_fn_returning_logits_is_rejected():
    def step_fn(tokens, state):
        return torch.ones(tokens.shape[0], 4) * 3.0, state
    with pytest.raises(ValueError, match="step_fn"):
        greedy_decode(step_fn, None, 0, 3)
    with pytest.raises(ValueError, match="step_fn"):
        greedy_decode(lambda t, s: torch.zeros(1, 4), None, 0, 3)
