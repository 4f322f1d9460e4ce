"""Write a ready nbgrader course directory from the book's chapter exercises.

    python -m rnnbook.course [DIR] [--course-id ID] [--exchange DIR] [--timeout SECONDS]
                             [--private DIR] [--due CHAPTER=DATE ...] [--late-penalty FRACTION]
                             [--roster CSV] [--book-url URL] [--chapters DIR] [--no-sandbox]

DIR (default ``_build/course``) receives:

- ``course.toml``: the course's settings (course id, exchange root, timeout, private folder, due
  dates, late penalty, sandbox). It is written once, from the options of the first build, and
  never overwritten: edit it, and every later build uses it. An option given on a later build
  overrides the file for that build only.
- ``nbgrader_config.py`` (regenerated on every build from ``course.toml``) which finally loads
  ``nbgrader_config_local.py`` when that file exists: put any other nbgrader setting there.
- ``student_nbgrader_config.py``: what each student's nbgrader needs (the exchange root), to copy
  to the students' configuration (e.g. ``/etc/jupyter/nbgrader_config.py`` on a hub).
- the instructor copies ``source/<chapter>/exercises.ipynb``, with the private tests merged in,
  and the student copies ``release/<chapter>/`` (made by ``nbgrader generate_assignment``), both
  with the book's MyST markup rewritten to plain Markdown.

Running it again regenerates ``source/``, ``release/`` and ``nbgrader_config.py`` and keeps
``course.toml``, ``nbgrader_config_local.py``, the gradebook and any submissions.

The configuration plugs :class:`ResilientExecute` into ``nbgrader autograde``: a cell that loops
forever, leaves its kernel unresponsive or kills it costs that cell, not the whole submission.
With ``sandbox = true`` (the default) every kernel runs in the sandbox of :mod:`rnnbook.sandbox`;
the build checks that the sandbox starts and stops with the fix if it does not.
"""

import argparse
import copy
import dataclasses
import datetime
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tomllib
from queue import Empty
from time import monotonic

import nbformat
from jupyter_core.utils import ensure_async, run_sync
from nbclient.exceptions import DeadKernelError
from nbgrader.preprocessors import Execute
from traitlets import Bool, Integer

from rnnbook.course_markup import rewrite_notebook
from rnnbook.sandbox import SandboxedKernelManager, SandboxError, check_sandbox

COURSE_ID = "rnnbook"
NOTEBOOK = "exercises.ipynb"
DEFAULT_DIR = "_build/course"
DEFAULT_TIMEOUT = 30
PACKAGE_ROOT = pathlib.Path(__file__).resolve().parents[2]
CHAPTERS = PACKAGE_ROOT / "chapters"
SETTINGS_FILE = "course.toml"
LOCAL_CONFIG = "nbgrader_config_local.py"
STUDENT_CONFIG = "student_nbgrader_config.py"
MARKER = "# Written by rnnbook.course"
COURSE_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
# stderr that costs no points when a test cell prints it: Python warnings and matplotlib's
# one-off font cache notice. Errors are reported as error outputs and are never ignored.
HARMLESS_STDERR = r"(?m)^.*:\d+: \w*Warning: |^Matplotlib is building the font cache"
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"

