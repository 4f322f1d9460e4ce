"""rnnbook.sandbox: the bubblewrap command, its errors, and real attacks on a sandboxed Python.

The attacks run ``python -c`` in the sandbox exactly as a kernel would run (same binds, limits
and user), without Jupyter; tests/grading/test_attacks.py repeats them through nbgrader.
"""

import os
import pathlib
import shutil
import socket
import subprocess
import sys
import uuid

import pytest

from rnnbook import sandbox

needs_bwrap = pytest.mark.skipif(shutil.which("bwrap") is None or sys.platform != "linux",
                                 reason="bubblewrap is not installed (apt-get install bubblewrap)")


@pytest.fixture
def course(tmp_path):
    """A course with a gradebook, a secret in the grader's home, and one folder being graded."""
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "secret.txt").write_text("the instructor's secret")
    folder = tmp_path / "course" / "autograded" / "alice" / "01"
    folder.mkdir(parents=True)
    (tmp_path / "course" / "gradebook.db").write_text("every grade")
    (folder / "data.txt").write_text("the submission's own file")
    return folder


def run_sandboxed(folder, code, memory_mb=512, processes=64, env=None):
    """Run ``python -c code`` in the sandbox of ``folder``; the CompletedProcess."""
    uid = sandbox.sandbox_uid()
    work, run = sandbox.prepare(folder, folder.parents[3] / "scratch", uid)
    cmd = sandbox.bwrap_command([sys.executable, "-c", code], str(folder), work, run,
                                memory_mb, processes, uid)
    return subprocess.run(cmd, env=sandbox.kernel_env(env or os.environ), capture_output=True,
                          text=True, timeout=60)


def test_the_command_shows_the_environment_read_only_and_the_folder_writable(course):
    cmd = sandbox.bwrap_command([sys.executable, "-V"], str(course), course.parent / "w",
                                course.parent / "r", 100, 10, uid=None)
    pairs = {(cmd[i], cmd[i + 1], cmd[i + 2]) for i in range(len(cmd) - 2)}
    for path in sandbox.interpreter_paths(sys.executable):
        assert ("--ro-bind", path, path) in pairs
    assert ("--bind", str(course.parent / "w"), str(course)) in pairs
    assert {"--unshare-net", "--unshare-pid", "--unshare-user", "--die-with-parent"} <= set(cmd)
    assert f"--data={100 * 2**20}:{100 * 2**20}" in cmd and "--nproc=10:10" in cmd
    sources = {cmd[i + 1] for i, arg in enumerate(cmd) if arg in ("--bind", "--ro-bind")}
    shown = {*sandbox.SYSTEM, *sandbox.interpreter_paths(sys.executable)}
    assert sources - shown == {str(course.parent / "w"), str(course.parent / "r")}
    assert cmd[-2:] == [sys.executable, "-V"]


def test_as_root_the_kernel_gets_a_uid_of_its_own(course):
    cmd = sandbox.bwrap_command([sys.executable], str(course), course, course, 100, 10, uid=2**31)
    assert "--unshare-user" not in cmd
    assert cmd[cmd.index("setpriv"):][:3] == ["setpriv", f"--reuid={2**31}", f"--regid={2**31}"]
    assert sandbox.free_uid() in sandbox.UIDS


def test_without_bubblewrap_the_error_names_the_fix(course, monkeypatch):
    monkeypatch.setattr(sandbox.shutil, "which", lambda name: None)
    with pytest.raises(sandbox.SandboxError) as info:
        sandbox.bwrap_command([sys.executable], str(course), course, course, 100, 10)
    assert "apt-get install bubblewrap" in str(info.value)
    assert "--no-sandbox" in str(info.value)


def test_a_course_inside_the_python_environment_is_refused(tmp_path):
    folder = pathlib.Path(sys.prefix) / "no-such-course"
    with pytest.raises(sandbox.SandboxError, match="put the course directory elsewhere"):
        sandbox.bwrap_command([sys.executable], str(folder), tmp_path, tmp_path, 100, 10)


def test_the_kernel_keeps_no_secret_variable():
    env = sandbox.kernel_env({"PATH": "/usr/bin", "JUPYTERHUB_API_TOKEN": "t", "AWS_SECRET": "s",
                              "OMP_NUM_THREADS": "1", "HOME": "/home/teacher"})
    assert env == {"PATH": "/usr/bin", "OMP_NUM_THREADS": "1", "HOME": "/tmp"}


