"""Autograde the submissions of one assignment in several processes at once.

    cd $COURSE && python -m rnnbook.autograde ASSIGNMENT [--jobs N] [--student ID ...] [--force]

nbgrader's gradebook is one SQLite file that ``nbgrader autograde`` writes to while it grades, so
several of them on one gradebook would contend for its lock. Here the submissions to grade are
shared out among N ``nbgrader autograde`` processes, each with its own copy of the gradebook; when
they have finished, each student's submission of the assignment (grades, comments, timestamp,
late penalty) is moved from the copy that graded it into the course's gradebook, all in one
transaction. The grades are those that one serial ``nbgrader autograde ASSIGNMENT`` gives.

Which submissions are graded follows nbgrader: those not graded yet and those submitted again
since they were graded; ``--force`` regrades them all.
"""

import argparse
import os
import pathlib
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

from nbgrader.coursedir import CourseDirectory
from traitlets.config.loader import PyFileConfigLoader

from rnnbook.course import NOTEBOOK, CourseError, nbgrader_env

GRADEBOOK = "gradebook.db"
# The tables holding a student's submission, parents first.
SUBMISSION_TABLES = ("submitted_assignment", "submitted_notebook", "grade", "comment")


def default_jobs():
    """Half the CPU cores (a kernel and its nbgrader each keep a core busy), at least 1."""
    return max(1, (os.cpu_count() or 2) // 2)


def gradebook_path(course_dir):
    """The course's SQLite gradebook; CourseError if the course uses another database."""
    course_dir = pathlib.Path(course_dir)
    if not (course_dir / "nbgrader_config.py").is_file():
        raise CourseError(f"{course_dir.resolve()} holds no nbgrader_config.py: run this in the "
                          "course directory written by `make course`.")
    config = PyFileConfigLoader("nbgrader_config.py", path=str(course_dir)).load_config()
    url = config.CourseDirectory.get("db_url", f"sqlite:///{course_dir.resolve() / GRADEBOOK}")
    if not url.startswith("sqlite:///"):
        raise CourseError(f"parallel grading needs the SQLite gradebook; this course uses {url}. "
                          "Grade with `nbgrader autograde` instead.")
    path = pathlib.Path(url.removeprefix("sqlite:///"))
    path = path if path.is_absolute() else course_dir / path
    if not path.is_file():
        raise CourseError(f"there is no gradebook at {path}: build the course first.")
    return path


def to_grade(course_dir, assignment, students=(), force=False):
    """The students whose submission of ``assignment`` is to be graded, sorted."""
    course_dir = pathlib.Path(course_dir)
    found = course_dir.glob(f"submitted/*/{assignment}/{NOTEBOOK}")
    submitted = sorted(p.parent.parent.name for p in found)
    if not submitted:
        raise CourseError(f"no submission of {assignment} under {course_dir / 'submitted'} "
                          f"(expected submitted/<student>/{assignment}/{NOTEBOOK}).")
    if students:
        missing = sorted(set(students) - set(submitted))
        if missing:
            raise CourseError(f"no submission of {assignment} from {', '.join(missing)}.")
        submitted = [s for s in submitted if s in set(students)]
    if force:
        return submitted
    stamp = CourseDirectory().get_existing_timestamp

    def due(student):
        src = course_dir / "submitted" / student / assignment
        dest = course_dir / "autograded" / student / assignment
        if not (dest / NOTEBOOK).exists():
            return True
        new, old = stamp(str(src)), stamp(str(dest))
        return new is not None and old is not None and new > old
    return [s for s in submitted if due(s)]


def shares(students, jobs):
    """``students`` dealt round-robin into at most ``jobs`` non-empty lists."""
    return [share for share in (students[k::jobs] for k in range(jobs)) if share]


def merge(gradebook, copy, assignment, students):
    """Replace the submissions of ``students`` to ``assignment`` in ``gradebook`` by those of
    ``copy`` (a copy of it that graded them), in one transaction."""
    con = sqlite3.connect(gradebook, timeout=60)
    try:
        con.execute("ATTACH DATABASE ? AS graded", (str(copy),))
        with con:
            for student in students:
                con.execute("INSERT OR IGNORE INTO main.student SELECT * FROM graded.student "
                            "WHERE id = ?", (student,))
                for db in ("main", "graded"):
                    con.execute(f"CREATE TEMP TABLE IF NOT EXISTS ids_{db} (id TEXT)")
                    con.execute(f"DELETE FROM ids_{db}")
                    con.execute(f"INSERT INTO ids_{db} SELECT s.id FROM {db}.submitted_assignment "
                                f"s JOIN {db}.assignment a ON s.assignment_id = a.id "
                                "WHERE a.name = ? AND s.student_id = ?", (assignment, student))
                owner = {"submitted_assignment": "id IN (SELECT id FROM ids_{db})",
                         "submitted_notebook": "assignment_id IN (SELECT id FROM ids_{db})",
                         "grade": "notebook_id IN (SELECT id FROM {db}.submitted_notebook "
                                  "WHERE assignment_id IN (SELECT id FROM ids_{db}))"}
                owner["comment"] = owner["grade"]
                for table in reversed(SUBMISSION_TABLES):
                    con.execute(f"DELETE FROM main.{table} WHERE "
                                + owner[table].format(db="main"))
                for table in SUBMISSION_TABLES:
                    con.execute(f"INSERT INTO main.{table} SELECT * FROM graded.{table} WHERE "
                                + owner[table].format(db="graded"))
    finally:
        con.close()


def _relay(process, prefix, lock):
    for line in process.stdout:
        with lock:
            print(f"{prefix}{line}", end="", flush=True)


def grade(course_dir, assignment, jobs=None, students=(), force=False, extra=()):
    """Autograde ``assignment`` in ``jobs`` processes; returns ``(graded students, failures)``.

    ``extra``: more options for each ``nbgrader autograde``. Each process's log is printed as it
    comes, each line prefixed with the process's number.
    """
    course_dir = pathlib.Path(course_dir).resolve()
    gradebook = gradebook_path(course_dir)
    todo = to_grade(course_dir, assignment, students, force)
    if not todo:
        return [], []
    groups = shares(todo, jobs or default_jobs())
    submitted = {p.parent.name for p in course_dir.glob(f"submitted/*/{assignment}")}
    lock = threading.Lock()
    with tempfile.TemporaryDirectory(prefix=".autograde-", dir=course_dir) as scratch:
        runs = []
        for number, share in enumerate(groups, 1):
            args = [sys.executable, "-m", "nbgrader", "autograde", assignment, "--force", *extra]
            others = sorted(submitted - set(share))
            if others:
                args.append(f"--CourseDirectory.student_id_exclude={','.join(others)}")
            copy = None
            if len(groups) > 1:
                copy = pathlib.Path(scratch) / f"gradebook-{number}.db"
                with sqlite3.connect(gradebook) as src, sqlite3.connect(copy) as dest:
                    src.backup(dest)
                args.append(f"--CourseDirectory.db_url=sqlite:///{copy}")
            process = subprocess.Popen(args, cwd=course_dir, env=nbgrader_env(), text=True,
                                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            relay = threading.Thread(target=_relay, args=(process, f"[{number}] ", lock))
            relay.start()
            runs.append((share, copy, process, relay))
        failures = []
        for share, copy, process, relay in runs:
            process.wait()
            relay.join()
            if process.returncode:
                failures.append(share)
            if copy is not None:
                merge(gradebook, copy, assignment, share)
    return todo, failures


def parser():
    p = argparse.ArgumentParser(
        prog="python -m rnnbook.autograde",
        description="Run `nbgrader autograde ASSIGNMENT` in several processes at once, each on "
                    "its own copy of the gradebook, then merge the grades into the course's "
                    "gradebook. Run it in the course directory.")
    p.add_argument("assignment", metavar="ASSIGNMENT", help="the assignment, e.g. 03_formulas")
    p.add_argument("--jobs", "-j", type=int, default=default_jobs(), metavar="N",
                   help=f"processes at once (default: half the CPU cores, here {default_jobs()})")
    p.add_argument("--student", action="append", default=[], metavar="ID",
                   help="grade only this student (repeatable)")
    p.add_argument("--force", action="store_true",
                   help="regrade submissions that were graded already")
    p.add_argument("--course", default=".", metavar="DIR",
                   help="the course directory (default: the current folder)")
    return p


def main(argv=None):
    args, extra = parser().parse_known_args(argv)
    if args.jobs < 1:
        sys.exit(f"error: --jobs must be at least 1, got {args.jobs}.")
    if any(not option.startswith("--") for option in extra):
        sys.exit(f"error: unexpected arguments {extra}; nbgrader options look like "
                 "--Execute.timeout=60.")
    start = time.perf_counter()
    try:
        graded, failures = grade(args.course, args.assignment, args.jobs, args.student,
                                 args.force, extra)
    except CourseError as exc:
        sys.exit(f"error: {exc}")
    seconds = time.perf_counter() - start
    if not graded:
        print(f"Nothing to grade: every submission of {args.assignment} is graded (add --force "
              "to regrade).")
        return
    jobs = len(shares(graded, args.jobs))
    print(f"Graded {len(graded)} submissions of {args.assignment} in {seconds:.0f} s with {jobs} "
          f"processes; the grades are in the gradebook.")
    if failures:
        names = ", ".join(s for share in failures for s in share)
        sys.exit(f"error: nbgrader reported errors in the processes that graded {names}: see "
                 "their log lines above.")


if __name__ == "__main__":
    main()
