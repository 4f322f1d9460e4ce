"""Fixtures of the grading round trip: every exercises notebook that the selected tests need is
graded once, two at a time."""

import os
from concurrent.futures import ThreadPoolExecutor

import pytest
from roundtrip import FIXTURE, all_notebooks, assignment_of, grade_class

NOTEBOOKS = all_notebooks()
WORKERS = int(os.environ.get("RNNBOOK_GRADING_WORKERS", "2"))
GRADED = []  # the graded classes, for the timing table at the end
NEEDED = set()  # the notebooks whose graded class a selected test uses


def pytest_collection_finish(session):
    """Note the notebooks that the selected tests (after -k and -m) need."""
    for item in session.items:
        if "graded_fixture" in item.fixturenames:
            NEEDED.add(FIXTURE)
        if "graded" in item.fixturenames:
            NEEDED.add(item.callspec.params["graded"])


@pytest.fixture(scope="session")
def grading(tmp_path_factory):
    """Start grading the needed notebooks in the background; ``{notebook: future Graded}``.

    The fixture, whose class is the largest, goes first, so that the two workers finish together.
    """
    order = sorted(NEEDED, key=lambda notebook: (notebook != FIXTURE, NOTEBOOKS.index(notebook)))
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        yield {notebook: pool.submit(grade_class, notebook,
                                     tmp_path_factory.mktemp(assignment_of(notebook)))
               for notebook in order}
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
