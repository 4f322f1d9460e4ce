"""The hub's exchange, end to end: an instructor and two students, each with their own nbgrader
configuration (and, when the tests run as root and `useradd` works, each a separate Unix user),
sharing one exchange folder; two course sections on the same exchange do not collide.

release_assignment -> fetch_assignment -> submit -> collect -> autograde -> generate_feedback ->
release_feedback -> fetch_feedback, as on a JupyterHub.
"""

import os
import pathlib
import shutil
import subprocess
import sys
import uuid

import nbformat
import pytest
from roundtrip import FIXTURE

from rnnbook.course import NOTEBOOK, STUDENT_CONFIG, Settings, build

PYTHON = sys.executable
AS_USER = ("import sys, nbgrader.utils as u; u.get_osusername = lambda: {name!r}; "
           "from nbgrader.apps.nbgraderapp import main; sys.argv[0] = 'nbgrader'; main()")
BIN = str(pathlib.Path(PYTHON).parent)


def others_can_run(path):
    """Whether users other than the owner can run ``path`` (every folder above it searchable)."""
    path = pathlib.Path(os.path.realpath(path))
    return all(os.stat(p).st_mode & 0o001 for p in path.parents) and os.stat(path).st_mode & 0o001


def can_create_users():
    """Real separate users need root, useradd and an interpreter that other users can run.

    Where Python lives under a private home (e.g. pyenv in /root, mode 700), other users cannot
    start it, and the test runs the same round trip with one Unix user and separate
    identities instead: its own HOME, Jupyter configuration and USER name per person.
    """
    return bool(hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("useradd")
                and shutil.which("runuser") and shutil.which("userdel")
                and others_can_run(PYTHON))


class People:
    """Unix users (or, without root, plain home folders of the current user)."""

    def __init__(self, base):
        self.base, self.real, self.created = base, bool(can_create_users()), []
        tag = uuid.uuid4().hex[:6]
        self.names = {role: f"rnb{role[:4]}{tag}" for role in ("instructor", "stu1", "stu2")}

    def add(self, role):
        home = self.base / role
        if self.real:
            name = self.names[role]
            subprocess.run(["useradd", "--create-home", "--home-dir", str(home), "--shell",
                            "/bin/sh", name], check=True, capture_output=True)
            self.created.append(name)
        else:
            home.mkdir()
        (home / ".jupyter").mkdir(exist_ok=True)
        return home

    def run(self, role, *args, cwd=None):
        home = self.base / role
        name = self.names[role]
        env = {"HOME": str(home), "USER": name, "LOGNAME": name, "LANG": "C.UTF-8",
               "PATH": f"{BIN}:/usr/bin:/bin",
               "JUPYTER_CONFIG_DIR": str(home / ".jupyter"), "PYDEVD_DISABLE_FILE_VALIDATION": "1",
               "JUPYTER_DATA_DIR": str(home / ".local/share/jupyter"),
               "JUPYTER_RUNTIME_DIR": str(home / ".runtime")}
        command = [PYTHON, "-m", "nbgrader", *args]
        if not self.real:
            # One Unix user plays everyone: nbgrader takes the student's id from the OS user
            # name, so each person's process answers with their own name instead.
            command = [PYTHON, "-c", AS_USER.format(name=name), *args]
        if self.real:
            command = ["runuser", "-u", self.names[role], "--", "env", *(f"{k}={v}" for k, v
                                                                        in env.items()), *command]
            env = None
        else:
            env = dict(os.environ, **env)
        result = subprocess.run(command, cwd=cwd or home, env=env, capture_output=True,
                                text=True)
        assert result.returncode == 0, f"{role}: nbgrader {' '.join(args)}\n" \
                                       f"{result.stdout}\n{result.stderr}"
        return result.stdout + result.stderr

    def remove(self):
        for name in self.created:
            subprocess.run(["userdel", "--remove", name], capture_output=True)


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    base = tmp_path_factory.mktemp("hub")
    # pytest's temporary folders are private to their owner; the other users must get in.
    for folder in (base, tmp_path_factory.getbasetemp(), tmp_path_factory.getbasetemp().parent):
        os.chmod(folder, 0o755)
    people = People(base)
    yield people, base
    people.remove()


def test_a_class_round_trip_through_the_exchange(hub):
    people, base = hub
    exchange = base / "exchange"
    exchange.mkdir()
    exchange.chmod(0o777)  # nbgrader's hub docs: everyone may write; nbgrader sets the rest
    teacher = people.add("instructor")
    chapters = base / "chapters" / "01_fx"
    chapters.mkdir(parents=True)
    shutil.copyfile(FIXTURE, chapters / NOTEBOOK)
    course = {}
    for section in ("rnn-a", "rnn-b"):
        course[section] = build(teacher / section, {"01_fx": chapters / NOTEBOOK},
                                settings=Settings(course_id=section, timeout=20,
                                                  exchange_root=str(exchange)))[0]
    if people.real:
        subprocess.run(["chown", "-R", people.names["instructor"], str(teacher)], check=True)
    for section in course:
        people.run("instructor", "release_assignment", "01_fx", cwd=course[section])
    assert sorted(p.name for p in exchange.iterdir()) == ["rnn-a", "rnn-b"]
    for name in ("nbgrader_config.py", STUDENT_CONFIG):
        assert f'c.Exchange.root = "{exchange}"' in (course["rnn-a"] / name).read_text()

    for role in ("stu1", "stu2"):
        home = people.add(role)
        # The student's configuration is the file the builder wrote, as a hub admin copies it.
        shutil.copyfile(course["rnn-a"] / STUDENT_CONFIG, home / ".jupyter" / "nbgrader_config.py")
        if people.real:
            subprocess.run(["chown", "-R", people.names[role], str(home)], check=True)
        listed = people.run(role, "list")
        assert "rnn-a 01_fx" in listed and "rnn-b 01_fx" in listed
        people.run(role, "fetch_assignment", "01_fx", "--course", "rnn-a")
        fetched = home / "01_fx" / NOTEBOOK
        assert fetched.is_file()
        if role == "stu1":  # stu1 hands in the instructor's answers; stu2 the untouched copy
            nb = nbformat.read(course["rnn-a"] / "source" / "01_fx" / NOTEBOOK, as_version=4)
            nbformat.write(nb, fetched)
            if people.real:
                subprocess.run(["chown", people.names[role], str(fetched)], check=True)
        people.run(role, "submit", "01_fx", "--course", "rnn-a")

    a = course["rnn-a"]
    people.run("instructor", "collect", "01_fx", cwd=a)
    students = {people.names[r] for r in ("stu1", "stu2")}
    assert {p.name for p in (a / "submitted").iterdir()} == students
    people.run("instructor", "autograde", "01_fx", cwd=a)
    people.run("instructor", "generate_feedback", "01_fx", cwd=a)
    people.run("instructor", "release_feedback", "01_fx", cwd=a)
    people.run("instructor", "export", cwd=a)
    rows = (a / "grades.csv").read_text().splitlines()[1:]
    scores = {row.split(",")[3]: float(row.split(",")[-2]) for row in rows}
    assert scores == {people.names["stu1"]: 6.0, people.names["stu2"]: 0.0}
    # The other section received nothing.
    assert not list((exchange / "rnn-b" / "inbound").iterdir())
    people.run("stu1", "fetch_feedback", "01_fx", "--course", "rnn-a")
    feedback = list((base / "stu1" / "01_fx" / "feedback").rglob("exercises.html"))
    assert feedback and "Score: 6.0 / 6.0" in feedback[0].read_text()

