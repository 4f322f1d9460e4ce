"""rnnbook.data.dates: dates in human formats and languages, with their ISO 8601 form."""

import datetime

import pytest

from rnnbook.data.dates import FORMATS, ONLY, Seq2SeqVocab, make_dates, month_names, render_date


def test_month_names_from_cldr():
    wide, short, days = month_names("fr")
    assert wide[1] == "février" and len(wide) == len(short) == 12 and days[0] == "lundi"
    assert month_names("de")[0][2] == "märz"
    with pytest.raises(ValueError):
        month_names("not a locale")


@pytest.mark.parametrize("template, language, expected", [
    ("{d} {month} {yyyy}", "es", "3 agosto 1999"),
    ("{dd}.{mm}.{yy}", "de", "03.08.99"),
    ("{yyyy}{mm}{dd}", "en", "19990803"),
    ("{weekday} {d} {month} {yyyy}", "fr", "mardi 3 août 1999"),
    ("{month} {d}, {yyyy}", "en", "august 3, 1999"),
])
def test_render_date(template, language, expected):
    assert render_date(datetime.date(1999, 8, 3), template, language) == expected


def test_make_dates_is_deterministic_and_correct():
    pairs = make_dates(300, seed=5)
    assert pairs == make_dates(300, seed=5) and pairs != make_dates(300, seed=6)
    for text, iso, template in pairs:
        date = datetime.date.fromisoformat(iso)
        assert 1950 <= date.year <= 2049 and template in FORMATS
        assert any(render_date(date, template, lang) == text
                   for lang in ONLY.get(template, ("en", "fr", "de", "es", "it", "pt", "nl")))


def test_two_digit_years_are_unambiguous():
    for text, iso, template in make_dates(500, seed=1):
        if "{yy}" in template:
            assert iso[2:4] in text


@pytest.mark.parametrize("kwargs", [dict(n=0), dict(n=5, first_year=1900),
                                    dict(n=5, last_year=2050),
                                    dict(n=5, first_year=2000, last_year=1990)])
def test_make_dates_rejects_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        make_dates(**kwargs)


def test_seq2seq_vocab_round_trip():
    vocab = Seq2SeqVocab("0123456789-")
    tokens, lengths = vocab.encode_batch(["1999-08-03", "2000"], start=True, end=True)
    assert tokens.shape == (2, 12) and lengths.tolist() == [12, 6]
    assert tokens[0, 0] == vocab.START and tokens[0, 11] == vocab.END and tokens[1, 6] == vocab.PAD
    assert vocab.decode(tokens[0, 1:]) == "1999-08-03"
    assert vocab.encode("x") == [vocab.UNK]
    with pytest.raises(ValueError):
        render_date("1999-08-03", "{d}")
