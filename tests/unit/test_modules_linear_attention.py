"""rnnbook.modules.linear_attention: the attention and RNN forms agree, in float64, to 1e-10.

Each form is also checked against a direct transcription of its formula (a double loop over t
and s), gradients against each other by autograd and against finite differences (gradcheck), and
bad input against the ValueError that names the argument.
"""

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnbook.modules.linear_attention import (
    KVCache,
    LinearAttention,
    LinearAttentionState,
    SoftmaxAttention,
    elu_feature_map,
    linear_attention_parallel,
    linear_attention_recurrent,
    linear_attention_step,
    softmax_attention_parallel,
    softmax_attention_recurrent,
    softmax_attention_step,
    state_nbytes,
    state_numel,
)

DTYPE = torch.float64
TOL = {"rtol": 1e-10, "atol": 1e-10}


def qkv(B=2, T=6, d_k=3, d_v=4, seed=0, grad=False):
    g = torch.Generator().manual_seed(seed)
    tensors = [torch.randn(B, T, d, dtype=DTYPE, generator=g) for d in (d_k, d_k, d_v)]
    return [t.requires_grad_(grad) for t in tensors]


def linear_reference(q, k, v):
    """y_t = sum_{s<=t} (phi(q_t).phi(k_s)) v_s / sum_{s<=t} phi(q_t).phi(k_s), phi = elu + 1."""
    phi_q, phi_k = F.elu(q) + 1, F.elu(k) + 1
    y = torch.zeros(v.shape, dtype=v.dtype)
    for b in range(q.shape[0]):
        for t in range(q.shape[1]):
            w = torch.stack([phi_q[b, t] @ phi_k[b, s] for s in range(t + 1)])
            y[b, t] = (w[:, None] * v[b, : t + 1]).sum(0) / w.sum()
    return y


def softmax_reference(q, k, v):
    """y_t = sum_{s<=t} softmax_s(q_t . k_s / sqrt(d_k)) v_s."""
    y = torch.zeros(v.shape, dtype=v.dtype)
    for b in range(q.shape[0]):
        for t in range(q.shape[1]):
            w = torch.softmax(k[b, : t + 1] @ q[b, t] / q.shape[-1] ** 0.5, dim=0)
            y[b, t] = w @ v[b, : t + 1]
    return y


# --- the feature map -------------------------------------------------------------------------


def test_feature_map_is_elu_plus_one_with_its_gradient():
    x = torch.linspace(-30, 30, 601, dtype=DTYPE, requires_grad=True)
    ours, ref = elu_feature_map(x), F.elu(x) + 1
    torch.testing.assert_close(ours, ref, **TOL)
    (g_ours,) = torch.autograd.grad(ours.sum(), x)
    (g_ref,) = torch.autograd.grad(ref.sum(), x)
    torch.testing.assert_close(g_ours, g_ref, **TOL)


def test_feature_map_stays_positive_in_float32_with_finite_gradients():
    x = torch.tensor([-80.0, -30.0, -18.0, 0.0, 50.0, 100.0], requires_grad=True)
    phi = elu_feature_map(x)
    assert (phi > 0).all()
    assert (F.elu(x[:3].detach()) + 1 == 0).any()  # the naive form rounds to zero here
    (grad,) = torch.autograd.grad(phi.sum(), x)
    assert torch.isfinite(grad).all()


# --- linear attention: the two forms -----------------------------------------------------------


def test_linear_parallel_matches_the_formula():
    q, k, v = qkv()
    torch.testing.assert_close(linear_attention_parallel(q, k, v), linear_reference(q, k, v), **TOL)


@settings(max_examples=25, deadline=None)
@given(B=st.integers(1, 3), T=st.integers(1, 9), d_k=st.integers(1, 5), d_v=st.integers(1, 5),
       seed=st.integers(0, 2**16))
def test_linear_recurrent_equals_parallel(B, T, d_k, d_v, seed):
    q, k, v = qkv(B, T, d_k, d_v, seed)
    torch.testing.assert_close(
        linear_attention_recurrent(q, k, v), linear_attention_parallel(q, k, v), **TOL
    )


def test_linear_gradients_of_the_two_forms_agree():
    q, k, v = qkv(grad=True)
    w = torch.randn(2, 6, 4, dtype=DTYPE, generator=torch.Generator().manual_seed(1))
    grads = [
        torch.autograd.grad((form(q, k, v) * w).sum(), (q, k, v))
        for form in (linear_attention_parallel, linear_attention_recurrent)
    ]
    for g_par, g_rec in zip(*grads, strict=True):
        torch.testing.assert_close(g_rec, g_par, **TOL)


