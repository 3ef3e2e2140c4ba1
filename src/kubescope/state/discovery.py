"""Which enabled resources the API server serves and lets us list: read from discovery, re-read.

kube-state-metrics starts a reflector for every enabled resource; one the cluster does not serve
(``admissionregistration.k8s.io/v1`` MutatingAdmissionPolicy before it went GA, a beta API an
upgrade removed) or the service account may not list fails for ever, logged at every retry. Here
the group-versions of the enabled resources are read at start-up (``GET /api/v1``,
``/apis/<group>/<version>``: their APIResourceLists, 404 for a group-version not served at all):

* a resource not served, or served without ``list`` and ``watch``, gets no reflector; one warning
  line names it, and ``kubescope_state_resource_unavailable{reason="not_served"}`` says so;
* a resource whose list is answered 403 (narrower RBAC) or 404 keeps its reflector, which retries
  with backoff (its own warning line, once); ``reason="forbidden"`` / ``"not_found"``;
* ``/readyz`` waits only for the others.

The group-versions of resources not served, and of those whose lists are answered 404, are read
again every :data:`INTERVAL` seconds: a resource that appears (an upgrade) is watched from then on,
one that disappears is dropped with its metrics. A discovery request that fails (the API server
unreachable, 5xx) decides nothing: the resource is watched, and its reflector retries.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping

import msgspec

from kubescope.errors import DecodeError, KubeError, NotFoundError
from kubescope.kube.client import KubeClient
from kubescope.log import fields
from kubescope.state.family import ResourceSpec

logger = logging.getLogger(__name__)

INTERVAL = 60.0
"""Seconds between re-reads of the group-versions that matter (not served, or 404 on list)."""
TIMEOUT = 10.0
"""Seconds the discovery of one group-version may take before it counts as unknown."""

NOT_SERVED = "not_served"


class _APIResource(msgspec.Struct):
    name: str = ""
    verbs: list[str] = msgspec.field(default_factory=list)


class _APIResourceList(msgspec.Struct):
    resources: list[_APIResource] = msgspec.field(default_factory=list)


_decoder = msgspec.json.Decoder(_APIResourceList)


async def listable(client: KubeClient, api_path: str) -> set[str] | None:
    """The resources of a group-version served with ``list`` and ``watch`` (subresources left out);
    empty if the group-version is not served (404); ``None`` if discovery could not tell."""
    try:
        body = await asyncio.wait_for(client.get(api_path), TIMEOUT)
    except NotFoundError:
        return set()
    except (KubeError, TimeoutError) as e:
        logger.debug("discovery failed", extra=fields(path=api_path, error=str(e)))
        return None
    try:
        doc = _decoder.decode(body)
    except msgspec.DecodeError as e:
        logger.warning(
            "discovery answer not understood", extra=fields(path=api_path, error=str(DecodeError(e)))
        )
        return None
    return {r.name for r in doc.resources if "/" not in r.name and {"list", "watch"} <= set(r.verbs)}


class Discovery:
    """What discovery said about each enabled built-in resource: served (or unknown) or not."""

    def __init__(self, client: KubeClient) -> None:
        self.client = client
        self.not_served: dict[str, str] = {}
        """Resources the API server does not serve, with their group-version."""

    def served(self, resource: str) -> bool:
        """False only when discovery said the resource is not served (unknown counts as served)."""
        return resource not in self.not_served

    async def check(self, specs: Mapping[str, ResourceSpec], *, startup: bool = False) -> bool:
        """Read the group-versions of ``specs`` (resource name -> spec); True if what is served
        changed. Logs each resource that stops or starts being served (at start-up: each one not
        served)."""
        paths = sorted({s.api_path for s in specs.values()})
        answers = await asyncio.gather(*(listable(self.client, p) for p in paths))
        by_path = dict(zip(paths, answers, strict=True))
        changed = False
        for name, spec in sorted(specs.items()):
            names = by_path[spec.api_path]
            if names is None:
                continue  # unknown: keep what we knew
            served = spec.resource in names
            gv = spec.api_path.removeprefix("/apis/").removeprefix("/api/")
            if not served and name not in self.not_served:
                self.not_served[name] = gv
                changed = True
                logger.warning(
                    "resource not served by the API server, skipped"
                    if startup
                    else "resource no longer served by the API server, its metrics removed",
                    extra=fields(resource=name, group_version=gv, checked_every=f"{INTERVAL:g}s"),
                )
            elif served and name in self.not_served:
                del self.not_served[name]
                changed = True
                logger.warning(
                    "resource now served by the API server, watching it", extra=fields(resource=name)
                )
        return changed


def unavailable(discovery: Discovery, reflector_states: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """(resource, reason) of every enabled resource that cannot be listed, for self metrics:
    ``not_served`` from discovery, ``forbidden`` / ``not_found`` from reflectors' last lists."""
    out = [(r, NOT_SERVED) for r in sorted(discovery.not_served)]
    out += [(r, state.replace(" ", "_")) for r, state in reflector_states if state]
    return out
