"""Every display equation can be read whole, on a laptop and on a phone.

An equation wider than its box must scroll sideways, starting at its left end; a part that is
clipped where no scrolling reaches it fails (the theme's ``overflow: hidden`` box used to cut off
the left end of MathJax containers wider than itself). Equations that fit stay centred, and
Sphinx's equation numbers (``span.eqno``) stay inside the box. Pages without display math are
skipped; book/_static/book.css holds the fix.
"""

import pytest

from conftest import built_pages

VIEWPORTS = {"laptop": (1280, 900), "phone": (390, 844)}

# For each display equation: walk from MathJax's container up to the equation's box, narrowing what
# the reader can see to every clipping element on the way; report what lies out of reach.
UNREADABLE = r"""async () => {
    await window.MathJax.startup.promise;
    await document.fonts.ready;
    const problems = [];
    const tol = 1;
    const describe = (el, i) =>
        `display equation ${i + 1} of the page (in #${(el.closest('[id]') || {}).id})`;
    const union = els => els.map(e => e.getBoundingClientRect()).filter(r => r.width > 0)
        .reduce((a, r) => ({left: Math.min(a.left, r.left), right: Math.max(a.right, r.right)}),
                {left: Infinity, right: -Infinity});
    const containers = document.querySelectorAll('mjx-container[display="true"]');
    containers.forEach((container, i) => {
        const math = container.querySelector(':scope > mjx-math');
        if (!math) return;
        const box = container.closest('div.math') || container.parentElement;
        const content = union([math, ...math.querySelectorAll('*')]);
        let seen = {left: content.left, right: content.right};
        for (let el = container; el; el = el === box ? null : el.parentElement) {
            const style = getComputedStyle(el);
            if (style.overflowX === 'visible') continue;
            const r = el.getBoundingClientRect();
            if (seen.left < r.left - tol) {
                problems.push(`${describe(container, i)}: ${Math.round(r.left - seen.left)} px ` +
                              `cut off on the left by <${el.tagName.toLowerCase()}>`);
                return;
            }
            if (seen.right > r.right + tol) {
                const scrolls = ['auto', 'scroll'].includes(style.overflowX)
                    && el.scrollWidth > el.clientWidth;
                if (!scrolls) {
                    problems.push(`${describe(container, i)}: ${Math.round(seen.right - r.right)}` +
                                  ` px cut off on the right by <${el.tagName.toLowerCase()}>`);
                    return;
                }
                seen = {left: r.left, right: r.right};
            }
        }
        const b = box.getBoundingClientRect();
        if (seen.left < b.left - tol || seen.right > b.right + tol) {
            problems.push(`${describe(container, i)}: spills out of its box`);
        }
        const eqno = box.querySelector(':scope > span.eqno');
        if (eqno) {
            const e = eqno.getBoundingClientRect();
            if (e.left < b.left - tol || e.right > b.right + tol) {
                problems.push(`${describe(container, i)}: its number is cut off`);
            }
        }
        const fits = container.scrollWidth <= container.clientWidth;
        if (fits && container.getAttribute('width') !== 'full') {
            const c = container.getBoundingClientRect();
            const offset = (content.left + content.right) / 2 - (c.left + c.right) / 2;
            if (Math.abs(offset) > 2) {
                problems.push(`${describe(container, i)}: off centre by ${Math.round(offset)} px`);
            }
        }
    });
    return {count: containers.length, problems: problems};
}"""


def _pages_with_display_math(site):
    return [p for p in built_pages(site) if '<div class="math' in p.read_text(encoding="utf-8")]


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_every_display_equation_is_inside_its_box_or_scrolls(browser, site, site_url, viewport):
    width, height = VIEWPORTS[viewport]
    pages = _pages_with_display_math(site)
    assert pages, "the book has display equations"
    page = browser.new_page(viewport={"width": width, "height": height})
    report, equations = [], 0
    for path in pages:
        relative = path.relative_to(site).as_posix()
        page.goto(f"{site_url}/{relative}", wait_until="load")
        result = page.evaluate(UNREADABLE)
        equations += result["count"]
        report += [f"{relative}: {problem}" for problem in result["problems"]]
        if relative == "chapters/04_bptt/derivation.html":
            # Equation (3), the delta recursion, is wider than the column on both screens.
            page.locator("div.math").nth(3).scroll_into_view_if_needed()
            shots = site.parent / "screenshots"
            shots.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(shots / f"derivation-eq3-{viewport}.png"))
    page.close()
    assert equations > 50, f"only {equations} display equations found"
    assert not report, f"{len(report)} equations at {width}x{height} px cannot be read whole:\n" \
        + "\n".join(report)
