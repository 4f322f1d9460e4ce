"""Re-execute notebooks in place in a fresh kernel: `python tools/run_notebooks.py NB...`."""

import sys
import time

from nbtools import execute

if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: python tools/run_notebooks.py NOTEBOOK.ipynb [...]")
    for path in sys.argv[1:]:
        start = time.perf_counter()
        execute(path)
        print(f"{time.perf_counter() - start:6.1f} s  {path}")
