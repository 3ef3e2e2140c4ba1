"""Private network (and mount) namespaces for tests that must use the fixed ports and paths a
manifest or a doc names (8080, 10250, /tmp/kubescope.kubeconfig...) without colliding with anything
else on the machine: ``unshare --user --map-root-user --net`` gives a process its own loopback,
``--mount`` its own mounts, no privileges needed where unprivileged user namespaces are enabled.
"""

from __future__ import annotations

import fcntl
import functools
import shutil
import socket
import struct
import subprocess

import pytest

SIOCGIFFLAGS = 0x8913
SIOCSIFFLAGS = 0x8914
IFF_UP = 0x1


@functools.cache
def unavailable() -> str:
    """Why private namespaces cannot be made here ("" when they can)."""
    if shutil.which("unshare") is None:
        return "unshare (util-linux) is not installed"
    p = subprocess.run(["unshare", "-rnm", "true"], capture_output=True, text=True, timeout=30)
    if p.returncode != 0:
        return f"unshare -rnm fails: {p.stderr.strip()} (unprivileged user namespaces disabled?)"
    return ""


def require() -> None:
    reason = unavailable()
    if reason:
        pytest.fail(f"this test runs its servers in a private network namespace, but {reason}")


def isolated(*argv: str, mount: bool = False) -> list[str]:
    """``argv`` run in a new user and network namespace (and mount namespace with ``mount``)."""
    return ["unshare", "--user", "--map-root-user", "--net", *(["--mount"] if mount else []), *argv]


def loopback_up() -> None:
    """Bring ``lo`` up in this (new) network namespace: all of 127.0.0.0/8 then answers."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        ifr = struct.pack("16sh", b"lo", 0)
        flags = struct.unpack("16sh", fcntl.ioctl(s, SIOCGIFFLAGS, ifr))[1]
        fcntl.ioctl(s, SIOCSIFFLAGS, struct.pack("16sh", b"lo", flags | IFF_UP))
