"""Run each autograded notebook's kernel in a bubblewrap sandbox (Linux).

nbgrader executes a submission with the rights of whoever grades it. The course's configuration
(written by :mod:`rnnbook.course`) makes :class:`rnnbook.course.ResilientExecute` start every
kernel with :class:`SandboxedKernelManager`, which wraps the kernel's command in ``bwrap``:

- files: the Python environment that runs the kernel, the system's ``/usr`` and the few files of
  ``/etc`` that programs need, all read-only; the notebook's folder as a private, writable copy
  (what the code writes there is thrown away with the kernel); a fresh ``/tmp``; nothing else:
  no gradebook, ``source/``, ``release/``, other submissions, private tests or home folder;
- no network (a new network namespace), no view of other processes (a new PID namespace; every
  process of the sandbox dies with the kernel), an environment without the grader's variables;
- limits: ``memory_mb`` of writable memory per process (``RLIMIT_DATA``), per file written
  (``RLIMIT_FSIZE``) and for each of ``/tmp`` and ``/dev/shm``; ``processes`` processes and
  threads in all (``RLIMIT_NPROC``); nbgrader's per-cell timeout bounds the time.

The kernel talks to nbgrader over Unix sockets in a folder shared with the sandbox (ZeroMQ's
``ipc`` transport), so the network can stay off. Run by root, the kernel gets a uid of its own
(``RLIMIT_NPROC`` does not apply to root and counts per uid); run by another user, a user
namespace of its own.
"""

import json
import os
import pathlib
import pwd
import random
import re
import shutil
import subprocess
import sys
import tempfile
from functools import cache

from jupyter_client.manager import AsyncKernelManager
from traitlets import Integer, default

INSTALL = ("install bubblewrap (Debian/Ubuntu: `sudo apt-get install bubblewrap`; Fedora: "
           "`sudo dnf install bubblewrap`)")
OPT_OUT = ("To grade without a sandbox, at the risk of running every submission with your own "
           "rights, build the course with `--no-sandbox` (`make course COURSE_OPTS=--no-sandbox`) "
           "or add `--ResilientExecute.sandbox=False` to `nbgrader autograde`.")
# Read-only system paths (those that exist); /etc only where programs need it.
SYSTEM = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/etc/alternatives",
          "/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime",
          "/etc/nsswitch.conf", "/etc/passwd", "/etc/group", "/etc/fonts")
# The grader's environment variables that the kernel keeps; the others (tokens, keys) are dropped.
KEEP_ENV = re.compile(r"PATH|LANG|LANGUAGE|LC_\w+|TZ|TERM|PYTHONHASHSEED|PYTHONUNBUFFERED|"
                      r"PYDEVD_\w+|\w+_NUM_THREADS|NBGRADER_\w+|JPY_\w+")
# Run by root, the kernel takes a random uid from this range that no account uses.
UIDS = range(2_100_000_000, 2_140_000_000)


class SandboxError(RuntimeError):
    """The sandbox cannot start here; the message says why and how to fix it."""


def default_processes():
    """Processes and threads a sandbox may hold: 256, or 8 per CPU on larger machines."""
    return max(256, 8 * (os.cpu_count() or 1))


@cache
def interpreter_paths(python):
    """The folders ``python`` imports from (prefixes, stdlib, site-packages, editable installs),
    without the ones inside another: a tuple of absolute paths."""
    code = "import json, sys; print(json.dumps([sys.prefix, sys.base_prefix, *sys.path]))"
    out = subprocess.run([python, "-I", "-c", code], capture_output=True, text=True, check=True)
    found = [p for p in json.loads(out.stdout) if p and os.path.exists(p)]
    paths = {os.path.abspath(p) for p in found} | {os.path.realpath(p) for p in found}
    return tuple(sorted(p for p in paths if not any(_inside(p, q) for q in paths if q != p)))


def _inside(path, folder):
    return os.path.commonpath([path, folder]) == folder


def bwrap_command(cmd, folder, work, runtime, memory_mb, processes, uid=None):
    """``cmd`` wrapped in bubblewrap: a list of strings for Popen.

    cmd: the kernel's command (its first item is the Python interpreter).
    folder: the notebook's folder, the working directory the kernel sees (absolute).
    work: the writable copy of ``folder`` shown at ``folder``.
    runtime: the folder of the connection file and the kernel's sockets (shown writable).
    memory_mb, processes: the limits (writable memory per process, size of a file and of each
        of /tmp and /dev/shm; processes and threads in all).
    uid: when grading as root, the uid the kernel runs as; None runs it as the caller in a user
    namespace of its own.
    """
    bwrap = shutil.which("bwrap")
    if sys.platform != "linux" or bwrap is None:
        where = "Linux" if sys.platform == "linux" else f"Linux (this is {sys.platform})"
        raise SandboxError(f"the autograding sandbox needs bubblewrap (`bwrap`) on {where}: "
                           f"{INSTALL}. {OPT_OUT}")
    readonly = [p for p in (*SYSTEM, *interpreter_paths(cmd[0])) if os.path.lexists(p)]
    for path in readonly:
        if _inside(folder, path):
            raise SandboxError(f"the folder being graded, {folder}, is inside {path}, which the "
                               "sandbox shows to the kernel: put the course directory elsewhere.")
    args = [bwrap, "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts",
            "--unshare-cgroup-try", "--die-with-parent", "--new-session"]
    args += ["--unshare-user"] if uid is None else ["--cap-add", "CAP_SETUID",
                                                    "--cap-add", "CAP_SETGID"]
    limit = memory_mb * 2**20
    args += ["--proc", "/proc", "--dev", "/dev"]
    for tmpfs in ("/tmp", "/dev/shm"):  # in memory, so no larger than the memory limit
        args += ["--size", str(limit), "--perms", "01777", "--tmpfs", tmpfs]
    # Folders above the shown paths, searchable by the kernel (bwrap would make them private).
    shown = [*readonly, folder, runtime]
    parents = {str(p) for path in shown for p in pathlib.PurePath(path).parents} - {"/", "/tmp"}
    for parent in sorted(parents):
        if not any(_inside(parent, p) for p in readonly):
            args += ["--perms", "0755", "--dir", parent]
    for path in readonly:
        args += ["--ro-bind", path, path]
    args += ["--bind", str(work), str(folder), "--bind", str(runtime), str(runtime),
             "--chdir", str(folder), "--remount-ro", "/",
             # The kernel's parent in the sandbox is bwrap's init; ipykernel does not watch PID 1
             # (bwrap's --die-with-parent ends the sandbox with nbgrader instead).
             "--setenv", "JPY_PARENT_PID", "1"]
    args += ["prlimit", f"--data={limit}:{limit}", f"--fsize={limit}:{limit}",
             f"--nproc={processes}:{processes}", "--"]
    if uid is not None:
        args += ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--"]
    return args + list(cmd)


