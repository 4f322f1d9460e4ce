"""A small Sphinx extension with the book's HTML fixes.

Jupyter Book 1 loads sphinx-thebe, whose set-up script is registered twice in this stack (Sphinx 7,
sphinx-thebe 0.3); browsers then report "Identifier 'THEBE_JS_URL' has already been declared".
This extension drops repeated script entries from every page.

It also keeps the exercises' hidden tests off the book's pages: the code between
``### BEGIN HIDDEN TESTS`` and ``### END HIDDEN TESTS`` in a test cell is what the autograder
runs and students must not see, so it is removed from every code block of a page (the visible
checks and the collapsed solutions stay, for self-learners) and from the notebooks the book
offers for download (``_sources``, and the ``.ipynb`` download button). An exercises notebook
is offered as the learner's blank copy (``rnnbook.exercise_copies``): solutions stubbed too.

Chinese terms (the glossary gives the usual Chinese name of each term) are marked with their
language, ``<span lang="zh">``, in every built page, so that browsers pick a Chinese font and
screen readers a Chinese voice. The marking is made in the written HTML, after the search index
is built from the text, so the terms stay searchable.

On the exercise pages, the two collapsed cells after each exercise say what they hold: the
nbgrader answer cell toggles with "Show solution", the graded test cell with "Show the check"
(a cell's own ``mystnb`` ``code_prompt_show``/``code_prompt_hide`` metadata still wins). Each
``{exercise}`` is also listed in the page's contents (the right-hand "On this page"), under its
section and in the order of the page.
"""

import json
import pathlib
import re

from docutils import nodes
from sphinx import addnodes
from sphinx.environment.adapters.toctree import document_toc
from sphinx.transforms.post_transforms import SphinxPostTransform

from rnnbook.exercise_copies import HIDDEN

REMOVED = "# (the autograder's hidden tests are not shown)\n"


def strip_hidden_tests(source):
    """``source`` without its hidden-test regions (each becomes a one-line comment)."""
    def replace(match):
        indent = re.match(r"[ \t]*", match.group(0)).group(0)
        return indent + REMOVED
    return HIDDEN.sub(replace, source).rstrip("\n") + ("\n" if source.endswith("\n") else "")


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
        if not path.is_file():
            continue
        if path.name == "exercises.ipynb":
            write_blank_exercises(path)
        else:
            strip_notebook_file(path)


def write_blank_exercises(path):
    """Replace the downloadable exercises notebook at ``path`` by its blank student copy."""
    import nbformat

    from rnnbook.exercise_copies import blank_copy

    path = pathlib.Path(path)
    nbformat.write(blank_copy(nbformat.read(path, as_version=4), path.parent.name), path)


CHINESE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]"
                     r"(?:[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]*"
                     r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff09\uff1f\uff01\u3002])?")
# Text between two tags of the page's body, outside <script>, <style> and <textarea>.
_TEXT = re.compile(r"(<(script|style|textarea)\b.*?</\2>)|>([^<]+)<", re.S | re.I)


def mark_chinese(html):
    """``html`` with every run of Chinese characters in its text wrapped in ``<span lang="zh">``."""
    head, sep, body = html.partition("<body")
    if not sep:
        return html

    def text(match):
        if match.group(1) or not CHINESE.search(match.group(3)):
            return match.group(0)
        return ">" + CHINESE.sub(lambda m: f'<span lang="zh">{m.group(0)}</span>',
                                 match.group(3)) + "<"
    return head + sep + _TEXT.sub(text, body)


