"""Causal linear attention as attention and as an RNN, and causal softmax attention with a KV cache.

Linear attention (Katharopoulos et al. 2020, "Transformers are RNNs") replaces the softmax
similarity ``exp(q . k)`` by a kernel ``phi(q) . phi(k)`` with the positive feature map
``phi(x) = elu(x) + 1``. Causal attention then becomes a recurrence on a matrix state::

    S_t = S_{t-1} + phi(k_t) v_t^T        (d_k, d_v)   a sum of outer products
    z_t = z_{t-1} + phi(k_t)              (d_k,)       the normaliser
    y_t = phi(q_t)^T S_t / phi(q_t)^T z_t (d_v,)

which equals the attention form ``y_t = sum_{s<=t} a_ts v_s / sum_{s<=t} a_ts`` with
``a_ts = phi(q_t) . phi(k_s)``. Because ``phi > 0`` every denominator is positive.

All tensors are batch-major: queries and keys ``(B, T, d_k)``, values ``(B, T, d_v)``, one time
step ``(B, d_k)`` or ``(B, d_v)``.

    elu_feature_map(x)                            phi(x) = elu(x) + 1
    linear_attention_parallel(q, k, v)            the attention form, a masked T x T matrix
    linear_attention_recurrent(q, k, v, ...)      the RNN form, a loop over linear_attention_step
    linear_attention_step(state, q_t, k_t, v_t)   one step on the state (S, z), for generation
    softmax_attention_parallel(q, k, v)           causal softmax attention (PyTorch's SDPA)
    softmax_attention_recurrent(q, k, v)          the same, a loop over softmax_attention_step
    softmax_attention_step(cache, q_t, k_t, v_t)  one step that appends (k_t, v_t) to a KV cache
    state_numel(state), state_nbytes(state)       the size of a state or cache, as stored
    LinearAttention, SoftmaxAttention             layers: projections, then one of the forms
"""

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from rnnbook.modules._validation import check_positive_int, check_tensor
from rnnbook.shapes import check_shape

__all__ = [
    "KVCache",
    "LinearAttention",
    "LinearAttentionState",
    "SoftmaxAttention",
    "elu_feature_map",
    "linear_attention_parallel",
    "linear_attention_recurrent",
    "linear_attention_step",
    "softmax_attention_parallel",
    "softmax_attention_recurrent",
    "softmax_attention_step",
    "state_nbytes",
    "state_numel",
]


class LinearAttentionState(NamedTuple):
    """The recurrent state of causal linear attention.

    Attributes:
        S: (B, d_k, d_v), the sum of outer products phi(k_s) v_s^T over the steps read so far.
        z: (B, d_k), the sum of phi(k_s), the normaliser.
    """

    S: torch.Tensor
    z: torch.Tensor


class KVCache(NamedTuple):
    """The keys and values of every step read so far, as causal softmax attention keeps them.

    Attributes:
        keys: (B, t, d_k); values: (B, t, d_v), with t the number of steps read (0 at the start).
    """

    keys: torch.Tensor
    values: torch.Tensor


def elu_feature_map(x):
    """phi(x) = elu(x) + 1, elementwise: x + 1 for x > 0, exp(x) otherwise.

    Computed as ``relu(x) + exp(min(x, 0))``, the same function written so that it stays positive
    in float32 for very negative x (``elu(x) + 1`` rounds to 0 below about -17) and its gradient
    has no ``inf * 0`` from the unused branch.

    Args:
        x: tensor of any shape.

    Returns:
        tensor of the same shape, every entry positive.
    """
    return torch.relu(x) + torch.exp(torch.clamp(x, max=0.0))


def _check_qkv(q, k, v):
    """Check the batch-major sequences q, k (B, T, d_k) and v (B, T, d_v); return dims."""
    check_tensor("q", q)
    check_tensor("k", k, like=("q", q))
    check_tensor("v", v, like=("q", q))
    dims = {}
    check_shape("q", q, ("B", "T", "d_k"), dims)
    check_shape("k", k, ("B", "T", "d_k"), dims)
    check_shape("v", v, ("B", "T", "d_v"), dims)
    return dims


