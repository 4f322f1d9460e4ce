"""The grading round trip: build a course, autograde a class of doctored submissions, read grades.

Each *case* is one student of the class: a notebook made from the instructor copy or the released
copy of an exercises notebook, and the exercises it is expected to lose. All cases of a notebook
are autograded in one course directory with two `nbgrader autograde` calls (the instructor copy
first, alone, to time one submission).
"""

import ast
import copy
import csv
import dataclasses
import datetime
import math
import os
import pathlib
import re
import socket
import time
from collections.abc import Callable

import nbformat
from nbgrader.api import Gradebook

from rnnbook.course import NOTEBOOK, build_course, exercise_points, nbgrader

ROOT = pathlib.Path(__file__).resolve().parents[2]
FIXTURE = pathlib.Path(__file__).with_name("fixtures") / NOTEBOOK
# The per-cell timeout of a test course is short, for the loop cases, but well above the slowest
# cell of the notebook as stored (its execution timestamps); RNNBOOK_GRADING_TIMEOUT overrides it.
MIN_TIMEOUT, SLOWDOWN = 20, 3
MAX_LINES = 1000  # the course's LimitOutput.max_lines

SOLUTION = re.compile(r"^[ \t]*### BEGIN SOLUTION\n(.*?)^[ \t]*### END SOLUTION[ \t]*$",
                      re.M | re.S)
HIDDEN = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS\n(.*?)^[ \t]*### END HIDDEN TESTS[ \t]*$",
                    re.M | re.S)

RAISE = 'raise RuntimeError("a bug in this answer")'
LOOP = "while True:\n    pass"
STUBBORN_LOOP = "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass"
FLOOD = 'print("spam\\n" * 2_000_000)'
WARN = 'import warnings\nwarnings.warn("a harmless warning")'
STDERR = 'import sys\nprint("a message on stderr", file=sys.stderr)'
EXIT = "import os\nos._exit(1)"
KILL = "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)"
PATCH_CHECKS = '''
import importlib, pkgutil, sys
import rnnbook.checks
for _info in pkgutil.iter_modules(rnnbook.checks.__path__, "rnnbook.checks."):
    importlib.import_module(_info.name)
for _name, _module in list(sys.modules.items()):
    if _name.startswith("rnnbook.checks"):
        for _attr in dir(_module):
            if _attr.startswith(("check_", "expect_")):
                setattr(_module, _attr, lambda *args, **kwargs: None)
'''

# Attacks on the grader's machine, run on the fixture (assignment "fixture") in a sandbox. Paths
# are relative to the folder being graded, <course>/autograded/<student>/fixture. Each attack
# prints LEAKED, WROTE or CONNECTED if it succeeds and "blocked" if it does not.
COURSE = "../../.."
READ = """
for _path in {paths!r}:
    try:
        with open(_path, "rb") as _file:
            print("LEAKED", _path, _file.read(64))
    except OSError as _error:
        print("blocked", _path, type(_error).__name__)
"""
READ_GRADEBOOK = READ.format(paths=[f"{COURSE}/gradebook.db"])
READ_SOURCE = READ.format(paths=[f"{COURSE}/source/fixture/{NOTEBOOK}",
                                 f"{COURSE}/release/fixture/{NOTEBOOK}"])
READ_OTHER = READ.format(paths=[f"{COURSE}/submitted/instructor/fixture/{NOTEBOOK}",
                                f"{COURSE}/autograded/instructor/fixture/{NOTEBOOK}"])
PWNED = "pwned.txt"
WRITE = """
for _path in {paths!r}:
    try:
        with open(_path, "a") as _file:
            _file.write("pwned")
        print("WROTE", _path)
    except OSError as _error:
        print("blocked", _path, type(_error).__name__)
""".format(paths=[f"{COURSE}/{PWNED}", f"{COURSE}/../{PWNED}",
                  f"{COURSE}/submitted/instructor/fixture/{PWNED}"])
# A service on the grader's loopback; no connection may reach it.
LISTENER = socket.create_server(("127.0.0.1", 0))
CONNECT = f"""
import socket
for _address in [("127.0.0.1", {LISTENER.getsockname()[1]}), ("pypi.org", 443)]:
    try:
        socket.create_connection(_address, timeout=5).close()
        print("CONNECTED", _address)
    except OSError as _error:
        print("blocked", _address, type(_error).__name__)
"""
# Fork until refused (5000 forks is far beyond the sandbox's limit; the children would live a
# minute without a sandbox), then allocate 20 GiB.
FORK = """
import os, time
_children = 0
try:
    for _ in range(5000):
        if os.fork() == 0:
            time.sleep(60)
            os._exit(0)
        _children += 1
finally:
    print("forked", _children)
"""
ALLOCATE = "_hoard = np.ones(20 * 2**30 // 8)"


