"""One simulator per test module and a client of it per test, made by two fixture factories.

The tests of the reflector, the events recorder and the simulator's API each started a
``kubescope simulate`` subprocess for their module and connected a :class:`KubeClient` to it per
test, with the same dozen lines. Here once::

    from tests.simfixtures import sim_client, simulator

    sim = simulator(nodes=2, pods_per_node=2, kubelets=False, bookmark_interval=0.3)
    client = sim_client(settle=0.25, reset_faults=True)

``simulator(**kw)`` is a module-scoped fixture named ``sim``: ``SimulatorProcess(**kw)`` (TLS,
bearer tokens), stopped after the module's last test. ``sim_client()`` is a fixture named
``client``: a client of that ``sim``, connected with :data:`CLEAN_ENV`. :func:`connect` makes one
more where a test needs its own.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from kubescope.kube.client import KubeClient
from kubescope.kube.config import KubeSettings
from kubescope.sim.process import SimulatorProcess

CLEAN_ENV = {k: v for k, v in os.environ.items() if not k.startswith("KUBERNETES_") and k != "KUBECONFIG"}
"""This process's environment without a kubeconfig or in-cluster variables: only the simulator's
kubeconfig decides where a client (or a child server) connects."""


def simulator(**kw: Any) -> Any:
    """A module-scoped fixture ``sim``: a simulator process started with ``kw``."""

    @pytest.fixture(scope="module", name="sim")
    def sim() -> Iterator[SimulatorProcess]:
        """This module's simulator process (tests.simfixtures.simulator)."""
        with SimulatorProcess(**kw) as s:
            yield s

    return sim


async def connect(sim: SimulatorProcess) -> KubeClient:
    """A client of ``sim`` through its kubeconfig (TLS, its admin token)."""
    return await KubeClient.connect(KubeSettings(kubeconfig=sim.kubeconfig), environ=CLEAN_ENV)


def sim_client(*, settle: float = 0.0, reset_faults: bool = False) -> Any:
    """A fixture ``client``: a test's client of the module's ``sim``. Closed after the test, then
    ``settle`` seconds given to closed watches' TLS shutdowns (so they finish before the test's
    loop ends), then, with ``reset_faults``, every fault injected into ``sim`` switched off."""

    @pytest.fixture(name="client")
    async def client(sim: SimulatorProcess) -> AsyncIterator[KubeClient]:
        """A client of this module's simulator (tests.simfixtures.sim_client)."""
        c = await connect(sim)
        yield c
        await c.close()
        if settle:
            await asyncio.sleep(settle)
        if reset_faults:
            await asyncio.to_thread(sim.faults, reset=True)

    return client