def free_uid():
    """A uid from ``UIDS`` that no account uses."""
    while True:
        uid = random.choice(UIDS)
        try:
            pwd.getpwuid(uid)
        except KeyError:
            return uid


def kernel_env(env):
    """The variables of ``env`` that the sandboxed kernel keeps, and HOME in its /tmp."""
    return {k: v for k, v in env.items() if KEEP_ENV.fullmatch(k)} | {"HOME": "/tmp"}


def prepare(folder, scratch, uid=None):
    """Make ``scratch/work`` (a copy of ``folder``) and ``scratch/run``; own them as ``uid``.

    Returns ``(work, run)``.
    """
    work, run = pathlib.Path(scratch) / "work", pathlib.Path(scratch) / "run"
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(folder, work, symlinks=True)
    run.mkdir(exist_ok=True)
    if uid is not None:
        for path in (scratch, run, *run.iterdir(), work, *work.rglob("*")):
            os.lchown(path, uid, uid)
    return work, run


def sandbox_uid():
    """The uid a kernel runs as: a fresh one when grading as root, else None (the caller's)."""
    return free_uid() if os.geteuid() == 0 else None


def check_sandbox(python=sys.executable, memory_mb=4096, processes=None, timeout=120):
    """Start the sandbox once and import the kernel's modules in it; SandboxError if it fails."""
    with tempfile.TemporaryDirectory(prefix="rnnbook-sandbox-") as scratch:
        (pathlib.Path(scratch) / "folder").mkdir()
        uid = sandbox_uid()
        work, run = prepare(pathlib.Path(scratch) / "folder", pathlib.Path(scratch) / "s", uid)
        cmd = bwrap_command([python, "-c", "import ipykernel, rnnbook"], str(work), work, run,
                            memory_mb, processes or default_processes(), uid)
        result = subprocess.run(cmd, env=kernel_env(os.environ), capture_output=True, text=True,
                                timeout=timeout)
    if result.returncode:
        said = result.stderr.strip()[-600:]
        raise SandboxError(f"the autograding sandbox did not start (exit status "
                           f"{result.returncode}{'; it said: ' + said if said else ''}). Check "
                           "that bubblewrap works here (`bwrap --ro-bind / / true`; users other "
                           f"than root need user namespaces enabled). {OPT_OUT}")


class SandboxedKernelManager(AsyncKernelManager):
    """An AsyncKernelManager whose kernel runs in a bubblewrap sandbox (see the module's doc).

    Each kernel gets a scratch folder (``rnnbook-sandbox-*`` in the temporary folder) with the
    copy of the notebook's folder and the connection file, removed when the kernel shuts down
    (or, if it never started, when nbgrader exits).
    """

    memory_mb = Integer(4096, help="Writable memory per process of a sandboxed kernel, in MiB "
                        "(RLIMIT_DATA).").tag(config=True)
    processes = Integer(help="Processes and threads a sandboxed kernel may hold in all "
                        "(RLIMIT_NPROC).").tag(config=True)

    @default("processes")
    def _processes_default(self):
        return default_processes()

    _scratch = None  # a TemporaryDirectory while a kernel runs

    async def _async_pre_start_kernel(self, **kw):
        if self._scratch is None:
            self._scratch = tempfile.TemporaryDirectory(prefix="rnnbook-sandbox-")
            scratch = pathlib.Path(self._scratch.name)
            (scratch / "run").mkdir()
            self.transport = "ipc"
            self.connection_file = str(scratch / "run" / "kernel.json")
            self.ip = str(scratch / "run" / "kernel")
        return await super()._async_pre_start_kernel(**kw)

    async def _async_launch_kernel(self, kernel_cmd, **kw):
        folder = os.path.abspath(kw.get("cwd") or os.getcwd())
        uid = sandbox_uid()
        work, run = prepare(folder, self._scratch.name, uid)
        kw["env"] = kernel_env(kw.get("env", os.environ))
        # Interrupts go over the control channel: a signal to bwrap would not reach the kernel.
        self.kernel_spec.interrupt_mode = "message"
        cmd = bwrap_command(kernel_cmd, folder, work, run, self.memory_mb, self.processes, uid)
        self.log.info("Sandboxed kernel (bubblewrap): it sees a copy of %s, no network", folder)
        await super()._async_launch_kernel(cmd, **kw)

    async def _async_cleanup_resources(self, restart=False):
        await super()._async_cleanup_resources(restart=restart)
        if not restart and self._scratch is not None:
            self._scratch.cleanup()
            self._scratch = None
