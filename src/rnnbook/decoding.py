"""Decoding a sequence model one token at a time: greedy, sampling, beam search.

Every function works on a *step function*

    step_fn(tokens, state) -> (log_probs, state)

that takes a LongTensor ``tokens`` of shape ``(B,)`` and a state in ``torch.nn``'s layout (a tensor
``(L, B, H)``, a tuple of such tensors as for ``nn.LSTM``, or ``None``) and returns normalised
log-probabilities of the next token, shape ``(B, V)``, and the next state. The functions decode one
sequence (the state's batch is 1), feed ``start_token`` first, and return the generated ids
without it, stopping after ``end_token`` (which is included) or after ``max_len`` tokens.

    greedy_decode(step_fn, state, start_token, max_len, end_token=None) -> list[int]
    sample(step_fn, state, start_token, max_len, *, temperature=1.0, top_k=None,
           end_token=None, generator=None) -> list[int]
    beam_search(step_fn, state, start_token, max_len, *, beam_size, end_token=None,
                length_penalty=0.0) -> list[tuple[list[int], float]]
"""

import math
import numbers

import torch

__all__ = ["beam_search", "greedy_decode", "sample"]


# ---------------------------------------------------------------------------------------------
# Argument checks
# ---------------------------------------------------------------------------------------------


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _check_int(name, value, low):
    if not _is_int(value) or value < low:
        raise ValueError(f"{name}: expected an integer >= {low}, got {value!r}")
    return int(value)


def _state_tensors(state):
    if state is None:
        return []
    if isinstance(state, torch.Tensor):
        return [state]
    if isinstance(state, tuple | list):
        tensors = []
        for part in state:
            tensors.extend(_state_tensors(part))
        return tensors
    raise ValueError(f"state: expected None, a tensor (L, B, H) or a tuple of such tensors, "
                     f"got {type(state).__name__}")


def _check_state(state):
    for tensor in _state_tensors(state):
        if tensor.dim() != 3 or tensor.shape[1] != 1:
            raise ValueError(f"state: expected tensors of shape (L, 1, H) (one sequence, batch "
                             f"1), got shape {tuple(tensor.shape)}")


def _check_token(name, value, vocab_size=None, allow_none=False):
    if value is None and allow_none:
        return None
    if not _is_int(value) or value < 0 or (vocab_size is not None and value >= vocab_size):
        upper = f", {vocab_size})" if vocab_size is not None else ", V)"
        raise ValueError(f"{name}: expected a token id in [0{upper}, got {value!r}")
    return int(value)


def _check_common(state, start_token, max_len, end_token):
    _check_state(state)
    _check_token("start_token", start_token)
    _check_token("end_token", end_token, allow_none=True)
    return _check_int("max_len", max_len, 1)


def _step(step_fn, tokens, state):
    """Call ``step_fn`` and check what it returns: ``(B, V)`` normalised log-probabilities."""
    try:
        out = step_fn(tokens, state)
    except IndexError as err:  # e.g. nn.Embedding on an id outside [0, V)
        raise ValueError(f"start_token (or a generated token): step_fn could not embed the "
                         f"tokens {tokens.tolist()} ({err})") from err
    if not (isinstance(out, tuple) and len(out) == 2):
        raise ValueError("step_fn: expected it to return (log_probs, state), "
                         f"got {type(out).__name__}")
    log_probs, state = out
    batch = tokens.shape[0]
    if not isinstance(log_probs, torch.Tensor) or log_probs.dim() != 2 or \
            log_probs.shape[0] != batch:
        shape = tuple(log_probs.shape) if isinstance(log_probs, torch.Tensor) else None
        raise ValueError(f"step_fn: expected log_probs of shape ({batch}, V), got {shape}")
    log_probs = log_probs.detach().double()
    total = torch.logsumexp(log_probs, dim=1)
    if not torch.all(torch.abs(total) < 1e-3):
        raise ValueError("step_fn: its log_probs do not sum to one over the vocabulary (got "
                         f"logsumexp {float(total.max()):.4g}); return "
                         "torch.log_softmax(logits, dim=-1), not the logits")
    return log_probs, state


def _validate_after_first_step(vocab_size, start_token, end_token):
    _check_token("start_token", start_token, vocab_size)
    _check_token("end_token", end_token, vocab_size, allow_none=True)


