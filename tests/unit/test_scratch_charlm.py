"""Tests of the NumPy character language model (rnnbook.scratch.charlm)."""

import numpy as np
import pytest

from rnnbook.scratch.charlm import (
    TBPTTTrainer,
    char_rnn_loss,
    evaluate_nats,
    init_char_rnn,
    sample,
    stream_layout,
)
from rnnbook.scratch.gradcheck import numerical_gradient, relative_error
from rnnbook.scratch.optim import SGD


def small_model(seed=0, V=7, D=3, H=5):
    rng = np.random.default_rng(seed)
    return rng, init_char_rnn(V, D, H, rng)


def test_init_shapes_and_orthogonal_recurrence():
    _, p = small_model()
    assert p["W_embed"].shape == (7, 3) and p["W_xh"].shape == (5, 3)
    assert p["W_hy"].shape == (7, 5) and p["b_y"].shape == (7,) and p["b"].shape == (5,)
    assert np.allclose(p["W_hh"] @ p["W_hh"].T, np.eye(5), atol=1e-12)


def test_loss_gradients_match_numerical():
    rng, p = small_model()
    x = rng.integers(0, 7, size=(2, 6))
    y = rng.integers(0, 7, size=(2, 6))
    h0 = rng.standard_normal((2, 5)) * 0.5
    _, grads, _ = char_rnn_loss(p, x, y, h0)
    for name in p:
        num = numerical_gradient(lambda _: char_rnn_loss(p, x, y, h0)[0], p[name])
        assert relative_error(grads[name], num) < 1e-7, name


def test_loss_is_summed_over_time_and_averaged_over_batch():
    rng, p = small_model()
    x = rng.integers(0, 7, size=(3, 4))
    y = rng.integers(0, 7, size=(3, 4))
    h0 = np.zeros((3, 5))
    loss, _, _ = char_rnn_loss(p, x, y, h0)
    per_row = [char_rnn_loss(p, x[i:i + 1], y[i:i + 1], h0[i:i + 1])[0] for i in range(3)]
    assert np.isclose(loss, np.mean(per_row))
    # the uniform model would give 4 * log(7) per sequence; a random model is of that order
    assert 0.5 * 4 * np.log(7) < loss < 2 * 4 * np.log(7)


def test_stream_layout():
    ids = np.arange(11)
    s = stream_layout(ids, 3)
    assert s.shape == (3, 3)
    assert s.tolist() == [[0, 1, 2], [3, 4, 5], [6, 7, 8]]
    with pytest.raises(ValueError, match="N"):
        stream_layout(ids, 6)
    with pytest.raises(ValueError, match="ids"):
        stream_layout(ids.reshape(1, -1), 1)


def test_trainer_carries_the_state_across_chunks():
    rng, p = small_model()
    streams = stream_layout(rng.integers(0, 7, size=40), 2)  # (2, 20)
    frozen = {name: a.copy() for name, a in p.items()}
    trainer = TBPTTTrainer(p, SGD(lr=0.0), streams, k=4)
    for _ in range(3):
        trainer.step()
    # with lr = 0 the carried state is that of one pass over the first 12 characters
    _, _, h_direct = char_rnn_loss(frozen, streams[:, :12], streams[:, 1:13], np.zeros((2, 5)))
    assert np.allclose(trainer.h, h_direct, atol=1e-12)
    assert trainer.position == 12


def test_trainer_wraps_around_and_clips():
    rng, p = small_model()
    streams = stream_layout(rng.integers(0, 7, size=20), 2)  # (2, 10)
    trainer = TBPTTTrainer(p, SGD(lr=0.1), streams, k=4, max_norm=1e-3)
    norms = [trainer.step()[1] for _ in range(4)]  # chunks at 0, 4, then wrap to 0, 4
    assert trainer.position == 8
    assert all(n > 1e-3 for n in norms)  # the norm is reported before clipping
    with pytest.raises(ValueError, match="k"):
        TBPTTTrainer(p, SGD(), streams, k=10)
    with pytest.raises(ValueError, match="max_norm"):
        TBPTTTrainer(p, SGD(), streams, k=2, max_norm=0)


def test_training_lowers_the_loss():
    rng, p = small_model(V=3, D=3, H=8)
    ids = np.tile(np.array([0, 1, 2]), 40)  # a periodic text: easy to predict
    trainer = TBPTTTrainer(p, SGD(lr=0.5), stream_layout(ids, 4), k=5, max_norm=5.0)
    first = trainer.step()[0]
    for _ in range(100):
        last = trainer.step()[0]
    assert last < 0.2 * first


def test_evaluate_nats_matches_one_long_pass():
    rng, p = small_model()
    ids = rng.integers(0, 7, size=31)
    nats = evaluate_nats(p, ids, N=1, k=4)  # chunk length must not matter
    loss, _, _ = char_rnn_loss(p, ids[None, :-1], ids[None, 1:], np.zeros((1, 5)))
    assert np.isclose(nats, loss / 30)
    assert np.isclose(evaluate_nats(p, ids, N=1, k=7), nats)


def test_sample_is_seeded_and_in_range():
    _, p = small_model()
    a = sample(p, np.array([1, 2]), 20, np.random.default_rng(3))
    b = sample(p, np.array([1, 2]), 20, np.random.default_rng(3))
    assert a.shape == (20,) and np.array_equal(a, b)
    assert a.min() >= 0 and a.max() < 7
    # near temperature 0 sampling becomes greedy: the seed no longer matters
    cold = [sample(p, np.array([1]), 10, np.random.default_rng(s), temperature=1e-4)
            for s in (0, 1)]
    assert np.array_equal(*cold)
    with pytest.raises(ValueError, match="temperature"):
        sample(p, np.array([1]), 5, np.random.default_rng(0), temperature=0)
    with pytest.raises(ValueError, match="start"):
        sample(p, np.array([], dtype=np.int64), 5, np.random.default_rng(0))


def test_bad_params_and_shapes_are_rejected():
    rng, p = small_model()
    x = np.zeros((2, 3), dtype=np.int64)
    with pytest.raises(ValueError, match="h0"):
        char_rnn_loss(p, x, x, np.zeros((2, 4)))
    with pytest.raises(ValueError, match="y"):
        char_rnn_loss(p, x, x[:, :2], np.zeros((2, 5)))
    bad = dict(p, W_hy=np.zeros((6, 5)))
    with pytest.raises(ValueError, match="W_hy"):
        char_rnn_loss(bad, x, x, np.zeros((2, 5)))
    with pytest.raises(ValueError, match="params"):
        char_rnn_loss({"W_hh": p["W_hh"]}, x, x, np.zeros((2, 5)))
    with pytest.raises(ValueError, match="H"):
        init_char_rnn(5, 3, 0, rng)