@needs_bwrap
def test_the_sandbox_starts_here():
    sandbox.check_sandbox()


@needs_bwrap
def test_a_failing_sandbox_says_how_to_grade_anyway(monkeypatch):
    false = shutil.which("false")
    monkeypatch.setattr(sandbox.shutil, "which", lambda name: false)
    with pytest.raises(sandbox.SandboxError, match="(?s)did not start.*--no-sandbox"):
        sandbox.check_sandbox()


@needs_bwrap
def test_only_the_folder_is_seen_and_writes_stay_in_its_copy(course):
    home, gradebook = course.parents[3] / "home" / "secret.txt", course.parents[2] / "gradebook.db"
    code = f"""
import os
print(open("data.txt").read())
for path in [{str(home)!r}, {str(gradebook)!r}, "../../../gradebook.db"]:
    try:
        print("LEAKED", open(path).read())
    except OSError as error:
        print("blocked", type(error).__name__)
open("data.txt", "w").write("changed")
for path in ["../../../new.txt", {str(course.parents[3] / "new.txt")!r}, "/new.txt"]:
    try:
        open(path, "w").write("x")
        print("WROTE", path)
    except OSError as error:
        print("blocked", type(error).__name__)
"""
    result = run_sandboxed(course, code)
    assert result.returncode == 0, result.stderr
    assert "the submission's own file" in result.stdout
    assert "LEAKED" not in result.stdout and "WROTE" not in result.stdout
    assert result.stdout.count("blocked") == 6
    assert (course / "data.txt").read_text() == "the submission's own file"
    assert not list(course.parents[3].rglob("new.txt"))


@needs_bwrap
def test_no_network_reaches_the_graders_loopback(course):
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        code = f"""
import socket
try:
    socket.create_connection(("127.0.0.1", {port}), timeout=5)
    print("CONNECTED")
except OSError as error:
    print("blocked", type(error).__name__)
"""
        result = run_sandboxed(course, code)
        server.setblocking(False)
        with pytest.raises(BlockingIOError):
            server.accept()
    assert result.stdout.strip() == "blocked ConnectionRefusedError", result.stderr


@needs_bwrap
def test_processes_memory_and_temporary_files_are_limited(course):
    code = """
import os, time
forks = 0
try:
    for _ in range(1000):
        if os.fork() == 0:
            time.sleep(30)
            os._exit(0)
        forks += 1
except BlockingIOError:
    print("forks refused after", forks)
try:
    hoard = bytearray(2 * 2**30)
except MemoryError:
    print("MemoryError")
for path in ["/tmp/fill", "/dev/shm/fill"]:
    try:
        with open(path, "wb") as file:
            for _ in range(600):
                file.write(bytes(2**20))
    except OSError as error:
        print("full", path, error.strerror)
"""
    result = run_sandboxed(course, code, memory_mb=512, processes=32)
    assert "MemoryError" in result.stdout, result.stderr
    assert result.stdout.count("full") == 2
    forks = int(result.stdout.split("forks refused after")[1].split()[0])
    assert 0 < forks < 32


@needs_bwrap
def test_every_process_of_the_sandbox_dies_with_it(course):
    marker = f"{uuid.uuid4().int % 10**6}.5"  # a unique argument of `sleep`
    code = f"""
import os, subprocess
subprocess.Popen(["sleep", "{marker}"], start_new_session=True)
os._exit(0)
"""
    result = run_sandboxed(course, code)
    assert result.returncode == 0, result.stderr
    alive = [p for p in pathlib.Path("/proc").glob("[0-9]*")
             if marker.encode() in _cmdline(p)]
    assert not alive


def _cmdline(proc):
    try:
        return (proc / "cmdline").read_bytes()
    except OSError:
        return b""


@needs_bwrap
def test_the_graders_variables_do_not_reach_the_kernel(course):
    env = dict(os.environ, JUPYTERHUB_API_TOKEN="hub-token-123")
    result = run_sandboxed(course, "import os; print(sorted(os.environ.items()))", env=env)
    assert "hub-token-123" not in result.stdout
    assert "('HOME', '/tmp')" in result.stdout
