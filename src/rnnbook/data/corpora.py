"""Text corpora shipped with the package, a character vocabulary, and a character n-gram model.

    load_pydoc_text()           the English help texts of Python's ``pydoc_data``, normalised
    load_pydoc_topics()         the same, one text per help topic
    split_pydoc_topics()        training and held-out text by whole topics, no copies across
    CharVocab.from_text(text)   the sorted set of characters of ``text``, as a vocabulary
    vocab.encode(text)          str -> int64 ids of shape (T,)
    vocab.decode(ids)           ids of shape (T,) -> str
    CharNGram(order, V).fit(ids)  a count model of the next character given the previous ``order``

Nothing is downloaded, and nothing depends on the Python that runs the book: the help topics
(the text behind ``help("assert")`` and friends) are read from a snapshot of Python 3.11.7's
``pydoc_data.topics`` that ships with the package (``data/snapshots/``, with its licence). The
standard library's own copy changes with every patch release (3.11.2's is 1,612 characters
longer), so reading it would change the book's numbers from one machine to the next.
"""

import hashlib
import json
import lzma
import numbers
import pathlib
import re
import unicodedata

import numpy as np

from rnnbook.shapes import check_tokens

__all__ = ["CharNGram", "CharVocab", "load_pydoc_text", "load_pydoc_topics", "split_pydoc_topics"]

SNAPSHOTS = pathlib.Path(__file__).parent / "snapshots"
# The help topics of Python 3.11.7 (``pydoc_data.topics.topics``), as sorted JSON, xz-compressed.
PYDOC_TOPICS = SNAPSHOTS / "pydoc_topics.json.xz"
PYDOC_TOPICS_SHA256 = "00cd729de8406210fa9746b150851489cf11d5e122db4d1ca8a626f17b4be639"

# Typographic characters of the help texts and their plain-ASCII spelling.
_TYPOGRAPHY = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"',
    "\u2013": "-", "\u2014": "--", "\u00df": "ss", "\u00b0": " degrees",
})
# A line made of one repeated markup character: a reStructuredText heading underline.
_UNDERLINE = re.compile(r"^([*=\-~^#])\1{2,}$", re.MULTILINE)


def read_snapshot(path, sha256):
    """The bytes of a data file that ships with the package, after checking its SHA-256.

    Raises:
        ValueError: if the file is missing or its checksum is not ``sha256`` (a damaged or
            edited copy: reinstall the package, e.g. ``git checkout -- src/rnnbook/data``).
    """
    try:
        blob = pathlib.Path(path).read_bytes()
    except FileNotFoundError:
        raise ValueError(f"{path}: the data snapshot is missing; reinstall rnnbook "
                         "(or restore the file from the repository)") from None
    digest = hashlib.sha256(blob).hexdigest()
    if digest != sha256:
        raise ValueError(f"{path}: SHA-256 {digest}, expected {sha256}; the snapshot is damaged "
                         "or was changed: restore it from the repository (git checkout -- "
                         "src/rnnbook/data/snapshots)")
    return blob