def _select_state(state, index):
    """The state of the beams ``index`` (a LongTensor), along the batch axis 1."""
    if state is None:
        return None
    if isinstance(state, torch.Tensor):
        return state.index_select(1, index)
    return type(state)(_select_state(part, index) for part in state)


# ---------------------------------------------------------------------------------------------
# Greedy decoding and sampling
# ---------------------------------------------------------------------------------------------


def greedy_decode(step_fn, state, start_token, max_len, end_token=None):
    """Feed ``start_token``, then always the most likely next token (ties: the lowest id).

    Args:
        step_fn: ``(tokens (1,), state) -> (log_probs (1, V), state)``.
        state: initial state with batch 1 (tensor ``(L, 1, H)``, tuple of them, or None).
        start_token: int in ``[0, V)``, fed first, not returned.
        max_len: int >= 1, the most tokens generated.
        end_token: int in ``[0, V)`` or None; decoding stops after generating it (included).

    Returns:
        list of at most ``max_len`` ints.
    """
    max_len = _check_common(state, start_token, max_len, end_token)
    return _decode(step_fn, state, start_token, max_len, end_token,
                   choose=lambda lp: int(torch.argmax(lp[0])))


def _decode(step_fn, state, start_token, max_len, end_token, choose, check_v=None):
    out = []
    token = int(start_token)
    for t in range(max_len):
        log_probs, state = _step(step_fn, torch.tensor([token], dtype=torch.long), state)
        if t == 0:
            _validate_after_first_step(log_probs.shape[1], start_token, end_token)
            if check_v is not None:
                check_v(log_probs.shape[1])
        token = choose(log_probs)
        out.append(token)
        if end_token is not None and token == end_token:
            break
    return out


def tempered_probs(log_probs, temperature=1.0, top_k=None):
    """The distribution :func:`sample` draws from: ``softmax(log_probs / T)`` over the top k.

    Args:
        log_probs: tensor ``(B, V)`` (or ``(V,)``) of log-probabilities.
        temperature: float > 0.
        top_k: int in ``[1, V]`` or None (all tokens).

    Returns:
        float64 tensor of the shape of ``log_probs``, rows summing to one; outside the ``top_k``
        most likely tokens of a row the probability is zero (ties at the k-th value: the lowest
        ids are kept, as ``torch.topk`` keeps them).
    """
    if not (isinstance(temperature, numbers.Real) and not isinstance(temperature, bool)
            and math.isfinite(temperature) and temperature > 0):
        raise ValueError(f"temperature: expected a number > 0, got {temperature!r} "
                         "(greedy_decode is temperature 0)")
    log_probs = torch.as_tensor(log_probs).double()
    vocab_size = log_probs.shape[-1]
    scaled = log_probs / float(temperature)
    if top_k is not None:
        if not _is_int(top_k) or not 1 <= top_k <= vocab_size:
            raise ValueError(f"top_k: expected an integer in [1, {vocab_size}] or None, "
                             f"got {top_k!r}")
        kept = torch.topk(scaled, int(top_k), dim=-1).indices
        mask = torch.full_like(scaled, float("-inf"))
        scaled = mask.scatter(-1, kept, scaled.gather(-1, kept))
    return torch.softmax(scaled, dim=-1)


def sample(step_fn, state, start_token, max_len, *, temperature=1.0, top_k=None,
           end_token=None, generator=None):
    """Feed ``start_token``, then tokens drawn from ``softmax(log_probs / temperature)``.

    With ``top_k`` the draw is restricted to the ``top_k`` most likely tokens (renormalised).
    ``temperature`` -> 0 approaches greedy decoding; ``temperature = 0`` itself is rejected.

    Args:
        step_fn, state, start_token, max_len, end_token: as for :func:`greedy_decode`.
        temperature: float > 0.
        top_k: int in ``[1, V]`` or None.
        generator: ``torch.Generator`` or None (then torch's global generator is used).

    Returns:
        list of at most ``max_len`` ints.
    """
    max_len = _check_common(state, start_token, max_len, end_token)
    tempered_probs(torch.zeros(1, 1), temperature)  # checks temperature before any step
    if top_k is not None and (not _is_int(top_k) or top_k < 1):
        raise ValueError(f"top_k: expected an integer in [1, V] or None, got {top_k!r}")
    if generator is not None and not isinstance(generator, torch.Generator):
        raise ValueError(f"generator: expected a torch.Generator or None, "
                         f"got {type(generator).__name__}")

    def check_v(vocab_size):
        if top_k is not None and top_k > vocab_size:
            raise ValueError(f"top_k: expected an integer in [1, {vocab_size}] or None, "
                             f"got {top_k!r}")

    def choose(log_probs):
        probs = tempered_probs(log_probs, temperature, top_k)
        return int(torch.multinomial(probs[0], 1, generator=generator))

    return _decode(step_fn, state, start_token, max_len, end_token, choose, check_v)


