"""Classifying variable-length token sequences with a recurrent layer and a masked readout.

    masked_last(outputs, lengths)   (N, T, H), lengths (N,) -> (N, H): each row's last real step
    masked_mean(outputs, lengths)   (N, T, H), (N,) -> (N, H): the mean over the real steps only
    SequenceClassifier(vocab_size, num_classes, embed_size=32, hidden_size=64, cell="gru",
                       readout="last", packed=True)
        forward(tokens (N, T) long, lengths (N,)) -> logits (N, num_classes)

Padding sits at the end of each row (token 0, the padding id). With ``packed=True`` the recurrent
layer never sees the padding (``pack_padded_sequence``); without it, it runs over the padded
steps, and only the readout decides whether that matters: ``"last"`` and ``"mean"`` read the
real steps only, ``"padded_end"`` reads the state after the final padded step, the mistake that
makes a prediction depend on how much padding the batch happened to need.
"""

import numbers

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

__all__ = ["SequenceClassifier", "masked_last", "masked_mean"]

_CELLS = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}
READOUTS = ("last", "mean", "padded_end")


def _lengths(outputs, lengths):
    if outputs.ndim != 3:
        raise ValueError(f"outputs: expected shape (N, T, H), got {tuple(outputs.shape)}")
    lengths = torch.as_tensor(lengths)
    N, T = outputs.shape[:2]
    if lengths.shape != (N,) or lengths.dtype.is_floating_point:
        raise ValueError(f"lengths: expected integers of shape ({N},), got {tuple(lengths.shape)} "
                         f"{lengths.dtype}")
    if torch.any(lengths < 1) or torch.any(lengths > T):
        raise ValueError(f"lengths: expected values in [1, T] = [1, {T}], got "
                         f"{lengths.tolist()}")
    return lengths.to(torch.long)


def masked_last(outputs, lengths):
    """The output at each row's own last real step, ``outputs[n, lengths[n] - 1]``: ``(N, H)``."""
    lengths = _lengths(outputs, lengths)
    return outputs[torch.arange(outputs.shape[0]), lengths - 1]


def masked_mean(outputs, lengths):
    """The mean of ``outputs[n, :lengths[n]]`` over time for each row: ``(N, H)``."""
    lengths = _lengths(outputs, lengths)
    mask = torch.arange(outputs.shape[1])[None, :] < lengths[:, None]
    mask = mask.to(outputs.dtype).unsqueeze(-1)
    return (outputs * mask).sum(dim=1) / lengths.to(outputs.dtype)[:, None]


class SequenceClassifier(nn.Module):
    """Embedding, a recurrent layer and a linear layer on a masked readout of its outputs.

    Args:
        vocab_size: number of token ids (id 0 is padding).
        num_classes: number of classes.
        embed_size, hidden_size: widths (positive integers).
        cell: ``"gru"``, ``"lstm"`` or ``"rnn"``.
        readout: ``"last"`` (state at each row's last real step), ``"mean"`` (mean state over the
            real steps) or ``"padded_end"`` (the state after the last column of the padded batch;
            a deliberate mistake, for the book's demonstration).
        packed: run the recurrent layer on a packed batch, so it skips the padding.
        bidirectional: a bidirectional layer (its readout concatenates both directions' outputs).
    """

    def __init__(self, vocab_size, num_classes, embed_size=32, hidden_size=64, cell="gru",
                 readout="last", packed=True, bidirectional=False):
        super().__init__()
        for name, value in (("vocab_size", vocab_size), ("num_classes", num_classes),
                            ("embed_size", embed_size), ("hidden_size", hidden_size)):
            if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name}: expected a positive integer, got {value!r}")
        if cell not in _CELLS:
            raise ValueError(f"cell: expected one of {sorted(_CELLS)}, got {cell!r}")
        if readout not in READOUTS:
            raise ValueError(f"readout: expected one of {READOUTS}, got {readout!r}")
        self.readout, self.packed, self.vocab_size = readout, bool(packed), int(vocab_size)
        self.embed = nn.Embedding(vocab_size, embed_size, padding_idx=0)
        self.rnn = _CELLS[cell](embed_size, hidden_size, batch_first=True,
                                bidirectional=bidirectional)
        self.out = nn.Linear(hidden_size * (2 if bidirectional else 1), num_classes)

    def features(self, tokens, lengths):
        """The readout vector of each row, ``(N, hidden_size * directions)``."""
        tokens = torch.as_tensor(tokens)
        if tokens.ndim != 2 or tokens.dtype != torch.long:
            raise ValueError(f"tokens: expected a LongTensor of shape (N, T), got "
                             f"{tuple(tokens.shape)} {tokens.dtype}")
        if torch.any(tokens < 0) or torch.any(tokens >= self.vocab_size):
            raise ValueError(f"tokens: expected ids in [0, {self.vocab_size}), got values in "
                             f"[{int(tokens.min())}, {int(tokens.max())}]")
        x = self.embed(tokens)
        lengths = _lengths(x, lengths)
        if self.packed:
            packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True,
                                          enforce_sorted=False)
            out, _ = self.rnn(packed)
            out, _ = pad_packed_sequence(out, batch_first=True, total_length=tokens.shape[1])
        else:
            out, _ = self.rnn(x)
        if self.readout == "padded_end":
            return out[:, -1]
        if self.readout == "mean":
            return masked_mean(out, lengths)
        if self.rnn.bidirectional:
            # the backward direction ends at step 0; the forward one at each row's last step
            H = self.rnn.hidden_size
            return torch.cat([masked_last(out[..., :H], lengths), out[:, 0, H:]], dim=-1)
        return masked_last(out, lengths)

    def forward(self, tokens, lengths):
        """Class scores (logits) of shape ``(N, num_classes)``."""
        return self.out(self.features(tokens, lengths))
