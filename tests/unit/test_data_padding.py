"""rnnbook.data.padding: padding, masks and the last valid state, checked against torch."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnbook.data.padding import last_valid, length_mask, pad_sequences


def test_pad_sequences_features():
    seqs = [np.ones((3, 2)), 2 * np.ones((1, 2)), 3 * np.ones((4, 2))]
    padded, lengths = pad_sequences(seqs)
    assert padded.shape == (3, 4, 2) and padded.dtype == np.float64
    assert lengths.tolist() == [3, 1, 4] and lengths.dtype == np.int64
    assert np.all(padded[0, :3] == 1) and np.all(padded[0, 3:] == 0)
    assert np.all(padded[1, 1:] == 0)
    expected = torch.nn.utils.rnn.pad_sequence([torch.from_numpy(s) for s in seqs],
                                               batch_first=True)
    assert np.array_equal(padded, expected.numpy())


def test_pad_sequences_tokens_and_pad_value():
    padded, lengths = pad_sequences([[5, 6, 7], [8]], pad_value=-1)
    assert padded.tolist() == [[5, 6, 7], [8, -1, -1]]
    assert np.issubdtype(padded.dtype, np.integer)
    assert lengths.tolist() == [3, 1]


def test_pad_sequences_widens_dtype_for_a_float_pad_value():
    padded, _ = pad_sequences([[1, 2], [3]], pad_value=0.5)
    assert padded.dtype.kind == "f" and padded[1, 1] == 0.5


def test_pad_sequences_accepts_torch_tensors():
    padded, lengths = pad_sequences([torch.ones(2, 3), torch.zeros(5, 3)])
    assert isinstance(padded, np.ndarray) and padded.shape == (2, 5, 3)
    assert lengths.tolist() == [2, 5]


@pytest.mark.parametrize("seqs, words", [
    ([], "empty list"),
    ([np.ones((2, 3)), np.ones((0, 3))], "seqs[1]"),
    ([np.ones((2, 3)), np.ones((2, 4))], "feature shape"),
    ([np.float64(1.0)], "scalar"),
    (np.ones((2, 3)), "list"),
    ([[1, 2], [[3]]], "seqs[1]"),
])
def test_pad_sequences_rejects(seqs, words):
    with pytest.raises(ValueError, match=words.replace("[", r"\[").replace("]", r"\]")):
        pad_sequences(seqs)


def test_length_mask():
    mask = length_mask([2, 4, 1], 4)
    assert mask.dtype == bool and mask.shape == (3, 4)
    assert mask.astype(int).tolist() == [[1, 1, 0, 0], [1, 1, 1, 1], [1, 0, 0, 0]]
    assert length_mask(torch.tensor([1, 3]), 3).sum() == 4


@pytest.mark.parametrize("lengths, T, words", [
    ([2, 5], 4, "lengths: expected every length <= T = 4"),
    ([0, 2], 4, "length >= 1"),
    ([[1, 2]], 4, "shape"),
    (np.array([], dtype=int), 4, "shape"),
    ([1.0, 2.0], 4, "integers"),
    ([1, 2], 0, "T: expected a positive integer"),
    ([1, 2], 2.0, "T: expected a positive integer"),
])
def test_length_mask_rejects(lengths, T, words):
    with pytest.raises(ValueError, match=words):
        length_mask(np.asarray(lengths), T)


def test_last_valid_numpy_and_torch():
    h = np.arange(2 * 3 * 2, dtype=float).reshape(2, 3, 2)
    assert last_valid(h, [1, 3]).tolist() == [h[0, 0].tolist(), h[1, 2].tolist()]
    ht = torch.from_numpy(h).requires_grad_()
    out = last_valid(ht, np.array([2, 1]))
    assert isinstance(out, torch.Tensor) and out.shape == (2, 2)
    out.sum().backward()                       # keeps the autograd graph
    assert ht.grad[0, 1].tolist() == [1.0, 1.0] and ht.grad[0, 0].tolist() == [0.0, 0.0]


@pytest.mark.parametrize("h, lengths, words", [
    (np.zeros((2, 3, 4)), [1, 4], "<= T = 3"),
    (np.zeros((2, 3, 4)), [1, 2, 3], r"\(N,\) = \(2,\)"),
    (np.zeros(3), [1], "h: expected"),
    (np.zeros((2, 3, 4)), [0, 1], ">= 1"),
])
def test_last_valid_rejects(h, lengths, words):
    with pytest.raises(ValueError, match=words):
        last_valid(h, lengths)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(1, 7), min_size=1, max_size=6), st.integers(1, 3))
def test_last_valid_equals_packed_final_state(lengths, D):
    """The gathered state of a padded run is the final state of a packed run (and of each alone)."""
    torch.manual_seed(len(lengths) * 10 + D)
    rng = np.random.default_rng(sum(lengths))
    seqs = [rng.normal(size=(T, D)) for T in lengths]
    padded, lens = pad_sequences(seqs)
    rnn = torch.nn.RNN(D, 4, batch_first=True, dtype=torch.float64)
    with torch.no_grad():
        out, _ = rnn(torch.from_numpy(padded))
        packed = torch.nn.utils.rnn.pack_padded_sequence(
            torch.from_numpy(padded), torch.from_numpy(lens), batch_first=True,
            enforce_sorted=False)
        _, h_packed = rnn(packed)
    assert torch.allclose(last_valid(out, lens), h_packed[0], atol=1e-12)
    mask = length_mask(lens, padded.shape[1])
    assert mask.sum() == sum(lengths)
    assert np.all(padded[~mask] == 0)
