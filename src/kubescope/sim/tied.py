"""Children that die with the process that started them: a killed test run or demo leaves no
simulator, server, Prometheus or PostgreSQL behind.

Linux's ``PR_SET_PDEATHSIG`` sends the child a signal when its parent dies. It has to be set in the
child, between fork and exec: a ``preexec_fn`` would run Python there, which is unsafe once the
parent has threads (another thread may hold a lock the child then waits on for ever), and the
test process nearly always has some (asyncio's resolver pool, a server thread). So the child is
started through a tiny exec wrapper instead, ``setpriv --pdeathsig`` (util-linux: a C program, so
it also runs after a switch to another user, as PostgreSQL needs, which cannot execute a Python
under ``/root``), that sets it and execs ``/bin/sh``, which checks the parent is still the one that
started it (it may have died before the signal was armed) and execs the program: same pid, no
process in between. Without ``setpriv``, a Python wrapper does the same.

The signal follows the *thread* that forked, not the process: a child started from a worker thread
would be killed when that thread ends. So a child asked for outside the main thread is started by a
daemon thread that lives as long as the process.
"""

from __future__ import annotations

import concurrent.futures
import errno
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from typing import Any

SETPRIV_PATH = "/usr/bin:/bin:/usr/sbin:/sbin"
"""Where ``setpriv`` is looked for ("" : use the Python wrapper)."""

# $0 is the pid that must still be the parent, "$@" the program and its arguments
_CHECK_PARENT = '[ "$PPID" = "$0" ] || exit 143; exec "$@"'
_PYTHON_WRAPPER = (
    "import ctypes, os, sys\n"
    "if ctypes.CDLL(None, use_errno=True).prctl(1, int(sys.argv[1]), 0, 0, 0) != 0:\n"
    "    sys.exit('prctl(PR_SET_PDEATHSIG) failed: errno %d' % ctypes.get_errno())\n"
    "if os.getppid() != int(sys.argv[2]):\n"
    "    sys.exit(143)\n"
    "os.execvp(sys.argv[3], sys.argv[3:])\n"
)


def tied_argv(argv: Sequence[str], *, sig: int = signal.SIGTERM, path: str | None = None) -> list[str]:
    """``argv`` run so that it gets ``sig`` when this process dies (unchanged off Linux).

    ``argv[0]`` is looked up in ``path`` (the child's ``PATH``) here, so a missing program raises
    FileNotFoundError at once, as ``Popen`` would, instead of a wrapper's exit code later."""
    argv = list(argv)
    if not sys.platform.startswith("linux"):
        return argv
    if "/" not in argv[0]:
        found = shutil.which(argv[0], path=path if path is not None else os.environ.get("PATH", os.defpath))
        if found is None:
            raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), argv[0])
    parent = str(os.getpid())
    setpriv = shutil.which("setpriv", path=SETPRIV_PATH)
    if setpriv is not None:
        name = signal.Signals(sig).name.removeprefix("SIG")
        return [setpriv, f"--pdeathsig={name}", "--", "/bin/sh", "-c", _CHECK_PARENT, parent, *argv]
    return [sys.executable, "-I", "-S", "-c", _PYTHON_WRAPPER, str(int(sig)), parent, *argv]


def popen_tied(argv: Sequence[str], *, sig: int = signal.SIGTERM, **popen: Any) -> subprocess.Popen[Any]:
    """``subprocess.Popen(argv, **popen)`` of a child that gets ``sig`` when this process dies,
    whatever threads it has. ``proc.pid`` is the program's own pid (the wrapper execs it)."""
    env = popen.get("env")
    wrapped = tied_argv(argv, sig=sig, path=(env or os.environ).get("PATH", os.defpath))
    start: Callable[[], subprocess.Popen[Any]] = lambda: subprocess.Popen(wrapped, **popen)  # noqa: E731
    if threading.current_thread() is threading.main_thread():
        return start()
    return _Starter.run(start)


class _Starter:
    """A daemon thread that starts the children asked for from other threads: the death signal
    follows the forking thread, and this one ends only with the process."""

    _lock = threading.Lock()
    _jobs: queue.SimpleQueue[tuple[Callable[[], Any], concurrent.futures.Future[Any]]] | None = None

    @classmethod
    def run(cls, start: Callable[[], subprocess.Popen[Any]]) -> subprocess.Popen[Any]:
        with cls._lock:
            if cls._jobs is None:
                cls._jobs = queue.SimpleQueue()
                threading.Thread(
                    target=cls._serve, args=(cls._jobs,), name="tied-children", daemon=True
                ).start()
            jobs = cls._jobs
        done: concurrent.futures.Future[subprocess.Popen[Any]] = concurrent.futures.Future()
        jobs.put((start, done))
        return done.result()

    @staticmethod
    def _serve(jobs: queue.SimpleQueue[tuple[Callable[[], Any], concurrent.futures.Future[Any]]]) -> None:
        while True:
            start, done = jobs.get()
            try:
                done.set_result(start())
            except BaseException as e:  # handed to the thread that asked
                done.set_exception(e)

    @classmethod
    def forget(cls) -> None:
        """In a forked child: the thread did not come along."""
        cls._jobs = None
        cls._lock = threading.Lock()


os.register_at_fork(after_in_child=_Starter.forget)