@pytest.mark.parametrize("form", [linear_attention_parallel, linear_attention_recurrent])
def test_linear_gradcheck(form):
    q, k, v = qkv(B=2, T=4, d_k=2, d_v=3, grad=True)
    assert torch.autograd.gradcheck(form, (q, k, v))


def test_linear_state_is_the_sum_of_outer_products():
    q, k, v = qkv()
    _, state = linear_attention_recurrent(q, k, v, return_state=True)
    phi_k = F.elu(k) + 1
    torch.testing.assert_close(state.S, torch.einsum("btk,btv->bkv", phi_k, v), **TOL)
    torch.testing.assert_close(state.z, phi_k.sum(1), **TOL)


def test_linear_recurrent_continues_from_a_state():
    q, k, v = qkv(T=8)
    y_first, state = linear_attention_recurrent(q[:, :3], k[:, :3], v[:, :3], return_state=True)
    y_rest = linear_attention_recurrent(q[:, 3:], k[:, 3:], v[:, 3:], state=state)
    torch.testing.assert_close(torch.cat([y_first, y_rest], 1), linear_attention_parallel(q, k, v),
                               **TOL)


def test_linear_step_leaves_the_old_state_unchanged():
    q, k, v = qkv(T=2)
    _, state = linear_attention_step(None, q[:, 0], k[:, 0], v[:, 0])
    saved = LinearAttentionState(state.S.clone(), state.z.clone())
    linear_attention_step(state, q[:, 1], k[:, 1], v[:, 1])
    assert torch.equal(state.S, saved.S) and torch.equal(state.z, saved.z)


def test_linear_attention_is_causal():
    q, k, v = qkv(T=7)
    y = linear_attention_parallel(q, k, v)
    q2, k2, v2 = (t.clone() for t in (q, k, v))
    for t in (q2, k2, v2):
        t[:, 4:] += 5.0
    torch.testing.assert_close(linear_attention_parallel(q2, k2, v2)[:, :4], y[:, :4], **TOL)


def test_linear_attention_float32_agrees_loosely():
    q, k, v = (t.float() for t in qkv(T=32, d_k=8, d_v=8))
    torch.testing.assert_close(linear_attention_recurrent(q, k, v),
                               linear_attention_parallel(q, k, v), rtol=1e-5, atol=1e-5)


# --- softmax attention with a KV cache ---------------------------------------------------------


def test_softmax_parallel_matches_the_formula():
    q, k, v = qkv()
    torch.testing.assert_close(softmax_attention_parallel(q, k, v), softmax_reference(q, k, v),
                               **TOL)


@settings(max_examples=25, deadline=None)
@given(B=st.integers(1, 3), T=st.integers(1, 9), d_k=st.integers(1, 5), d_v=st.integers(1, 5),
       seed=st.integers(0, 2**16))
def test_softmax_step_loop_equals_parallel(B, T, d_k, d_v, seed):
    q, k, v = qkv(B, T, d_k, d_v, seed)
    torch.testing.assert_close(
        softmax_attention_recurrent(q, k, v), softmax_attention_parallel(q, k, v), **TOL
    )


def test_softmax_gradients_of_the_two_forms_agree():
    q, k, v = qkv(grad=True)
    w = torch.randn(2, 6, 4, dtype=DTYPE, generator=torch.Generator().manual_seed(1))
    grads = [
        torch.autograd.grad((form(q, k, v) * w).sum(), (q, k, v))
        for form in (softmax_attention_parallel, softmax_attention_recurrent)
    ]
    for g_par, g_rec in zip(*grads, strict=True):
        torch.testing.assert_close(g_rec, g_par, **TOL)


def test_kv_cache_grows_and_the_old_cache_is_unchanged():
    q, k, v = qkv(T=5)
    _, cache = softmax_attention_recurrent(q, k, v, return_state=True)
    assert torch.equal(cache.keys, k) and torch.equal(cache.values, v)
    _, longer = softmax_attention_step(cache, q[:, 0], k[:, 0], v[:, 0])
    assert longer.keys.shape == (2, 6, 3) and cache.keys.shape == (2, 5, 3)


# --- sizes of the states -----------------------------------------------------------------------


@pytest.mark.parametrize("T", [1, 5, 40])
def test_state_sizes(T):
    B, d = 2, 4
    q, k, v = qkv(B=B, T=T, d_k=d, d_v=d)
    _, state = linear_attention_recurrent(q, k, v, return_state=True)
    _, cache = softmax_attention_recurrent(q, k, v, return_state=True)
    assert state_numel(state) == B * (d * d + d)  # constant in T
    assert state_numel(cache) == B * 2 * T * d  # grows with T
    assert state_nbytes(state) == 8 * state_numel(state)
    assert state_nbytes(LinearAttentionState(state.S.float(), state.z.float())) == 4 * B * 20


