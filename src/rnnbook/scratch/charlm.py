"""A character-level vanilla RNN language model in NumPy, trained by truncated BPTT.

The model is the chain of the scratch layers: an embedding of the input character, the tanh RNN,
an affine output layer at every step and the softmax cross-entropy against the next character::

    e_t = W_embed[x_t],  h_t = tanh(W_xh e_t + W_hh h_{t-1} + b),  s_t = W_hy h_t + b_y.

The parameters are a dict of arrays (names below), so the optimisers and ``clip_grad_norm`` of
:mod:`rnnbook.scratch.optim` apply to them unchanged.

    init_char_rnn(V, D, H, rng)          the parameter dict
    char_rnn_loss(params, x, y, h0)      loss (nats summed over time, mean over the batch),
                                         gradients and the final state
    stream_layout(ids, N)                a long text as N parallel, contiguous streams
    TBPTTTrainer(params, optimizer, ...) one chunk per step, the state carried from chunk to chunk
    evaluate_nats(params, ids, N, k)     mean nats per character of a held-out text, state carried
    sample(params, start, n, rng)        draw characters one at a time from the model

Shapes: ``N`` streams (batch), ``k`` steps per chunk, ``V`` characters, ``D`` embedding size,
``H`` hidden size. Weights are stored as (out_features, in_features).
"""

import numbers

import numpy as np

from rnnbook.scratch.layers import (
    embedding_backward,
    embedding_forward,
    temporal_affine_backward,
    temporal_affine_forward,
    temporal_softmax_loss_backward,
    temporal_softmax_loss_forward,
)
from rnnbook.scratch.optim import clip_grad_norm
from rnnbook.scratch.rnn import rnn_backward, rnn_forward

PARAM_SHAPES = {"W_embed": ("V", "D"), "W_xh": ("H", "D"), "W_hh": ("H", "H"), "b": ("H",),
                "W_hy": ("V", "H"), "b_y": ("V",)}


def _positive_int(name, value):
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name}: expected a positive integer, got {value!r}")
    return int(value)


def init_char_rnn(V, D, H, rng, dtype=np.float64):
    """Parameters of a character RNN, scaled so that the first steps neither vanish nor saturate.

    ``W_embed`` ~ N(0, 1); ``W_xh`` ~ N(0, 1/D); ``W_hh`` orthogonal (every singular value 1);
    ``W_hy`` ~ N(0, 1/H); biases zero.

    Args:
        V: vocabulary size; D: embedding size; H: hidden size (positive integers).
        rng: a ``numpy.random.Generator``.
        dtype: float dtype of the arrays.

    Returns:
        dict with ``W_embed`` (V, D), ``W_xh`` (H, D), ``W_hh`` (H, H), ``b`` (H,),
        ``W_hy`` (V, H), ``b_y`` (V,).
    """
    V, D, H = (_positive_int(n, v) for n, v in (("V", V), ("D", D), ("H", H)))
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng: expected a numpy.random.Generator, got {type(rng).__name__}")
    q, r = np.linalg.qr(rng.standard_normal((H, H)))
    q = q * np.sign(np.diag(r))  # a uniformly distributed orthogonal matrix
    params = {
        "W_embed": rng.standard_normal((V, D)),
        "W_xh": rng.standard_normal((H, D)) / np.sqrt(D),
        "W_hh": q,
        "b": np.zeros(H),
        "W_hy": rng.standard_normal((V, H)) / np.sqrt(H),
        "b_y": np.zeros(V),
    }
    return {name: p.astype(dtype) for name, p in params.items()}


def _check_params(params):
    if not isinstance(params, dict) or set(params) != set(PARAM_SHAPES):
        got = sorted(params) if isinstance(params, dict) else type(params).__name__
        raise ValueError(f"params: expected a dict with the names {sorted(PARAM_SHAPES)}, "
                         f"got {got}")
    V, D = params["W_embed"].shape
    H = params["W_hh"].shape[0]
    sizes = {"V": V, "D": D, "H": H}
    for name, spec in PARAM_SHAPES.items():
        expected = tuple(sizes[s] for s in spec)
        if params[name].shape != expected:
            raise ValueError(f"params[{name!r}]: expected shape {expected} "
                             f"(V = {V}, D = {D}, H = {H}), got {params[name].shape}")
    return V, D, H


