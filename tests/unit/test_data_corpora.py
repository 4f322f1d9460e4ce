"""rnnbook.data.corpora: the pydoc corpus, the character vocabulary and the n-gram model."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnbook.data.corpora import (
    CharNGram,
    CharVocab,
    load_pydoc_text,
    load_pydoc_topics,
    split_pydoc_topics,
)


@pytest.fixture(scope="module")
def text():
    return load_pydoc_text()


# ------------------------------------------------------------------------------ load_pydoc_text

def test_pydoc_text_is_long_ascii_english(text):
    assert isinstance(text, str) and len(text) > 200_000
    assert text.isascii() and text.endswith("\n") and not text.startswith("\n")
    assert set(text) <= {chr(c) for c in range(32, 127)} | {"\n"}
    assert "assert" in text and " the " in text


def test_pydoc_text_is_normalised(text):
    assert "\n\n\n" not in text and "\t" not in text and "\r" not in text
    assert all(line == line.rstrip() for line in text.split("\n"))
    lines = set(text.split("\n"))
    assert not any(len(line) >= 3 and set(line) in ({"*"}, {"="}) for line in lines)  # underlines
    assert load_pydoc_text() == text                # deterministic


def test_pydoc_text_can_keep_unicode():
    raw = load_pydoc_text(ascii_only=False)
    assert len(raw) >= len(load_pydoc_text()) * 0.99


def test_pydoc_text_rejects_a_bad_flag():
    with pytest.raises(ValueError, match="ascii_only"):
        load_pydoc_text(ascii_only="yes")


# ---------------------------------------------------------------------------------- CharVocab

def test_vocab_from_text_is_sorted_and_round_trips(text):
    vocab = CharVocab.from_text(text)
    assert list(vocab.chars) == sorted(set(text))
    assert len(vocab) == vocab.size == len(set(text))
    ids = vocab.encode(text)
    assert ids.dtype == np.int64 and ids.shape == (len(text),)
    assert ids.min() >= 0 and ids.max() < len(vocab)
    assert vocab.decode(ids) == text


def test_encode_matches_a_dictionary_lookup():
    vocab = CharVocab("zyx ab")                    # explicit order: ids follow it
    assert vocab.chars == ("z", "y", "x", " ", "a", "b")
    assert vocab.encode("ab zx").tolist() == [4, 5, 3, 0, 2]
    assert vocab.index("x") == 2 and "a" in vocab and "q" not in vocab


def test_decode_accepts_lists_arrays_tensors_and_scalars():
    vocab = CharVocab.from_text("hello world")
    ids = vocab.encode("hello")
    assert vocab.decode(ids.tolist()) == "hello"
    assert vocab.decode(torch.from_numpy(ids)) == "hello"
    assert vocab.decode(ids.astype(np.int32)) == "hello"
    assert vocab.decode(int(ids[0])) == "h"
    assert vocab.decode(np.int64(ids[1])) == "e"
    assert vocab.decode([]) == "" and vocab.encode("").shape == (0,)


def test_unknown_characters_are_rejected_with_position():
    vocab = CharVocab.from_text("abc")
    with pytest.raises(ValueError) as info:
        vocab.encode("abXcY")
    message = str(info.value)
    assert "'X'" in message and "position 2" in message and "2 unknown" in message
    with pytest.raises(ValueError, match="not in the vocabulary"):
        vocab.index("z")


def test_non_ascii_vocabularies_work():
    vocab = CharVocab.from_text("naïve café 😀")
    assert vocab.decode(vocab.encode("café 😀")) == "café 😀"
    with pytest.raises(ValueError, match="'é'"):
        CharVocab.from_text("abc").encode("é")


@pytest.mark.parametrize("ids, words", [
    ([0, 3], r"\[0, 3\)"),
    ([-1], r"\[0, 3\)"),
    (np.array([0.0, 1.0]), "integer"),
    (np.array([[0, 1]]), r"shape \(T,\)"),
    (True, "bool"),
    (np.array([True, False]), "bool"),
])
def test_decode_rejects_bad_ids(ids, words):
    with pytest.raises(ValueError, match=words):
        CharVocab("abc").decode(ids)


@pytest.mark.parametrize("chars, words", [
    ("", "at least one"),
    (["a", "bc"], "single character"),
    (["a", 1], "single character"),
    ("aba", "appears twice"),
    (5, "sequence of single characters"),
])
def test_vocab_rejects_bad_character_lists(chars, words):
    with pytest.raises(ValueError, match=words):
        CharVocab(chars)


@pytest.mark.parametrize("text, words", [("", "non-empty"), (b"abc", "str"), (None, "str")])
def test_from_text_rejects_bad_text(text, words):
    with pytest.raises(ValueError, match=words):
        CharVocab.from_text(text)


def test_encode_rejects_non_strings():
    with pytest.raises(ValueError, match="expected a str"):
        CharVocab("abc").encode(["a", "b"])


def test_vocab_equality_and_rebuild():
    vocab = CharVocab.from_text("the cat")
    assert CharVocab(vocab.chars) == vocab and hash(CharVocab(vocab.chars)) == hash(vocab)
    assert CharVocab("ab") != CharVocab("ba")
    assert "size=6" in repr(vocab)


@settings(max_examples=60, deadline=None)
@given(st.text(min_size=1, max_size=200))
def test_round_trip_on_any_text(sample):
    vocab = CharVocab.from_text(sample)
    assert vocab.decode(vocab.encode(sample)) == sample


# ---------------------------------------------------------------------------------- CharNGram

def test_ngram_probabilities_sum_to_one():
    rng = np.random.default_rng(0)
    ids = rng.integers(0, 5, size=300)
    model = CharNGram(2, 5, alpha=0.5).fit(ids)
    # score every possible next character after one fixed context
    contexts = np.array([[ids[0], ids[1], c] for c in range(5)])
    total = sum(2.0 ** model.log2_prob(row)[0] for row in contexts)
    assert np.isclose(total, 1.0)
    unseen = np.array([[4, 4, c] for c in range(5)])      # likely unseen context: still sums to 1
    assert np.isclose(sum(2.0 ** model.log2_prob(row)[0] for row in unseen), 1.0)


def test_ngram_matches_hand_counts():
    ids = np.array([0, 1, 0, 1, 0, 2])
    model = CharNGram(1, 3, alpha=1.0).fit(ids)
    # after 0: next is 1 twice, 2 once -> (2 + 1) / (3 + 3)
    assert np.isclose(model.log2_prob([0, 1])[0], np.log2(3 / 6))
    assert np.isclose(model.log2_prob([2, 0])[0], np.log2(1 / 3))    # context 2 never seen
    assert model.num_contexts == 2
    assert model.unseen_fraction([0, 1, 2, 0]) == pytest.approx(1 / 3)
    assert model.log2_prob(ids).shape == (5,)


def test_order_zero_is_the_character_frequencies():
    ids = np.array([0, 0, 0, 1])
    model = CharNGram(0, 2, alpha=1e-9).fit(ids)
    assert np.isclose(model.cross_entropy(ids), -(0.75 * np.log2(0.75) + 0.25 * np.log2(0.25)))


def test_ngram_learns_a_deterministic_sequence():
    ids = np.tile(np.arange(4), 50)
    model = CharNGram(1, 4, alpha=0.01).fit(ids)
    assert model.cross_entropy(ids) < 0.05 < CharNGram(0, 4).fit(ids).cross_entropy(ids)


@pytest.mark.parametrize("kwargs, words", [
    ({"order": -1, "vocab_size": 3}, "order"),
    ({"order": 1.5, "vocab_size": 3}, "order"),
    ({"order": 1, "vocab_size": 0}, "vocab_size"),
    ({"order": 1, "vocab_size": 3, "alpha": 0}, "alpha"),
    ({"order": 20, "vocab_size": 100}, "too large"),
])
def test_ngram_rejects_bad_settings(kwargs, words):
    with pytest.raises(ValueError, match=words):
        CharNGram(**kwargs)


def test_ngram_rejects_bad_ids_and_use_before_fit():
    model = CharNGram(2, 3)
    with pytest.raises(ValueError, match="fit"):
        model.log2_prob([0, 1, 2])
    with pytest.raises(ValueError, match="at least 3"):
        model.fit([0, 1])
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        model.fit([0, 1, 5])
    with pytest.raises(ValueError, match=r"shape \(T,\)"):
        model.fit(np.zeros((2, 3), dtype=int))


# --------------------------------------------------------------------------- split_pydoc_topics

@pytest.fixture(scope="module")
def split():
    return split_pydoc_topics()


def test_topics_join_to_the_text(text):
    topics = load_pydoc_topics()
    assert list(topics) == sorted(topics) and len(topics) == 79
    assert "\n\n".join(topics.values()) + "\n" == text


def test_split_holds_out_whole_topics_and_about_the_fraction(split, text):
    held, train = split["held_topics"], split["train_topics"]
    assert set(held).isdisjoint(train) and len(held) + len(train) == 79
    fraction = len(split["held_text"]) / (len(split["held_text"]) + len(split["train_text"]))
    assert 0.10 <= fraction <= 0.11
    topics = load_pydoc_topics()
    assert split["held_text"] == "\n\n".join(topics[n] for n in held) + "\n"
    # the text less the blank line between the two parts, plus the final newline of each part
    assert len(split["held_text"]) + len(split["train_text"]) == len(text) - 1


def test_split_leaves_no_copied_passage_across(split):
    train, held = split["train_text"], split["held_text"]
    windows = {train[i:i + 64] for i in range(len(train) - 63)}
    assert not any(held[i:i + 64] in windows for i in range(len(held) - 63))
    assert set(held) <= set(train)                      # no character is new in the held-out part


def test_a_naive_split_by_position_would_copy_passages(text):
    # the reason for the topic split: the last 10 % of the text repeats long training passages
    cut = int(0.9 * len(text))
    train, held = text[:cut], text[cut:]
    windows = {train[i:i + 64] for i in range(len(train) - 63)}
    copied = sum(held[i:i + 64] in windows for i in range(0, len(held) - 63, 16))
    assert copied / ((len(held) - 63) // 16) > 0.05


def test_validation_part_is_whole_topics_without_copies_of_the_fitted_part(split):
    three = split_pydoc_topics(valid=0.1)
    assert three["held_text"] == split["held_text"] and three["train_text"] == split["train_text"]
    fit, valid = three["fit_topics"], three["valid_topics"]
    assert set(fit).isdisjoint(valid) and set(fit) | set(valid) == set(split["train_topics"])
    assert 0.10 <= len(three["valid_text"]) / len(split["train_text"]) <= 0.11
    windows = {three["fit_text"][i:i + 64] for i in range(len(three["fit_text"]) - 63)}
    valid_text = three["valid_text"]
    assert not any(valid_text[i:i + 64] in windows for i in range(len(valid_text) - 63))


@pytest.mark.parametrize("kwargs, match", [({"held_out": 0}, "held_out"),
                                           ({"valid": 0}, "valid"),
                                           ({"valid": 0.7}, "valid"),
                                           ({"held_out": 0.9}, "held_out"),
                                           ({"min_copy": 8}, "min_copy"),
                                           ({"min_copy": 64.0}, "min_copy"),
                                           ({"ascii_only": 1}, "ascii_only")])
def test_split_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        split_pydoc_topics(**kwargs)
