"""The repository keeps its promises: dependency files in step, TOC complete, notebooks clean."""

import json
import pathlib
import re
import sys
import tomllib

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
from toc_notebooks import toc_files  # noqa: E402

NOTEBOOKS = sorted(p for folder in ("book", "chapters") for p in (ROOT / folder).rglob("*.ipynb")
                   if ".ipynb_checkpoints" not in p.parts)
MACHINE_PATH = re.compile(r"(/root/|/tmp/|/work/|/home/\w+/|[A-Z]:\\\\Users)")


def _name(requirement):
    return re.split(r"[<>=!~ \[;]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def _pyproject():
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def test_environment_yml_lists_the_pyproject_dependencies():
    project = _pyproject()
    wanted = set(project["dependencies"]) | set(project["optional-dependencies"]["dev"])
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    listed = {line for line in pip_section if not line.startswith("-")}
    assert listed == wanted, f"only in environment.yml: {listed - wanted}; " \
                             f"only in pyproject.toml: {wanted - listed}"
    assert "python=3.11" in env["dependencies"]


def test_constraints_pin_every_dependency_and_the_cpu_torch():
    project = _pyproject()
    pins = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[name.lower().replace("_", "-")] = version
    for requirement in project["dependencies"] + project["optional-dependencies"]["dev"]:
        assert _name(requirement) in pins, f"{requirement} is not pinned in constraints.txt"
    assert pins["torch"] == "2.13.0"
    assert pins["jupyter-book"].startswith("1.")


def test_every_toc_entry_exists_and_every_notebook_is_in_the_toc():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    entries = list(toc_files(toc))
    assert len(entries) == len(set(entries)), "a file is listed twice in _toc.yml"
    for entry in entries:
        matches = [p for p in (ROOT / f"{entry}.md", ROOT / f"{entry}.ipynb") if p.exists()]
        assert matches, f"_toc.yml lists {entry}, which has no .md or .ipynb file"
    in_toc = {ROOT / f"{entry}.ipynb" for entry in entries}
    missing = [str(p.relative_to(ROOT)) for p in NOTEBOOKS if p not in in_toc]
    assert not missing, f"notebooks missing from _toc.yml (not built, not tested): {missing}"


def test_readme_opens_with_the_two_commands_and_ci_calls_make_test():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    first_block = readme.split("```")[1]
    assert "make book" in first_block and "make test" in first_block
    assert "make test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_notebook_is_stored_executed_and_clean(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    cells = [c for c in nb["cells"] if c["cell_type"] == "code" and "".join(c["source"]).strip()]
    assert cells, "a notebook of the book has code"
    assert "seed_everything(" in "".join(cells[0]["source"]), \
        "the first code cell seeds everything through rnnbook.utils.seed_everything"
    counts = [c["execution_count"] for c in cells]
    assert counts == list(range(1, len(cells) + 1)), \
        "not executed top to bottom in a fresh kernel: run `make notebooks`"
    for number, cell in enumerate(cells, start=1):
        for out in cell["outputs"]:
            where = f"code cell {number}"
            assert out["output_type"] != "error", f"{where} stores an error"
            assert not (out["output_type"] == "stream" and out["name"] == "stderr"), \
                f"{where} stores stderr output: {''.join(out['text'])[:200]!r}"
            text = "".join(out.get("text", "")) + "".join(out.get("data", {}).get("text/plain", ""))
            assert not MACHINE_PATH.search(text), f"{where} shows a path of this machine"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_ignored_outputs_are_tagged_and_followed_by_an_assert(path):
    """DESIGN's portability rule: a chaotic output is ignored by a cell tag that readers do not see,
    and what the text relies on is asserted by that cell or the next code cell."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    cells = [c for c in nb["cells"] if c["cell_type"] == "code"]
    for number, cell in enumerate(cells, start=1):
        source = "".join(cell["source"])
        assert "NBVAL_IGNORE_OUTPUT" not in source and "NBVAL_CHECK_OUTPUT" not in source, \
            f"code cell {number}: use the cell tag 'nbval-ignore-output', not a comment on the page"
        if "nbval-ignore-output" in cell["metadata"].get("tags", []):
            following = "".join(cells[number]["source"]) if number < len(cells) else ""
            assert "assert" in source or "assert" in following, \
                f"code cell {number} ignores its output, but neither it nor the next cell asserts"