def char_rnn_loss(params, x, y, h0):
    """Loss and gradients of one chunk: forward through all layers, then full BPTT in the chunk.

    Args:
        params: dict from :func:`init_char_rnn`.
        x: (N, k) input character ids; y: (N, k) target ids (the next characters).
        h0: (N, H) state the chunk starts from (treated as a constant: no gradient flows into it
            from the caller's point of view, which is what truncation means).

    Returns:
        loss: sum over the k steps of the cross-entropy in nats, mean over the N streams.
        grads: dict with the names and shapes of ``params``.
        h_last: (N, H) final state of the chunk, to start the next one from.

    Raises:
        ValueError: on mismatched shapes or ids outside [0, V).
    """
    V, _, H = _check_params(params)
    x, y = np.asarray(x), np.asarray(y)
    if x.ndim != 2 or y.shape != x.shape:
        raise ValueError(f"y: expected the shape (N, k) of x {x.shape}, got {y.shape}")
    if h0.shape != (x.shape[0], H):
        raise ValueError(f"h0: expected shape (N, H) = {(x.shape[0], H)}, got {h0.shape}")
    e, cache_e = embedding_forward(x, params["W_embed"])
    h, cache_h = rnn_forward(e, h0, params["W_xh"], params["W_hh"], params["b"])
    s, cache_s = temporal_affine_forward(h, params["W_hy"], params["b_y"])
    loss, cache_l = temporal_softmax_loss_forward(s, y)
    ds = temporal_softmax_loss_backward(1.0, cache_l)
    dh, dW_hy, db_y = temporal_affine_backward(ds, cache_s)
    de, _, dW_xh, dW_hh, db = rnn_backward(dh, cache_h)
    dW_embed = embedding_backward(de, cache_e)
    grads = {"W_embed": dW_embed, "W_xh": dW_xh, "W_hh": dW_hh, "b": db, "W_hy": dW_hy,
             "b_y": db_y}
    return loss, grads, h[:, -1].copy()


def stream_layout(ids, N):
    """Cut a long id sequence into ``N`` contiguous streams of equal length, one per row.

    Stream ``n`` is ``ids[n * L : (n + 1) * L]`` with ``L = len(ids) // N``; the few ids left over
    at the end are dropped. Reading the columns in order walks each stream forward, so the state
    carried from one chunk to the next belongs to the text that follows.

    Args:
        ids: (T,) integer ids.
        N: number of streams, at most ``len(ids) // 2`` (each stream needs an input and a target).

    Returns:
        (N, L) int64 array.
    """
    ids = np.asarray(ids)
    N = _positive_int("N", N)
    if ids.ndim != 1:
        raise ValueError(f"ids: expected shape (T,), got shape {ids.shape}")
    if ids.size < 2 * N:
        raise ValueError(f"N: {N} streams need at least {2 * N} ids, got {ids.size}")
    L = ids.size // N
    return ids[: N * L].reshape(N, L).astype(np.int64)


class TBPTTTrainer:
    """Truncated BPTT over parallel streams, one chunk of ``k`` steps per :meth:`step`.

    The chunks follow each other along the streams, and the final hidden state of a chunk is the
    initial state of the next (carried forward as a constant: no gradient crosses the boundary).
    When the streams are used up, they start again from the beginning with a zero state.

    Args:
        params: dict from :func:`init_char_rnn` (updated in place by ``optimizer``).
        optimizer: an object with ``step(params, grads)`` (SGD, Adagrad, Adam).
        streams: (N, L) ids from :func:`stream_layout`.
        k: chunk length, ``1 <= k < L``.
        max_norm: clip the global gradient norm to this value (``None``: no clipping).

    Attributes:
        h: (N, H) the carried state. position: the column where the next chunk starts.
    """

    def __init__(self, params, optimizer, streams, k, max_norm=None):
        _, _, H = _check_params(params)
        streams = np.asarray(streams)
        if streams.ndim != 2:
            raise ValueError(f"streams: expected shape (N, L), got shape {streams.shape}")
        k = _positive_int("k", k)
        if k >= streams.shape[1]:
            raise ValueError(f"k: expected a chunk shorter than the streams (L = "
                             f"{streams.shape[1]}), got {k}")
        if max_norm is not None and not (isinstance(max_norm, numbers.Real) and max_norm > 0):
            raise ValueError(f"max_norm: expected a positive number or None, got {max_norm!r}")
        self.params, self.optimizer, self.streams = params, optimizer, streams
        self.k, self.max_norm = k, max_norm
        self.h = np.zeros((streams.shape[0], H), dtype=params["W_hh"].dtype)
        self.position = 0

    def step(self):
        """Train on the next chunk.

        Returns:
            (nats per character of the chunk before the update, global gradient norm before
            clipping).
        """
        start = self.position
        if start + self.k + 1 > self.streams.shape[1]:  # the streams are used up: start again
            start = 0
            self.h = np.zeros_like(self.h)
        x = self.streams[:, start:start + self.k]
        y = self.streams[:, start + 1:start + self.k + 1]
        loss, grads, self.h = char_rnn_loss(self.params, x, y, self.h)
        if self.max_norm is None:
            norm = float(np.sqrt(sum(np.sum(g * g) for g in grads.values())))
        else:
            grads, norm = clip_grad_norm(grads, self.max_norm)
        self.optimizer.step(self.params, grads)
        self.position = start + self.k
        return loss / self.k, float(norm)


