"""An encoder-decoder for character sequences, with additive, Luong or no attention.

    AdditiveAttention(query_size, key_size, attn_size)
    LuongAttention(query_size, key_size, score="general")     score "dot" or "general"
        (query (N, Hq), keys (N, S, Hk), mask (N, S) bool) -> context (N, Hk), weights (N, S)
    Seq2Seq(src_vocab, tgt_vocab, embed_size=32, hidden_size=64, attention=True)
        attention: False, True (= "additive"), "additive", "dot" or "general"
        forward(src (N, S), src_lengths (N,), tgt_in (N, T)) -> logits (N, T, V), weights (N, T, S)
        greedy(src, src_lengths, max_len)  -> ids (N, max_len), weights (N, max_len, S)
        step_fn, initial_state(src (1, S), src_lengths (1,))  for rnnbook.decoding

The encoder is a bidirectional GRU over the source (packed, so padding is never read); its
outputs h_j have 2H numbers. The decoder is a GRU cell whose first state is
tanh(W [forward final state; backward final state]). Padded source positions get attention
weight exactly 0.

- ``attention=False``: the decoder's input at step t is the embedding of y_{t-1} and a context c
  that is the same for every step, the encoder's two final states: the whole source squeezed
  into one fixed vector (Cho et al. 2014; Sutskever et al. 2014 use the encoder's final state
  only as the decoder's first state). Scores come from a linear layer on [s_t; c; emb(y_{t-1})].
- ``"additive"`` (Bahdanau, Cho and Bengio 2015): the query is the state *before* the step,
  c_t = sum_j a_tj h_j with a_t = softmax_j(v^T tanh(W_q s_{t-1} + W_k h_j + b)) (the paper's
  score has no bias b); the decoder reads [emb(y_{t-1}); c_t] and moves to s_t; scores come
  from a linear layer on [s_t; c_t; emb(y_{t-1})]. The decoder has H units.
- ``"dot"`` and ``"general"`` (Luong, Pham and Manning 2015): the decoder first moves to s_t,
  reading [emb(y_{t-1}); s~_{t-1}] (input feeding; s~_0 = 0); the query is s_t itself, with
  score s_t^T h_j ("dot") or s_t^T W_a h_j ("general"); c_t = sum_j a_tj h_j as above; the
  attentional hidden state s~_t = tanh(W_c [c_t; s_t]) alone gives the scores, W_s s~_t. The dot
  score needs the query as wide as the keys, so the decoder has 2H units here.
"""

import numbers

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

__all__ = ["AdditiveAttention", "LuongAttention", "Seq2Seq", "ATTENTION_KINDS"]

ATTENTION_KINDS = (None, "additive", "dot", "general")


def _positive(name, value):
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name}: expected a positive integer, got {value!r}")
    return int(value)


class _Attention(nn.Module):
    """What every score shares: checks, masking, softmax over j, the weighted sum of the keys.

    A subclass sets ``query_size`` and ``key_size`` and defines ``project_keys(keys)`` (the part
    of the score that depends on the keys alone, computed once per source) and
    ``scores(query, projected_keys) -> (N, S)``.
    """

    def _check(self, query, keys, mask):
        if query.ndim != 2 or keys.ndim != 3 or keys.shape[0] != query.shape[0] \
                or query.shape[1] != self.query_size or keys.shape[2] != self.key_size:
            raise ValueError(f"query, keys: expected shapes (N, {self.query_size}) and "
                             f"(N, S, {self.key_size}), got {tuple(query.shape)} and "
                             f"{tuple(keys.shape)}")
        if mask is None:
            return
        if mask.dtype != torch.bool or mask.shape != keys.shape[:2]:
            raise ValueError(f"mask: expected a bool tensor of shape {tuple(keys.shape[:2])}, "
                             f"got {mask.dtype} {tuple(mask.shape)}")
        if not torch.all(mask.any(dim=1)):
            raise ValueError("mask: every row needs at least one True (a real position)")

    def forward(self, query, keys, mask=None, projected_keys=None):
        """Attend over the keys.

        Args:
            query: ``(N, Hq)``; keys: ``(N, S, Hk)`` (also the values).
            mask: optional ``(N, S)`` bool, True at real positions, at least one per row.
            projected_keys: optional ``project_keys(keys)``, cached across decoder steps.

        Returns:
            context ``(N, Hk)`` and weights ``(N, S)``, rows summing to 1, exactly 0 where
            ``mask`` is False.
        """
        self._check(query, keys, mask)
        if projected_keys is None:
            projected_keys = self.project_keys(keys)
        e = self.scores(query, projected_keys)
        if mask is not None:
            e = e.masked_fill(~mask, float("-inf"))
        weights = torch.softmax(e, dim=-1)
        return torch.bmm(weights[:, None, :], keys)[:, 0], weights


