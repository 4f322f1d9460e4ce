"""rnnbook.models.classifier: masked readouts and packed sequences make padding harmless."""

import pytest
import torch

from rnnbook.models.classifier import SequenceClassifier, masked_last, masked_mean


def test_masked_last_and_mean():
    out = torch.arange(24.0).reshape(2, 4, 3)
    lengths = torch.tensor([2, 4])
    assert torch.equal(masked_last(out, lengths), torch.stack([out[0, 1], out[1, 3]]))
    assert torch.allclose(masked_mean(out, lengths), torch.stack([out[0, :2].mean(0),
                                                                  out[1].mean(0)]))


@pytest.mark.parametrize("lengths", [torch.tensor([0, 2]), torch.tensor([5, 2]),
                                     torch.tensor([1.0, 2.0]), torch.tensor([1, 2, 3])])
def test_masked_last_rejects_bad_lengths(lengths):
    with pytest.raises(ValueError):
        masked_last(torch.zeros(2, 4, 3), lengths)


@pytest.mark.parametrize("cell", ["gru", "lstm", "rnn"])
@pytest.mark.parametrize("readout", ["last", "mean"])
@pytest.mark.parametrize("packed", [True, False])
def test_prediction_does_not_depend_on_padding(cell, readout, packed):
    torch.manual_seed(0)
    model = SequenceClassifier(10, 3, 4, 5, cell=cell, readout=readout, packed=packed)
    tokens = torch.tensor([[3, 4, 5, 0, 0], [6, 7, 8, 9, 2]])
    lengths = torch.tensor([3, 5])
    batched = model(tokens, lengths)
    alone = model(tokens[:1, :3], lengths[:1])
    assert torch.allclose(batched[0], alone[0], atol=1e-6)


def test_padded_end_readout_depends_on_padding():
    torch.manual_seed(0)
    model = SequenceClassifier(10, 3, 4, 5, readout="padded_end", packed=False)
    tokens = torch.tensor([[3, 4, 5, 0, 0], [6, 7, 8, 9, 2]])
    batched = model(tokens, torch.tensor([3, 5]))
    alone = model(tokens[:1, :3], torch.tensor([3]))
    assert not torch.allclose(batched[0], alone[0], atol=1e-4)


def test_bidirectional_packed_is_padding_invariant():
    torch.manual_seed(0)
    model = SequenceClassifier(10, 3, 4, 5, bidirectional=True)
    tokens = torch.tensor([[3, 4, 5, 0], [6, 7, 8, 9]])
    batched = model(tokens, torch.tensor([3, 4]))
    assert torch.allclose(batched[0], model(tokens[:1, :3], torch.tensor([3]))[0], atol=1e-6)


@pytest.mark.parametrize("kwargs", [dict(cell="tcn"), dict(readout="first"), dict(hidden_size=0)])
def test_bad_constructor_arguments(kwargs):
    with pytest.raises(ValueError):
        SequenceClassifier(10, 3, **kwargs)


@pytest.mark.parametrize("tokens", [torch.zeros(2, 3), torch.tensor([[1, 2, 10]]),
                                    torch.tensor([1, 2])])
def test_bad_tokens(tokens):
    with pytest.raises(ValueError):
        SequenceClassifier(10, 3)(tokens, torch.tensor([2] * (tokens.shape[0] if tokens.ndim == 2
                                                              else 1)))