def evaluate_nats(params, ids, N=16, k=100):
    """Mean cross-entropy (nats per character) of the model on ``ids``, state carried over chunks.

    The text is cut into ``N`` streams (:func:`stream_layout`); each stream is read from a zero
    state, chunk after chunk, predicting every character from all the characters before it in its
    stream. Only forward passes: no parameter changes.

    Args:
        params: dict from :func:`init_char_rnn`.
        ids: (T,) held-out ids.
        N: number of streams; k: chunk length (memory only: the result does not depend on it).

    Returns:
        Python float.
    """
    V, _, H = _check_params(params)
    k = _positive_int("k", k)
    streams = stream_layout(ids, N)
    h = np.zeros((streams.shape[0], H), dtype=params["W_hh"].dtype)
    total, count = 0.0, 0
    L = streams.shape[1]
    for start in range(0, L - 1, k):
        stop = min(start + k, L - 1)
        x, y = streams[:, start:stop], streams[:, start + 1:stop + 1]
        e, _ = embedding_forward(x, params["W_embed"])
        hs, _ = rnn_forward(e, h, params["W_xh"], params["W_hh"], params["b"])
        s, _ = temporal_affine_forward(hs, params["W_hy"], params["b_y"])
        loss, _ = temporal_softmax_loss_forward(s, y)
        total += loss * streams.shape[0]
        count += x.size
        h = hs[:, -1]
    return total / count


def sample(params, start, n, rng, temperature=1.0):
    """Draw ``n`` characters from the model, one at a time, each fed back as the next input.

    Args:
        params: dict from :func:`init_char_rnn`.
        start: (T0,) ids of a priming text, ``T0 >= 1``; the model reads it first.
        n: number of ids to draw.
        rng: a ``numpy.random.Generator``.
        temperature: positive; the scores are divided by it before the softmax (below 1: more
            conservative, above 1: more random).

    Returns:
        (n,) int64 array of the drawn ids (the priming text not included).
    """
    V, _, H = _check_params(params)
    start = np.asarray(start)
    if start.ndim != 1 or start.size == 0:
        raise ValueError(f"start: expected a non-empty shape (T0,), got shape {start.shape}")
    n = _positive_int("n", n)
    if not (isinstance(temperature, numbers.Real) and temperature > 0):
        raise ValueError(f"temperature: expected a positive number, got {temperature!r}")
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng: expected a numpy.random.Generator, got {type(rng).__name__}")
    h = np.zeros((1, H), dtype=params["W_hh"].dtype)
    e, _ = embedding_forward(start[None, :].astype(np.int64), params["W_embed"])
    hs, _ = rnn_forward(e, h, params["W_xh"], params["W_hh"], params["b"])
    h = hs[0, -1]
    out = np.empty(n, dtype=np.int64)
    for i in range(n):
        s = (params["W_hy"] @ h + params["b_y"]) / temperature
        p = np.exp(s - s.max())
        p /= p.sum()
        out[i] = rng.choice(V, p=p)
        a = params["W_xh"] @ params["W_embed"][out[i]] + params["W_hh"] @ h + params["b"]
        h = np.tanh(a)
    return out