def _check_step(q_t, k_t, v_t):
    """Check one step q_t, k_t (B, d_k) and v_t (B, d_v); return dims."""
    check_tensor("q_t", q_t)
    check_tensor("k_t", k_t, like=("q_t", q_t))
    check_tensor("v_t", v_t, like=("q_t", q_t))
    dims = {}
    check_shape("q_t", q_t, ("B", "d_k"), dims)
    check_shape("k_t", k_t, ("B", "d_k"), dims)
    check_shape("v_t", v_t, ("B", "d_v"), dims)
    return dims


def linear_attention_parallel(q, k, v):
    """Causal linear attention in its attention form.

    ``A = tril(phi(Q) phi(K)^T)`` (a (T, T) matrix per sequence), ``Y = (A V) / (A 1)``: every
    output is the average of the values up to its step, weighted by ``phi(q_t) . phi(k_s)``.
    Time and memory grow as T^2.

    Args:
        q: (B, T, d_k) queries; k: (B, T, d_k) keys; v: (B, T, d_v) values, one float dtype.

    Returns:
        y: (B, T, d_v).

    Raises:
        ValueError: naming the argument, on a wrong shape or a non-float dtype.
    """
    dims = _check_qkv(q, k, v)
    T = dims["T"][0]
    scores = elu_feature_map(q) @ elu_feature_map(k).transpose(1, 2)  # (B, T, T)
    mask = torch.ones(T, T, dtype=torch.bool, device=q.device).tril()
    weights = scores.masked_fill(~mask, 0.0)
    return (weights @ v) / weights.sum(-1, keepdim=True)


def _zero_state(like_k, like_v):
    B, d_k = like_k.shape
    d_v = like_v.shape[-1]
    return LinearAttentionState(
        like_k.new_zeros(B, d_k, d_v), like_k.new_zeros(B, d_k)
    )


def _check_state(state, dims, like):
    if not isinstance(state, LinearAttentionState):
        raise ValueError(
            f"state: expected a LinearAttentionState(S, z) or None, got {type(state).__name__}"
        )
    check_tensor("state.S", state.S, like=like)
    check_tensor("state.z", state.z, like=like)
    check_shape("state.S", state.S, ("B", "d_k", "d_v"), dims)
    check_shape("state.z", state.z, ("B", "d_k"), dims)


def linear_attention_step(state, q_t, k_t, v_t):
    """One step of causal linear attention on the matrix state: write, then read.

    ``S_t = S_{t-1} + phi(k_t) v_t^T``, ``z_t = z_{t-1} + phi(k_t)``,
    ``y_t = phi(q_t)^T S_t / phi(q_t)^T z_t``. Out of place: the old state is left unchanged.

    Args:
        state: LinearAttentionState with S (B, d_k, d_v) and z (B, d_k), or None for the empty
            state (zeros) before the first step.
        q_t: (B, d_k); k_t: (B, d_k); v_t: (B, d_v), one float dtype.

    Returns:
        (y_t, state): y_t (B, d_v) and the new LinearAttentionState.

    Raises:
        ValueError: naming the argument, on a wrong shape, dtype or state type.
    """
    dims = _check_step(q_t, k_t, v_t)
    if state is None:
        state = _zero_state(k_t, v_t)
    else:
        _check_state(state, dims, like=("q_t", q_t))
    phi_k = elu_feature_map(k_t)
    S = state.S + phi_k.unsqueeze(2) * v_t.unsqueeze(1)  # outer product, (B, d_k, d_v)
    z = state.z + phi_k
    phi_q = elu_feature_map(q_t).unsqueeze(1)  # (B, 1, d_k)
    y_t = (phi_q @ S).squeeze(1) / (phi_q @ z.unsqueeze(2)).squeeze(1)
    return y_t, LinearAttentionState(S, z)


