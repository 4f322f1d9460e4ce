"""The layers around a recurrent core: embedding, affine output over time, softmax loss over time.

Every layer is a pair. ``*_forward`` takes the inputs and returns the output and a ``cache``;
``*_backward`` takes the gradient of the loss with respect to that output (the *upstream*
gradient, same shape as the output) and the cache, and returns the gradients with respect to
the inputs, each with the shape of what it differentiates.

Shapes: ``N`` batch size, ``T`` time steps, ``D`` embedding size, ``H`` hidden size,
``M`` output size, ``V`` vocabulary size. Weights are stored as (out_features, in_features).
"""

import numpy as np

from rnnbook.scratch._checks import check_inputs, check_upstream
from rnnbook.shapes import check_shape, check_tokens


def sigmoid(u):
    """The logistic function ``1 / (1 + exp(-u))``, elementwise, without overflow.

    The textbook formula overflows ``exp`` for ``u`` below about -709 (float64) or -88 (float32),
    with a warning, although the result is just 0. The identity
    ``sigmoid(u) = (1 + tanh(u / 2)) / 2`` gives the same values and never overflows.

    Args:
        u: array of any shape.

    Returns:
        array of the same shape and dtype, entries in [0, 1].
    """
    return 0.5 * (1.0 + np.tanh(0.5 * u))


# ---------------------------------------------------------------------------------------------
# Embedding: a lookup table, token id -> vector
# ---------------------------------------------------------------------------------------------


def embedding_forward(tokens, W):
    """Look up the vector of every token.

    Args:
        tokens: (N, T) integer token ids, each in [0, V).
        W: (V, D) embedding matrix; row ``v`` is the vector of token ``v``
            (the layout of ``torch.nn.Embedding.weight``).

    Returns:
        out: (N, T, D) with ``out[n, t] = W[tokens[n, t]]``.
        cache: ``(tokens, W.shape)`` for :func:`embedding_backward`.

    Raises:
        ValueError: on a wrong shape or dtype, NaN in ``W``, or a token id outside [0, V).
    """
    dims = {}
    check_shape("tokens", tokens, ("N", "T"), dims)
    check_inputs(W=(W, ("V", "D")))
    check_tokens("tokens", tokens, W.shape[0])
    out = W[tokens]
    cache = (tokens, W.shape)
    return out, cache


def embedding_backward(dout, cache):
    """Gradient of the embedding lookup.

    Each row of ``dW`` collects the upstream gradient of every position where its token occurs.
    A token that occurs twice must add both contributions: ``dW[tokens] += dout`` would keep only
    one of them, so the sum is made with ``np.add.at``, which accumulates repeated indices.

    Args:
        dout: (N, T, D) upstream gradient.
        cache: from :func:`embedding_forward`.

    Returns:
        dW: (V, D) gradient with respect to the embedding matrix (rows of unused tokens are 0).
    """
    tokens, (V, D) = cache
    N, T = tokens.shape
    check_upstream("dout", dout, ("N", "T", "D"), {"N": N, "T": T, "D": D})
    dW = np.zeros((V, D), dtype=dout.dtype)
    np.add.at(dW, tokens, dout)
    return dW


# ---------------------------------------------------------------------------------------------
# Affine output layer applied at every time step with the same weights
# ---------------------------------------------------------------------------------------------


def temporal_affine_forward(h, W, b):
    """Apply one affine map to the hidden state of every step: ``out[:, t] = h[:, t] @ W.T + b``.

    Args:
        h: (N, T, H) hidden states.
        W: (M, H) output weights (``W_hy`` in the notation page).
        b: (M,) output bias.

    Returns:
        out: (N, T, M) scores.
        cache: ``(h, W)`` for :func:`temporal_affine_backward`.

    Raises:
        ValueError: on a wrong shape or dtype, mixed dtypes or NaN.
    """
    check_inputs(h=(h, ("N", "T", "H")), W=(W, ("M", "H")), b=(b, ("M",)))
    out = h @ W.T + b
    cache = (h, W)
    return out, cache


def temporal_affine_backward(dout, cache):
    """Gradients of the affine map over time.

    The same ``W`` and ``b`` serve every step, so their gradients are sums over steps (and over the
    batch): flattening ``(N, T)`` into one axis of ``N * T`` rows turns that sum into one matmul.

    Args:
        dout: (N, T, M) upstream gradient.
        cache: from :func:`temporal_affine_forward`.

    Returns:
        dh: (N, T, H) gradient with respect to the hidden states.
        dW: (M, H) gradient with respect to the weights.
        db: (M,) gradient with respect to the bias.
    """
    h, W = cache
    N, T, H = h.shape
    M = W.shape[0]
    check_upstream("dout", dout, ("N", "T", "M"), {"N": N, "T": T, "M": M})
    dh = dout @ W
    dW = dout.reshape(N * T, M).T @ h.reshape(N * T, H)
    db = dout.sum(axis=(0, 1))
    return dh, dW, db


