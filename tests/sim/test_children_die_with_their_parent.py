"""A child started with :func:`kubescope.sim.tied.popen_tied` dies when its parent is killed
(SIGKILL: no handler, no ``finally``), whatever threads the parent has and whichever thread started
it; and it does not die when only that thread ends.

Each case runs a parent process of its own (the test process must survive), which starts a
``sleep`` and says its pid; the test kills the parent and waits for the ``sleep`` to be gone.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from kubescope.sim.tied import popen_tied, tied_argv

ROOT = Path(__file__).resolve().parents[2]

PARENT = textwrap.dedent(
    """
    import subprocess, sys, threading, time
    from kubescope.sim import tied
    from kubescope.sim.tied import popen_tied

    how, wrapper = sys.argv[1:3]
    if wrapper == "python":
        tied.SETPRIV_PATH = ""  # as where util-linux has no setpriv
    idle = threading.Event()
    # a parent with other threads running, as a test process with asyncio's resolver pool has
    for _ in range(3):
        threading.Thread(target=idle.wait, daemon=True).start()
    if how == "main":
        child = popen_tied(["sleep", "600"], stdin=subprocess.DEVNULL)
    else:  # from a worker thread that then ends: the child must outlive the thread, not the process
        box = []
        t = threading.Thread(target=lambda: box.append(popen_tied(["sleep", "600"], stdin=subprocess.DEVNULL)))
        t.start()
        t.join()
        child = box[0]
    print(child.pid, flush=True)
    print("thread ended" if how != "main" else "started", flush=True)
    time.sleep(600)
    """
)


def _gone(pid: int) -> bool:
    """No such process, or a zombie (this machine's pid 1 may not reap orphans)."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _cmdline(pid: int) -> list[str]:
    try:
        return psutil.Process(pid).cmdline()
    except psutil.Error as e:
        return [f"<{e!r}>"]


@pytest.fixture
def parents() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for p in started:
        if p.poll() is None:
            p.kill()
        p.communicate()  # waits, and closes its pipes


@pytest.mark.parametrize("wrapper", ["setpriv", "python"])
@pytest.mark.parametrize("how", ["main", "worker"])
def test_a_child_dies_when_its_multithreaded_parent_is_killed(
    how: str, wrapper: str, parents: list[subprocess.Popen[str]]
) -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, how, wrapper],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    parents.append(parent)
    assert parent.stdout is not None
    line = parent.stdout.readline()
    status = parent.stdout.readline()
    assert line.strip().isdigit(), (
        f"parent exit {parent.poll()}: {line!r} {status!r} {parent.stderr.read() if parent.poll() is not None else ''}"
    )  # type: ignore[union-attr]
    child = int(line)
    try:
        # the program itself has the pid (the wrapper execs it), and it lives while the parent does
        deadline = time.monotonic() + 60
        while _cmdline(child)[:1] != ["sleep"] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _cmdline(child) == ["sleep", "600"], _cmdline(child)
        if how == "worker":
            time.sleep(0.5)  # the thread that forked it has ended (status line); the child stays
            assert not _gone(child), f"the child died with the thread that started it: {_cmdline(child)}"
        assert psutil.Process(child).ppid() == parent.pid
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait()
        deadline = time.monotonic() + 60
        while not _gone(child) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _gone(child), f"child {child} {_cmdline(child)} outlived its killed parent {parent.pid}"
    finally:
        if not _gone(child):
            os.kill(child, signal.SIGKILL)


def test_a_missing_program_raises_at_once_as_popen_does() -> None:
    with pytest.raises(FileNotFoundError):
        popen_tied(["kubescope-no-such-program"])
    with pytest.raises(FileNotFoundError):
        tied_argv(["sleep"], path="/nonexistent")


def test_the_child_gets_its_arguments_environment_and_exit_code(tmp_path: Path) -> None:
    p = popen_tied(
        ["sh", "-c", 'printf "%s|%s|%s" "$1" "$2" "$KUBESCOPE_X"; exit 7', "sh", "a b", "$c"],
        stdout=subprocess.PIPE,
        env={"PATH": os.environ["PATH"], "KUBESCOPE_X": "x y"},
        cwd=tmp_path,
    )
    out, _ = p.communicate(timeout=60)
    assert (p.returncode, out) == (7, b"a b|$c|x y")
