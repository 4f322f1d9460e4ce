"""Code and printed results fit the text column at a laptop's window: nothing is cut off.

A code cell or output block wider than the column gets a scrollbar, and the reader sees the line
cut at the column's edge. At a 1280 x 900 window every code block and output block of every page
must fit (tests/unit/test_notebook_widths.py keeps the source lines within 79 characters).
"""

from conftest import built_pages

OVERFLOWING = r"""() => [...document.querySelectorAll('div.cell_input pre, div.cell_output pre')]
    .filter(el => el.scrollWidth > el.clientWidth + 1)
    .map(el => ({kind: el.closest('div.cell_output') ? 'output' : 'code',
                 by: el.scrollWidth - el.clientWidth,
                 line: (el.innerText.split('\n').sort((a, b) => b.length - a.length)[0]
                        || '').slice(0, 90)}))"""


def test_no_code_or_output_block_overflows_at_1280_px(browser, site, site_url):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    report, blocks = [], 0
    for path in built_pages(site):
        relative = path.relative_to(site).as_posix()
        if 'http-equiv="refresh"' in path.read_text().lower():
            continue                                     # a redirect
        page.goto(f"{site_url}/{relative}", wait_until="load")
        blocks += page.evaluate("() => document.querySelectorAll("
                                "'div.cell_input pre, div.cell_output pre').length")
        report += [f"{relative}: {o['kind']} wider by {o['by']} px: {o['line']!r}"
                   for o in page.evaluate(OVERFLOWING)]
    page.close()
    assert blocks > 500, f"only {blocks} code and output blocks found"
    assert not report, f"{len(report)} blocks overflow the column:\n" + "\n".join(report[:30])