def cell_seconds(cell):
    """How long a stored code cell took to run, from nbclient's timestamps (0 if unknown)."""
    times = cell.metadata.get("execution", {})
    start, end = times.get("iopub.execute_input"), times.get("shell.execute_reply")
    if not (start and end):
        return 0.0
    parse = datetime.datetime.fromisoformat
    return (parse(end.replace("Z", "+00:00")) - parse(start.replace("Z", "+00:00"))).total_seconds()


def timeout_for(nb):
    """The per-cell timeout (whole seconds) to grade a notebook with."""
    if "RNNBOOK_GRADING_TIMEOUT" in os.environ:
        return int(os.environ["RNNBOOK_GRADING_TIMEOUT"])
    slowest = max((cell_seconds(cell) for cell in nb.cells if cell.cell_type == "code"), default=0)
    return max(MIN_TIMEOUT, math.ceil(SLOWDOWN * slowest))


def chapter_notebooks():
    """Every chapter's exercises notebook, in chapter order."""
    return sorted(ROOT.glob(f"chapters/*/{NOTEBOOK}"))


def all_notebooks():
    """Every chapter's exercises, then the fixture that tests the machinery on its own."""
    return [*chapter_notebooks(), FIXTURE]


def assignment_of(notebook):
    """The assignment name of a notebook: its chapter slug, or 'fixture'."""
    return "fixture" if notebook == FIXTURE else notebook.parent.name


def is_answer(cell):
    meta = cell.metadata.get("nbgrader", {})
    return meta.get("solution", False) and not meta.get("grade", False)


def is_test(cell):
    return cell.metadata.get("nbgrader", {}).get("grade", False)


def answer_cells(nb):
    return [cell for cell in nb.cells if is_answer(cell)]


def grade_cells(nb):
    return [cell for cell in nb.cells if is_test(cell)]


# Submissions: functions (instructor copy, released copy) -> the student's notebook.

def edited(base, change):
    """A submission made from the instructor ('source') or released copy, changed in place."""
    def build(source, release):
        nb = copy.deepcopy(source if base == "source" else release)
        change(nb)
        return nb
    return build


def prepend(code, which):
    """Run ``code`` first in answer cell number ``which``."""
    def change(nb):
        cell = answer_cells(nb)[which]
        cell.source = f"{code}\n{cell.source}"
    return change


def append(code, which):
    """Run ``code`` last in answer cell number ``which``."""
    def change(nb):
        cell = answer_cells(nb)[which]
        cell.source = f"{cell.source}\n{code}"
    return change


def wrap_functions(code, which):
    """Make each function of answer cell ``which`` run ``code`` first (without functions, the
    cell runs it first)."""
    def change(nb):
        cell = answer_cells(nb)[which]
        names = [node.name for node in ast.parse(cell.source).body
                 if isinstance(node, ast.FunctionDef)]
        body = code.replace("\n", "\n    ")
        wrappers = "".join(f"\n_{name} = {name}\ndef {name}(*args, **kwargs):\n    {body}\n"
                           f"    return _{name}(*args, **kwargs)" for name in names)
        cell.source = cell.source + wrappers if names else f"{code}\n{cell.source}"
    return change


def tamper_tests(nb):
    """Replace every test cell by `pass`, unlock it and make it worth 100 points."""
    for cell in grade_cells(nb):
        cell.source = "pass"
        cell.metadata.nbgrader.update(points=100, locked=False)


def delete_tests(nb):
    nb.cells = [cell for cell in nb.cells if not is_test(cell)]


def patch_checks(nb):
    """Leave wrong answers (stubs that return None) and make every check accept anything."""
    for cell in answer_cells(nb):
        cell.source = cell.source.replace("raise NotImplementedError()", "pass")
    append(PATCH_CHECKS, 0)(nb)


@dataclasses.dataclass(frozen=True)
class Case:
    """One student: how the submission is made and which exercises it loses ('all' or indices)."""
    student: str
    build: Callable
    lost: tuple | str = ()


