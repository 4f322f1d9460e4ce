"""Dates written the way people write them, in several languages, with their ISO 8601 form.

    DATE_LANGUAGES                      the languages whose month names are used (CLDR codes)
    FORMATS                             the templates, e.g. "{d} {month} {yyyy}", "{dd}.{mm}.{yy}"
    render_date(date, template, language)  one date written with one template
    make_dates(n, seed, first_year=1950, last_year=2049)
        -> list of (text, iso, template) with iso = "YYYY-MM-DD"
    Seq2SeqVocab(chars)                  ids: 0 pad, 1 start, 2 end, 3 unknown, 4.. characters

Month names (wide and abbreviated, lower-cased) come from Babel's copy of the Unicode CLDR data, so
"3 févr. 2024", "7 märz 1961" and "12 de agosto de 1999" are real spellings. Two-digit years ``yy``
mean 1950-2049 (``50`` is 1950, ``49`` is 2049), so every text has exactly one answer; numeric
templates always put the day before the month (or follow ISO's year-month-day order), never the
American month/day, which would make "03/04" ambiguous.
"""

import datetime
import numbers

import numpy as np

__all__ = ["DATE_LANGUAGES", "FORMATS", "ONLY", "Seq2SeqVocab", "make_dates", "month_names",
           "render_date"]

DATE_LANGUAGES = ("en", "fr", "de", "es", "it", "pt", "nl")
FORMATS = (
    "{d} {month} {yyyy}",
    "{d} {mon} {yyyy}",
    "{month} {d}, {yyyy}",
    "{mon} {d} {yy}",
    "{dd} {month} {yy}",
    "{d}. {month} {yyyy}",
    "{d} de {month} de {yyyy}",
    "{dd}.{mm}.{yyyy}",
    "{d}/{m}/{yy}",
    "{dd}-{mm}-{yyyy}",
    "{yyyy}/{mm}/{dd}",
    "{yyyy}{mm}{dd}",
    "{weekday} {d} {month} {yyyy}",
    "{weekday}, {mon} {d}, {yyyy}",
    "{weekday} {dd}.{mm}.{yy}",
)
# templates that only one or two languages use; the others are used with every language
ONLY = {"{month} {d}, {yyyy}": ("en",), "{weekday}, {mon} {d}, {yyyy}": ("en",),
        "{d}. {month} {yyyy}": ("de",), "{d} de {month} de {yyyy}": ("es", "pt")}
_NAMES = {}


def month_names(language):
    """Month names (wide, abbreviated) and weekday names of ``language`` from CLDR, lower-cased.

    Returns three lists: 12 wide month names, 12 abbreviated ones, 7 weekdays from Monday.
    """
    if language not in _NAMES:
        from babel import Locale, UnknownLocaleError

        try:
            locale = Locale.parse(language)
        except (UnknownLocaleError, ValueError, TypeError) as error:
            raise ValueError(f"language: expected a CLDR locale code, got {language!r}") from error
        months, days = locale.months["format"], locale.days["format"]["wide"]
        _NAMES[language] = ([months["wide"][m].lower() for m in range(1, 13)],
                            [months["abbreviated"][m].lower() for m in range(1, 13)],
                            [days[d].lower() for d in range(7)])
    return _NAMES[language]


def render_date(date, template, language="en"):
    """Write ``date`` (a ``datetime.date``) with ``template`` (from :data:`FORMATS` or alike).

    Fields: ``{d}`` day, ``{dd}`` two-digit day, ``{m}``/``{mm}`` month, ``{yy}``/``{yyyy}`` year,
    ``{month}``/``{mon}`` the wide/abbreviated month name in ``language``, ``{weekday}`` the day
    of the week.
    """
    if not isinstance(date, datetime.date):
        raise ValueError(f"date: expected a datetime.date, got {type(date).__name__}")
    wide, short, weekdays = month_names(language)
    return template.format(d=date.day, dd=f"{date.day:02d}", m=date.month,
                           mm=f"{date.month:02d}", yy=f"{date.year % 100:02d}",
                           yyyy=f"{date.year:04d}", month=wide[date.month - 1],
                           mon=short[date.month - 1], weekday=weekdays[date.weekday()])


def make_dates(n, seed=0, first_year=1950, last_year=2049, formats=FORMATS,
               languages=DATE_LANGUAGES):
    """``n`` random dates, each written in a random template and language, with its ISO form.

    Dates are uniform over the days from 1 January ``first_year`` to 31 December ``last_year``
    (two-digit years need 1950-2049). The language is drawn among those that write the template
    (see :data:`ONLY`); numeric templates ignore it.

    Returns:
        list of ``(text, iso, template)``; the same ``seed`` gives the same list.
    """
    if not isinstance(n, numbers.Integral) or isinstance(n, bool) or n < 1:
        raise ValueError(f"n: expected a positive integer, got {n!r}")
    if not (isinstance(first_year, int) and isinstance(last_year, int)
            and 1950 <= first_year <= last_year <= 2049):
        raise ValueError(f"first_year, last_year: expected 1950 <= first_year <= last_year <= "
                         f"2049, got {first_year!r}, {last_year!r}")
    rng = np.random.default_rng(seed)
    start = datetime.date(first_year, 1, 1).toordinal()
    stop = datetime.date(last_year, 12, 31).toordinal()
    days = rng.integers(start, stop + 1, size=n)
    which = rng.integers(0, len(formats), size=n)
    picks = rng.random(size=n)
    out = []
    for day, f, pick in zip(days, which, picks, strict=True):
        date = datetime.date.fromordinal(int(day))
        allowed = [lang for lang in languages if lang in ONLY.get(formats[f], languages)]
        if not allowed:
            raise ValueError(f"languages: none of {languages!r} writes {formats[f]!r}")
        text = render_date(date, formats[f], allowed[int(pick * len(allowed))])
        out.append((text, date.isoformat(), formats[f]))
    return out


class Seq2SeqVocab:
    """Characters to ids for sequence-to-sequence models: 0 pad, 1 start, 2 end, 3 unknown."""

    PAD, START, END, UNK = 0, 1, 2, 3

    def __init__(self, chars):
        self.chars = sorted(set(chars))
        self.index = {c: i + 4 for i, c in enumerate(self.chars)}

    def __len__(self):
        return len(self.chars) + 4

    def encode(self, text, start=False, end=False):
        """Ids of ``text`` (unknown characters 3), optionally framed by start and end ids."""
        ids = [self.index.get(c, self.UNK) for c in text]
        return ([self.START] if start else []) + ids + ([self.END] if end else [])

    def encode_batch(self, texts, start=False, end=False):
        """Padded ids ``(N, T_max)`` int64 and lengths ``(N,)`` of the encoded ``texts``."""
        if not texts:
            raise ValueError("texts: expected a non-empty list of strings")
        encoded = [self.encode(t, start, end) for t in texts]
        lengths = np.array([len(e) for e in encoded], dtype=np.int64)
        if lengths.min() < 1:
            raise ValueError("texts: expected non-empty strings")
        tokens = np.zeros((len(texts), lengths.max()), dtype=np.int64)
        for i, e in enumerate(encoded):
            tokens[i, :len(e)] = e
        return tokens, lengths

    def decode(self, ids):
        """Characters of ``ids`` up to (not including) the first end id; special ids dropped."""
        out = []
        for i in ids:
            i = int(i)
            if i == self.END:
                break
            if i >= 4:
                out.append(self.chars[i - 4])
        return "".join(out)
