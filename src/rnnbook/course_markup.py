"""Rewrite the book's MyST markup in exercise notebooks to plain Markdown for students.

JupyterLab and nbgrader's feedback pages render Markdown, not MyST: ``:::{exercise}`` fences,
``:label:`` lines and roles such as ``{doc}`` would show as raw text. :func:`plain_markdown`
turns an exercise directive into a numbered heading (``### Exercise 3.2: Title``), other
directives into a bold title, and roles into their text (a ``{doc}`` link into the name of the
book's page, or a link when the book's web address is given).
"""

import pathlib
import re

FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>:{3,}|`{3,})\{(?P<name>[\w:-]+)\}[ \t]*"
                   r"(?P<arg>.*)$")
OPTION = re.compile(r"^[ \t]*:[\w-]+:.*$")
ROLE = re.compile(r"\{(?P<name>[\w:-]+)\}`(?P<body>[^`]*)`")
TITLED = re.compile(r"^(?P<text>.*?)\s*<(?P<target>[^<>]+)>$", re.S)
HEADING = re.compile(r"^#\s+(.+)$", re.M)


def page_title(root, target):
    """The first heading of the book's page ``target`` (``/chapters/01_x/y``), or None."""
    path = pathlib.Path(root) / target.lstrip("/")
    for candidate in (path.with_suffix(".md"), path.with_suffix(".ipynb")):
        if candidate.is_file():
            text = candidate.read_text(encoding="utf-8")
            if candidate.suffix == ".ipynb":
                import nbformat

                nb = nbformat.reads(text, as_version=4)
                text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
            found = HEADING.search(text)
            if found:
                return found.group(1).strip()
    return None


def _role(match, root, book_url):
    name, body = match.group("name"), match.group("body")
    titled = TITLED.match(body)
    text, target = (titled.group("text"), titled.group("target")) if titled else (None, body)
    if name == "math":
        return f"${body}$"
    if name == "doc":
        title = text or page_title(root, target) or target.rstrip("/").split("/")[-1]
        if book_url:
            return f"[{title}]({book_url.rstrip('/')}/{target.strip('/')}.html)"
        return f"*{title}* (a page of the book)"
    if name == "cite":
        return f"({body})"
    return text or target


def plain_markdown(text, number_prefix="", counter=None, root=".", book_url=None):
    """``text`` with MyST directives and roles rewritten to plain Markdown.

    ``counter`` is a one-item list holding the number of exercises seen so far in the notebook
    (updated in place), so headings read ``Exercise {number_prefix}{n}``.
    """
    counter = counter if counter is not None else [0]
    out, closing, skip_options = [], [], False
    for line in text.split("\n"):
        if skip_options:
            if OPTION.match(line):
                continue
            skip_options = False
        opened = FENCE.match(line)
        if opened:
            name, arg = opened.group("name"), opened.group("arg").strip()
            closing.append((opened.group("fence")[0], len(opened.group("fence")), name))
            skip_options = True
            if name == "exercise":
                counter[0] += 1
                title = f": {arg}" if arg else ""
                out.append(f"### Exercise {number_prefix}{counter[0]}{title}")
            elif name == "math":
                out.append("$$")
            elif name in ("code", "code-block", "code-cell"):
                out.append(f"```{arg or 'python'}")
            else:
                out.append(f"**{arg or name.capitalize()}**")
            continue
        if closing and re.fullmatch(rf"[ \t]*{re.escape(closing[-1][0])}{{{closing[-1][1]},}}"
                                    r"[ \t]*", line):
            _, _, name = closing.pop()
            if name == "math":
                out.append("$$")
            elif name in ("code", "code-block", "code-cell"):
                out.append("```")
            continue
        out.append(ROLE.sub(lambda m: _role(m, root, book_url), line))
    return "\n".join(out)


def rewrite_notebook(nb, chapter="", root=".", book_url=None):
    """Rewrite every markdown cell of ``nb`` in place; returns the number of exercises found."""
    prefix = f"{int(chapter[:2])}." if chapter[:2].isdigit() else ""
    counter = [0]
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = plain_markdown(cell.source, prefix, counter, root, book_url)
    return counter[0]
