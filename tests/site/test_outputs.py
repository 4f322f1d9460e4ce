"""Every output box on the pages shows something: no empty box after a check's message."""

from conftest import built_pages


def test_no_output_box_is_empty(site):
    from bs4 import BeautifulSoup

    empty = []
    for page in built_pages(site):
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        for block in soup.select("div.cell_output pre"):
            if not block.get_text().strip():
                empty.append(str(page.relative_to(site)))
    assert not empty, f"empty output boxes on: {sorted(set(empty))}"
