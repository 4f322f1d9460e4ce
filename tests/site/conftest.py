"""The built site: where it is, and a local web server that serves it to the browser."""

import functools
import http.server
import os
import pathlib
import shutil
import threading

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
# RNNBOOK_SITE points the tests at a book built elsewhere (`jupyter-book build --path-output`).
SITE = pathlib.Path(os.environ.get("RNNBOOK_SITE") or ROOT / "_build" / "html")
CHROMIUM = os.environ.get("RNNBOOK_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def site():
    """The folder of the built HTML book; the tests need `make book` to have run."""
    if not (SITE / "index.html").exists():
        pytest.fail(f"no built book at {SITE}: run `make book` first")
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


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium (playwright). Without Chromium the test explains how to get it and skips,
    except in CI (CI or RNNBOOK_REQUIRE_BROWSER set), where a missing browser is a failure."""
    if not os.path.exists(CHROMIUM):
        message = (f"Chromium not found at {CHROMIUM}. Install it (Debian/Ubuntu: "
                   "`apt-get install chromium`) or set RNNBOOK_CHROMIUM to its path.")
        if os.environ.get("CI") or os.environ.get("RNNBOOK_REQUIRE_BROWSER"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        browser.close()


def built_pages(site):
    """Every HTML page that the TOC produced (not Sphinx's search and index pages)."""
    skip = {"search.html", "genindex.html", "py-modindex.html"}
    return sorted(p for p in site.rglob("*.html")
                  if p.name not in skip and not p.relative_to(site).parts[0].startswith("_"))
