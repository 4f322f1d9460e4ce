"""Parallel autograding: wall time of serial `nbgrader autograde` and of `rnnbook.autograde`.

Run as ``.venv/bin/python benchmarks/bench_autograde.py [--students K] [--jobs J ...]
[--assignment NAME]``. It builds one course with ``rnnbook.course`` in a temporary folder (the
grading fixture by default, whose kernel imports NumPy; or a chapter, e.g. ``05_lstm_gru``),
submits the instructor copy for K students, grades them all with ``nbgrader autograde`` and then
again with ``python -m rnnbook.autograde --force --jobs J`` for each J, and prints one row per run:
seconds in all, seconds per submission, the speed-up over serial grading and whether the
gradebook holds the same scores as after the serial run. On a loaded machine the numbers move;
run it on an idle one for the figures you quote.
"""

import argparse
import os
import pathlib
import subprocess
import sys
import tempfile
import time

import nbformat
from nbgrader.api import Gradebook

from rnnbook.course import NOTEBOOK, PACKAGE_ROOT, Settings, build, nbgrader, nbgrader_env

FIXTURE = PACKAGE_ROOT / "tests" / "grading" / "fixtures" / NOTEBOOK


def scores(course, assignment):
    """{student: (score, {cell: score})} from the gradebook."""
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        return {s.student_id: (s.score, {g.name: g.score for nb in s.notebooks
                                         for g in nb.grades})
                for s in gb.assignment_submissions(assignment)}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--students", type=int, default=8)
    p.add_argument("--jobs", type=int, nargs="+", default=[2])
    p.add_argument("--assignment", default="fixture",
                   help="'fixture' or a chapter folder name (default: fixture)")
    args = p.parse_args()
    os.environ["PATH"] = nbgrader_env()["PATH"]  # the gradebook runs alembic from the venv
    notebook = (FIXTURE if args.assignment == "fixture"
                else PACKAGE_ROOT / "chapters" / args.assignment / NOTEBOOK)
    with tempfile.TemporaryDirectory(prefix="bench-autograde-") as tmp:
        course, _ = build(pathlib.Path(tmp) / "course", {args.assignment: notebook},
                          settings=Settings())
        source = nbformat.read(course / "source" / args.assignment / NOTEBOOK, as_version=4)
        for k in range(args.students):
            folder = course / "submitted" / f"student{k:03d}" / args.assignment
            folder.mkdir(parents=True)
            nbformat.write(source, folder / NOTEBOOK)
        start = time.perf_counter()
        nbgrader(course, "autograde", args.assignment)
        serial = time.perf_counter() - start
        expected = scores(course, args.assignment)
        print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; "
              f"{args.students} submissions of {args.assignment}")
        print(f"{'grader':<34}{'seconds':>9}{'per sub.':>10}{'speed-up':>10}{'same':>6}")
        print(f"{'nbgrader autograde (serial)':<34}{serial:>9.1f}"
              f"{serial / args.students:>10.2f}{1:>10.2f}{'yes':>6}")
        for jobs in args.jobs:
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "rnnbook.autograde", args.assignment,
                            "--force", "--jobs", str(jobs)], cwd=course, env=nbgrader_env(),
                           check=True, capture_output=True)
            seconds = time.perf_counter() - start
            same = "yes" if scores(course, args.assignment) == expected else "NO"
            print(f"{f'rnnbook.autograde --jobs {jobs}':<34}{seconds:>9.1f}"
                  f"{seconds / args.students:>10.2f}{serial / seconds:>10.2f}{same:>6}")


if __name__ == "__main__":
    main()
