"""Data for language models: a held-out split, contiguous streams for truncated BPTT, words.

    split_held_out(seq, fraction=0.1)      the first part for training, the last for held-out
    copied_fraction(train, held, length)   share of held-out characters copied from training
    stream_rows(ids, batch_size)           (T,) -> (B, T // B): B contiguous rows of one text
    TBPTTBatches(ids, batch_size, bptt)    windows (x, y) of shape (B, bptt), in reading order
    eval_windows(context, targets, B, bptt) held-out windows (x, y, mask) covering every target
    tokenize_words(text)                   lower-cased words, numbers, punctuation and newlines
    WordVocab.build(tokens, min_count)     the words of the *training* tokens, plus ``<unk>``

Truncated BPTT reads a long text as ``B`` parallel streams: row ``b`` of :func:`stream_rows` is
the ``b``-th consecutive piece of the text. Window ``j`` holds the columns ``j*bptt ..
(j+1)*bptt - 1`` of every row, so window ``j + 1`` continues exactly where window ``j`` ended:
the hidden state at the end of one window is the right initial state for the next.
"""

import collections
import numbers
import re

import numpy as np
import torch

__all__ = ["TBPTTBatches", "WordVocab", "copied_fraction", "eval_windows", "split_held_out",
           "stream_rows", "tokenize_words"]


def _positive_int(name, value):
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name}: expected a positive integer, got {value!r}")
    return int(value)


def _as_ids(name, ids):
    if isinstance(ids, np.ndarray | list | tuple):
        ids = torch.as_tensor(np.asarray(ids))
    if not isinstance(ids, torch.Tensor):
        raise ValueError(f"{name}: expected a 1-D integer array or tensor, got "
                         f"{type(ids).__name__}")
    if ids.dim() != 1:
        raise ValueError(f"{name}: expected shape (T,), got shape {tuple(ids.shape)}")
    if ids.is_floating_point() or ids.dtype == torch.bool:
        raise ValueError(f"{name}: expected integer token ids, got dtype {ids.dtype}")
    return ids.long()


def copied_fraction(train_text, held_text, length=64):
    """The fraction of held-out characters inside a string of ``length`` or more characters
    that also occurs, verbatim, in the training text.

    A held-out position counts when some window ``held_text[i:i + length]`` covering it is a
    substring of ``train_text``. Nil means no passage of ``length`` characters was copied.

    Args:
        train_text, held_text: str.
        length: int >= 1, the shortest copy that counts.

    Returns:
        float in [0, 1].
    """
    length = _positive_int("length", length)
    if not isinstance(train_text, str) or not isinstance(held_text, str) or not held_text:
        raise ValueError("train_text, held_text: expected two str, the held-out one not empty")
    seen = {train_text[i:i + length] for i in range(len(train_text) - length + 1)}
    covered = np.zeros(len(held_text) + 1, dtype=np.int64)
    for i in range(len(held_text) - length + 1):
        if held_text[i:i + length] in seen:
            covered[i] += 1
            covered[i + length] -= 1
    return float(np.count_nonzero(np.cumsum(covered)[:-1]) / len(held_text))


def split_held_out(seq, fraction=0.1):
    """Split a text (str) or a 1-D sequence of ids at ``1 - fraction`` of its length.

    The held-out part is the *end* of the sequence, in one piece: a language model is judged on
    text it continues, never on characters interleaved with its training text.

    Returns:
        (train, held_out), of lengths ``len - n`` and ``n = round(fraction * len)``.
    """
    if not (isinstance(fraction, numbers.Real) and 0 < fraction < 1):
        raise ValueError(f"fraction: expected a number in (0, 1), got {fraction!r}")
    n = int(round(fraction * len(seq)))
    if n < 1 or n >= len(seq):
        raise ValueError(f"seq: too short ({len(seq)} items) to hold out a fraction {fraction}")
    return seq[:len(seq) - n], seq[len(seq) - n:]


def stream_rows(ids, batch_size):
    """The text ``ids`` (T,) cut into ``batch_size`` contiguous rows: shape (B, T // B).

    The last ``T % B`` ids are dropped.
    """
    ids = _as_ids("ids", ids)
    batch_size = _positive_int("batch_size", batch_size)
    width = ids.numel() // batch_size
    if width < 2:
        raise ValueError(f"ids: {ids.numel()} ids are too few for {batch_size} rows of at least "
                         "2 ids")
    return ids[:width * batch_size].reshape(batch_size, width)


class TBPTTBatches:
    """Windows ``(x, y)`` of shape ``(B, bptt)`` for truncated BPTT, in reading order.

    ``y`` is ``x`` shifted by one position in the same row. Iterating yields the windows of one
    pass over the text (an epoch); calling ``batches(step)`` gives window ``step % len(batches)``,
    so a budget in steps wraps around the text. ``starts_epoch(step)`` tells when a pass begins
    (the place to reset a carried state).

    Args:
        ids: 1-D integer ids (T,).
        batch_size: B, the number of parallel streams.
        bptt: the number of steps per window (the truncation length).
    """

    def __init__(self, ids, batch_size, bptt):
        self.bptt = _positive_int("bptt", bptt)
        self.rows = stream_rows(ids, batch_size)
        self.num_windows = (self.rows.shape[1] - 1) // self.bptt
        if self.num_windows < 1:
            raise ValueError(f"bptt: {bptt} is longer than the rows of {self.rows.shape[1]} ids")

    def __len__(self):
        return self.num_windows

    def window(self, j):
        """Window ``j`` (0-based): ``x = rows[:, j*bptt : (j+1)*bptt]``, ``y`` one step later."""
        start = j * self.bptt
        return (self.rows[:, start:start + self.bptt],
                self.rows[:, start + 1:start + 1 + self.bptt])

    def starts_epoch(self, step):
        return step % self.num_windows == 0

    def __call__(self, step):
        return self.window(step % self.num_windows)

    def __iter__(self):
        for j in range(self.num_windows):
            yield self.window(j)


