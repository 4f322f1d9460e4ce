"""The built site: where it is, and a local web server that serves it to the browser."""

import functools
import http.server
import pathlib
import threading

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
SITE = ROOT / "_build" / "html"


@pytest.fixture(scope="session")
def site():
    """The folder of the built HTML book; the tests need `make book` to have run."""
    if not (SITE / "index.html").exists():
        pytest.fail(f"no built book at {SITE.relative_to(ROOT)}: run `make book` first")
    return SITE


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def site_url(site):
    """Base URL of the built book served on the loopback interface (port chosen by the OS)."""
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def built_pages(site):
    """Every HTML page that the TOC produced (not Sphinx's search and index pages)."""
    skip = {"search.html", "genindex.html", "py-modindex.html"}
    return sorted(p for p in site.rglob("*.html")
                  if p.name not in skip and not p.relative_to(site).parts[0].startswith("_"))
