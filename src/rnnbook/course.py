"""Write a ready nbgrader course directory from the book's chapter exercises.

    python -m rnnbook.course [DIR] [--timeout SECONDS] [--chapters DIR]

DIR (default ``_build/course``) receives ``nbgrader_config.py``, the instructor copies
``source/<chapter>/exercises.ipynb`` of every ``chapters/<chapter>/exercises.ipynb``, the student
copies in ``release/<chapter>/`` (made by ``nbgrader generate_assignment``) and the gradebook.
Running it again regenerates ``source/``, ``release/`` and the configuration and keeps the
gradebook and any submissions.

The configuration plugs :class:`ResilientExecute` into ``nbgrader autograde``: a cell that loops
forever, leaves its kernel unresponsive or kills it costs that cell, not the whole submission.
"""

import argparse
import copy
import os
import pathlib
import shutil
import subprocess
import sys
from queue import Empty
from time import monotonic

import nbformat
from jupyter_core.utils import ensure_async, run_sync
from nbclient.exceptions import DeadKernelError
from nbgrader.preprocessors import Execute
from traitlets import Integer

COURSE_ID = "rnnbook"
NOTEBOOK = "exercises.ipynb"
DEFAULT_DIR = "_build/course"
DEFAULT_TIMEOUT = 30
CHAPTERS = pathlib.Path(__file__).resolve().parents[2] / "chapters"
MARKER = "# Written by rnnbook.course"
# stderr that costs no points when a test cell prints it: Python warnings and matplotlib's
# one-off font cache notice. Errors are reported as error outputs and are never ignored.
HARMLESS_STDERR = r"(?m)^.*:\d+: \w*Warning: |^Matplotlib is building the font cache"

CONFIG = '''{marker}: `python -m rnnbook.course` rewrites this file.
# Change the options there (--help) rather than here; see the book's page "For instructors".
from nbconvert.preprocessors import ClearMetadataPreprocessor
from nbgrader.preprocessors import (
    AssignLatePenalties, CheckCellMetadata, IgnorePattern, LimitOutput, SaveAutoGrades)

from rnnbook.course import ResilientExecute

c = get_config()  # noqa: F821 (provided by nbgrader when it reads this file)

c.CourseDirectory.course_id = "{course_id}"

# Release: a solution region becomes this stub; test code between BEGIN/END HIDDEN TESTS is removed.
c.ClearSolutions.code_stub = {{"python": "# YOUR CODE HERE\\nraise NotImplementedError()"}}

# Autograde: locked test cells are restored from the gradebook, deleted ones are put back.
c.OverwriteCells.add_missing_cells = True

# A cell that runs longer than this many seconds is interrupted and counts as an error.
c.Execute.timeout = {timeout}
c.Execute.interrupt_on_timeout = True
# A flood of output or a killed kernel is recorded in the cell, not raised.
c.Execute.raise_on_iopub_timeout = False
c.Autograde.autograde_preprocessors = [
    ResilientExecute, IgnorePattern, ClearMetadataPreprocessor, LimitOutput, SaveAutoGrades,
    AssignLatePenalties, CheckCellMetadata]

# Stored outputs are cut to this many lines per cell and traceback lines per error.
c.LimitOutput.max_lines = {max_lines}
c.LimitOutput.max_traceback = 100

# stderr matching this pattern (warnings) does not fail a test cell; any other stderr does.
c.IgnorePattern.enabled = True
c.IgnorePattern.pattern = r"{harmless}"

# On a shared JupyterHub, `nbgrader release_assignment` and `collect` use an exchange folder:
# c.Exchange.root = "/srv/nbgrader/exchange"
'''


class CourseError(Exception):
    """A problem the person running the command can fix; the message says how."""


RESTARTED = "; a fresh kernel re-ran the cells before it that had succeeded and went on."


