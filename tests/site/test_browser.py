"""Open every page of the built book in headless Chromium, as a reader would.

Each page must load without console errors, typeset all its equations (every Sphinx math element
holds a MathJax container, no raw `$$` left) and load all its images. A screenshot of the front
page is saved under _build/. Without Chromium the test explains how to get it and skips, except in
CI (CI or RNNBOOK_REQUIRE_BROWSER set), where a missing browser is a failure.
"""

from conftest import ROOT, built_pages

SCREENSHOT = ROOT / "_build" / "screenshots" / "front-page.png"


def _visit(browser, url):
    """Load ``url``; return the page and the problems seen (console errors, failed requests)."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems = []
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}")
            if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"failed request: {r.url}"))
    page.on("response", lambda r: problems.append(f"HTTP {r.status}: {r.url}")
            if r.status >= 400 else None)
    response = page.goto(url, wait_until="load")
    assert response is not None and response.ok, f"{url} answered {response and response.status}"
    page.wait_for_load_state("networkidle")
    return page, problems


TYPESET = """async () => {
    const math = document.querySelectorAll('.math');
    const raw = document.body.innerText.includes('$$');
    if (math.length === 0) return {math: 0, typeset: 0, raw: raw};
    await window.MathJax.startup.promise;
    const typeset = [...math].filter(el => el.querySelector('mjx-container')).length;
    return {math: math.length, typeset: typeset, raw: raw};
}"""

IMAGES = """() => [...document.images].filter(img => !img.complete || img.naturalWidth === 0)
                                    .map(img => img.getAttribute('src'))"""


def test_front_page_loads_and_is_captured(browser, site_url):
    page, problems = _visit(browser, f"{site_url}/index.html")
    assert "Recurrent Neural Networks" in page.title()
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=False)
    assert SCREENSHOT.stat().st_size > 10_000
    assert not problems, problems
    page.close()


def test_every_page_loads_typesets_math_and_shows_figures(browser, site, site_url):
    pages = built_pages(site)
    report, math_pages, images_seen = [], 0, 0
    for path in pages:
        relative = path.relative_to(site).as_posix()
        page, problems = _visit(browser, f"{site_url}/{relative}")
        math = page.evaluate(TYPESET)
        broken_images = page.evaluate(IMAGES)
        images_seen += page.evaluate("document.querySelectorAll('main img').length")
        math_pages += math["math"] > 0
        if math["typeset"] != math["math"]:
            problems.append(f"{math['math'] - math['typeset']} of {math['math']} equations "
                            "not typeset")
        if math["raw"]:
            problems.append("raw $$ left in the text")
        problems += [f"image did not load: {src}" for src in broken_images]
        report += [f"{relative}: {problem}" for problem in problems]
        page.close()
    assert not report, "\n".join(report)
    assert math_pages >= 2, "the notation page and others hold equations"
    assert images_seen >= 1, "at least one figure is shown"
