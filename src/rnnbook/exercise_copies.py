"""Blank copies of the book's exercises, for learners who work alone.

Each chapter's ``exercises.ipynb`` holds the reference solutions (the book shows them collapsed)
and the autograder's hidden tests. A blank copy keeps the statements, the set-up cell and the
visible checks, and replaces each solution by the stub nbgrader gives students::

    python -m rnnbook.exercise_copies            # writes my_exercises/<chapter>.ipynb
    python -m rnnbook.exercise_copies DIR        # or into DIR; --force replaces existing copies

    blank_copy(nb, chapter)     a student copy of one exercises notebook (a new notebook)
    strip_regions(source, ...)  a cell's source with marked regions replaced

No instructor tool is needed: the copies are made with nbformat alone, the same way nbgrader's
``generate_assignment`` makes them (solutions stubbed, hidden tests removed, outputs cleared), and
the book's MyST markup becomes plain Markdown that JupyterLab renders.
"""

import argparse
import copy
import pathlib
import re

import nbformat

from rnnbook.course_markup import rewrite_notebook

ROOT = pathlib.Path(__file__).resolve().parents[2]
STUB = "# YOUR CODE HERE\nraise NotImplementedError()"
SOLUTION = re.compile(r"^([ \t]*)### BEGIN SOLUTION[ \t]*\n.*?^[ \t]*### END SOLUTION[ \t]*$",
                      re.M | re.S)
# A hidden-test region of a test cell, with its line end (the book and the grader use it too).
HIDDEN = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS[ \t]*\n.*?^[ \t]*### END HIDDEN TESTS"
                    r"[ \t]*(?:\n|$)", re.M | re.S)
NOTE = """**Your blank copy.** Write each answer in place of `raise NotImplementedError()`
and run the test cell after it: it runs the visible checks (an instructor's grading runs more
tests). The reference solutions are in the book, under "Show solution" below each exercise, and
in the repository's `chapters/{chapter}/exercises.ipynb`; look once you have tried. Making the
copies again (`make exercises`) keeps the files you have; to start an exercise over, delete its
file first."""


def strip_regions(source):
    """``source`` with each solution region replaced by the stub (at the region's indentation)
    and each hidden-test region removed."""
    def stub(match):
        indent = match.group(1)
        return "\n".join(indent + line for line in STUB.split("\n"))
    return HIDDEN.sub("", SOLUTION.sub(stub, source))


def blank_copy(nb, chapter):
    """A blank student copy of the exercises notebook ``nb`` of ``chapter`` (``"05_lstm_gru"``).

    Returns a new notebook: solutions stubbed, hidden tests removed, every output and execution
    count cleared, nbgrader's cell metadata kept (so the copy can also be submitted), MyST markup
    rewritten to plain Markdown, and a note at the top on where the solutions are.
    """
    if not isinstance(chapter, str) or not re.fullmatch(r"\d\d_\w+", chapter):
        raise ValueError(f"chapter: expected a chapter folder name such as '05_lstm_gru', "
                         f"got {chapter!r}")
    blank = copy.deepcopy(nb)
    for cell in blank.cells:
        if cell.cell_type == "code":
            cell.source = strip_regions(cell.source)
            cell.outputs, cell.execution_count = [], None
    rewrite_notebook(blank, chapter, root=ROOT)
    blank.cells.insert(1, nbformat.v4.new_markdown_cell(NOTE.format(chapter=chapter)))
    return blank


def write_blank_copies(out_dir, chapters_dir=ROOT / "chapters", force=False):
    """Write ``<chapter>.ipynb`` into ``out_dir`` for every chapter with exercises.

    A copy that exists already is kept (it may hold a learner's answers) unless ``force``.
    Returns ``{path: "written" | "kept"}``.
    """
    out_dir = pathlib.Path(out_dir)
    sources = sorted(pathlib.Path(chapters_dir).glob("*/exercises.ipynb"))
    if not sources:
        raise ValueError(f"chapters_dir: no chapter folder with an exercises.ipynb in "
                         f"{chapters_dir}")
    out_dir.mkdir(parents=True, exist_ok=True)
    done = {}
    for source in sources:
        chapter = source.parent.name
        path = out_dir / f"{chapter}.ipynb"
        if path.exists() and not force:
            done[path] = "kept"
            continue
        nbformat.write(blank_copy(nbformat.read(source, as_version=4), chapter), path)
        done[path] = "written"
    return done


def main(argv=None):
    parser = argparse.ArgumentParser(description="Write blank copies of the book's exercises.")
    parser.add_argument("out_dir", nargs="?", default=ROOT / "my_exercises", type=pathlib.Path,
                        help="where to write them (default: my_exercises/ in the repository)")
    parser.add_argument("--force", action="store_true",
                        help="replace copies that exist (and the answers in them)")
    args = parser.parse_args(argv)
    for path, what in write_blank_copies(args.out_dir, force=args.force).items():
        print(f"{what}: {path}" + ("  (exists; --force replaces it)" if what == "kept" else ""))


if __name__ == "__main__":
    main()
