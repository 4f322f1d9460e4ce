"""Optimisers and clipping: hand-computed steps on a quadratic, and agreement with torch.optim."""

import numpy as np
import pytest
import torch

from rnnbook.scratch import SGD, Adagrad, Adam, clip_grad_norm

# The quadratic f(p) = 1.5 * p^2 has the gradient g = 3 p; every test starts at p = 2, so g = 6.


def quadratic_steps(optimizer, steps):
    params = {"p": np.array([2.0])}
    history = []
    for _ in range(steps):
        optimizer.step(params, {"p": 3 * params["p"]})
        history.append(params["p"][0])
    return history


def test_sgd_step():
    assert quadratic_steps(SGD(lr=0.1), 1) == pytest.approx([2 - 0.1 * 6])  # 1.4


def test_sgd_momentum_steps():
    # step 1: v = 6, p = 2 - 0.6 = 1.4; step 2: g = 4.2, v = 0.9 * 6 + 4.2 = 9.6, p = 1.4 - 0.96
    assert quadratic_steps(SGD(lr=0.1, momentum=0.9), 2) == pytest.approx([1.4, 0.44])


def test_adagrad_steps():
    # step 1: s = 36, p = 2 - 0.1 * 6 / 6 = 1.9; step 2: g = 5.7, s = 36 + 32.49 = 68.49,
    # p = 1.9 - 0.1 * 5.7 / sqrt(68.49) = 1.9 - 0.57 / 8.275...
    expected = [1.9, 1.9 - 0.57 / np.sqrt(68.49)]
    assert quadratic_steps(Adagrad(lr=0.1), 2) == pytest.approx(expected, rel=1e-10)  # eps


def test_adam_bias_correction():
    # step 1: m = 0.1 * 6 = 0.6, v = 0.001 * 36 = 0.036; corrected: m_hat = 6, v_hat = 36, so the
    # step is lr * 6 / 6 = lr (without correction it would be 0.1 * 0.6 / sqrt(0.036) = 0.316).
    # step 2: g = 3 * 1.9 = 5.7, m = 0.54 + 0.57 = 1.11, v = 0.035964 + 0.03249 = 0.068454,
    # m_hat = 1.11 / 0.19, v_hat = 0.068454 / 0.001999.
    p2 = 1.9 - 0.1 * (1.11 / 0.19) / np.sqrt(0.068454 / 0.001999)
    history = quadratic_steps(Adam(lr=0.1), 2)
    assert history == pytest.approx([1.9, p2], rel=1e-7)  # eps = 1e-8 perturbs the 8th digit


def test_step_is_in_place_and_keeps_dtype():
    p = np.ones(3, dtype=np.float32)
    params = {"p": p}
    Adam().step(params, {"p": np.ones(3, dtype=np.float32)})
    assert params["p"] is p and p.dtype == np.float32 and np.all(p < 1)


def test_mismatched_gradients_are_rejected():
    with pytest.raises(ValueError, match=r"grads: expected the names \['a', 'b'\], got \['a'\]"):
        SGD().step({"a": np.zeros(2), "b": np.zeros(1)}, {"a": np.zeros(2)})
    with pytest.raises(ValueError, match=r"grads\['a'\]: expected shape \(2,\) of params\['a'\], "
                                         r"got \(3,\)"):
        Adam().step({"a": np.zeros(2)}, {"a": np.zeros(3)})


@pytest.mark.parametrize("ours, theirs", [
    (lambda: SGD(lr=0.05, momentum=0.9), lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9)),
    (lambda: Adagrad(lr=0.05), lambda ps: torch.optim.Adagrad(ps, lr=0.05)),
    (lambda: Adam(lr=0.05), lambda ps: torch.optim.Adam(ps, lr=0.05)),
])
def test_same_numbers_as_torch_optim(ours, theirs):
    rng = np.random.default_rng(0)
    params = {"W": rng.standard_normal((3, 2)), "b": rng.standard_normal(3)}
    tensors = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    ours, theirs = ours(), theirs(list(tensors.values()))
    for _ in range(5):
        grads = {k: rng.standard_normal(v.shape) for k, v in params.items()}
        ours.step(params, grads)
        for k, t in tensors.items():
            t.grad = torch.from_numpy(grads[k])
        theirs.step()
    for k in params:
        np.testing.assert_allclose(params[k], tensors[k].detach().numpy(), rtol=1e-12, atol=1e-14)


def test_clipping_caps_the_global_norm_and_keeps_the_direction():
    grads = {"a": np.array([3.0, 0.0]), "b": np.array([[0.0], [4.0]])}  # global norm 5
    clipped, norm = clip_grad_norm(grads, max_norm=1.0)
    assert norm == 5.0
    np.testing.assert_allclose(clipped["a"], [0.6, 0.0])
    np.testing.assert_allclose(clipped["b"], [[0.0], [0.8]])
    new_norm = np.sqrt(sum(np.sum(g**2) for g in clipped.values()))
    assert new_norm == pytest.approx(1.0, rel=1e-15)
    np.testing.assert_array_equal(grads["a"], [3.0, 0.0])  # the inputs are untouched


def test_clipping_leaves_small_gradients_alone_and_keeps_the_container():
    grads = [np.array([0.3, 0.4]), np.array([0.0], dtype=np.float32)]
    clipped, norm = clip_grad_norm(grads, max_norm=1.0)
    assert isinstance(clipped, list) and norm == pytest.approx(0.5)
    np.testing.assert_array_equal(clipped[0], grads[0])
    assert clipped[1].dtype == np.float32
    clipped, _ = clip_grad_norm(tuple(grads), max_norm=0.25)
    assert isinstance(clipped, tuple)
    np.testing.assert_allclose(clipped[0], [0.15, 0.2])


def test_clipping_matches_torch():
    rng = np.random.default_rng(1)
    grads = [rng.standard_normal((4, 3)), rng.standard_normal(4)]
    tensors = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
    for t, g in zip(tensors, grads, strict=True):
        t.grad = torch.from_numpy(g.copy())
    norm_torch = torch.nn.utils.clip_grad_norm_(tensors, max_norm=0.5)
    clipped, norm = clip_grad_norm(grads, 0.5)
    assert norm == pytest.approx(norm_torch.item(), rel=1e-14)
    for ours, t in zip(clipped, tensors, strict=True):  # torch divides by (norm + 1e-6)
        np.testing.assert_allclose(ours, t.grad.numpy(), rtol=1e-5)


@pytest.mark.parametrize("grads, max_norm, message", [
    ([np.ones(2)], 0.0, "max_norm: expected a positive number, got 0.0"),
    ([np.array([1.0, np.inf])], 1.0, "grads: the global gradient norm is inf"),
    ([np.array([np.nan])], 1.0, "grads: the global gradient norm is nan"),
])
def test_clipping_rejects(grads, max_norm, message):
    with pytest.raises(ValueError, match=message):
        clip_grad_norm(grads, max_norm)