def test_state_size_rejects_a_non_state():
    with pytest.raises(ValueError, match="state"):
        state_numel([torch.zeros(2)])
    with pytest.raises(ValueError, match="state"):
        state_nbytes((torch.zeros(2), 3))


# --- the layers --------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", [LinearAttention, SoftmaxAttention])
def test_layer_forms_and_steps_agree(cls):
    torch.manual_seed(0)
    layer = cls(6, 3, dtype=DTYPE)
    x = torch.randn(2, 7, 6, dtype=DTYPE)
    y = layer(x)
    torch.testing.assert_close(layer(x, form="recurrent"), y, **TOL)
    state, outs = None, []
    for t in range(7):
        out, state = layer.step(x[:, t], state)
        outs.append(out)
    torch.testing.assert_close(torch.stack(outs, 1), y, **TOL)
    assert isinstance(state, LinearAttentionState if cls is LinearAttention else KVCache)


def test_layers_have_equal_parameter_counts():
    sizes = [sum(p.numel() for p in cls(32, 8, 16).parameters())
             for cls in (LinearAttention, SoftmaxAttention)]
    assert sizes == [2 * 8 * 32 + 2 * 16 * 32] * 2


def test_linear_layer_gradients_of_the_two_forms_agree():
    torch.manual_seed(0)
    layer = LinearAttention(5, 3, dtype=DTYPE)
    x = torch.randn(2, 6, 5, dtype=DTYPE)
    grads = [torch.autograd.grad(layer(x, form=f).square().sum(), list(layer.parameters()))
             for f in ("parallel", "recurrent")]
    for g_par, g_rec in zip(*grads, strict=True):
        torch.testing.assert_close(g_rec, g_par, **TOL)


# --- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize("fn", [linear_attention_parallel, linear_attention_recurrent,
                                softmax_attention_parallel, softmax_attention_recurrent])
def test_sequence_forms_reject_bad_input(fn):
    q, k, v = qkv()
    with pytest.raises(ValueError, match="^q: expected 3 axes"):
        fn(q[0], k, v)
    with pytest.raises(ValueError, match="^k: expected shape"):
        fn(q, k[:, :, :2], v)
    with pytest.raises(ValueError, match="^v: expected shape"):
        fn(q, k, v[:1])
    with pytest.raises(ValueError, match="^k: expected shape"):
        fn(q, k[:, :4], v)
    with pytest.raises(ValueError, match="^q: expected a floating-point"):
        fn(q.long(), k, v)
    with pytest.raises(ValueError, match="v is torch.float32"):
        fn(q, k, v.float())
    with pytest.raises(ValueError, match="empty sequence"):
        fn(q[:, :0], k[:, :0], v[:, :0])


@pytest.mark.parametrize("step", [linear_attention_step, softmax_attention_step])
def test_steps_reject_bad_input(step):
    q, k, v = (t[:, 0] for t in qkv())
    with pytest.raises(ValueError, match="^q_t: expected 2 axes"):
        step(None, q[0], k, v)
    with pytest.raises(ValueError, match="^v_t: expected shape"):
        step(None, q, k, v[:1])
    with pytest.raises(ValueError, match="^(state|cache): expected"):
        step((q, k), q, k, v)


def test_linear_step_rejects_a_state_of_the_wrong_shape():
    q, k, v = (t[:, 0] for t in qkv())
    _, state = linear_attention_step(None, q, k, v)
    with pytest.raises(ValueError, match="^state.S: expected shape"):
        linear_attention_step(LinearAttentionState(state.S[:, :2], state.z), q, k, v)
    with pytest.raises(ValueError, match="^state.z: expected shape"):
        linear_attention_step(LinearAttentionState(state.S, state.z[:1]), q, k, v)


def test_softmax_step_rejects_a_cache_of_the_wrong_shape():
    q, k, v = (t[:, 0] for t in qkv())
    _, cache = softmax_attention_step(None, q, k, v)
    with pytest.raises(ValueError, match="^cache.values: expected shape"):
        softmax_attention_step(KVCache(cache.keys, cache.values[:, :, :2]), q, k, v)


@pytest.mark.parametrize("cls", [LinearAttention, SoftmaxAttention])
def test_layers_reject_bad_input(cls):
    with pytest.raises(ValueError, match="^d_key: expected a positive integer"):
        cls(8, 0)
    with pytest.raises(ValueError, match="^d_model: expected a positive integer"):
        cls(8.0, 4)
    layer = cls(8, 4)
    with pytest.raises(ValueError, match="^x: expected shape"):
        layer(torch.zeros(2, 5, 7))
    with pytest.raises(ValueError, match="^form: expected"):
        layer(torch.zeros(2, 5, 8), form="scan")
    with pytest.raises(ValueError, match="^x_t: expected 2 axes"):
        layer.step(torch.zeros(2, 5, 8))
