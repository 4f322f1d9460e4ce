"""Fixtures of the grading round trip: every exercises notebook is graded once, two at a time."""

import os
from concurrent.futures import ThreadPoolExecutor

import pytest
from roundtrip import FIXTURE, all_notebooks, assignment_of, grade_class

NOTEBOOKS = all_notebooks()
WORKERS = int(os.environ.get("RNNBOOK_GRADING_WORKERS", "2"))
GRADED = []  # the graded classes, for the timing table at the end


@pytest.fixture(scope="session")
def grading(tmp_path_factory):
    """Start grading every notebook in the background; ``{notebook: future Graded}``."""
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        yield {notebook: pool.submit(grade_class, notebook,
                                     tmp_path_factory.mktemp(assignment_of(notebook)))
               for notebook in NOTEBOOKS}
        pool.shutdown(cancel_futures=True)


@pytest.fixture(scope="session", params=NOTEBOOKS, ids=assignment_of)
def graded(request, grading):
    """The graded class of one exercises notebook."""
    result = grading[request.param].result()
    if result not in GRADED:
        GRADED.append(result)
    return result


@pytest.fixture(scope="session")
def graded_fixture(grading):
    return grading[FIXTURE].result()


def pytest_terminal_summary(terminalreporter):
    if not GRADED:
        return
    write = terminalreporter.write_line
    terminalreporter.section("autograding times")
    write(f"{'assignment':<24}{'exercises':>10}{'points':>8}{'timeout':>9}"
          f"{'one submission':>16}{'the others':>12}{'students':>10}")
    for g in GRADED:
        write(f"{g.assignment:<24}{len(g.points):>10}{sum(g.points.values()):>8g}"
              f"{g.timeout:>8}s{g.seconds_one:>15.1f}s{g.seconds_rest:>11.1f}s{len(g.cases):>10}")
