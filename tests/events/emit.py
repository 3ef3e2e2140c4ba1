"""Events written to the simulator through its API, as kubelets and controllers write them, with
the ground truth of every version the API server acknowledged."""

from __future__ import annotations

import datetime as dt
import json
import random
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from kubescope.kube.client import KubeClient

REASONS = [
    ("Scheduled", "Normal", "default-scheduler", "Successfully assigned {ns}/{name} to node-{n}"),
    ("Pulling", "Normal", "kubelet", 'Pulling image "nginx:1.{n}"'),
    ("Pulled", "Normal", "kubelet", 'Successfully pulled image "nginx:1.{n}" in 1.2s'),
    ("Created", "Normal", "kubelet", "Created container web"),
    ("Started", "Normal", "kubelet", "Started container web"),
    ("BackOff", "Warning", "kubelet", "Back-off restarting failed container web in pod {name}"),
    ("Unhealthy", "Warning", "kubelet", "Readiness probe failed: HTTP probe failed with statuscode: 503"),
]


def now_iso(micro: bool = False) -> str:
    d = dt.datetime.now(dt.UTC)
    return d.strftime("%Y-%m-%dT%H:%M:%S.%fZ" if micro else "%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Truth:
    versions: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    """uid -> every resourceVersion the API server answered for it, in order."""
    objects: dict[str, dict[str, Any]] = field(default_factory=dict)

    def all_versions(self) -> set[tuple[str, int]]:
        return {(u, v) for u, vs in self.versions.items() for v in vs}

    def newest(self) -> dict[str, int]:
        return {u: vs[-1] for u, vs in self.versions.items()}


class Emitter:
    """Creates core/v1 events and bumps their count (the legacy recorder's PATCH of a repeat)."""

    def __init__(
        self, client: KubeClient, truth: Truth, seed: int = 0, namespaces: tuple[str, ...] = ("default",)
    ) -> None:
        self.client = client
        self.truth = truth
        self.rng = random.Random(seed)
        self.namespaces = namespaces
        self.n = 0

    async def create(self, ns: str | None = None, note: str | None = None) -> dict[str, Any]:
        ns = ns or self.rng.choice(self.namespaces)
        self.n += 1
        pod = f"web-{self.rng.randrange(40)}"
        reason, typ, comp, msg = self.rng.choice(REASONS)
        body = {
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": f"{pod}.{uuid.uuid4().hex[:16]}", "namespace": ns},
            "involvedObject": {"kind": "Pod", "namespace": ns, "name": pod, "apiVersion": "v1",
                               "uid": str(uuid.uuid5(uuid.NAMESPACE_DNS, f"{ns}/{pod}")), "fieldPath": "spec.containers{web}"},
            "reason": reason, "message": note if note is not None else msg.format(ns=ns, name=pod, n=self.n % 30),
            "source": {"component": comp, "host": "node-1"}, "type": typ, "count": 1,
            "firstTimestamp": now_iso(), "lastTimestamp": now_iso(), "reportingComponent": comp,
            "reportingInstance": "node-1",
        }  # fmt: skip
        got = json.loads(
            await self.client.request(
                "POST", f"/api/v1/namespaces/{ns}/events", body=json.dumps(body).encode()
            )
        )
        self._saw(got)
        return got  # type: ignore[no-any-return]

    async def repeat(self, ev: dict[str, Any]) -> dict[str, Any]:
        uid = ev["metadata"]["uid"]
        cur = self.truth.objects[uid]
        cur = {**cur, "count": cur.get("count", 1) + 1, "lastTimestamp": now_iso()}
        m = cur["metadata"]
        got = json.loads(
            await self.client.request(
                "PUT",
                f"/api/v1/namespaces/{m['namespace']}/events/{m['name']}",
                body=json.dumps(cur).encode(),
            )
        )
        self._saw(got)
        return got  # type: ignore[no-any-return]

    def _saw(self, got: dict[str, Any]) -> None:
        uid = got["metadata"]["uid"]
        self.truth.versions[uid].append(int(got["metadata"]["resourceVersion"]))
        self.truth.objects[uid] = got

    async def burst(self, n: int, repeat_share: float = 0.3) -> None:
        """``n`` writes: new events and repeats of recent ones."""
        recent: list[dict[str, Any]] = []
        for _ in range(n):
            if recent and self.rng.random() < repeat_share:
                ev = self.rng.choice(recent)
                await self.repeat(ev)
            else:
                recent.append(await self.create())
                recent = recent[-20:]
