"""The data the book trains on does not move: shipped snapshots and data of pinned packages.

The book's stored outputs were computed on exactly this data. A checksum that changes means
different numbers everywhere downstream, so each test says where the data comes from and what to
do: restore a damaged snapshot, or pin the package back to the version in ``constraints.txt``.
"""

import hashlib
import json
from importlib import metadata

import numpy as np
import pytest

from rnnbook.data import corpora
from rnnbook.data.dates import DATE_LANGUAGES, month_names
from rnnbook.data.language_id import load_language_id
from rnnbook.data.series import load_co2, load_sunspots


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def pinned(package):
    """The version of ``package`` that ``constraints.txt`` pins."""
    for line in (corpora.SNAPSHOTS.parents[3] / "constraints.txt").read_text().splitlines():
        name, _, version = line.partition("==")
        if name.strip().lower().replace("_", "-") == package:
            return version.strip()
    raise AssertionError(f"{package} is not pinned in constraints.txt")


def assert_unchanged(what, package, digest, expected):
    installed = metadata.version(package)
    assert digest == expected, (
        f"{what} changed (SHA-256 {digest}, expected {expected}). The book's numbers were "
        f"computed with {package}=={pinned(package)} as pinned in constraints.txt; "
        f"{installed} is installed. Install the pinned version, or re-run every notebook and "
        "update this checksum if the data changed on purpose.")


def test_pydoc_snapshot_is_intact_and_gives_the_books_text():
    blob = corpora.read_snapshot(corpora.PYDOC_TOPICS, corpora.PYDOC_TOPICS_SHA256)
    assert sha256(blob) == corpora.PYDOC_TOPICS_SHA256
    text = corpora.load_pydoc_text()
    assert len(text) == 460_604
    assert sha256(text.encode()) == \
        "bde60255de2e8374c419c123d7b687bb1df6350911b11538af1925c4e2c2dddf"


def test_a_damaged_snapshot_is_refused_with_a_clear_message(tmp_path, monkeypatch):
    damaged = tmp_path / "pydoc_topics.json.xz"
    damaged.write_bytes(corpora.PYDOC_TOPICS.read_bytes()[:-1] + b"\0")
    monkeypatch.setattr(corpora, "PYDOC_TOPICS", damaged)
    with pytest.raises(ValueError, match="damaged or was changed: restore it"):
        corpora.load_pydoc_text()
    monkeypatch.setattr(corpora, "PYDOC_TOPICS", tmp_path / "missing.json.xz")
    with pytest.raises(ValueError, match="snapshot is missing"):
        corpora.load_pydoc_text()


def test_the_snapshot_ships_with_its_licence():
    readme = (corpora.SNAPSHOTS / "README.md").read_text()
    assert corpora.PYDOC_TOPICS_SHA256 in readme and "Python Software Foundation" in readme


def test_statsmodels_series_are_the_pinned_ones():
    years, values = load_sunspots()
    assert_unchanged("statsmodels' sunspots data", "statsmodels",
                     sha256(np.stack([years, values]).tobytes()),
                     "901a5ec9f0fcecb80659e88a88f32365071ba3ab98f483a25f38decdc3999bbd")
    dates, values = load_co2()
    assert_unchanged("statsmodels' CO2 data", "statsmodels",
                     sha256(dates.astype(np.int64).tobytes() + values.tobytes()),
                     "f1059c2713c13e1c0ccae076639fd9fe9a4cf72466b8d07f35f91a8aa75430ad")


def test_sphinx_catalogues_give_the_pinned_language_id_data():
    data = load_language_id()
    splits = json.dumps({k: data[k] for k in ("train", "valid", "test")}, ensure_ascii=False)
    assert_unchanged("The language-identification texts (Sphinx's catalogues)", "sphinx",
                     sha256(splits.encode()),
                     # changed on purpose (issue 19): texts equal after lower-casing and
                     # removing punctuation and spacing now count as one (near-duplicates
                     # no longer straddle the split)
                     "81c2cdd66daa6228d00b65f0fa141b086e0b0de14464f60f370921a4922a94ab")


def test_babel_gives_the_pinned_month_and_day_names():
    names = json.dumps({lang: month_names(lang) for lang in DATE_LANGUAGES}, ensure_ascii=False)
    assert_unchanged("Babel's month and weekday names (CLDR)", "babel", sha256(names.encode()),
                     "90a88350ffcbcbc38fb3ac00dd28694fd359cccb349513cabb935c4d10c3f2b9")