class AdditiveAttention(_Attention):
    """Bahdanau's additive attention: ``score_j = v^T tanh(W_q q + W_k k_j + b)``, softmax over j.

    Args:
        query_size (Hq), key_size (Hk), attn_size (A): widths; ``W_q`` is (A, Hq), ``W_k``
            (A, Hk) with the bias ``b`` (A,), ``v`` (1, A).

    The bias ``b`` (that of ``W_k``) is a common addition; the paper's score has none.
    """

    def __init__(self, query_size, key_size, attn_size):
        super().__init__()
        self.query_size = _positive("query_size", query_size)
        self.key_size = _positive("key_size", key_size)
        attn_size = _positive("attn_size", attn_size)
        self.W_q = nn.Linear(self.query_size, attn_size, bias=False)
        self.W_k = nn.Linear(self.key_size, attn_size, bias=True)
        self.v = nn.Linear(attn_size, 1, bias=False)

    def project_keys(self, keys):
        """``W_k k_j + b`` for every key: ``(N, S, Hk) -> (N, S, A)``."""
        return self.W_k(keys)

    def scores(self, query, projected_keys):
        """Unnormalised scores ``(N, S)`` from query ``(N, Hq)`` and projected keys (N, S, A)."""
        return self.v(torch.tanh(self.W_q(query)[:, None, :] + projected_keys))[..., 0]


class LuongAttention(_Attention):
    """Luong's multiplicative scores: ``"dot"`` ``q^T k_j``, ``"general"`` ``q^T W_a k_j``.

    Args:
        query_size (Hq), key_size (Hk): widths; "dot" needs Hq == Hk; "general" has ``W_a``
            of shape (Hq, Hk), no bias.
        score: ``"dot"`` or ``"general"``.
    """

    def __init__(self, query_size, key_size, score="general"):
        super().__init__()
        self.query_size = _positive("query_size", query_size)
        self.key_size = _positive("key_size", key_size)
        if score not in ("dot", "general"):
            raise ValueError(f"score: expected 'dot' or 'general', got {score!r}")
        if score == "dot" and self.query_size != self.key_size:
            raise ValueError(f"query_size, key_size: the dot score needs them equal, got "
                             f"{self.query_size} and {self.key_size}")
        self.score = score
        self.W_a = nn.Linear(self.key_size, self.query_size, bias=False) \
            if score == "general" else None

    def project_keys(self, keys):
        """``W_a k_j`` for every key ("general", ``(N, S, Hq)``), or the keys themselves."""
        return keys if self.W_a is None else self.W_a(keys)

    def scores(self, query, projected_keys):
        """Unnormalised scores ``(N, S)``: ``q^T (W_a k_j)`` or ``q^T k_j``."""
        return torch.bmm(projected_keys, query[:, :, None])[..., 0]


def _attention_kind(attention):
    if attention is False or attention is None:
        return None
    if attention is True:
        return "additive"
    if attention not in ATTENTION_KINDS:
        raise ValueError(f"attention: expected False, True, 'additive', 'dot' or 'general', "
                         f"got {attention!r}")
    return attention


