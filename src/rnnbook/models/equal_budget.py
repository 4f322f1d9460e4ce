"""Models for comparisons at equal parameter counts: one wrapper for four kinds of recurrent layer.

    TaskModel(kind, H, out, ...)       embedding, recurrent layers (torch.nn.GRU/LSTM or the
                                       book's minGRU/minLSTM stacks) and a linear head
    matched_hidden_size(kind, n, ...)  the hidden size whose TaskModel has closest to n parameters
"""

import torch
from torch import nn

from rnnbook.modules._validation import check_positive_int, check_tensor
from rnnbook.modules.min_rnn import MinRNN
from rnnbook.shapes import check_shape, check_tokens

__all__ = ["TASK_KINDS", "TaskModel", "matched_hidden_size"]


TASK_KINDS = ("gru", "lstm", "mingru", "minlstm")


class TaskModel(nn.Module):
    """Embedding, recurrent layers and a linear head: one model for the four kinds of layer.

    Args:
        kind: ``"gru"`` or ``"lstm"`` (``torch.nn.GRU``/``LSTM``, batch first), ``"mingru"`` or
            ``"minlstm"`` (:class:`MinRNN`).
        hidden_size: H.  output_size: C, the outputs (regression values or logits) per prediction.
        vocab_size: V for token input (B, T) int64, embedded by ``nn.Embedding(V, E)``; or
        input_size: D for float input (B, T, D), embedded by ``nn.Linear(D, E)``. Exactly one.
        embed_size: E (default 16).  num_layers: L stacked layers (default 1).
        per_step: predict at every step (B, T, C) instead of from the final state (B, C).

    Call:
        ``model(x)`` returns (B, T, C) if ``per_step`` else (B, C), from the last layer's states.
    """

    def __init__(self, kind, hidden_size, output_size, *, vocab_size=None, input_size=None,
                 embed_size=16, num_layers=1, per_step=False):
        super().__init__()
        if kind not in TASK_KINDS:
            raise ValueError(f"kind: expected one of {TASK_KINDS}, got {kind!r}")
        if (vocab_size is None) == (input_size is None):
            raise ValueError("vocab_size, input_size: give exactly one (token or float input)")
        E = check_positive_int("embed_size", embed_size)
        H = check_positive_int("hidden_size", hidden_size)
        L = check_positive_int("num_layers", num_layers)
        self.kind, self.per_step = kind, bool(per_step)
        if vocab_size is not None:
            self.vocab_size = check_positive_int("vocab_size", vocab_size)
            self.embed = nn.Embedding(self.vocab_size, E)
        else:
            self.vocab_size = None
            self.embed = nn.Linear(check_positive_int("input_size", input_size), E)
        if kind in ("gru", "lstm"):
            cls = nn.GRU if kind == "gru" else nn.LSTM
            self.rnn = cls(E, H, num_layers=L, batch_first=True)
        else:
            self.rnn = MinRNN(E, H, kind=kind[3:], num_layers=L)
        self.head = nn.Linear(H, check_positive_int("output_size", output_size))

    def forward(self, x):
        if self.vocab_size is not None:
            if not isinstance(x, torch.Tensor) or x.dtype != torch.int64 or x.dim() != 2:
                got = (f"{tuple(x.shape)} {x.dtype}" if isinstance(x, torch.Tensor)
                       else type(x).__name__)
                raise ValueError(f"x: expected an int64 tensor of shape (B, T), got {got}")
            check_tokens("x", x, self.vocab_size)
        else:
            check_tensor("x", x, like=("weight", self.embed.weight))
            check_shape("x", x, ("B", "T", "D"), {"D": (self.embed.in_features, "input_size")})
        outputs, _ = self.rnn(self.embed(x))
        return self.head(outputs if self.per_step else outputs[:, -1])


def matched_hidden_size(kind, num_parameters, *, max_hidden=4096, **model_kwargs):
    """The hidden size H whose :class:`TaskModel` has the parameter count closest to a target.

    Args:
        kind: as in :class:`TaskModel`.  num_parameters: the target count, a positive integer.
        max_hidden: the largest H tried.
        **model_kwargs: ``output_size`` and the keywords of :class:`TaskModel`.

    Returns:
        int H (the smaller one on a tie). The count grows with H, so this is a bisection.
    """
    target = check_positive_int("num_parameters", num_parameters)

    def count(H):
        return sum(p.numel() for p in TaskModel(kind, H, **model_kwargs).parameters())

    low, high = 1, check_positive_int("max_hidden", max_hidden)
    while low < high:  # the smallest H with count(H) >= target
        middle = (low + high) // 2
        if count(middle) >= target:
            high = middle
        else:
            low = middle + 1
    if low > 1 and target - count(low - 1) <= count(low) - target:
        return low - 1
    return low
