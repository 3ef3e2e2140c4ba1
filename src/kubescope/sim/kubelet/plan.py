"""Where the simulated kubelets listen, decided before the cluster is generated (the nodes carry
the addresses in ``status.addresses`` and pods in ``status.hostIP``, as kubelets report them):
node ``i`` (in name order) at ``127.<block>.<i // 250 + 1>.<i % 250 + 1>`` on 10250, the block the
first whose every address binds; else free ports. :func:`bind` opens a listening socket."""

from __future__ import annotations

import errno
import logging
import os
import socket
from collections.abc import Iterable
from dataclasses import dataclass

from kubescope.log import fields

logger = logging.getLogger("kubescope.sim.kubelet")

KUBELET_PORT = 10250
BLOCK = 250
"""Addresses per third octet."""


@dataclass(frozen=True)
class Plan:
    """Where the kubelets listen: loopback block ``127.<block>.0.0/16`` on ``port`` (0: free ports)."""

    block: int
    port: int

    def address(self, index: int) -> str:
        """Node ``index``'s address (nodes indexed in name order)."""
        return f"127.{self.block}.{index // BLOCK + 1}.{index % BLOCK + 1}"

    def addresses(self, names: Iterable[str]) -> dict[str, str]:
        return {name: self.address(i) for i, name in enumerate(sorted(names))}


def plan(nodes: int) -> Plan:
    """The second octet: the first block (from one the process id picks) where every address of
    ``nodes`` nodes can be bound on 10250; else free ports."""
    first = os.getpid() % 240
    if not nodes:
        return Plan(10 + first, KUBELET_PORT)
    for attempt in range(24):
        block = 10 + (first + attempt * 37) % 240
        socks: list[socket.socket] = []
        try:
            for i in range(nodes):
                socks.append(bind(Plan(block, KUBELET_PORT).address(i), KUBELET_PORT))
        except OSError as e:
            if e.errno not in (errno.EADDRINUSE, errno.EACCES):
                raise
            continue
        finally:
            for s in socks:
                s.close()
        return Plan(block, KUBELET_PORT)
    logger.warning(
        "no loopback block is free on the kubelet port; kubelets listen on free ports",
        extra=fields(port=KUBELET_PORT),
    )
    return Plan(10 + first, 0)


def bind(ip: str, port: int) -> socket.socket:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((ip, port))
        s.listen(512)
        s.setblocking(False)
    except OSError:
        s.close()
        raise
    return s
