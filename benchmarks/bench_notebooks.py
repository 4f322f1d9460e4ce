"""Wall time of every notebook of the book, executed cold: a fresh kernel and no cached model.

Run as ``.venv/bin/python benchmarks/bench_notebooks.py [--jobs J] [NOTEBOOK ...]`` (default:
every notebook in ``_toc.yml``, one at a time). Each notebook runs top to bottom in a fresh
kernel, in its own folder, with ``RNNBOOK_CACHE`` pointing at an empty folder of its own, so a
model that another notebook would have trained and cached is trained again: the time a learner
waits who opens that notebook first. Nothing is written back to the notebooks. With ``--jobs 2``
two notebooks run at once (as ``make test`` does on two cores), which shows the wall time of the
whole book; per-notebook times then include the other one's load.

Columns: seconds, and the budget it is measured against (60 s per notebook); the last row is
the sum (with ``--jobs 1``) or, with ``--jobs 2``, the elapsed time against the whole book's
budget on two cores (300 s).
"""

import argparse
import concurrent.futures
import os
import pathlib
import sys
import tempfile
import time

import nbformat
from nbclient import NotebookClient

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from toc_notebooks import toc_notebooks  # noqa: E402

NOTEBOOK_BUDGET, BOOK_BUDGET = 60.0, 300.0


def run_cold(path):
    """Seconds to execute the notebook at ``path`` with an empty model cache."""
    nb = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory(prefix="rnnbook-cache-") as cache:
        client = NotebookClient(nb, timeout=1200, kernel_name="python3",
                                resources={"metadata": {"path": str(path.parent)}})
        start = time.perf_counter()
        client.execute(env={**os.environ, "RNNBOOK_CACHE": cache})
        return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", help="paths (default: every notebook in the TOC)")
    parser.add_argument("--jobs", type=int, default=1, help="notebooks run at once (default 1)")
    args = parser.parse_args()
    paths = [pathlib.Path(p).resolve() for p in args.notebooks] or \
        [ROOT / name for name in toc_notebooks()]
    start = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        seconds = dict(zip(paths, pool.map(run_cold, paths), strict=True))
    elapsed = time.perf_counter() - start
    width = max(len(str(p.relative_to(ROOT))) for p in paths)
    print(f"{'notebook (cold, fresh kernel)':{width}s}  {'seconds':>7s}  budget")
    for path, s in seconds.items():
        verdict = "ok" if s <= NOTEBOOK_BUDGET else "OVER"
        print(f"{str(path.relative_to(ROOT)):{width}s}  {s:7.1f}  {verdict}")
    if args.jobs == 1:      # the book's budget is for two at a time, on two cores
        print(f"{'all, one at a time (sum)':{width}s}  {sum(seconds.values()):7.1f}")
    else:
        verdict = "ok" if elapsed <= BOOK_BUDGET else "OVER"
        print(f"{f'all, {args.jobs} at a time (elapsed)':{width}s}  {elapsed:7.1f}  {verdict} "
              f"(book: {BOOK_BUDGET:.0f} s)")


if __name__ == "__main__":
    main()
