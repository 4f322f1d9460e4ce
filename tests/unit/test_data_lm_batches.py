"""Tests of rnnbook.data.lm_batches: held-out split, TBPTT windows, word vocabulary."""

import numpy as np
import pytest
import torch

from rnnbook.data.lm_batches import (
    TBPTTBatches,
    WordVocab,
    copied_fraction,
    eval_windows,
    split_held_out,
    stream_rows,
    tokenize_words,
)


def test_split_held_out_keeps_the_end_in_one_piece():
    train, held = split_held_out("abcdefghij", 0.2)
    assert (train, held) == ("abcdefgh", "ij")
    a, b = split_held_out(list(range(100)), 0.1)
    assert a == list(range(90)) and b == list(range(90, 100))
    with pytest.raises(ValueError, match="fraction"):
        split_held_out("abc", 1.5)
    with pytest.raises(ValueError, match="seq"):
        split_held_out("ab", 0.1)


def test_stream_rows_are_contiguous_pieces():
    rows = stream_rows(torch.arange(23), 4)
    assert rows.shape == (4, 5)
    assert torch.equal(rows.reshape(-1), torch.arange(20))
    with pytest.raises(ValueError, match="batch_size"):
        stream_rows(torch.arange(10), 0)
    with pytest.raises(ValueError, match="ids"):
        stream_rows(torch.zeros(3, 3, dtype=torch.long), 2)
    with pytest.raises(ValueError, match="ids"):
        stream_rows(torch.zeros(10), 2)


def test_tbptt_windows_continue_each_other_and_targets_shift_by_one():
    ids = torch.arange(1000)
    batches = TBPTTBatches(ids, 4, 10)
    windows = list(batches)
    assert len(windows) == len(batches) == (250 - 1) // 10
    for j, (x, y) in enumerate(windows):
        assert x.shape == y.shape == (4, 10)
        assert torch.equal(y, x + 1)
        if j:
            assert torch.equal(x[:, 0], windows[j - 1][0][:, -1] + 1)
    assert torch.equal(batches(len(batches))[0], windows[0][0])
    assert batches.starts_epoch(0) and batches.starts_epoch(len(batches))
    assert not batches.starts_epoch(1)
    with pytest.raises(ValueError, match="bptt"):
        TBPTTBatches(ids, 4, 0)
    with pytest.raises(ValueError, match="bptt"):
        TBPTTBatches(ids, 4, 500)


def test_eval_windows_predict_every_target_once_from_the_previous_id():
    ids = torch.arange(5, 105)
    windows = eval_windows(ids, 37, 3, 8)
    ys = torch.cat([y[m] for _, y, m in windows])
    xs = torch.cat([x[m] for x, _, m in windows])
    assert sorted(ys.tolist()) == list(range(42, 105))
    assert torch.equal(xs + 1, ys)
    assert all(x.shape == (3, 8) for x, _, _ in windows)
    with pytest.raises(ValueError, match="start"):
        eval_windows(ids, 0, 3, 8)


def test_tokenize_words():
    assert tokenize_words("Don't use x[0]!\nOK") == \
        ["don't", "use", "x", "[", "0", "]", "!", "\n", "ok"]
    with pytest.raises(ValueError, match="text"):
        tokenize_words(3)


def test_word_vocab_from_training_tokens_only_maps_new_words_to_unk():
    train = "the cat sat on the mat the end".split()
    vocab = WordVocab.build(train, min_count=1)
    assert vocab.words[0] == "<unk>" and vocab.words[1] == "the"
    ids = vocab.encode(["the", "dog", "sat"])
    assert ids.tolist() == [1, 0, vocab.words.index("sat")]
    assert vocab.decode(ids) == ["the", "<unk>", "sat"]
    assert vocab.unknown_rate(["dog", "cat"]) == 0.5
    rare = WordVocab.build(train, min_count=2)
    assert rare.words == ("<unk>", "the")
    assert len(WordVocab.build(train, min_count=1, max_size=3)) == 3
    with pytest.raises(ValueError, match="min_count"):
        WordVocab.build(train, min_count=0)
    with pytest.raises(ValueError, match="words"):
        WordVocab(["a", "b"])
    with pytest.raises(ValueError, match="tokens"):
        vocab.unknown_rate([])
    assert np.issubdtype(ids.numpy().dtype, np.integer)


def test_copied_fraction_counts_characters_inside_long_copies():
    train = "0123456789abcdefghij"
    assert copied_fraction(train, "XYZ", 4) == 0.0
    # "4567" (4 chars) is copied, "xy" is new: 4 of 6 characters
    assert copied_fraction(train, "x4567y", 4) == pytest.approx(4 / 6)
    # a 3-character match is too short at length 4
    assert copied_fraction(train, "x456y", 4) == 0.0
    # overlapping windows cover a longer copy once per character
    assert copied_fraction(train, "abcdefg!", 3) == pytest.approx(7 / 8)
    assert copied_fraction(train, train, 64) == 0.0   # shorter than the length
    with pytest.raises(ValueError, match="length"):
        copied_fraction(train, "abc", 0)
    with pytest.raises(ValueError, match="held_text"):
        copied_fraction(train, "", 3)