def _normalise(text, ascii_only):
    text = unicodedata.normalize("NFKC", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n").expandtabs(4)
    if ascii_only:
        text = text.translate(_TYPOGRAPHY)
        text = text.encode("ascii", errors="ignore").decode("ascii")
    text = _UNDERLINE.sub("", text)
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n")


def load_pydoc_topics(ascii_only=True):
    """The help topics of Python 3.11.7's ``pydoc_data``, each normalised as in
    :func:`load_pydoc_text`: a dict from topic name (``"assert"``, ``"with"``, ...) to its text
    (no leading or trailing newline), in the order of the names."""
    if not isinstance(ascii_only, bool):
        raise ValueError(f"ascii_only: expected True or False, got {ascii_only!r}")
    topics = json.loads(lzma.decompress(read_snapshot(PYDOC_TOPICS, PYDOC_TOPICS_SHA256)))
    return {name: _normalise(topics[name], ascii_only) for name in sorted(topics)}


def load_pydoc_text(ascii_only=True):
    """The help topics of Python 3.11.7's ``pydoc_data`` as one normalised English text.

    The topics come from the snapshot shipped with the package (its checksum is checked), so
    every Python 3.11.x gives the same text: 460,604 characters with ``ascii_only``.

    The topics are joined in the order of their names, separated by a blank line, and
    normalised: Unicode compatibility forms are folded (NFKC, so an ellipsis becomes ``...``),
    heading underlines such as ``*****`` are removed, trailing spaces are stripped, tabs become
    four spaces and runs of blank lines become one blank line. With ``ascii_only`` (the default)
    typographic quotes and dashes are replaced by their ASCII spelling and the few remaining
    non-ASCII characters are removed, so the text uses at most the 95 printable ASCII characters
    and the newline.

    Args:
        ascii_only: bool; keep only ASCII characters (see above).

    Returns:
        str, about half a million characters long, ending with a newline.
    """
    return "\n\n".join(load_pydoc_topics(ascii_only).values()) + "\n"


def _copy_groups(topics, min_copy):
    """Topic names grouped so that two topics sharing a verbatim string of ``min_copy``
    characters are in one group (union-find over the shared windows)."""
    parent = {name: name for name in topics}

    def root(name):
        while parent[name] != name:
            parent[name] = parent[parent[name]]
            name = parent[name]
        return name

    first_seen = {}
    for name, text in topics.items():
        for start in range(len(text) - min_copy + 1):
            other = first_seen.setdefault(text[start:start + min_copy], name)
            if other != name:
                parent[root(name)] = root(other)
    groups = {}
    for name in topics:
        groups.setdefault(root(name), []).append(name)
    return list(groups.values())


def _hold_out_groups(topics, fraction, min_copy):
    """Names of whole copy groups of ``topics`` holding about ``fraction`` of their characters.

    Groups are taken from the end of the alphabet (ordered by their last topic's name); a group
    that would take the share past 1.1 ``fraction`` is passed over.
    """
    total = sum(len(text) for text in topics.values())
    held, held_size = set(), 0
    for group in sorted(_copy_groups(topics, min_copy), key=max, reverse=True):
        size = sum(len(topics[name]) for name in group)
        if held_size + size <= 1.1 * fraction * total:   # a group too large is passed over
            held.update(group)
            held_size += size
        if held_size >= fraction * total:
            break
    return held


def _join_topics(topics, names):
    return "\n\n".join(topics[n] for n in names) + "\n"


def split_pydoc_topics(held_out=0.1, min_copy=64, ascii_only=True, valid=None):
    """The help text split by whole topics, with no copied passage on both sides of the split.

    The documentation repeats itself: the topic ``while`` is a section of ``compound``, copied
    word for word. A split by position would put such copies on both sides, and a held-out score
    would partly measure memory of the training text. Here topics that share any string of
    ``min_copy`` characters are grouped first; whole groups are then held out, taken from the end
    of the alphabet (groups ordered by their last topic's name, a group that would take the
    held-out part past 1.1 ``held_out`` passed over), until at least ``held_out`` of the
    characters are held out. Both parts keep the order of the names.

    With ``valid``, the training topics are split once more in the same way into a fitting part
    and a validation part (about ``valid`` of the training characters), for choosing settings on
    text that shares no copied passage with the text fitted, as the held-out text does.

    Args:
        held_out: fraction of the characters to hold out, in (0, 0.5].
        min_copy: length of the shortest shared string that ties two topics together (>= 16).
        ascii_only: as in :func:`load_pydoc_text`.
        valid: None, or the fraction of the training characters to set apart, in (0, 0.5].

    Returns:
        dict with ``train_text`` and ``held_text`` (str, topics joined by a blank line, each
        ending with a newline) and ``train_topics``, ``held_topics`` (tuples of names); with
        ``valid`` also ``fit_text``, ``valid_text``, ``fit_topics``, ``valid_topics`` (the
        training topics in two parts, same form).
    """
    if not (isinstance(held_out, numbers.Real) and 0 < held_out <= 0.5):
        raise ValueError(f"held_out: expected a fraction in (0, 0.5], got {held_out!r}")
    if not isinstance(min_copy, numbers.Integral) or isinstance(min_copy, bool) or min_copy < 16:
        raise ValueError(f"min_copy: expected an integer >= 16, got {min_copy!r}")
    if valid is not None and not (isinstance(valid, numbers.Real) and 0 < valid <= 0.5):
        raise ValueError(f"valid: expected None or a fraction in (0, 0.5], got {valid!r}")
    topics = load_pydoc_topics(ascii_only)
    held = _hold_out_groups(topics, held_out, int(min_copy))
    train_names = tuple(name for name in topics if name not in held)
    held_names = tuple(name for name in topics if name in held)
    split = {"train_text": _join_topics(topics, train_names),
             "held_text": _join_topics(topics, held_names),
             "train_topics": train_names, "held_topics": held_names}
    if valid is not None:
        train_topics = {name: topics[name] for name in train_names}
        set_apart = _hold_out_groups(train_topics, valid, int(min_copy))
        fit_names = tuple(name for name in train_names if name not in set_apart)
        valid_names = tuple(name for name in train_names if name in set_apart)
        split.update(fit_text=_join_topics(topics, fit_names),
                     valid_text=_join_topics(topics, valid_names),
                     fit_topics=fit_names, valid_topics=valid_names)
    return split


class CharVocab:
    """A vocabulary of single characters: character ``chars[i]`` has the id ``i``.

    Build one from a text with :meth:`from_text` (the sorted set of its characters) or from an
    explicit sequence of characters, e.g. ``CharVocab(vocab.chars)`` to rebuild a saved one.
    Encoding a character that is not in the vocabulary raises ``ValueError``: the vocabulary of
    a model is fixed once it is trained, and a silent replacement would hide the problem.

    Attributes:
        chars: tuple of the ``V`` characters, in id order.
    """

    def __init__(self, chars):
        if isinstance(chars, str):
            chars = list(chars)
        try:
            chars = tuple(chars)
        except TypeError:
            raise ValueError(
                f"chars: expected a sequence of single characters, got {type(chars).__name__}"
            ) from None
        if not chars:
            raise ValueError("chars: expected at least one character, got an empty sequence")
        for i, ch in enumerate(chars):
            if not isinstance(ch, str) or len(ch) != 1:
                raise ValueError(f"chars[{i}]: expected a single character, got {ch!r}")
        seen = {}
        for i, ch in enumerate(chars):
            if ch in seen:
                raise ValueError(
                    f"chars: the character {ch!r} appears twice (at {seen[ch]} and {i}); "
                    "each character needs exactly one id"
                )
            seen[ch] = i
        self._chars = chars
        self._stoi = seen
        codes = np.array([ord(ch) for ch in chars], dtype=np.int64)
        self._codes = codes
        self._order = np.argsort(codes, kind="stable")
        self._sorted_codes = codes[self._order]

    @classmethod
    def from_text(cls, text):
        """The vocabulary of the distinct characters of ``text``, sorted by code point."""
        if not isinstance(text, str):
            raise ValueError(f"text: expected a str, got {type(text).__name__}")
        if not text:
            raise ValueError("text: expected a non-empty str, got ''")
        return cls(sorted(set(text)))

    @property
    def chars(self):
        """The characters, in id order (a tuple)."""
        return self._chars

    @property
    def size(self):
        """``V``, the number of characters."""
        return len(self._chars)

    def __len__(self):
        return len(self._chars)

    def __contains__(self, ch):
        return ch in self._stoi

    def __eq__(self, other):
        return isinstance(other, CharVocab) and self._chars == other._chars

    def __hash__(self):
        return hash(self._chars)

    def __repr__(self):
        preview = "".join(self._chars[:20])
        more = "..." if len(self._chars) > 20 else ""
        return f"CharVocab(size={len(self._chars)}, chars={preview!r}{more})"

    def index(self, ch):
        """The id of the single character ``ch``; ValueError if it is unknown."""
        if not isinstance(ch, str) or len(ch) != 1:
            raise ValueError(f"ch: expected a single character, got {ch!r}")
        if ch not in self._stoi:
            raise ValueError(f"ch: the character {ch!r} is not in the vocabulary of "
                             f"{len(self)} characters")
        return self._stoi[ch]

    def encode(self, text):
        """Map a string to its ids.

        Args:
            text: str of length ``T`` (may be empty).

        Returns:
            int64 array of shape ``(T,)`` with entries in ``[0, V)``.

        Raises:
            ValueError: if ``text`` is not a str, or holds characters outside the vocabulary
                (the message names the first one, its position and how many there are).
        """
        if not isinstance(text, str):
            raise ValueError(f"text: expected a str, got {type(text).__name__}")
        if not text:
            return np.zeros(0, dtype=np.int64)
        codes = np.frombuffer(text.encode("utf-32-le", errors="surrogatepass"),
                              dtype="<u4").astype(np.int64)
        pos = np.searchsorted(self._sorted_codes, codes)
        pos_clipped = np.minimum(pos, len(self._sorted_codes) - 1)
        known = self._sorted_codes[pos_clipped] == codes
        if not known.all():
            unknown = np.flatnonzero(~known)
            first = int(unknown[0])
            distinct = sorted({text[i] for i in unknown})
            listing = "".join(distinct[:10]) + ("..." if len(distinct) > 10 else "")
            raise ValueError(
                f"text: the character {text[first]!r} at position {first} is not in the "
                f"vocabulary of {len(self)} characters ({len(unknown)} unknown in all, "
                f"{len(distinct)} distinct: {listing!r}); build the vocabulary from a text that "
                "contains them, or clean the text first"
            )
        return self._order[pos_clipped].astype(np.int64)

    def decode(self, ids):
        """Map ids back to a string.

        Args:
            ids: integer array-like of shape ``(T,)`` (a list, NumPy array or torch tensor),
                entries in ``[0, V)``; a single integer is decoded as one character.

        Returns:
            str of length ``T``.

        Raises:
            ValueError: for non-integer ids, ids outside ``[0, V)``, or more than one axis.
        """
        if isinstance(ids, bool):
            raise ValueError("ids: expected integer token ids, got a bool")
        if isinstance(ids, numbers.Integral):
            ids = [int(ids)]
        if hasattr(ids, "detach"):
            ids = ids.detach().cpu().numpy()
        array = np.asarray(ids)
        if array.ndim != 1:
            raise ValueError(f"ids: expected shape (T,), got shape {array.shape}")
        if array.size == 0:
            return ""
        if array.dtype == bool:
            raise ValueError("ids: expected integer token ids, got dtype bool")
        check_tokens("ids", array, len(self))
        return self._codes[array].astype("<u4").tobytes().decode("utf-32-le",
                                                                  errors="surrogatepass")


def _ids(name, ids, vocab_size, min_length):
    if hasattr(ids, "detach"):
        ids = ids.detach().cpu().numpy()
    array = np.asarray(ids)
    if array.ndim != 1:
        raise ValueError(f"{name}: expected shape (T,), got shape {array.shape}")
    if array.size < min_length:
        raise ValueError(f"{name}: expected at least {min_length} ids (the context of the first "
                         f"prediction and one target), got {array.size}")
    check_tokens(name, array, vocab_size)
    return array.astype(np.int64)


class CharNGram:
    """A count model of the next character given the previous ``order`` characters.

    ``P(x_t = c | context) = (n(context, c) + alpha) / (n(context) + alpha * V)``, where the
    context is ``x_{t-order}, ..., x_{t-1}`` and ``n`` counts the training text ("add-alpha"
    smoothing, so unseen pairs keep a small probability). ``order = 0`` uses no context: the
    character frequencies. The model is a fixed-window predictor: nothing older than ``order``
    characters can influence it, and the number of possible contexts is ``V ** order``.

    Args:
        order: ``k >= 0``, the number of preceding characters used.
        vocab_size: ``V >= 1``; ids are integers in ``[0, V)`` (e.g. from :class:`CharVocab`).
        alpha: smoothing count added to every (context, character) pair, > 0.

    Example:
        ``CharNGram(3, len(vocab)).fit(train_ids).cross_entropy(test_ids)`` gives bits per
        character on ``test_ids[3:]`` (the first 3 ids only serve as context).
    """

    def __init__(self, order, vocab_size, alpha=0.1):
        if not isinstance(order, numbers.Integral) or isinstance(order, bool) or order < 0:
            raise ValueError(f"order: expected an integer >= 0, got {order!r}")
        if not isinstance(vocab_size, numbers.Integral) or isinstance(vocab_size, bool) or \
                vocab_size < 1:
            raise ValueError(f"vocab_size: expected a positive integer, got {vocab_size!r}")
        if not (isinstance(alpha, numbers.Real) and alpha > 0):
            raise ValueError(f"alpha: expected a number > 0, got {alpha!r}")
        if int(vocab_size) ** (int(order) + 1) >= 2**62:
            raise ValueError(f"order: {order} is too large for vocab_size = {vocab_size}: the "
                             "(context, character) keys would not fit in 64-bit integers")
        self.order, self.vocab_size, self.alpha = int(order), int(vocab_size), float(alpha)
        self._pairs = self._pair_counts = self._contexts = self._context_counts = None

    def _keys(self, ids):
        k, V = self.order, self.vocab_size
        context = np.zeros(ids.size - k, dtype=np.int64)
        for j in range(k):
            context = context * V + ids[j: ids.size - k + j]
        return context, context * V + ids[k:]

    def fit(self, ids):
        """Count the (context, next character) pairs of ``ids`` (shape (T,), T > order)."""
        ids = _ids("ids", ids, self.vocab_size, self.order + 1)
        context, pair = self._keys(ids)
        self._pairs, self._pair_counts = np.unique(pair, return_counts=True)
        self._contexts, self._context_counts = np.unique(context, return_counts=True)
        return self

    @property
    def num_contexts(self):
        """The number of distinct contexts seen in training (at most ``V ** order``)."""
        self._check_fitted()
        return int(self._contexts.size)

    def _check_fitted(self):
        if self._pairs is None:
            raise ValueError("CharNGram: call fit(ids) before using the model")

    @staticmethod
    def _lookup(keys, counts, query):
        pos = np.minimum(np.searchsorted(keys, query), keys.size - 1)
        return np.where(keys[pos] == query, counts[pos], 0)

    def log2_prob(self, ids):
        """``log2 P(ids[t] | ids[t-order:t])`` for ``t = order .. T-1``: shape ``(T - order,)``."""
        self._check_fitted()
        ids = _ids("ids", ids, self.vocab_size, self.order + 1)
        context, pair = self._keys(ids)
        n_pair = self._lookup(self._pairs, self._pair_counts, pair)
        n_context = self._lookup(self._contexts, self._context_counts, context)
        return np.log2((n_pair + self.alpha) / (n_context + self.alpha * self.vocab_size))

    def cross_entropy(self, ids):
        """Mean number of bits per predicted character of ``ids[order:]``."""
        return float(-self.log2_prob(ids).mean())

    def unseen_fraction(self, ids):
        """The fraction of the contexts in ``ids`` (one per prediction) never seen in training."""
        self._check_fitted()
        ids = _ids("ids", ids, self.vocab_size, self.order + 1)
        context, _ = self._keys(ids)
        return float(np.mean(self._lookup(self._contexts, self._context_counts, context) == 0))