class ResilientExecute(Execute):
    """nbgrader's Execute, recovering from a kernel that dies or stops responding.

    When the kernel dies in a cell (``os._exit``, a crash, out of memory), or stays busy after a
    timed-out cell was interrupted (a loop that swallows ``KeyboardInterrupt``), the cell gets an
    error output, a fresh kernel replays the earlier cells that had succeeded, and execution goes
    on. Stock nbgrader gives up on the whole submission instead.
    """

    responsive_timeout = Integer(
        5, help="Seconds a kernel may take to answer after an interrupted cell.").tag(config=True)

    def preprocess(self, nb, resources=None, km=None):
        self._succeeded = set()
        return super().preprocess(nb, resources, km)

    def preprocess_cell(self, cell, resources, index):
        try:
            super().preprocess_cell(cell, resources, index)
        except DeadKernelError:
            _add_error(cell, "DeadKernelError", "the kernel died while running this cell (it "
                       f"exited, crashed or ran out of memory){RESTARTED}")
            self._restart(index)
        else:
            timed_out = _has_error(cell, (self.error_on_timeout or {}).get("ename"))
            if timed_out and not self._responsive():
                _add_error(cell, "UnresponsiveKernel",
                           f"the kernel ignored the interrupt after the timeout{RESTARTED}")
                self._restart(index)
            elif not _has_error(cell):
                self._succeeded.add(index)
        return cell, self.resources

    def _responsive(self):
        return run_sync(self._async_responsive)()

    async def _async_responsive(self):
        msg_id = self.kc.kernel_info()
        deadline = monotonic() + self.responsive_timeout
        while (left := deadline - monotonic()) > 0:
            try:
                reply = await ensure_async(self.kc.shell_channel.get_msg(timeout=left))
            except Empty:
                return False
            if reply["parent_header"].get("msg_id") == msg_id:
                return True
        return False

    def _restart(self, index, replay=True):
        """Start a fresh kernel and re-run the cells before ``index`` that had succeeded."""
        self.shutdown_kernel = "immediate"
        self._cleanup_kernel()
        self.km = self.create_kernel_manager()
        self.start_new_kernel()
        self.start_new_kernel_client()
        if not replay:
            return
        try:
            for i in sorted(self._succeeded):
                if i < index:
                    self.execute_cell(copy.deepcopy(self.nb.cells[i]), i, store_history=False)
        except DeadKernelError:
            self._restart(index, replay=False)


def _has_error(cell, ename=None):
    """Whether ``cell`` has an error output (named ``ename``, if given)."""
    return any(out.output_type == "error" and (ename is None or out.get("ename") == ename)
               for out in cell.get("outputs", []))


def _add_error(cell, ename, evalue):
    cell.outputs.append(nbformat.v4.new_output(
        "error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"]))


def find_exercises(chapters=CHAPTERS):
    """``{chapter slug: path}`` for every ``<chapters>/<slug>/exercises.ipynb``, in order."""
    chapters = pathlib.Path(chapters)
    found = {path.parent.name: path for path in sorted(chapters.glob(f"*/{NOTEBOOK}"))}
    if not found:
        raise CourseError(f"no chapter has an {NOTEBOOK} under {chapters}: run this from a clone "
                          "of the book, or pass --chapters with the folder that holds them.")
    return found


def exercise_points(notebook):
    """``{test cell grade_id: points}`` of an exercises notebook (a path or a NotebookNode)."""
    if not isinstance(notebook, nbformat.NotebookNode):
        notebook = nbformat.read(notebook, as_version=4)
    meta = [cell.metadata.get("nbgrader", {}) for cell in notebook.cells]
    return {m["grade_id"]: float(m["points"]) for m in meta if m.get("grade")}


def nbgrader(course_dir, *args):
    """Run ``nbgrader ARGS`` in ``course_dir`` with this interpreter; returns its combined output.

    The interpreter's ``bin`` folder goes first on PATH, because nbgrader runs ``alembic`` from
    there. Raises CourseError with nbgrader's own message when it fails.
    """
    bindir = str(pathlib.Path(sys.executable).parent)
    env = dict(os.environ, PATH=os.pathsep.join([bindir, os.environ.get("PATH", "")]))
    result = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course_dir, env=env,
                            capture_output=True, text=True)
    output = result.stdout + result.stderr
    if result.returncode:
        tail = "\n".join(output.splitlines()[-40:])
        raise CourseError(f"`nbgrader {' '.join(args)}` failed in {course_dir} "
                          f"(exit status {result.returncode}). Its last lines:\n{tail}")
    return output


