"""rnnbook.data.language_id: Sphinx catalogues, the split by message, the character vocabulary."""

from collections import Counter

import numpy as np
import pytest

from rnnbook.data.language_id import CharVocab, load_language_id, normalise, read_catalogue


@pytest.fixture(scope="module")
def data():
    return load_language_id(("fr", "es", "pl"))


def test_parts_are_deterministic_and_labelled(data):
    again = load_language_id(("fr", "es", "pl"))
    assert again["train"] == data["train"] and again["test"] == data["test"]
    assert data["languages"] == ("fr", "es", "pl")
    for part in ("train", "valid", "test"):
        assert {label for _, label in data[part]} == {0, 1, 2}
        assert all(8 <= len(text) <= 64 for text, _ in data[part])
    n = sum(len(data[p]) for p in ("train", "valid", "test"))
    assert 0.6 < len(data["train"]) / n < 0.8


def test_placeholders_are_removed(data):
    texts = [t for p in ("train", "valid", "test") for t, _ in data[p]]
    assert not any("%s" in t or "%(" in t or "{0}" in t for t in texts)


def test_split_is_by_message():
    fr, es = read_catalogue("fr"), read_catalogue("es")
    common = sorted(set(fr) & set(es))
    data = load_language_id(("fr", "es"), max_chars=1000, min_chars=1)
    from rnnbook.data.language_id import _clean, _part
    names = ("train", "valid", "test")
    # a French text is kept in its message's part unless a near-duplicate (same normalised key)
    # exists in Spanish or in another French message
    es_keys = {normalise(_clean(t).strip()) for t in es.values()}
    fr_count = Counter(normalise(_clean(t).strip()) for t in fr.values())
    found = 0
    for original in common[:150]:
        part = names[_part(original)]
        fr_text = _clean(fr[original]).strip()
        key = normalise(fr_text)
        if key and key not in es_keys and fr_count[key] == 1:
            assert (fr_text, 0) in data[part]
            found += 1
    assert found > 80


def test_identical_strings_are_deduplicated():
    # "Important", "Variables", "Copyright" ... are written the same in several catalogues, and
    # some texts are shared by two messages of one catalogue: each text must occur exactly once
    data = load_language_id()
    texts = [t for p in ("train", "valid", "test") for t, _ in data[p]]
    assert len(texts) == len(set(texts))
    raw_fr, raw_es = read_catalogue("fr"), read_catalogue("es")
    from rnnbook.data.language_id import _clean
    shared = {_clean(t).strip() for t in raw_fr.values()} & \
        {_clean(t).strip() for t in raw_es.values()}
    assert shared and not shared & set(texts)


def test_normalise_drops_case_punctuation_and_spacing():
    assert normalise("[Gràfica: ]") == normalise("gràfica") == "gràfica"
    assert normalise("Versió del projecte") == normalise("versió del  projecte.")
    assert normalise("Índice") != normalise("Indice")          # accents are letters
    with pytest.raises(ValueError, match="text"):
        normalise(None)


def test_near_duplicates_do_not_straddle_the_split():
    # different English messages often have near-identical translations: after lower-casing and
    # removing punctuation and spacing, no key may occur twice in the data (so not in two parts)
    data = load_language_id()
    keys = [normalise(t) for p in ("train", "valid", "test") for t, _ in data[p]]
    assert len(keys) == len(set(keys))
    train = {normalise(t) for t, _ in data["train"]}
    assert not train & {normalise(t) for t, _ in data["test"]}
    ca = {_clean_text for _clean_text in read_catalogue("ca").values()}
    assert {"Versió del projecte", "versió del projecte"} <= ca     # both in the catalogue
    kept = [t for p in ("train", "valid", "test") for t, _ in data[p]
            if normalise(t) == normalise("versió del projecte")]
    assert len(kept) == 1


@pytest.mark.parametrize("kwargs", [dict(languages=("fr",)), dict(languages=("fr", "fr")),
                                    dict(languages=("fr", "xx")), dict(max_chars=0),
                                    dict(min_chars=1.5)])
def test_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        load_language_id(**kwargs)


def test_char_vocab_pads_and_marks_unknowns():
    vocab = CharVocab.build(["abc", "ab"])
    assert len(vocab) == 5
    tokens, lengths = vocab.encode_batch(["ab", "cza"])
    assert tokens.shape == (2, 3) and lengths.tolist() == [2, 3]
    assert tokens[0, 2] == 0 and tokens[1, 1] == 1 and tokens.dtype == np.int64
    with pytest.raises(ValueError):
        vocab.encode("")
    with pytest.raises(ValueError):
        vocab.encode_batch([])