CONFIG = '''{marker}: `python -m rnnbook.course` rewrites this file on every build.
# Change the course's settings in course.toml next to it, and put any other nbgrader setting in
# {local} (never written by the builder); see the book's page "For instructors".
import warnings

from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import (
    AssignLatePenalties, CheckCellMetadata, ClearOutput, DeduplicateIds, GetGrades,
    IgnorePattern, LimitOutput, OverwriteKernelspec, SaveAutoGrades)
from sqlalchemy.exc import SAWarning

from rnnbook.course import ResilientExecute
from rnnbook.grades import ExerciseSummary, HideTests, QuietOverwriteCells

c = get_config()  # noqa: F821 (provided by nbgrader when it reads this file)

c.CourseDirectory.course_id = "{course_id}"
{exchange}
# Release: a solution region becomes this stub; test code between BEGIN/END HIDDEN TESTS is removed.
c.ClearSolutions.code_stub = {{"python": "# YOUR CODE HERE\\nraise NotImplementedError()"}}

# Autograde: locked test cells are restored from the gradebook, deleted ones are put back. The
# restored hidden tests are logged at debug level only; a test cell a student edited is a warning.
c.OverwriteCells.add_missing_cells = True
c.Autograde.sanitize_preprocessors = [
    ClearOutput, DeduplicateIds, OverwriteKernelspec, QuietOverwriteCells, CheckCellMetadata]

# Sandbox: {sandbox_comment}
c.ResilientExecute.sandbox = {sandbox}

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

# Late work: {late_comment}
{late}
# Feedback pages start with a table naming each exercise and the points it earned. They show each
# test's result and message but not the hidden (or private) tests themselves.
c.GenerateFeedback.preprocessors = [GetGrades, ExerciseSummary, HideTests,
                                    CSSHTMLHeaderPreprocessor]

# nbgrader 0.9 makes SQLAlchemy warn "Object of type <SubmittedAssignment> not in session" on
# every autograde (a known, harmless quirk of its gradebook code); only that message is silenced.
warnings.filterwarnings("ignore", message=r"Object of type <Submitted\\w+> not in session",
                        category=SAWarning)

# Your own settings, kept across rebuilds:
load_subconfig("{local}")  # noqa: F821
'''

STUDENT_CONFIG_TEXT = '''{marker} for course "{course_id}".
# Each student's nbgrader reads this: on a JupyterHub, copy it to /etc/jupyter/nbgrader_config.py
# (or the "nbgrader" section of each student's ~/.jupyter/nbgrader_config.py).
c = get_config()  # noqa: F821
{exchange}
# With several courses on one hub, leave course_id unset: the Assignments tab lists every course
# the student is enrolled in, and the command line takes --course {course_id}.
# c.CourseDirectory.course_id = "{course_id}"
'''

SETTINGS_TEXT = '''# Settings of the nbgrader course in this folder, read by
# `python -m rnnbook.course` (`make course`) on every build. The builder wrote this file
# once and never overwrites it; a command-line option overrides a value for one build only.

# A name unique on the hub (two sections: two ids, e.g. "rnn-fall-a" and "rnn-fall-b").
course_id = {course_id}
# The exchange folder shared by instructors and students on one machine or hub ("": none).
exchange_root = {exchange_root}
# Seconds one cell may run while autograding.
timeout = {timeout}
# A folder with private tests or variants, merged into source/ at build time ("": none).
private = {private}
# Fraction of the score taken off per started day after the due date (0: no penalty).
late_penalty_per_day = {late_penalty_per_day}
# The book's web address, for links in the students' copies ("": page names only).
book_url = {book_url}
# Autograde each submission in a sandbox that hides the course's files (false: no sandbox,
# every submission runs with your rights; see "For instructors").
sandbox = {sandbox}

# Due dates, one per assignment, in UTC, e.g. "01_background" = "2026-10-05 23:59:00"
[due]
{due}
'''


@dataclasses.dataclass
class Settings:
    """The course's settings, from course.toml and the command line."""
    course_id: str = COURSE_ID
    exchange_root: str = ""
    timeout: int = DEFAULT_TIMEOUT
    private: str = ""
    late_penalty_per_day: float = 0.0
    book_url: str = ""
    sandbox: bool = True
    due: dict = dataclasses.field(default_factory=dict)

    def check(self):
        if not COURSE_ID_PATTERN.match(self.course_id):
            raise CourseError(f"the course id must be letters, digits, '.', '_' or '-' (it names "
                              f"folders of the exchange), got {self.course_id!r}.")
        if int(self.timeout) < 1:
            raise CourseError(f"the timeout must be at least 1 second, got {self.timeout}.")
        if not isinstance(self.sandbox, bool):
            raise CourseError(f"sandbox is true or false (no quotes), got {self.sandbox!r}.")
        if not 0 <= float(self.late_penalty_per_day) <= 1:
            raise CourseError("the late penalty is a fraction of the score per day, between 0 "
                              f"and 1; got {self.late_penalty_per_day}.")
        for assignment, when in self.due.items():
            parse_due(assignment, when)
        return self


def parse_due(assignment, when):
    """``when`` ('YYYY-MM-DD HH:MM[:SS]', UTC) as a datetime; CourseError if it is not one."""
    text = str(when).strip().removesuffix("UTC").strip()
    try:
        return datetime.datetime.fromisoformat(text)
    except ValueError:
        raise CourseError(f"the due date of {assignment} should read like '2026-10-05 23:59' "
                          f"(UTC); got {when!r}.") from None