def _mark_chinese_pages(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    for path in pathlib.Path(app.outdir).rglob("*.html"):
        html = path.read_text(encoding="utf-8")
        marked = mark_chinese(html)
        if marked != html:
            path.write_text(marked, encoding="utf-8")


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


PROMPTS = {"solution": ("Show solution", "Hide solution"),
           "grade": ("Show the check", "Hide the check")}


def _prompts(metadata):
    """The (show, hide) toggle labels for a cell with nbgrader ``metadata``, or None."""
    nbgrader = metadata.get("nbgrader") or {}
    for role in ("solution", "grade"):  # an autograded answer cell is still the solution
        if nbgrader.get(role):
            return PROMPTS[role]
    return None


def label_exercise_cells(doctree):
    """Name the toggles of the collapsed nbgrader cells in ``doctree`` after what they hold."""
    for cell in doctree.findall(nodes.container):
        if cell.get("nb_element") != "cell_code" or not cell.get("hide_mode"):
            continue
        metadata = cell.get("cell_metadata") or {}
        prompts = _prompts(metadata)
        own = metadata.get("mystnb") or {}
        if prompts and "code_prompt_show" not in own:
            cell["prompt_show"] = prompts[0]
        if prompts and "code_prompt_hide" not in own:
            cell["prompt_hide"] = prompts[1]


class LabelExerciseCells(SphinxPostTransform):
    """`label_exercise_cells` on every page written, so a cached doctree gets the labels too."""

    default_priority = 190  # before MyST-NB's HideInputCells (199) turns the prompts into toggles
    formats = ("html",)

    def run(self, **kwargs):
        label_exercise_cells(self.document)


def _is_exercise(node):
    return type(node).__name__ in ("exercise_node", "exercise_enumerable_node")


_TITLE = re.compile(r"^(?P<name>.*?)\s*(?:\((?P<subtitle>.*)\))?$", re.S)


def exercise_entries(doctree, numbers, numfig_format="Exercise %s"):
    """(section id, exercise id, text) for every exercise in ``doctree``, in the page's order.

    ``doctree`` is the resolved page, whose exercise titles read "(Title)" when the exercise is
    numbered (the number comes from ``numbers``, the page's figure numbers by kind and id, through
    ``numfig_format``) and "Exercise (Title)" when not. The text is "Exercise 5.1: Title". The
    section id is that of the innermost titled section holding the exercise.
    """
    entries = []
    for node in doctree.findall(_is_exercise):
        if not node["ids"] or not node.children or not isinstance(node[0], nodes.title):
            continue
        match = _TITLE.match(" ".join(node[0].astext().split()))
        name, subtitle = match.group("name"), match.group("subtitle")
        number = numbers.get("exercise", {}).get(node["ids"][0])
        if number:
            name = numfig_format % ".".join(map(str, number))
        text = f"{name}: {subtitle}" if name and subtitle else name or subtitle
        if not text:
            continue
        section = node.parent
        while section is not None and not (isinstance(section, nodes.section) and section["ids"]):
            section = section.parent
        entries.append((section["ids"][0] if section is not None else "", node["ids"][0], text))
    return entries


def _toc_item(anchor, text):
    reference = nodes.reference("", text, internal=True, refuri=anchor, anchorname=anchor)
    return nodes.list_item("", addnodes.compact_paragraph("", "", reference))


def add_exercises_to_toc(toc, entries, order):
    """Insert ``entries`` (see `exercise_entries`) into the page's local ``toc`` (a bullet list).

    Each exercise goes into the list under its section's item (the page title's item when the
    section is the page itself), before the first subsection that comes after it on the page;
    ``order`` maps ids to their position on the page.
    """
    items = {}
    for reference in toc.findall(nodes.reference):
        items[reference.get("refuri", "").removeprefix("#")] = reference.parent.parent
    for section, target, text in entries:
        item = items.get(section, items.get(""))
        if item is None:
            return
        sublist = next((c for c in item.children if isinstance(c, nodes.bullet_list)), None)
        if sublist is None:
            sublist = nodes.bullet_list()
            item.append(sublist)
        after = [i for i, child in enumerate(sublist.children)
                 if order.get(_anchor(child), -1) > order.get(target, 0)]
        sublist.insert(after[0] if after else len(sublist.children),
                       _toc_item(f"#{target}", text))


def _anchor(item):
    reference = next(iter(item.findall(nodes.reference)), None)
    return reference.get("refuri", "").removeprefix("#") if reference is not None else ""


def _list_exercises(app, pagename, templatename, context, doctree):
    if doctree is None or "toc" not in context:
        return
    numfig_format = app.config.numfig_format.get("exercise", "Exercise %s")
    entries = exercise_entries(doctree, app.env.toc_fignumbers.get(pagename, {}), numfig_format)
    toc = document_toc(app.env, pagename, app.builder.tags)
    if not entries or not isinstance(toc, nodes.bullet_list):
        return
    order = {}
    for position, node in enumerate(doctree.findall(nodes.Element)):
        for node_id in node["ids"]:
            order.setdefault(node_id, position)
    add_exercises_to_toc(toc, entries, order)
    context["toc"] = app.builder.render_partial(toc)["fragment"]


def setup(app):
    app.connect("html-page-context", _drop_repeated_scripts, priority=900)
    app.connect("doctree-read", _strip_doctree)
    app.add_post_transform(LabelExerciseCells)
    app.connect("html-page-context", _list_exercises)
    app.connect("build-finished", _strip_downloads)
    app.connect("build-finished", _mark_chinese_pages)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