def eval_windows(ids, start, batch_size, bptt):
    """Held-out windows in which every id from position ``start`` on is predicted exactly once.

    The targets ``ids[start:]`` are cut into ``batch_size`` contiguous rows (padded at the end);
    the input of each target is the id before it (so the first target's input is ``ids[start-1]``,
    the last id of the training text when ``ids`` is train + held-out).

    Returns:
        list of ``(x, y, mask)``, each of shape ``(B, bptt)``; ``mask`` is False on padding. Read
        the windows in order and carry the state from one to the next.
    """
    ids = _as_ids("ids", ids)
    batch_size, bptt = _positive_int("batch_size", batch_size), _positive_int("bptt", bptt)
    if not isinstance(start, numbers.Integral) or not 1 <= start < ids.numel():
        raise ValueError(f"start: expected an integer in [1, {ids.numel()}), got {start!r}")
    inputs, targets = ids[start - 1:-1], ids[start:]
    n = targets.numel()
    width = -(-n // batch_size)
    width = -(-width // bptt) * bptt
    pad = width * batch_size - n
    mask = torch.cat([torch.ones(n, dtype=torch.bool), torch.zeros(pad, dtype=torch.bool)])
    x = torch.cat([inputs, torch.zeros(pad, dtype=torch.long)]).reshape(batch_size, width)
    y = torch.cat([targets, torch.zeros(pad, dtype=torch.long)]).reshape(batch_size, width)
    mask = mask.reshape(batch_size, width)
    return [(x[:, s:s + bptt], y[:, s:s + bptt], mask[:, s:s + bptt])
            for s in range(0, width, bptt)]


# ---------------------------------------------------------------------------------------------
# Words
# ---------------------------------------------------------------------------------------------

_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?|\d+|\n|[^\sa-z\d]")


def tokenize_words(text):
    """Lower-cased tokens: words (with an inner apostrophe), digit runs, single punctuation
    characters, and ``"\\n"`` for each line break. Other white space separates tokens.

    Example: ``tokenize_words("Don't use x[0]!\\n")`` ->
    ``["don't", "use", "x", "[", "0", "]", "!", "\\n"]``.
    """
    if not isinstance(text, str):
        raise ValueError(f"text: expected a str, got {type(text).__name__}")
    return _WORD.findall(text.lower())


class WordVocab:
    """A word vocabulary with an unknown-word token ``<unk>`` (id 0).

    Build it from the *training* tokens only (:meth:`build`): a word seen fewer than
    ``min_count`` times there, and every word of the held-out text that training never saw, maps
    to ``<unk>``, so the held-out evaluation gives no credit for knowing its own words.

    Attributes:
        words: tuple of the V tokens, ``words[0] == "<unk>"``, then by falling count (ties
            alphabetical).
    """

    UNK = "<unk>"

    def __init__(self, words):
        words = tuple(words)
        if not words or words[0] != self.UNK:
            raise ValueError(f"words: expected a sequence starting with {self.UNK!r}")
        if len(set(words)) != len(words):
            raise ValueError("words: expected distinct words")
        self.words = words
        self._index = {w: i for i, w in enumerate(words)}

    @classmethod
    def build(cls, tokens, min_count=2, max_size=None):
        """The vocabulary of ``tokens`` (a list of str): words seen at least ``min_count`` times,
        at most ``max_size`` of them (``<unk>`` included) when given."""
        min_count = _positive_int("min_count", min_count)
        if max_size is not None:
            max_size = _positive_int("max_size", max_size)
        counts = collections.Counter(tokens)
        counts.pop(cls.UNK, None)
        kept = sorted((w for w, c in counts.items() if c >= min_count),
                      key=lambda w: (-counts[w], w))
        if max_size is not None:
            kept = kept[:max_size - 1]
        return cls([cls.UNK, *kept])

    def __len__(self):
        return len(self.words)

    def __contains__(self, word):
        return word in self._index

    def encode(self, tokens):
        """tokens (list of str, length T) -> int64 tensor (T,); unknown words -> 0."""
        return torch.tensor([self._index.get(w, 0) for w in tokens], dtype=torch.long)

    def decode(self, ids):
        """ids (T,) -> list of str."""
        return [self.words[int(i)] for i in ids]

    def unknown_rate(self, tokens):
        """The fraction of ``tokens`` that map to ``<unk>``."""
        if not tokens:
            raise ValueError("tokens: expected at least one token")
        return sum(w not in self._index for w in tokens) / len(tokens)