class Seq2Seq(nn.Module):
    """Bidirectional GRU encoder, GRU-cell decoder, additive, Luong or no attention.

    Args:
        src_vocab, tgt_vocab: vocabulary sizes (id 0 is padding in both).
        embed_size (E), hidden_size (H): widths; the encoder has H units per direction, the
            decoder H (no attention, additive) or 2H (Luong's "dot" and "general").
        attention: False (a fixed context vector), True or "additive" (Bahdanau), "dot" or
            "general" (Luong); the module docstring gives the equations.

    Attributes:
        kind: None, "additive", "dot" or "general"; ``attention``: whether there is any.
    """

    def __init__(self, src_vocab, tgt_vocab, embed_size=32, hidden_size=64, attention=True):
        super().__init__()
        H = _positive("hidden_size", hidden_size)
        E = _positive("embed_size", embed_size)
        self.src_vocab = _positive("src_vocab", src_vocab)
        self.tgt_vocab = _positive("tgt_vocab", tgt_vocab)
        self.kind = _attention_kind(attention)
        self.attention = self.kind is not None
        self.luong = self.kind in ("dot", "general")
        D = 2 * H if self.luong else H
        self.src_embed = nn.Embedding(src_vocab, E, padding_idx=0)
        self.tgt_embed = nn.Embedding(tgt_vocab, E, padding_idx=0)
        self.encoder = nn.GRU(E, H, batch_first=True, bidirectional=True)
        self.bridge = nn.Linear(2 * H, D)
        if self.luong:
            self.attend = LuongAttention(D, 2 * H, self.kind)
        else:
            self.attend = AdditiveAttention(H, 2 * H, H) if self.attention else None
        self.decoder = nn.GRUCell(E + 2 * H, D)        # Luong: 2H = D, the fed-back s~_{t-1}
        if self.luong:
            self.combine = nn.Linear(2 * H + D, D, bias=False)      # W_c
            self.out = nn.Linear(D, tgt_vocab)                      # W_s
        else:
            self.out = nn.Linear(H + 2 * H + E, tgt_vocab)

    def _check_src(self, src, src_lengths):
        src, src_lengths = torch.as_tensor(src), torch.as_tensor(src_lengths)
        if src.ndim != 2 or src.dtype != torch.long:
            raise ValueError(f"src: expected a LongTensor of shape (N, S), got "
                             f"{tuple(src.shape)} {src.dtype}")
        if src_lengths.shape != (src.shape[0],) or src_lengths.dtype.is_floating_point or \
                torch.any(src_lengths < 1) or torch.any(src_lengths > src.shape[1]):
            raise ValueError(f"src_lengths: expected integers in [1, {src.shape[1]}] of shape "
                             f"({src.shape[0]},), got {src_lengths.tolist()}")
        if torch.any(src < 0) or torch.any(src >= self.src_vocab):
            raise ValueError(f"src: expected ids in [0, {self.src_vocab})")
        return src, src_lengths.long()

    def encode(self, src, src_lengths):
        """Encoder outputs ``(N, S, 2H)``, mask ``(N, S)``, first decoder state ``(N, D)``, and the
        encoders' two final states side by side ``(N, 2H)`` (the fixed context)."""
        src, src_lengths = self._check_src(src, src_lengths)
        packed = pack_padded_sequence(self.src_embed(src), src_lengths.cpu(), batch_first=True,
                                      enforce_sorted=False)
        out, h_n = self.encoder(packed)
        out, _ = pad_packed_sequence(out, batch_first=True, total_length=src.shape[1])
        final = torch.cat([h_n[0], h_n[1]], dim=-1)
        mask = torch.arange(src.shape[1])[None, :] < src_lengths[:, None]
        return out, mask, torch.tanh(self.bridge(final)), final

    def _start(self, src, src_lengths):
        """Everything the decoder steps need: keys, mask, projected keys, fixed context, and the
        first state ``(s_0 (N, D), s~_0 (N, D) zeros, or (N, 0) without Luong)``."""
        keys, mask, s, fixed = self.encode(src, src_lengths)
        projected = self.attend.project_keys(keys) if self.attention else None
        feed = s.new_zeros(s.shape[0], s.shape[1] if self.luong else 0)
        return keys, mask, projected, fixed, (s, feed)

    def _step(self, y_prev, state, keys, mask, projected, fixed):
        """One decoder step: scores ``(N, V)``, new state ``(s (N, D), feed)``, weights ``(N, S)``
        (None without attention)."""
        s, feed = state
        emb = self.tgt_embed(y_prev)
        if self.luong:                      # query s_t, after the step
            s = self.decoder(torch.cat([emb, feed], dim=-1), s)
            context, weights = self.attend(s, keys, mask, projected)
            feed = torch.tanh(self.combine(torch.cat([context, s], dim=-1)))
            return self.out(feed), (s, feed), weights
        if self.attention:                  # query s_{t-1}, before the step
            context, weights = self.attend(s, keys, mask, projected)
        else:
            context, weights = fixed, None
        s = self.decoder(torch.cat([emb, context], dim=-1), s)
        return self.out(torch.cat([s, context, emb], dim=-1)), (s, feed), weights

    def forward(self, src, src_lengths, tgt_in):
        """Teacher-forced scores for every target step.

        Args:
            src: ``(N, S)`` source ids, padded with 0; src_lengths: ``(N,)``.
            tgt_in: ``(N, T)`` the target ids shifted right (start id first).

        Returns:
            logits ``(N, T, V)``; attention weights ``(N, T, S)`` (None without attention).
        """
        keys, mask, projected, fixed, state = self._start(src, src_lengths)
        tgt_in = torch.as_tensor(tgt_in)
        if tgt_in.ndim != 2 or tgt_in.shape[0] != keys.shape[0]:
            raise ValueError(f"tgt_in: expected shape ({keys.shape[0]}, T), got "
                             f"{tuple(tgt_in.shape)}")
        logits, weights = [], []
        for t in range(tgt_in.shape[1]):
            z, state, w = self._step(tgt_in[:, t], state, keys, mask, projected, fixed)
            logits.append(z)
            weights.append(w)
        return torch.stack(logits, 1), torch.stack(weights, 1) if self.attention else None

    @torch.no_grad()
    def greedy(self, src, src_lengths, max_len, start_token=1):
        """Batched greedy decoding: ids ``(N, max_len)``, weights ``(N, max_len, S)`` (or None)."""
        max_len = _positive("max_len", max_len)
        keys, mask, projected, fixed, state = self._start(src, src_lengths)
        y = torch.full((keys.shape[0],), start_token, dtype=torch.long)
        ids, weights = [], []
        for _ in range(max_len):
            z, state, w = self._step(y, state, keys, mask, projected, fixed)
            y = z.argmax(-1)
            ids.append(y)
            weights.append(w)
        return torch.stack(ids, 1), torch.stack(weights, 1) if self.attention else None

    # --- the interface of rnnbook.decoding: state tensors carry the batch on axis 1 ---------

    @torch.no_grad()
    def initial_state(self, src, src_lengths):
        """The decoding state for ``src``: a tuple of tensors with the batch on axis 1.

        ``(s (1, B, D), feed (1, B, D or 0), keys (S, B, 2H), mask (S, B, 1), fixed (1, B, 2H))``:
        every part is 3-D with the batch on axis 1, as ``rnnbook.decoding`` expects of a state
        (``feed`` is Luong's fed-back attentional state, empty for the other kinds).
        """
        keys, mask, _, fixed, (s, feed) = self._start(src, src_lengths)
        return (s[None], feed[None], keys.transpose(0, 1).contiguous(),
                mask.T[..., None].contiguous(), fixed[None])

    @torch.no_grad()
    def step_fn(self, tokens, state):
        """``step_fn(tokens (B,), state) -> (log_probs (B, V), state)`` for ``rnnbook.decoding``."""
        s, feed, keys, mask, fixed = state
        keys_b, mask_b = keys.transpose(0, 1), mask[..., 0].T
        projected = self.attend.project_keys(keys_b) if self.attention else None
        z, (s_new, feed_new), _ = self._step(torch.as_tensor(tokens).long(), (s[0], feed[0]),
                                             keys_b, mask_b, projected, fixed[0])
        return torch.log_softmax(z, dim=-1), (s_new[None], feed_new[None], keys, mask, fixed)
