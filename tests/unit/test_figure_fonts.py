"""Figure text is readable: no font below 9 points in any notebook's figures.

The book's figures are 7 inches wide and shown about 700 px wide, so an 8-point legend is about
11 px high, below what the newcomers' review could read comfortably. The style
(``rnnbook.plotting.BOOK_STYLE``) uses 10 points; a figure may ask for less room, not less than
``SMALLEST``.
"""

import json
import re

import pytest
from test_repository import NOTEBOOKS, ROOT

from rnnbook.plotting import BOOK_STYLE

SMALLEST = 9
FONTSIZE = re.compile(r"fontsize\s*=\s*(\d+(?:\.\d+)?|['\"][a-z-]+['\"])")
NAMED_TOO_SMALL = {"'xx-small'", "'x-small'", "'small'", '"xx-small"', '"x-small"', '"small"'}


def small_fonts(source):
    found = []
    for match in FONTSIZE.finditer(source):
        value = match.group(1)
        if value in NAMED_TOO_SMALL or (value[0].isdigit() and float(value) < SMALLEST):
            found.append(match.group(0))
    return found


def test_the_style_itself_is_readable():
    assert min(BOOK_STYLE["font.size"], BOOK_STYLE["axes.labelsize"]) >= SMALLEST


def test_small_fonts_are_found():
    assert small_fonts("ax.legend(fontsize=8)\nax.text(0, 0, 's', fontsize='small')") == \
        ["fontsize=8", "fontsize='small'"]
    assert small_fonts("ax.legend(fontsize=9)") == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_figure_text_below_nine_points(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    found = [f"code cell {number}: {hit}"
             for number, cell in enumerate((c for c in nb["cells"] if c["cell_type"] == "code"), 1)
             for hit in small_fonts("".join(cell["source"]))]
    assert not found, "figure text below 9 points:\n" + "\n".join(found)
