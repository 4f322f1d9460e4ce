"""No broken internal link in the built book: every relative href/src and #anchor resolves."""

import html.parser
import urllib.parse

from conftest import built_pages


class _LinkParser(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.links, self.ids = [], set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        for key in ("href", "src"):
            if attrs.get(key):
                self.links.append(attrs[key])


def _parse(path):
    parser = _LinkParser()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def test_every_toc_page_was_built(site):
    pages = {p.relative_to(site).as_posix() for p in built_pages(site)}
    for expected in ("book/intro.html", "book/notation.html", "book/environment_check.html",
                     "book/bibliography.html"):
        assert expected in pages


def test_internal_links_and_anchors_resolve(site):
    parsed = {}
    broken = []
    for page in built_pages(site):
        for link in _parse(page).links:
            url = urllib.parse.urlparse(link)
            if url.scheme or url.netloc or link.startswith(("mailto:", "javascript:", "data:")):
                continue
            target = (page.parent / urllib.parse.unquote(url.path)).resolve() if url.path else page
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                broken.append(f"{page.relative_to(site)} -> {link}")
                continue
            if url.fragment and target.suffix == ".html":
                ids = parsed.setdefault(target, _parse(target).ids)
                if url.fragment not in ids:
                    broken.append(f"{page.relative_to(site)} -> {link} (no such anchor)")
    assert not broken, "broken internal links:\n" + "\n".join(broken)