def prepare(course_dir):
    """Create ``course_dir`` or check it is ours, and clear what is regenerated."""
    course_dir = pathlib.Path(course_dir)
    try:
        course_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CourseError(f"cannot create the course directory {course_dir}: {exc.strerror}. "
                          "Choose another, e.g. `make course COURSE_DIR=~/rnn-course`.") from exc
    if not os.access(course_dir, os.W_OK | os.X_OK):
        raise CourseError(f"the course directory {course_dir} is not writable: choose another one "
                          "or change its permissions.")
    config = course_dir / "nbgrader_config.py"
    ours = config.is_file() and config.read_text().startswith(MARKER)
    if any(course_dir.iterdir()) and not ours:
        raise CourseError(f"{course_dir} is not empty and was not written by rnnbook.course; "
                          "choose a new or empty directory so that nothing of yours is replaced.")
    for generated in ("source", "release"):
        shutil.rmtree(course_dir / generated, ignore_errors=True)
    return course_dir


def write_config(course_dir, timeout=DEFAULT_TIMEOUT, max_lines=1000):
    """Write ``nbgrader_config.py`` with a per-cell ``timeout`` in seconds."""
    text = CONFIG.format(marker=MARKER, course_id=COURSE_ID, timeout=int(timeout),
                         max_lines=int(max_lines), harmless=HARMLESS_STDERR)
    (pathlib.Path(course_dir) / "nbgrader_config.py").write_text(text)


def build_course(course_dir, exercises, timeout=DEFAULT_TIMEOUT):
    """Write a course for ``exercises`` (``{assignment: notebook path}``) into ``course_dir``."""
    if not exercises:
        raise CourseError("there are no exercises to put into the course.")
    if timeout < 1:
        raise CourseError(f"the timeout must be at least 1 second, got {timeout}.")
    course_dir = prepare(course_dir)
    write_config(course_dir, timeout)
    for assignment, notebook in exercises.items():
        target = course_dir / "source" / assignment / NOTEBOOK
        target.parent.mkdir(parents=True)
        shutil.copyfile(notebook, target)
        nbgrader(course_dir, "generate_assignment", assignment, "--force")
    return course_dir


def summary(course_dir, exercises):
    """What was written and what to do next, for the terminal."""
    lines = [f"Wrote the nbgrader course '{COURSE_ID}' to {course_dir}:"]
    for assignment, notebook in exercises.items():
        points = exercise_points(notebook)
        lines.append(f"  {assignment:<24} {len(points)} exercises, {sum(points.values()):g} points"
                     f"  -> release/{assignment}/{NOTEBOOK}")
    lines.append(f"Next: cd {course_dir} and follow the book's page 'For instructors' "
                 "(release, collect, `nbgrader autograde ASSIGNMENT`, `nbgrader export`).")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m rnnbook.course",
        description="Write an nbgrader course directory with every chapter's exercises: the "
                    "instructor copies in source/, the student copies in release/.")
    parser.add_argument("course_dir", nargs="?", default=DEFAULT_DIR, metavar="DIR",
                        help=f"the course directory to write (default: {DEFAULT_DIR})")
    parser.add_argument("--timeout", type=int, default=DEFAULT_TIMEOUT, metavar="SECONDS",
                        help="seconds one cell may run during autograding before it is "
                             f"interrupted and counted as failed (default: {DEFAULT_TIMEOUT})")
    parser.add_argument("--chapters", default=str(CHAPTERS), metavar="DIR",
                        help="the folder holding <chapter>/exercises.ipynb (default: the book's)")
    args = parser.parse_args(argv)
    try:
        exercises = find_exercises(args.chapters)
        course_dir = build_course(args.course_dir, exercises, args.timeout)
    except CourseError as exc:
        sys.exit(f"error: {exc}")
    print(summary(course_dir, exercises))


if __name__ == "__main__":
    main()
