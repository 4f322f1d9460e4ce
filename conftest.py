"""pytest settings for the notebook tests (`make test-notebooks`, `make test-portability`).

The notebooks run on both cores with pytest-xdist (`-n 2 --dist loadfile`): nbval runs the cells
of a notebook one after another in one kernel, and loadfile keeps each notebook on one worker.
At the end, a table gives each notebook's time.
"""


SECONDS = {}   # notebook path -> seconds its cells took, summed (reported at the end)


def pytest_runtest_logreport(report):
    if report.when == "call" and ".ipynb::" in report.nodeid:
        path = report.nodeid.split("::")[0]
        SECONDS[path] = SECONDS.get(path, 0.0) + report.duration


def pytest_terminal_summary(terminalreporter):
    """Print each notebook's time: the book's budget is 60 s per notebook on two cores."""
    if not SECONDS:
        return
    write = terminalreporter.write_line
    write("")
    write("seconds per notebook, its cells' time (a notebook that found its model in the cache "
          "ran warm):")
    for path, seconds in sorted(SECONDS.items(), key=lambda item: -item[1]):
        write(f"  {seconds:6.1f}  {path}{'  (over 60 s)' if seconds > 60 else ''}")
    write(f"  {sum(SECONDS.values()):6.1f}  in all")
