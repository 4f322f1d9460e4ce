"""Language identification of short texts taken from Sphinx's installed translation catalogues.

    LANGUAGES                          the default languages (Sphinx locale codes)
    load_language_id(languages, max_chars=64, min_chars=8)
        -> dict with "train", "valid", "test": lists of (text, label), and "languages"
    CharVocab.build(texts)             characters of the training texts; 0 = padding, 1 = unknown
    CharVocab.encode_batch(texts)      -> tokens (N, T_max) int64, lengths (N,) int64

Sphinx ships its user interface in many languages as gettext catalogues
(``sphinx/locale/<code>/LC_MESSAGES/sphinx.po``); each translated message is a short real text in
that language, and the messages are the same in every catalogue. The split is made by *message*
(a hash of the English original decides), so the French and the Spanish translations of one
message land in the same part and no part shares a message, with its names and format strings,
with another. Placeholders such as ``%s``, ``%(name)s`` and ``{0}`` are removed. Near-duplicates
are deduplicated: texts that are equal after lower-casing and removing punctuation and spacing
(``normalise``) count as one, so no such text occurs twice, nor in two parts, nor with two labels.
Different English messages often have near-identical translations ("Versió del projecte" and
"versió del projecte"), so splitting by message alone would let them straddle the split.
"""

import hashlib
import numbers
import pathlib
import re

import numpy as np

__all__ = ["LANGUAGES", "CharVocab", "load_language_id", "normalise", "read_catalogue"]

LANGUAGES = ("ca", "es", "fr", "pl", "pt_BR", "tr")
PAD, UNK = 0, 1
_PLACEHOLDER = re.compile(r"%\([^)]*\)[-#0 +]*\d*(?:\.\d+)?[a-zA-Z]|%[-#0 +]*\d*(?:\.\d+)?[a-zA-Z%]"
                          r"|\{[^{}]*\}")


def _locale_dir():
    import sphinx

    return pathlib.Path(sphinx.__file__).parent / "locale"


def read_catalogue(language):
    """The translated messages of Sphinx's catalogue for ``language``: dict original -> text.

    Untranslated and fuzzy entries are skipped; plural entries contribute their first form.
    """
    from babel.messages.pofile import read_po

    path = _locale_dir() / language / "LC_MESSAGES" / "sphinx.po"
    if not path.is_file():
        raise ValueError(f"language: no Sphinx catalogue for {language!r} (looked for "
                         f"sphinx/locale/{language}/LC_MESSAGES/sphinx.po)")
    with open(path, "rb") as handle:
        catalogue = read_po(handle)
    messages = {}
    for message in catalogue:
        if not message.id or message.fuzzy:
            continue
        original = message.id if isinstance(message.id, str) else message.id[0]
        text = message.string if isinstance(message.string, str) else (message.string or [""])[0]
        if text:
            messages[original] = text
    return messages


def _clean(text):
    text = _PLACEHOLDER.sub(" ", text)
    text = re.sub(r"\s+", " ", text).strip(" .:,;…")
    return text


def normalise(text):
    """The key under which near-duplicate texts coincide: lower case, letters and digits only.

    ``normalise("[Gràfica: ]") == normalise("gràfica") == "gràfica"``.
    """
    if not isinstance(text, str):
        raise ValueError(f"text: expected a string, got {type(text).__name__}")
    return "".join(c for c in text.casefold() if c.isalnum())


def _part(original):
    """0 (train), 1 (valid) or 2 (test) from a hash of the message: 70 / 15 / 15 %."""
    bucket = int(hashlib.sha256(original.encode("utf-8")).hexdigest()[:8], 16) % 20
    return 0 if bucket < 14 else 1 if bucket < 17 else 2


def load_language_id(languages=LANGUAGES, max_chars=64, min_chars=8):
    """Short texts labelled with their language, split by message into train / valid / test.

    Args:
        languages: Sphinx locale codes (at least two, distinct).
        max_chars: texts are cut to their first ``max_chars`` characters (positive integer).
        min_chars: texts shorter than this after cleaning are dropped (positive integer).

    Returns:
        dict with ``"languages"`` (tuple, the label of a text is its index here) and ``"train"``,
        ``"valid"``, ``"test"``: lists of ``(text, label)``, in a fixed order (by language, then
        by the original message). Texts count as one when their ``normalise`` keys are equal;
        every key occurs once in all three lists together: keys shared by two of the languages
        are dropped, and a key shared by several texts of one language is kept once, with its
        first text in the order above, in the earliest part (train, valid, test) that one of
        them falls in. The same arguments always give the same data.
    """
    languages = tuple(languages)
    if len(languages) < 2 or len(set(languages)) != len(languages):
        raise ValueError(f"languages: expected at least two distinct codes, got {languages!r}")
    for name, value in (("max_chars", max_chars), ("min_chars", min_chars)):
        if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name}: expected a positive integer, got {value!r}")
    rows = []
    for label, language in enumerate(languages):
        messages = read_catalogue(language)
        for original in sorted(messages):
            text = _clean(messages[original])[:max_chars].strip()
            if len(text) >= min_chars:
                rows.append((text, label, _part(original)))
    # Near-duplicates share a key. A key written in two languages ("Important", "Variables") has
    # no single right label and is dropped; a key that several texts share in one language is
    # kept once, in the earliest part one of them falls in, so no key is in two parts.
    labels, first = {}, {}
    for text, label, part in rows:
        key = normalise(text)
        labels.setdefault(key, set()).add(label)
        first[key] = min(first.get(key, part), part)
    parts = {"train": [], "valid": [], "test": []}
    names = ("train", "valid", "test")
    kept = set()
    for text, label, part in rows:
        key = normalise(text)
        if len(labels[key]) == 1 and part == first[key] and key not in kept:
            kept.add(key)
            parts[names[part]].append((text, label))
    return {"languages": languages, **parts}


class CharVocab:
    """Characters to ids: 0 is padding, 1 an unknown character, 2.. the training characters."""

    def __init__(self, chars):
        self.chars = list(chars)
        self.index = {c: i + 2 for i, c in enumerate(self.chars)}

    @classmethod
    def build(cls, texts):
        """The vocabulary of ``texts`` (the training texts only), characters sorted."""
        return cls(sorted({c for text in texts for c in text}))

    def __len__(self):
        return len(self.chars) + 2

    def encode(self, text):
        """``text`` as an int64 array of ids, shape ``(len(text),)``; unseen characters are 1."""
        if not isinstance(text, str) or not text:
            raise ValueError(f"text: expected a non-empty string, got {text!r}")
        return np.array([self.index.get(c, UNK) for c in text], dtype=np.int64)

    def encode_batch(self, texts):
        """Pad the encoded ``texts`` at the end: tokens ``(N, T_max)`` int64, lengths ``(N,)``."""
        if not texts:
            raise ValueError("texts: expected a non-empty list of strings")
        encoded = [self.encode(t) for t in texts]
        lengths = np.array([len(e) for e in encoded], dtype=np.int64)
        tokens = np.full((len(encoded), lengths.max()), PAD, dtype=np.int64)
        for n, e in enumerate(encoded):
            tokens[n, :len(e)] = e
        return tokens, lengths