def _toml(value):
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return repr(value)


def read_settings(course_dir):
    """The settings stored in ``course_dir/course.toml`` (defaults where it is silent)."""
    path = pathlib.Path(course_dir) / SETTINGS_FILE
    if not path.is_file():
        return Settings()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise CourseError(f"{path} is not valid TOML: {exc}. Fix it or delete it (the next build "
                          "writes a fresh one).") from exc
    known = {f.name for f in dataclasses.fields(Settings)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise CourseError(f"{path} has unknown settings {unknown}; the known ones are "
                          f"{sorted(known)}.")
    return Settings(**data)


def write_settings(course_dir, settings):
    """Write course.toml, only if there is none yet; returns whether it was written."""
    path = pathlib.Path(course_dir) / SETTINGS_FILE
    if path.exists():
        return False
    due = "\n".join(f"{_toml(k)} = {_toml(str(v))}" for k, v in settings.due.items())
    path.write_text(SETTINGS_TEXT.format(
        course_id=_toml(settings.course_id), exchange_root=_toml(settings.exchange_root),
        timeout=int(settings.timeout), private=_toml(settings.private),
        late_penalty_per_day=float(settings.late_penalty_per_day),
        book_url=_toml(settings.book_url), sandbox=str(bool(settings.sandbox)).lower(),
        due=due), encoding="utf-8")
    return True


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
    sandbox = Bool(False, help="Start every kernel in the sandbox of rnnbook.sandbox."
                   ).tag(config=True)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        if self.sandbox:
            self.kernel_manager_class = SandboxedKernelManager

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


def default_chapters():
    """The clone's own ``chapters/`` when run from a clone of the book, else the package's."""
    here = pathlib.Path.cwd()
    if (here / "_toc.yml").is_file() and (here / "chapters").is_dir():
        return here / "chapters"
    return CHAPTERS


def find_exercises(chapters=CHAPTERS):
    """``{chapter slug: path}`` for every ``<chapters>/<slug>/exercises.ipynb``, in order."""
    chapters = pathlib.Path(chapters)
    found = {path.parent.name: path for path in sorted(chapters.glob(f"*/{NOTEBOOK}"))}
    if not found:
        raise CourseError(f"no chapter has an {NOTEBOOK} under {chapters}: run this from a clone "
                          "of the book, or pass --chapters with the folder that holds them.")
    return found


def exercise_points(notebook):
    """``{grade cell grade_id: points}`` of an exercises notebook (a path or a NotebookNode)."""
    if not isinstance(notebook, nbformat.NotebookNode):
        notebook = nbformat.read(notebook, as_version=4)
    meta = [cell.metadata.get("nbgrader", {}) for cell in notebook.cells]
    return {m["grade_id"]: float(m["points"]) for m in meta if m.get("grade")}


def nbgrader_env():
    """The environment for an nbgrader process: this interpreter's ``bin`` first on PATH."""
    bindir = str(pathlib.Path(sys.executable).parent)
    return dict(os.environ, PATH=os.pathsep.join([bindir, os.environ.get("PATH", "")]))


def nbgrader(course_dir, *args):
    """Run ``nbgrader ARGS`` in ``course_dir`` with this interpreter; returns its combined output.

    The interpreter's ``bin`` folder goes first on PATH, because nbgrader runs ``alembic`` from
    there. Raises CourseError with nbgrader's own message when it fails.
    """
    result = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course_dir,
                            env=nbgrader_env(), capture_output=True, text=True)
    output = result.stdout + result.stderr
    if result.returncode:
        tail = "\n".join(output.splitlines()[-40:])
        raise CourseError(f"`nbgrader {' '.join(args)}` failed in {course_dir} "
                          f"(exit status {result.returncode}). Its last lines:\n{tail}")
    return output


def prepare(course_dir):
    """Create ``course_dir`` or check it is ours, and clear what is regenerated.

    Returns ``(course_dir, {assignment: points})`` of the source copies it removed, so that a
    rebuild can say which assignments changed their points.
    """
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
    old_points = {path.parent.name: exercise_points(path)
                  for path in sorted((course_dir / "source").glob(f"*/{NOTEBOOK}"))}
    for generated in ("source", "release"):
        shutil.rmtree(course_dir / generated, ignore_errors=True)
    return course_dir, old_points