def linear_attention_recurrent(q, k, v, state=None, return_state=False):
    """Causal linear attention in its RNN form: :func:`linear_attention_step` over t = 1..T.

    Memory for the state is d_k * d_v + d_k numbers per sequence, whatever T.

    Args:
        q: (B, T, d_k); k: (B, T, d_k); v: (B, T, d_v), one float dtype.
        state: optional LinearAttentionState to start from (None: zeros).
        return_state: also return the state after step T.

    Returns:
        y (B, T, d_v), or (y, state) if ``return_state``.

    Raises:
        ValueError: naming the argument, on a wrong shape, dtype or state type.
    """
    dims = _check_qkv(q, k, v)
    if state is not None:
        _check_state(state, dims, like=("q", q))
    outputs = []
    for t in range(dims["T"][0]):
        y_t, state = linear_attention_step(state, q[:, t], k[:, t], v[:, t])
        outputs.append(y_t)
    y = torch.stack(outputs, dim=1)
    return (y, state) if return_state else y


def softmax_attention_parallel(q, k, v):
    """Causal softmax attention, ``softmax(Q K^T / sqrt(d_k) + mask) V``.

    ``torch.nn.functional.scaled_dot_product_attention`` with ``is_causal=True``.

    Args:
        q: (B, T, d_k); k: (B, T, d_k); v: (B, T, d_v), one float dtype.

    Returns:
        y: (B, T, d_v).

    Raises:
        ValueError: naming the argument, on a wrong shape or a non-float dtype.
    """
    _check_qkv(q, k, v)
    return F.scaled_dot_product_attention(q, k, v, is_causal=True)


def softmax_attention_step(cache, q_t, k_t, v_t):
    """One step of causal softmax attention: append (k_t, v_t) to the KV cache, then attend.

    ``y_t = softmax(K_t q_t / sqrt(d_k))^T V_t`` over the t keys and values in the cache. Out of
    place: the old cache is left unchanged; the new one holds t + 1 steps.

    Args:
        cache: KVCache with keys (B, t, d_k) and values (B, t, d_v), or None (empty).
        q_t: (B, d_k); k_t: (B, d_k); v_t: (B, d_v), one float dtype.

    Returns:
        (y_t, cache): y_t (B, d_v) and the new KVCache.

    Raises:
        ValueError: naming the argument, on a wrong shape, dtype or cache type.
    """
    dims = _check_step(q_t, k_t, v_t)
    if cache is None:
        keys, values = k_t.unsqueeze(1), v_t.unsqueeze(1)
    else:
        if not isinstance(cache, KVCache):
            raise ValueError(f"cache: expected a KVCache(keys, values) or None, "
                             f"got {type(cache).__name__}")
        check_tensor("cache.keys", cache.keys, like=("q_t", q_t))
        check_tensor("cache.values", cache.values, like=("q_t", q_t))
        check_shape("cache.keys", cache.keys, ("B", "t", "d_k"), dims)
        check_shape("cache.values", cache.values, ("B", "t", "d_v"), dims)
        keys = torch.cat([cache.keys, k_t.unsqueeze(1)], dim=1)
        values = torch.cat([cache.values, v_t.unsqueeze(1)], dim=1)
    scores = (keys @ q_t.unsqueeze(2)).squeeze(2) / q_t.shape[-1] ** 0.5  # (B, t + 1)
    y_t = (torch.softmax(scores, dim=-1).unsqueeze(1) @ values).squeeze(1)
    return y_t, KVCache(keys, values)


def softmax_attention_recurrent(q, k, v, return_state=False):
    """Causal softmax attention step by step: :func:`softmax_attention_step` over t = 1..T.

    The KV cache grows by d_k + d_v numbers per sequence and step.

    Args:
        q: (B, T, d_k); k: (B, T, d_k); v: (B, T, d_v), one float dtype.
        return_state: also return the KV cache after step T.

    Returns:
        y (B, T, d_v), or (y, cache) if ``return_state``.
    """
    dims = _check_qkv(q, k, v)
    cache, outputs = None, []
    for t in range(dims["T"][0]):
        y_t, cache = softmax_attention_step(cache, q[:, t], k[:, t], v[:, t])
        outputs.append(y_t)
    y = torch.stack(outputs, dim=1)
    return (y, cache) if return_state else y


