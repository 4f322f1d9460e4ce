"""The set-up page's commands without make work as written, in a fresh copy of the repository.

`make test-install` (CI runs it): the "macOS and Linux" block of `book/setup.md` is run line by
line in a copy of the tracked files, with a new virtual environment; then the student install
must run notebooks that need every declared runtime dependency and make the blank copies of the
exercises, and must not contain the book's development tools.
"""

import pathlib
import re
import shutil
import subprocess

ROOT = pathlib.Path(__file__).resolve().parents[2]
NOTEBOOKS = ("chapters/01_background/sequences.ipynb",            # the shipped text snapshot
             "chapters/06_applications/sequence_classification.ipynb")  # Sphinx, Babel, sklearn


def documented_commands(heading="**macOS and Linux**"):
    """The lines of the first bash block after ``heading`` in book/setup.md."""
    text = (ROOT / "book" / "setup.md").read_text(encoding="utf-8")
    assert heading in text, f"book/setup.md has no {heading} section"
    block = re.search(r"```bash\n(.*?)```", text.split(heading, 1)[1], re.S)
    return [line for line in block.group(1).splitlines() if line.strip()]


def test_the_student_route_installs_what_the_notebooks_need(tmp_path):
    assert shutil.which("python3.11"), "the documented route needs python3.11 on the PATH"
    commands = documented_commands()
    assert commands[-1] == ".venv/bin/jupyter lab"
    copy = tmp_path / "rnnbook"
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.splitlines()
    for name in tracked:
        (copy / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, copy / name)
    for command in commands[:-1]:                   # the last one would start a server
        subprocess.run(command, shell=True, cwd=copy, check=True, timeout=1800)
    venv = copy / ".venv" / "bin"
    subprocess.run([venv / "jupyter", "lab", "--version"], check=True, capture_output=True)
    extensions = subprocess.run([venv / "jupyter", "labextension", "list"], check=True,
                                capture_output=True, text=True)
    listing = re.sub(r"\x1b\[[0-9;]*m", "", extensions.stdout + extensions.stderr)
    assert re.search(r"jupyterlab-myst v[\d.]+ enabled OK", listing), listing
    for notebook in NOTEBOOKS:
        subprocess.run([venv / "jupyter", "nbconvert", "--to", "notebook", "--execute",
                        "--ExecutePreprocessor.timeout=600", "--output-dir", tmp_path / "out",
                        copy / notebook], check=True, capture_output=True, timeout=900)
    subprocess.run([venv / "python", "-m", "rnnbook.exercise_copies", tmp_path / "mine"],
                   check=True, capture_output=True)
    assert len(list((tmp_path / "mine").glob("*.ipynb"))) == len(
        list((copy / "chapters").glob("*/exercises.ipynb")))
    light = subprocess.run([venv / "python", "-c", "import nbval"], capture_output=True)
    assert light.returncode != 0, "the student install must not pull in the test tools"