def write_config(course_dir, timeout=DEFAULT_TIMEOUT, max_lines=1000, settings=None):
    """Write ``nbgrader_config.py`` and ``student_nbgrader_config.py`` for ``settings``."""
    settings = settings or Settings(timeout=timeout)
    root = settings.exchange_root
    exchange = (f'c.Exchange.root = {_toml(root)}' if root else
                '# c.Exchange.root = "/srv/nbgrader/exchange"  (set exchange_root in course.toml)')
    exchange = ("# The exchange folder of `release_assignment`, `collect`, `fetch_assignment` and "
                f"`submit`:\n{exchange}\n")
    fraction = float(settings.late_penalty_per_day)
    if fraction:
        late_comment = (f"{fraction:g} of the score is taken off per started day after the "
                        "due date.")
        late = ('c.AssignLatePenalties.plugin_class = "rnnbook.grades.PerDayPenalty"\n'
                f"c.PerDayPenalty.fraction_per_day = {fraction!r}\n")
    else:
        late_comment = "no penalty (late_penalty_per_day = 0 in course.toml)."
        late = ""
    sandbox_comment = ("each submission's kernel runs in bubblewrap (rnnbook.sandbox):\n# its "
                       "own folder only, no network, memory and process limits." if settings.sandbox
                       else "OFF (sandbox = false in course.toml): submissions run with your "
                       "rights.")
    text = CONFIG.format(marker=MARKER, course_id=settings.course_id, exchange=exchange,
                         timeout=int(settings.timeout), max_lines=int(max_lines),
                         harmless=HARMLESS_STDERR, late_comment=late_comment, late=late,
                         local=LOCAL_CONFIG, sandbox=bool(settings.sandbox),
                         sandbox_comment=sandbox_comment)
    course_dir = pathlib.Path(course_dir)
    (course_dir / "nbgrader_config.py").write_text(text)
    (course_dir / STUDENT_CONFIG).write_text(STUDENT_CONFIG_TEXT.format(
        marker=MARKER, course_id=settings.course_id, exchange=exchange))


def private_parts(private, exercises):
    """What a private folder adds: ``({assignment: notebook}, {assignment: {grade_id: code}})``.

    ``<private>/<chapter>/exercises.ipynb`` replaces (or adds) a chapter's notebook;
    ``<private>/<chapter>/<grade_id>.py`` holds hidden tests added to that test cell.
    """
    private = pathlib.Path(private).expanduser()
    if not private.is_dir():
        raise CourseError(f"the private folder {private} does not exist.")
    notebooks, tests = {}, {}
    for folder in sorted(p for p in private.iterdir() if p.is_dir()):
        if (folder / NOTEBOOK).is_file():
            notebooks[folder.name] = folder / NOTEBOOK
        extra = {path.stem: path.read_text(encoding="utf-8")
                 for path in sorted(folder.glob("*.py"))}
        if extra:
            if folder.name not in exercises and folder.name not in notebooks:
                raise CourseError(f"{folder} holds private tests, but there is no chapter "
                                  f"{folder.name!r} (chapters: {', '.join(exercises)}).")
            tests[folder.name] = extra
    return notebooks, tests


def merge_private_tests(nb, extra, where):
    """Add each ``{grade_id: code}`` of ``extra`` to that test cell as hidden tests (in place)."""
    cells = {cell.metadata.get("nbgrader", {}).get("grade_id"): cell for cell in nb.cells
             if cell.metadata.get("nbgrader", {}).get("grade")}
    for grade_id, code in extra.items():
        cell = cells.get(grade_id)
        if cell is None or cell.cell_type != "code":
            raise CourseError(f"{where}/{grade_id}.py: the notebook has no test cell "
                              f"{grade_id!r}; its test cells are {sorted(cells)}.")
        code = code.strip("\n")
        if BEGIN_HIDDEN in cell.source:
            # At the start of the hidden region, so they run before a partial-credit total.
            cell.source = re.sub(rf"^([ \t]*){re.escape(BEGIN_HIDDEN)}[ \t]*$",
                                 lambda m, code=code: f"{m.group(0)}\n{code}", cell.source, count=1,
                                 flags=re.M)
        else:
            cell.source = f"{cell.source.rstrip()}\n{BEGIN_HIDDEN}\n{code}\n{END_HIDDEN}"


