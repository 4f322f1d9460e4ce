"""The built exercise pages: each exercise is followed by a toggle that says "Show solution" and one
that says "Show the check" (not two alike "Show code cell source"), and every exercise is listed
in the page's contents, the right-hand "On this page" (book/_ext/book_html.py does both)."""

from bs4 import BeautifulSoup

from conftest import built_pages

EXERCISE = "div.exercise[id]"


def _soup(path):
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def _exercise_pages(site):
    pages = [p for p in built_pages(site) if 'class="exercise' in p.read_text(encoding="utf-8")]
    assert len(pages) >= 6, "every chapter has an exercises page"
    return pages


def _toggles_after_each_exercise(article):
    """{exercise id: [(show, hide) labels of each collapsed cell up to the next exercise]}; the
    collapsed cells before the first exercise are listed under None."""
    exercises = {id(element) for element in article.select(EXERCISE)}
    toggles, current = {None: []}, None
    for element in article.find_all(["div", "details"]):
        if id(element) in exercises:
            current = element["id"]
            toggles[current] = []
        elif element.name == "details" and "hide" in element.get("class", []):
            toggles[current].append(tuple(element.summary.select_one(f"p.{state}").get_text(
                strip=True) for state in ("collapsed", "expanded")))
    return toggles


def test_each_exercise_has_a_solution_toggle_and_a_check_toggle(site):
    expected = [("Show solution", "Hide solution"), ("Show the check", "Hide the check")]
    wrong = []
    for path in _exercise_pages(site):
        relative = path.relative_to(site).as_posix()
        toggles = _toggles_after_each_exercise(_soup(path).select_one("article.bd-article"))
        before = toggles.pop(None)
        assert len(toggles) >= 5 or path.name != "exercises.html", f"{relative}: few exercises"
        wrong += [f"{relative} #{exercise}: {labels}" for exercise, labels in toggles.items()
                  if labels != expected]
        wrong += [f"{relative} before the first exercise: {labels}" for labels in before
                  if labels in expected]
    assert not wrong, "toggles after an exercise are not (solution, check):\n" + "\n".join(wrong)


def test_every_exercise_is_listed_in_the_page_contents(site):
    missing, disordered = [], []
    for path in _exercise_pages(site):
        soup = _soup(path)
        relative = path.relative_to(site).as_posix()
        exercises = soup.select(f"article.bd-article {EXERCISE}")
        # The theme leaves the contents out of a page whose title has no entry under it.
        listed = {a["href"].removeprefix("#"): a.get_text(" ", strip=True)
                  for a in soup.select("#pst-page-toc-nav a[href^='#']")}
        for exercise in exercises:
            number = exercise.select_one(".caption-number")
            name = number.get_text(strip=True) if number else "Exercise"
            if listed.get(exercise["id"], "").split(":")[0] != name:
                missing.append(f"{relative}: {name} (#{exercise['id']}) listed as "
                               f"{listed.get(exercise['id'])!r}")
        # The contents follow the page: each entry's target comes after the one before.
        position = {el["id"]: i for i, el in enumerate(soup.select("article.bd-article [id]"))}
        targets = [position[anchor] for anchor in listed if anchor in position]
        if targets != sorted(targets):
            disordered.append(f"{relative}: {list(listed.values())}")
    assert not missing, "exercises missing from the page contents:\n" + "\n".join(missing)
    assert not disordered, "page contents out of the page's order:\n" + "\n".join(disordered)
