"""Code and printed results fit the book's text column: nothing is cut off on the page.

At a 1280 px window the column shows about 80 characters of code; a longer line gets a
scrollbar and the reader sees it cut. Every code line of a notebook and every line of its stored
text output is at most ``WIDTH`` characters (the browser test in tests/site measures the pages).
"""

import json

import pytest
from test_repository import NOTEBOOKS, ROOT

WIDTH = 79


def long_lines(text):
    return [line for line in text.split("\n") if len(line) > WIDTH]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_code_and_outputs_fit_the_column(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    cells = [c for c in nb["cells"] if c["cell_type"] == "code"]
    too_long = []
    for number, cell in enumerate(cells, start=1):
        too_long += [f"code cell {number}, code: {line!r}"
                     for line in long_lines("".join(cell["source"]))]
        for out in cell["outputs"]:
            text = "".join(out.get("text", "")) + \
                "".join(out.get("data", {}).get("text/plain", ""))
            too_long += [f"code cell {number}, output: {line!r}" for line in long_lines(text)]
    assert not too_long, f"{len(too_long)} lines longer than {WIDTH} characters:\n" + \
        "\n".join(too_long[:15])