def build_course(course_dir, exercises, timeout=None, settings=None, root=None):
    """Write a course for ``exercises`` (``{assignment: notebook path}``) into ``course_dir``.

    Returns the course directory; :func:`build` also returns the notes for the terminal.
    """
    return build(course_dir, exercises, timeout=timeout, settings=settings, root=root)[0]


def build(course_dir, exercises, timeout=None, settings=None, root=None):
    """Build the course; returns ``(course_dir, notes)`` with notes for the terminal."""
    if not exercises:
        raise CourseError("there are no exercises to put into the course.")
    settings = copy.deepcopy(settings) if settings else Settings()
    if timeout is not None:
        settings.timeout = timeout
    settings.check()
    if settings.sandbox:
        try:
            check_sandbox()
        except SandboxError as exc:
            raise CourseError(str(exc)) from None
    course_dir, old_points = prepare(course_dir)
    notes = ["Autograding runs every submission in a sandbox (bubblewrap; it started here)."
             if settings.sandbox else
             "WARNING: autograding runs without a sandbox (sandbox = false): every submission "
             "runs with your rights and can read the gradebook and the hidden tests."]
    if write_settings(course_dir, settings):
        notes.append(f"Wrote the course's settings to {course_dir / SETTINGS_FILE}; edit them "
                     "there (later builds never overwrite that file).")
    write_config(course_dir, settings=settings)
    exercises = dict(exercises)
    private_tests = {}
    if settings.private:
        private_notebooks, private_tests = private_parts(settings.private, exercises)
        exercises.update(private_notebooks)
        exercises = dict(sorted(exercises.items()))
        notes.append(f"Merged private material from {settings.private}: "
                     f"{len(private_notebooks)} notebooks, "
                     f"{sum(map(len, private_tests.values()))} test cells with private tests.")
    unknown = sorted(set(settings.due) - set(exercises))
    if unknown:
        raise CourseError(f"due dates for unknown assignments {unknown}; the assignments are "
                          f"{', '.join(exercises)}.")
    root = pathlib.Path(root) if root else PACKAGE_ROOT
    for assignment, notebook in exercises.items():
        target = course_dir / "source" / assignment / NOTEBOOK
        target.parent.mkdir(parents=True)
        nb = nbformat.read(notebook, as_version=4)
        if assignment in private_tests:
            merge_private_tests(nb, private_tests[assignment],
                                pathlib.Path(settings.private) / assignment)
        rewrite_notebook(nb, assignment, root=root, book_url=settings.book_url or None)
        nbformat.write(nb, target)
        nbgrader(course_dir, "generate_assignment", assignment, "--force")
        if assignment in settings.due:
            due = parse_due(assignment, settings.due[assignment])
            nbgrader(course_dir, "db", "assignment", "add", assignment,
                     f"--duedate={due.isoformat(sep=' ')} UTC")
    notes += regrade_notes(course_dir, old_points, exercises)
    return course_dir, notes


def regrade_notes(course_dir, old_points, exercises):
    """Name the graded assignments whose points changed in this rebuild."""
    notes = []
    for assignment in exercises:
        new = exercise_points(course_dir / "source" / assignment / NOTEBOOK)
        old = old_points.get(assignment)
        graded = any((course_dir / "autograded").glob(f"*/{assignment}"))
        if old is not None and old != new and graded:
            notes.append(f"The points of {assignment} changed ({sum(old.values()):g} -> "
                         f"{sum(new.values()):g}) and it has graded submissions: regrade them "
                         f"with `nbgrader autograde {assignment} --force`.")
    return notes


