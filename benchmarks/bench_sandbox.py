"""What the autograding sandbox costs: seconds per submission with and without it.

Run as ``.venv/bin/python benchmarks/bench_sandbox.py [--students K] [--repeats R]
[--assignments NAME ...]``. For each assignment (the grading fixture, whose kernel imports NumPy,
and a chapter's exercises, whose kernel imports PyTorch) it builds two courses with
``rnnbook.course`` in a temporary folder, one with ``sandbox = true`` and one with
``sandbox = false``, submits the instructor copy for K students in both, and runs
``nbgrader autograde ASSIGNMENT --force`` R times in each, alternating, so that a change in the
machine's load affects both alike. A submission's time is the call's wall time divided by K
(nbgrader's own start-up included); the table shows the median over the repeats, the difference
and whether every graded submission earned full points in both courses. Its first row isolates
what the sandbox adds, with less noise: starting a kernel, running one cell and shutting it down
with jupyter_client's AsyncKernelManager and with rnnbook.sandbox.SandboxedKernelManager
(median of 5 R starts each, alternating).

It needs bubblewrap (``apt-get install bubblewrap``). With the defaults it takes a few minutes.
"""

import argparse
import asyncio
import csv
import os
import pathlib
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import nbformat
from jupyter_client.manager import AsyncKernelManager

from rnnbook.course import NOTEBOOK, PACKAGE_ROOT, Settings, build, nbgrader
from rnnbook.sandbox import SandboxedKernelManager

FIXTURE = PACKAGE_ROOT / "tests" / "grading" / "fixtures" / NOTEBOOK
DEFAULT = ["fixture", "05_lstm_gru"]


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=4, help="submissions per autograde call")
    parser.add_argument("--repeats", type=int, default=3, help="autograde calls per course")
    parser.add_argument("--assignments", nargs="+", default=DEFAULT,
                        help="'fixture' and/or chapter folders (default: %(default)s)")
    return parser.parse_args()


def notebook_of(assignment):
    return FIXTURE if assignment == "fixture" else PACKAGE_ROOT / "chapters" / assignment / NOTEBOOK


def make_course(folder, assignment, students, sandbox):
    """A course with ``students`` submissions of the instructor copy; returns its folder."""
    course, _ = build(folder, {assignment: notebook_of(assignment)},
                      settings=Settings(timeout=120, sandbox=sandbox), root=PACKAGE_ROOT)
    source = nbformat.read(course / "source" / assignment / NOTEBOOK, as_version=4)
    for i in range(students):
        target = course / "submitted" / f"student{i}" / assignment / NOTEBOOK
        target.parent.mkdir(parents=True)
        nbformat.write(source, target)
    return course


def scores(course, assignment):
    """The scores and maximum of every submission, from nbgrader's export."""
    nbgrader(course, "export", "--to", "grades.csv")
    with open(course / "grades.csv", newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if row["assignment"] == assignment]
    return {(float(row["score"]), float(row["max_score"])) for row in rows}


async def kernel_seconds(manager_class, folder):
    """Seconds to start a kernel in ``folder``, run ``1 + 1`` and shut it down."""
    start = time.perf_counter()
    km = manager_class(kernel_name="python3")
    await km.start_kernel(cwd=str(folder), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = km.client()
    client.start_channels()
    await client.wait_for_ready(timeout=120)
    await client.execute_interactive("1 + 1", timeout=60, output_hook=lambda msg: None)
    client.stop_channels()
    await km.shutdown_kernel()
    return time.perf_counter() - start


def bench_kernel(starts, workdir):
    """``{sandbox: [seconds of each start]}`` for a bare kernel."""
    times = {True: [], False: []}
    for i in range(starts):
        for sandbox in (True, False) if i % 2 == 0 else (False, True):
            manager = SandboxedKernelManager if sandbox else AsyncKernelManager
            times[sandbox].append(asyncio.run(kernel_seconds(manager, workdir)))
    return times, True


def bench(assignment, students, repeats, workdir):
    """``{sandbox: [seconds per submission of each repeat]}`` and whether every score was full."""
    courses = {sandbox: make_course(workdir / f"{assignment}-{sandbox}", assignment, students,
                                    sandbox) for sandbox in (True, False)}
    times = {True: [], False: []}
    for repeat in range(repeats):
        for sandbox in (True, False) if repeat % 2 == 0 else (False, True):
            start = time.perf_counter()
            nbgrader(courses[sandbox], "autograde", assignment, "--force")
            times[sandbox].append((time.perf_counter() - start) / students)
    full = all(len(s) == 1 and next(iter(s))[0] == next(iter(s))[1]
               for s in (scores(course, assignment) for course in courses.values()))
    return times, full


def main():
    args = parse_args()
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        sys.exit("error: bubblewrap is not installed: `sudo apt-get install bubblewrap`.")
    version = subprocess.run([bwrap, "--version"], capture_output=True, text=True).stdout.strip()
    with tempfile.TemporaryDirectory(prefix="bench-sandbox-") as workdir:
        results = {"kernel": bench_kernel(5 * args.repeats, pathlib.Path(workdir))}
        results |= {a: bench(a, args.students, args.repeats, pathlib.Path(workdir))
                    for a in args.assignments}
    print(f"Autograding with and without the sandbox: seconds per submission (wall time of "
          f"`nbgrader autograde` / {args.students} submissions, median of {args.repeats})")
    print(f"{version}, python {platform.python_version()}, {os.cpu_count()} CPU cores, "
          f"load average {os.getloadavg()[0]:.1f}, grading as "
          f"{'root' if os.geteuid() == 0 else 'a user'}")
    print(f"{'':<30}{'without':>10}{'with':>10}{'added':>10}{'all scores full':>18}")
    for name, (times, full) in results.items():
        without, with_ = statistics.median(times[False]), statistics.median(times[True])
        label = "bare kernel: start, 1 cell, stop" if name == "kernel" else f"submission of {name}"
        print(f"{label:<30}{without:>9.2f}s{with_:>9.2f}s{with_ - without:>+9.2f}s"
              f"{'' if name == 'kernel' else 'yes' if full else 'NO':>18}")


if __name__ == "__main__":
    main()