# Every chapter's exercises: the reference earns every point, the blank copy none, and tampering
# with the tests or the checks gains nothing (each chapter's hidden tests must stand on their own).
CASES = [
    Case("instructor", edited("source", lambda nb: None)),
    Case("untouched", edited("release", lambda nb: None), "all"),
    Case("tests-edited", edited("release", tamper_tests), "all"),
    Case("tests-deleted", edited("source", delete_tests)),
    Case("checks-patched", edited("release", patch_checks), "all"),
]
# How the grader survives a failing submission does not depend on the chapter, so these run on
# the fixture only. A failing answer is the last one, on which no later exercise can build.
MACHINERY = [
    Case("raises", edited("source", prepend(RAISE, -1)), (-1,)),
    Case("loops", edited("source", wrap_functions(LOOP, -1)), (-1,)),
    Case("huge-output", edited("source", append(FLOOD, 0))),
    Case("killed", edited("source", prepend(KILL, -1)), (-1,)),
]
# Cases that need independent exercises (a lost first exercise must not cost the later ones),
# so they run on the fixture only: they show that grading goes on after an early timeout, an
# interrupt the kernel ignores, or a kernel that exits, and that only a test cell's stderr other
# than warnings costs points.
FIXTURE_CASES = [
    Case("loops-first", edited("source", lambda nb: (append(LOOP, 0)(nb),
                                                     wrap_functions(LOOP, 1)(nb))), (1,)),
    Case("stuck-first", edited("source", prepend(STUBBORN_LOOP, 0)), (0,)),
    Case("exits-first", edited("source", prepend(EXIT, 0)), (0,)),
    Case("warns", edited("source", wrap_functions(WARN, 0))),
    Case("writes-stderr", edited("source", wrap_functions(STDERR, 0)), (0,)),
]
# Attacks that a sandbox stops: the answers stay right, so only the fork bomb and the huge
# allocation (in the last answer, which fails) cost points.
ATTACKS = [
    Case("reads-gradebook", edited("source", prepend(READ_GRADEBOOK, 0))),
    Case("reads-source", edited("source", prepend(READ_SOURCE, 0))),
    Case("reads-other", edited("source", prepend(READ_OTHER, 0))),
    Case("writes-outside", edited("source", prepend(WRITE, 0))),
    Case("connects", edited("source", prepend(CONNECT, 0))),
    Case("forks", edited("source", prepend(FORK, -1)), (-1,)),
    Case("allocates", edited("source", prepend(ALLOCATE, -1)), (-1,)),
]


def cases_for(notebook):
    return CASES + (MACHINERY + FIXTURE_CASES + ATTACKS if notebook == FIXTURE else [])


@dataclasses.dataclass
class Graded:
    """A graded class: the course, the expected points and what nbgrader recorded."""
    notebook: pathlib.Path
    course: pathlib.Path
    assignment: str
    timeout: int            # per-cell timeout of the course, in seconds
    points: dict            # test grade_id -> points, in notebook order
    cases: list
    csv_rows: dict          # student -> row of the exported grades.csv
    cell_scores: dict       # student -> {test grade_id: score}
    seconds_one: float      # autograding the instructor copy alone
    seconds_rest: float     # autograding all the other submissions in one call

    def autograded(self, student):
        path = self.course / "autograded" / student / self.assignment / NOTEBOOK
        return nbformat.read(path, as_version=4)

    def released(self):
        return nbformat.read(self.course / "release" / self.assignment / NOTEBOOK, as_version=4)

    def expected_scores(self, case):
        """{test grade_id: expected score} for a case."""
        ids = list(self.points)
        lost = set(ids) if case.lost == "all" else {ids[i] for i in case.lost}
        return {gid: 0.0 if gid in lost else pts for gid, pts in self.points.items()}


def submit(course, assignment, case, source, release):
    """Place a case's notebook where `nbgrader collect` would put it."""
    path = course / "submitted" / case.student / assignment / NOTEBOOK
    path.parent.mkdir(parents=True)
    nbformat.write(case.build(source, release), path)


def timed(func, *args):
    start = time.perf_counter()
    func(*args)
    return time.perf_counter() - start


def grade_class(notebook, workdir):
    """Build a course for ``notebook`` in ``workdir``, autograde every case, export the grades."""
    assignment = assignment_of(notebook)
    timeout = timeout_for(nbformat.read(notebook, as_version=4))
    course = build_course(workdir / "course", {assignment: notebook}, timeout=timeout)
    source = nbformat.read(course / "source" / assignment / NOTEBOOK, as_version=4)
    release = nbformat.read(course / "release" / assignment / NOTEBOOK, as_version=4)
    cases = cases_for(notebook)
    for case in cases:
        submit(course, assignment, case, source, release)
    one = timed(nbgrader, course, "autograde", assignment, "--student", "instructor")
    rest = timed(nbgrader, course, "autograde", assignment)
    nbgrader(course, "export", "--to", "grades.csv")
    with open(course / "grades.csv", newline="") as handle:
        rows = {row["student_id"]: row for row in csv.DictReader(handle)
                if row["assignment"] == assignment}
    return Graded(notebook, course, assignment, timeout, exercise_points(source), cases, rows,
                  cell_scores(course, assignment, cases), one, rest)


def cell_scores(course, assignment, cases):
    """{student: {test grade_id: score}} from the gradebook."""
    name = NOTEBOOK.removesuffix(".ipynb")
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        notebooks = {case.student: gb.find_submission_notebook(name, assignment, case.student)
                     for case in cases}
        return {student: {grade.name: grade.score for grade in nb.grades}
                for student, nb in notebooks.items()}