def summary(course_dir, exercises, settings=None, chapters=None, notes=()):
    """What was written and what to do next, for the terminal."""
    settings = settings or Settings()
    lines = []
    if chapters is not None:
        lines.append(f"Exercises from {pathlib.Path(chapters).resolve()}")
    lines.append(f"Wrote the nbgrader course '{settings.course_id}' to {course_dir}:")
    for assignment in sorted(p.name for p in (pathlib.Path(course_dir) / "source").iterdir()):
        points = exercise_points(pathlib.Path(course_dir) / "source" / assignment / NOTEBOOK)
        due = f", due {settings.due[assignment]}" if assignment in settings.due else ""
        lines.append(f"  {assignment:<24} {len(points)} graded cells, "
                     f"{sum(points.values()):g} points{due}  -> release/{assignment}/{NOTEBOOK}")
    lines += list(notes)
    lines.append(f"Next: cd {course_dir} and follow the book's page 'For instructors' "
                 "(release, collect, `nbgrader autograde ASSIGNMENT` or, N at a time, "
                 "`python -m rnnbook.autograde ASSIGNMENT --jobs N`, `nbgrader export`). "
                 "nbgrader skips a submission it has graded: to regrade one, add --force, e.g. "
                 "`nbgrader autograde ASSIGNMENT --student ID --force`.")
    return "\n".join(lines)


def _due_option(text):
    assignment, sep, when = text.partition("=")
    if not sep or not assignment:
        raise argparse.ArgumentTypeError(f"expected CHAPTER=DATE, got {text!r}")
    return assignment.strip(), when.strip()


def parser():
    p = argparse.ArgumentParser(
        prog="python -m rnnbook.course",
        description="Write an nbgrader course directory with every chapter's exercises: the "
                    "instructor copies in source/, the student copies in release/. Settings "
                    f"are kept in DIR/{SETTINGS_FILE}; an option overrides it for one build.")
    p.add_argument("course_dir", nargs="?", default=DEFAULT_DIR, metavar="DIR",
                   help=f"the course directory to write (default: {DEFAULT_DIR})")
    p.add_argument("--course-id", metavar="ID",
                   help=f"the course's name, unique on the hub (default: {COURSE_ID})")
    p.add_argument("--exchange", metavar="DIR", dest="exchange_root",
                   help="the exchange folder shared with the students (default: none)")
    p.add_argument("--timeout", type=int, metavar="SECONDS",
                   help="seconds one cell may run during autograding before it is "
                        f"interrupted and counted as failed (default: {DEFAULT_TIMEOUT})")
    p.add_argument("--private", metavar="DIR",
                   help="a folder with private tests (<chapter>/<grade_id>.py) or notebooks "
                        "(<chapter>/exercises.ipynb), merged into source/ only")
    p.add_argument("--due", type=_due_option, action="append", metavar="CHAPTER=DATE",
                   help="a due date in UTC, e.g. 01_background='2026-10-05 23:59' (repeatable)")
    p.add_argument("--late-penalty", type=float, metavar="FRACTION",
                   dest="late_penalty_per_day",
                   help="fraction of the score taken off per started day late (default: 0)")
    p.add_argument("--roster", metavar="CSV",
                   help="import students from a CSV file (columns id, first_name, last_name, "
                        "email) with `nbgrader db student import`")
    p.add_argument("--book-url", metavar="URL",
                   help="the book's web address, so the students' copies link to its pages")
    p.add_argument("--no-sandbox", dest="sandbox", action="store_false", default=None,
                   help="autograde without the bubblewrap sandbox (not recommended: every "
                        "submission then runs with your rights)")
    p.add_argument("--chapters", metavar="DIR",
                   help="the folder holding <chapter>/exercises.ipynb (default: ./chapters in a "
                        "clone of the book, else the installed book's)")
    return p


def main(argv=None):
    args = parser().parse_args(argv)
    try:
        course_dir = pathlib.Path(args.course_dir)
        settings = read_settings(course_dir)
        for field in ("course_id", "exchange_root", "timeout", "private",
                      "late_penalty_per_day", "book_url", "sandbox"):
            value = getattr(args, field)
            if value is not None:
                setattr(settings, field, value)
        if args.due:
            settings.due = {**settings.due, **dict(args.due)}
        chapters = pathlib.Path(args.chapters) if args.chapters else default_chapters()
        exercises = find_exercises(chapters)
        course_dir, notes = build(course_dir, exercises, settings=settings,
                                  root=chapters.resolve().parent)
        if args.roster:
            nbgrader(course_dir, "db", "student", "import", str(pathlib.Path(args.roster)
                                                                 .resolve()))
            notes.append(f"Imported the students of {args.roster}.")
    except CourseError as exc:
        sys.exit(f"error: {exc}")
    print(summary(course_dir, exercises, settings, chapters, notes))


if __name__ == "__main__":
    main()
