"""Authoring helpers: build notebooks cell by cell and execute them in place.

The builders keep the book's cell conventions in one place: tags that collapse a cell in the book,
and the nbgrader metadata (schema 3) of exercise solution and test cells.
"""

import pathlib

import nbformat
from nbclient import NotebookClient

KERNEL = {"display_name": "Python 3", "language": "python", "name": "python3"}


def md(text):
    """A markdown cell."""
    return nbformat.v4.new_markdown_cell(text.strip("\n"))


def code(source, tags=(), caption=None, name=None):
    """A code cell, optionally with cell tags (e.g. 'hide-input').

    A cell that draws a figure gets a ``caption`` and a ``name`` (the label the text refers to
    with {numref}); MyST-NB renders its image output as a numbered figure.
    """
    cell = nbformat.v4.new_code_cell(source.strip("\n"))
    if tags:
        cell.metadata["tags"] = list(tags)
    if caption:
        if not name:
            raise ValueError("a figure cell with a caption needs a name to be referred to")
        cell.metadata["mystnb"] = {"figure": {"caption": caption, "name": name}}
    return cell


def _nbgrader(cell, grade_id, solution, grade, locked, points=None):
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3,
            "solution": solution, "task": False}
    if points is not None:
        meta["points"] = points
    cell.metadata["nbgrader"] = meta
    return cell


def solution(grade_id, source):
    """An exercise's answer cell: the reference solution sits between BEGIN/END SOLUTION.

    Collapsed in the book ('hide-input'); nbgrader replaces the solution in the student copy.
    """
    return _nbgrader(code(source, tags=("hide-input",)), grade_id, True, False, False)


def tests(grade_id, points, source):
    """An exercise's locked, graded test cell worth ``points``."""
    return _nbgrader(code(source, tags=("hide-input",)), grade_id, False, True, True, points)


def notebook(cells):
    """A notebook with the book's kernel."""
    nb = nbformat.v4.new_notebook(cells=list(cells))
    nb.metadata["kernelspec"] = KERNEL
    nb.metadata["language_info"] = {"name": "python"}
    return nb


def execute(path, timeout=600):
    """Execute the notebook at ``path`` top to bottom in a fresh kernel and store its outputs.

    Runs in the notebook's own folder, as Jupyter and nbval do. Raises on the first failing cell.
    """
    path = pathlib.Path(path)
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    nbformat.write(nb, path)
    return nb


def write(path, cells, run=True):
    """Write a new notebook from ``cells`` and (by default) execute it in place."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook(cells), path)
    return execute(path) if run else nbformat.read(path, as_version=4)
