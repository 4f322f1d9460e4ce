"""An encoder-decoder for character sequences, with or without additive attention.

    AdditiveAttention(query_size, key_size, attn_size)
        (query (N, Hq), keys (N, S, Hk), mask (N, S) bool) -> context (N, Hk), weights (N, S)
    Seq2Seq(src_vocab, tgt_vocab, embed_size=32, hidden_size=64, attention=True)
        forward(src (N, S), src_lengths (N,), tgt_in (N, T)) -> logits (N, T, V), weights (N, T, S)
        greedy(src, src_lengths, max_len)  -> ids (N, max_len), weights (N, max_len, S)
        step_fn, initial_state(src (1, S), src_lengths (1,))  for rnnbook.decoding

The encoder is a bidirectional GRU over the source (packed, so padding is never read). The decoder
is a GRU cell whose input at step t is the previous target character's embedding and a context
vector c_t; its first state is tanh(W [forward final state; backward final state]).

- ``attention=False``: c_t is the same for every step, the encoder's two final states: the whole
  source squeezed into one fixed vector (Cho et al. 2014; Sutskever et al. 2014 use it only as
  the decoder's first state).
- ``attention=True``: c_t = sum_j a_tj h_j with
  a_t = softmax_j(v^T tanh(W_q s_{t-1} + W_k h_j + b)),
  padded positions excluded (Bahdanau, Cho and Bengio 2015, whose score has no bias b).

Scores for the next character come from a linear layer on [s_t; c_t; embedding of y_{t-1}].
"""

import numbers

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

__all__ = ["AdditiveAttention", "Seq2Seq"]


def _positive(name, value):
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name}: expected a positive integer, got {value!r}")
    return int(value)


class AdditiveAttention(nn.Module):
    """Bahdanau's additive attention: ``score_j = v^T tanh(W_q q + W_k k_j + b)``, softmax over j.

    The bias ``b`` (that of ``W_k``) is a common addition; the paper's score has none.
    """

    def __init__(self, query_size, key_size, attn_size):
        super().__init__()
        self.W_q = nn.Linear(_positive("query_size", query_size),
                             _positive("attn_size", attn_size), bias=False)
        self.W_k = nn.Linear(_positive("key_size", key_size), attn_size, bias=True)
        self.v = nn.Linear(attn_size, 1, bias=False)

    def scores(self, query, keys, projected_keys=None):
        """Unnormalised scores ``(N, S)``; ``projected_keys`` = ``W_k(keys)`` may be cached."""
        if projected_keys is None:
            projected_keys = self.W_k(keys)
        return self.v(torch.tanh(self.W_q(query)[:, None, :] + projected_keys))[..., 0]

    def forward(self, query, keys, mask=None, projected_keys=None):
        """Context ``(N, Hk)`` and weights ``(N, S)`` (zero where ``mask`` is False)."""
        if query.ndim != 2 or keys.ndim != 3 or keys.shape[0] != query.shape[0]:
            raise ValueError(f"query, keys: expected shapes (N, Hq) and (N, S, Hk), got "
                             f"{tuple(query.shape)} and {tuple(keys.shape)}")
        e = self.scores(query, keys, projected_keys)
        if mask is not None:
            if mask.shape != e.shape:
                raise ValueError(f"mask: expected shape {tuple(e.shape)}, got {tuple(mask.shape)}")
            e = e.masked_fill(~mask, float("-inf"))
        weights = torch.softmax(e, dim=-1)
        return torch.bmm(weights[:, None, :], keys)[:, 0], weights


