"""A small Sphinx extension with the book's HTML fixes.

Jupyter Book 1 loads sphinx-thebe, whose set-up script is registered twice in this stack (Sphinx 7,
sphinx-thebe 0.3); browsers then report "Identifier 'THEBE_JS_URL' has already been declared".
This extension drops repeated script entries from every page.

It also keeps the exercises' hidden tests off the book's pages: the code between
``### BEGIN HIDDEN TESTS`` and ``### END HIDDEN TESTS`` in a test cell is what the autograder
runs and students must not see, so it is removed from every code block of a page (the visible
checks and the collapsed solutions stay, for self-learners) and from the notebooks the book
offers for download (``_sources``, and the ``.ipynb`` download button).
"""

import json
import pathlib
import re

from docutils import nodes

HIDDEN_TESTS = re.compile(
    r"^[ \t]*### BEGIN HIDDEN TESTS[ \t]*\n.*?^[ \t]*### END HIDDEN TESTS[ \t]*(?:\n|$)",
    re.M | re.S)
REMOVED = "# (the autograder's hidden tests are not shown)\n"


def strip_hidden_tests(source):
    """``source`` without its hidden-test regions (each becomes a one-line comment)."""
    def replace(match):
        indent = re.match(r"[ \t]*", match.group(0)).group(0)
        return indent + REMOVED
    return HIDDEN_TESTS.sub(replace, source).rstrip("\n") + ("\n" if source.endswith("\n") else "")


def _strip_doctree(app, doctree):
    for block in doctree.findall(nodes.literal_block):
        text = block.astext()
        if "### BEGIN HIDDEN TESTS" in text:
            stripped = strip_hidden_tests(text)
            block.children = [nodes.Text(stripped)]
            block.rawsource = stripped


def strip_notebook_file(path):
    """Remove the hidden tests from the code cells of the notebook file at ``path``."""
    path = pathlib.Path(path)
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        return False
    changed = False
    for cell in nb.get("cells", []):
        source = cell.get("source", "")
        text = "".join(source) if isinstance(source, list) else source
        if cell.get("cell_type") == "code" and "### BEGIN HIDDEN TESTS" in text:
            cell["source"] = strip_hidden_tests(text)
            changed = True
    if changed:
        path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return changed


def _strip_downloads(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    for path in pathlib.Path(app.outdir).rglob("*.ipynb*"):
        if path.is_file():
            strip_notebook_file(path)


def _drop_repeated_scripts(app, pagename, templatename, context, doctree):
    seen, unique = set(), []
    for script in context.get("script_files", []):
        # The same inline script is registered once with filename None and once with "".
        if hasattr(script, "filename"):
            key = (script.filename or "", tuple(sorted(script.attributes.items())))
        else:
            key = (str(script), ())
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def setup(app):
    app.connect("html-page-context", _drop_repeated_scripts, priority=900)
    app.connect("doctree-read", _strip_doctree)
    app.connect("build-finished", _strip_downloads)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