def state_numel(state):
    """Number of numbers held by a state or cache: the sum of ``numel`` over its tensors.

    Args:
        state: a LinearAttentionState, a KVCache, or any tuple of tensors.

    Returns:
        int.
    """
    return sum(t.numel() for t in _state_tensors(state, "state"))


def state_nbytes(state):
    """Bytes held by a state or cache: ``numel * element_size`` summed over its tensors.

    Args:
        state: a LinearAttentionState, a KVCache, or any tuple of tensors.

    Returns:
        int.
    """
    return sum(t.numel() * t.element_size() for t in _state_tensors(state, "state"))


def _state_tensors(state, name):
    if not isinstance(state, tuple) or not all(isinstance(t, torch.Tensor) for t in state):
        raise ValueError(f"{name}: expected a tuple of tensors (a LinearAttentionState or a "
                         f"KVCache), got {type(state).__name__}")
    return list(state)




class _CausalAttention(nn.Module):
    """Single-head causal self-attention: projections around an attention form.

    ``q = x W_q^T``, ``k = x W_k^T`` (d_key), ``v = x W_v^T`` (d_value), ``out = y W_o^T``
    (d_model), no biases: ``2 d_key d_model + 2 d_value d_model`` parameters.
    """

    def __init__(self, d_model, d_key, d_value=None, dtype=None):
        super().__init__()
        d_value = d_model if d_value is None else d_value
        for name, value in (("d_model", d_model), ("d_key", d_key), ("d_value", d_value)):
            check_positive_int(name, value)
        self.d_model, self.d_key, self.d_value = d_model, d_key, d_value
        self.query = nn.Linear(d_model, d_key, bias=False, dtype=dtype)
        self.key = nn.Linear(d_model, d_key, bias=False, dtype=dtype)
        self.value = nn.Linear(d_model, d_value, bias=False, dtype=dtype)
        self.out = nn.Linear(d_value, d_model, bias=False, dtype=dtype)

    def _project(self, name, x, spec):
        check_tensor(name, x, like=("weight", self.query.weight))
        check_shape(name, x, spec, {"d_model": (self.d_model, "d_model")})
        return self.query(x), self.key(x), self.value(x)

    def forward(self, x, form="parallel"):
        if form not in self.forms:
            raise ValueError(f"form: expected 'parallel' or 'recurrent', got {form!r}")
        q, k, v = self._project("x", x, ("B", "T", "d_model"))
        return self.out(self.forms[form](q, k, v))

    def step(self, x_t, state=None):
        q, k, v = self._project("x_t", x_t, ("B", "d_model"))
        y_t, state = self.step_form(state, q, k, v)
        return self.out(y_t), state


class LinearAttention(_CausalAttention):
    """Causal linear-attention layer (Katharopoulos et al. 2020), one head.

    Args:
        d_model: width of the input and the output.
        d_key: width of queries and keys (the state has d_key rows).
        d_value: width of values (default d_model).
        dtype: parameter dtype (default torch's).

    ``forward(x, form="parallel")`` with x (B, T, d_model) returns (B, T, d_model), using
    :func:`linear_attention_parallel` or, with ``form="recurrent"``,
    :func:`linear_attention_recurrent` (the same numbers). ``step(x_t, state)`` with x_t
    (B, d_model) returns (out_t (B, d_model), new LinearAttentionState).
    """

    forms = {"parallel": linear_attention_parallel, "recurrent": linear_attention_recurrent}
    step_form = staticmethod(linear_attention_step)


class SoftmaxAttention(_CausalAttention):
    """Causal softmax-attention layer with a KV cache, one head; the same parameters as
    :class:`LinearAttention`.

    ``forward(x, form="parallel")`` with x (B, T, d_model) returns (B, T, d_model), using
    :func:`softmax_attention_parallel` or, with ``form="recurrent"``, the step loop over a KV
    cache. ``step(x_t, state)`` with x_t (B, d_model) and the KVCache so far as ``state`` (None
    at the start) returns (out_t (B, d_model), the new KVCache).
    """

    forms = {"parallel": softmax_attention_parallel, "recurrent": softmax_attention_recurrent}
    step_form = staticmethod(softmax_attention_step)