# ---------------------------------------------------------------------------------------------
# Softmax cross-entropy over time, with a mask for padding
# ---------------------------------------------------------------------------------------------


def _as_mask(mask, N, T, dtype):
    """Validate a (N, T) mask of booleans or 0/1 numbers and return it as 0./1. of ``dtype``."""
    if mask is None:
        return np.ones((N, T), dtype=dtype)
    check_shape("mask", mask, ("N", "T"), {"N": (N, "scores"), "T": (T, "scores")})
    mask = np.asarray(mask)
    if mask.dtype != bool and not np.all((mask == 0) | (mask == 1)):
        raise ValueError(f"mask: expected booleans or 0/1 values, got dtype {mask.dtype} with "
                         "other values")
    return mask.astype(dtype)


def temporal_softmax_loss_forward(scores, targets, mask=None):
    """Softmax cross-entropy summed over the unmasked steps, averaged over the batch.

    With ``p[n, t] = softmax(scores[n, t])`` the loss is

        loss = (1 / N) * sum over n, t of  mask[n, t] * (-log p[n, t, targets[n, t]]),

    the mean over the ``N`` sequences of each sequence's summed loss, as in the notation page.
    (``torch.nn.functional.cross_entropy`` averages over tokens instead: it equals ``loss`` times
    ``N / mask.sum()``; with ``reduction="sum"`` it is ``N * loss``.)

    The log-softmax subtracts each row's maximum first, so no ``exp`` overflows, and it never
    takes the log of a probability that rounded to zero.

    Args:
        scores: (N, T, V) unnormalised log-probabilities (logits), floating point.
        targets: (N, T) integer class ids; at unmasked positions they must lie in [0, V), at
            masked positions they are ignored and may hold anything (e.g. a padding id of -1).
        mask: optional (N, T) booleans or 0/1 numbers; 1 where the step counts. Default: all 1.

    Returns:
        loss: scalar (a Python float).
        cache: ``(log_probs, targets, mask)`` for :func:`temporal_softmax_loss_backward`, with the
            (N, T, V) log-softmax of the scores, the (N, T) targets (0 where masked) and the
            (N, T) mask as 0/1 numbers.

    Raises:
        ValueError: on a wrong shape or dtype, NaN scores, a mask that is not 0/1, or an
            unmasked target outside [0, V).
    """
    check_inputs(scores=(scores, ("N", "T", "V")))
    N, T, V = scores.shape
    check_shape("targets", targets, ("N", "T"), {"N": (N, "scores"), "T": (T, "scores")})
    mask = _as_mask(mask, N, T, scores.dtype)
    check_tokens("targets (where mask is set)", targets[mask > 0], V)
    targets = np.where(mask > 0, targets, 0)  # a valid id where the step is ignored

    shifted = scores - scores.max(axis=2, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=2, keepdims=True))
    nll = -np.take_along_axis(log_probs, targets[:, :, None], axis=2)[:, :, 0]  # (N, T)
    loss = float(np.sum(nll * mask) / N)
    cache = (log_probs, targets, mask)
    return loss, cache


def temporal_softmax_loss_backward(dloss, cache):
    """Gradient of the masked softmax loss with respect to the scores.

    For one step, the gradient of ``-log softmax(s)[y]`` with respect to ``s`` is
    ``softmax(s) - onehot(y)``; each step is then weighted by its mask and by ``dloss / N``.

    Args:
        dloss: scalar upstream gradient (1.0 when the loss is the final objective).
        cache: from :func:`temporal_softmax_loss_forward`.

    Returns:
        dscores: (N, T, V) gradient with respect to the scores; zero at masked steps.
    """
    log_probs, targets, mask = cache
    if np.ndim(dloss) != 0:
        raise ValueError(f"dloss: expected a scalar, got shape {np.shape(dloss)}")
    N, T, _ = log_probs.shape
    dscores = np.exp(log_probs)  # softmax(s) at every step
    batch, time = np.arange(N)[:, None], np.arange(T)[None, :]
    dscores[batch, time, targets] -= 1.0  # minus onehot(y)
    dscores *= mask[:, :, None] * (dloss / N)
    return dscores