class Seq2Seq(nn.Module):
    """Bidirectional GRU encoder, GRU-cell decoder, optional additive attention.

    Args:
        src_vocab, tgt_vocab: vocabulary sizes (id 0 is padding in both).
        embed_size, hidden_size: widths; the encoder has ``hidden_size`` units per direction.
        attention: use additive attention (True) or a fixed context vector (False).
    """

    def __init__(self, src_vocab, tgt_vocab, embed_size=32, hidden_size=64, attention=True):
        super().__init__()
        H = _positive("hidden_size", hidden_size)
        E = _positive("embed_size", embed_size)
        self.src_vocab, self.tgt_vocab = _positive("src_vocab", src_vocab), \
            _positive("tgt_vocab", tgt_vocab)
        self.attention = bool(attention)
        self.src_embed = nn.Embedding(src_vocab, E, padding_idx=0)
        self.tgt_embed = nn.Embedding(tgt_vocab, E, padding_idx=0)
        self.encoder = nn.GRU(E, H, batch_first=True, bidirectional=True)
        self.bridge = nn.Linear(2 * H, H)
        self.attend = AdditiveAttention(H, 2 * H, H) if self.attention else None
        self.decoder = nn.GRUCell(E + 2 * H, H)
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
        """Encoder outputs ``(N, S, 2H)``, mask ``(N, S)``, first decoder state ``(N, H)``, and the
        encoders' two final states side by side ``(N, 2H)`` (the fixed context)."""
        src, src_lengths = self._check_src(src, src_lengths)
        packed = pack_padded_sequence(self.src_embed(src), src_lengths.cpu(), batch_first=True,
                                      enforce_sorted=False)
        out, h_n = self.encoder(packed)
        out, _ = pad_packed_sequence(out, batch_first=True, total_length=src.shape[1])
        final = torch.cat([h_n[0], h_n[1]], dim=-1)
        mask = torch.arange(src.shape[1])[None, :] < src_lengths[:, None]
        return out, mask, torch.tanh(self.bridge(final)), final

    def _step(self, y_prev, s, keys, mask, projected, fixed):
        """One decoder step: scores ``(N, V)``, new state ``(N, H)``, weights ``(N, S)``."""
        emb = self.tgt_embed(y_prev)
        if self.attention:
            context, weights = self.attend(s, keys, mask, projected)
        else:
            context, weights = fixed, None
        s = self.decoder(torch.cat([emb, context], dim=-1), s)
        return self.out(torch.cat([s, context, emb], dim=-1)), s, weights

    def forward(self, src, src_lengths, tgt_in):
        """Teacher-forced scores for every target step.

        Args:
            src: ``(N, S)`` source ids, padded with 0; src_lengths: ``(N,)``.
            tgt_in: ``(N, T)`` the target ids shifted right (start id first).

        Returns:
            logits ``(N, T, V)``; attention weights ``(N, T, S)`` (None without attention).
        """
        keys, mask, s, fixed = self.encode(src, src_lengths)
        tgt_in = torch.as_tensor(tgt_in)
        if tgt_in.ndim != 2 or tgt_in.shape[0] != keys.shape[0]:
            raise ValueError(f"tgt_in: expected shape ({keys.shape[0]}, T), got "
                             f"{tuple(tgt_in.shape)}")
        projected = self.attend.W_k(keys) if self.attention else None
        logits, weights = [], []
        for t in range(tgt_in.shape[1]):
            z, s, w = self._step(tgt_in[:, t], s, keys, mask, projected, fixed)
            logits.append(z)
            weights.append(w)
        return torch.stack(logits, 1), torch.stack(weights, 1) if self.attention else None

    @torch.no_grad()
    def greedy(self, src, src_lengths, max_len, start_token=1):
        """Batched greedy decoding: ids ``(N, max_len)``, weights ``(N, max_len, S)`` (or None)."""
        keys, mask, s, fixed = self.encode(src, src_lengths)
        projected = self.attend.W_k(keys) if self.attention else None
        y = torch.full((keys.shape[0],), start_token, dtype=torch.long)
        ids, weights = [], []
        for _ in range(_positive("max_len", max_len)):
            z, s, w = self._step(y, s, keys, mask, projected, fixed)
            y = z.argmax(-1)
            ids.append(y)
            weights.append(w)
        return torch.stack(ids, 1), torch.stack(weights, 1) if self.attention else None

    # --- the interface of rnnbook.decoding: state tensors carry the batch on axis 1 ---------

    @torch.no_grad()
    def initial_state(self, src, src_lengths):
        """The decoding state for ``src``: a tuple of tensors with the batch on axis 1.

        ``(s (1, B, H), keys (S, B, 2H), mask (S, B, 1), fixed (1, B, 2H))``: every part is 3-D
        with the batch on axis 1, as ``rnnbook.decoding`` expects of a state.
        """
        keys, mask, s, fixed = self.encode(src, src_lengths)
        return (s[None], keys.transpose(0, 1).contiguous(), mask.T[..., None].contiguous(),
                fixed[None])

    @torch.no_grad()
    def step_fn(self, tokens, state):
        """``step_fn(tokens (B,), state) -> (log_probs (B, V), state)`` for ``rnnbook.decoding``."""
        s, keys, mask, fixed = state
        keys_b, mask_b = keys.transpose(0, 1), mask[..., 0].T
        projected = self.attend.W_k(keys_b) if self.attention else None
        z, s_new, _ = self._step(torch.as_tensor(tokens).long(), s[0], keys_b, mask_b, projected,
                                 fixed[0])
        return torch.log_softmax(z, dim=-1), (s_new[None], keys, mask, fixed)