# ---------------------------------------------------------------------------------------------
# Beam search
# ---------------------------------------------------------------------------------------------


def _normalised(score, length, length_penalty):
    return score / (length ** length_penalty) if length_penalty else score


def beam_search(step_fn, state, start_token, max_len, *, beam_size, end_token=None,
                length_penalty=0.0):
    """Keep the ``beam_size`` best partial sequences at every step; return the best finished.

    At each step the live beams run as one batch through ``step_fn``; every extension of every
    beam is scored by the sum of its log-probabilities, and the ``beam_size`` best extensions
    survive. An extension that ends with ``end_token`` is finished and leaves the beam; so is
    every beam that reaches ``max_len`` tokens. The search stops early once no live beam can beat
    the ``beam_size``-th finished hypothesis (only with ``length_penalty = 0``, where scores can
    only fall).

    Scores: with ``length_penalty = 0`` a hypothesis' score is the sum of its log-probabilities.
    Otherwise hypotheses are ranked and returned with ``sum / len ** length_penalty`` (len = the
    number of generated tokens, end token included; 1 gives the mean log-probability per token).
    A beam wider than the vocabulary is allowed: it fills up after a few steps (a beam as wide as
    the number of all sequences makes the search exhaustive).

    Args:
        step_fn, state, start_token, max_len, end_token: as for :func:`greedy_decode`.
        beam_size: int >= 1.
        length_penalty: float >= 0.

    Returns:
        list of up to ``beam_size`` ``(tokens, score)`` pairs, best first (ties: the smaller
        token list first).
    """
    max_len = _check_common(state, start_token, max_len, end_token)
    beam_size = _check_int("beam_size", beam_size, 1)
    if not (isinstance(length_penalty, numbers.Real) and not isinstance(length_penalty, bool)
            and math.isfinite(length_penalty) and length_penalty >= 0):
        raise ValueError(f"length_penalty: expected a number >= 0, got {length_penalty!r}")
    length_penalty = float(length_penalty)

    beams = [[]]                      # generated tokens of each live beam
    scores = torch.zeros(1, dtype=torch.float64)
    last = torch.tensor([int(start_token)], dtype=torch.long)
    finished = []                     # (normalised score, tokens, raw score)
    for t in range(max_len):
        log_probs, state = _step(step_fn, last, state)
        vocab_size = log_probs.shape[1]
        if t == 0:
            _validate_after_first_step(vocab_size, start_token, end_token)
        total = (scores[:, None] + log_probs).reshape(-1)
        k = min(beam_size, total.numel())
        # best score first; ties broken by the lower (beam, token) index
        order = torch.sort(-total, stable=True).indices[:k].tolist()
        keep_beams, keep_tokens, keep_scores = [], [], []
        for flat in order:
            b, token = divmod(int(flat), vocab_size)
            tokens = beams[b] + [token]
            score = float(total[flat])
            if (end_token is not None and token == end_token) or t == max_len - 1:
                finished.append((_normalised(score, len(tokens), length_penalty), tokens, score))
            else:
                keep_beams.append(b)
                keep_tokens.append(tokens)
                keep_scores.append(score)
        if not keep_tokens:
            break
        if not length_penalty and len(finished) >= beam_size:
            worst = sorted(f[0] for f in finished)[-beam_size]
            if max(keep_scores) <= worst:
                break
        index = torch.tensor(keep_beams, dtype=torch.long)
        state = _select_state(state, index)
        beams = keep_tokens
        scores = torch.tensor(keep_scores, dtype=torch.float64)
        last = torch.tensor([tok[-1] for tok in keep_tokens], dtype=torch.long)
    finished.sort(key=lambda f: (-f[0], len(f[1]), f[1]))
    return [(tokens, float(norm)) for norm, tokens, _ in finished[:beam_size]]
