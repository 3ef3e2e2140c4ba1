"""The simulated kubelets' tests share this: a simulator process with its kubelets and users for
them, HTTPS requests to one kubelet (verified with the cluster CA), and a strict reader of the
Prometheus text format that keeps what the tests compare (order, HELP/TYPE lines, label names in
order, raw values, millisecond timestamps).
"""

from __future__ import annotations

import gzip as gzip_module
import http.client
import json
import re
import socket
import ssl
import time
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from kubescope.sim.process import SimulatorProcess

# tokens the auth file below gives out, and what each may do on a kubelet
READER = "reader-token"
"""group ``node-readers``: get nodes/metrics on every node."""
ONE_NODE = "one-node-token"
"""get nodes/metrics on node-0001 only."""
PROXY = "proxy-token"
"""get nodes/proxy (what ``/healthz`` falls back to), nothing else."""
NOBODY = "nobody-token"
"""authenticated, allowed nothing."""

AUTH_FILE = {
    "tokens": [
        {"token": READER, "user": "reader", "groups": ["node-readers"]},
        {"token": ONE_NODE, "user": "one-node"},
        {"token": PROXY, "user": "proxier"},
        {"token": NOBODY, "user": "nobody"},
    ],
    "rules": [
        {"groups": ["node-readers"], "verbs": ["get"], "apiGroups": [""], "resources": ["nodes/metrics"]},
        {
            "users": ["one-node"],
            "verbs": ["get"],
            "apiGroups": [""],
            "resources": ["nodes/metrics"],
            "resourceNames": ["node-0001"],
        },
        {"users": ["proxier"], "verbs": ["get"], "apiGroups": [""], "resources": ["nodes/proxy"]},
    ],
}


def start_simulator(
    tmp: Path, *, nodes: int = 3, pods_per_node: int = 5, housekeeping: float = 1.0, args: Sequence[str] = ()
) -> SimulatorProcess:
    """A TLS simulator process with kubelets collecting every ``housekeeping`` seconds."""
    auth = tmp / "auth.yaml"
    auth.write_text(yaml.safe_dump(AUTH_FILE))
    return SimulatorProcess(
        nodes=nodes,
        pods_per_node=pods_per_node,
        tls=True,
        extra_args=[f"--auth-file={auth}", f"--kubelet-housekeeping={housekeeping:g}", *args],
    ).start()


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode()


class Kubelets:
    """Requests to a simulator's kubelets, at the addresses its nodes advertise."""

    def __init__(self, sim: SimulatorProcess) -> None:
        self.sim = sim
        self.ca = ssl.create_default_context(cafile=sim.ca_file)

    def advertised(self) -> dict[str, tuple[str, int]]:
        """node -> (InternalIP, kubelet port), from the nodes' status as the API serves it."""
        out = {}
        for n in self.sim.request("GET", "/api/v1/nodes")["items"]:
            st = n["status"]
            ip = next(a["address"] for a in st["addresses"] if a["type"] == "InternalIP")
            out[n["metadata"]["name"]] = (ip, int(st["daemonEndpoints"]["kubeletEndpoint"]["Port"]))
        return out

    def address(self, node: str) -> tuple[str, int]:
        return self.advertised()[node]

    def get(
        self,
        node: str | tuple[str, int],
        path: str = "/metrics/resource",
        *,
        token: str | None = "admin",
        context: ssl.SSLContext | None = None,
        server_hostname: str | None = None,
        headers: dict[str, str] | None = None,
        method: str = "GET",
        timeout: float = 10.0,
    ) -> Response:
        """One request; ``token="admin"`` is the simulator's admin token, None sends none."""
        host, port = self.address(node) if isinstance(node, str) else node
        conn = _HTTPSConnection(
            host, port, context=context or self.ca, timeout=timeout, name=server_hostname or host
        )
        hdrs = dict(headers or {})
        if token is not None:
            hdrs["Authorization"] = f"Bearer {self.sim.token if token == 'admin' else token}"
        try:
            conn.request(method, path, headers=hdrs)
            r = conn.getresponse()
            body = r.read()
            return Response(r.status, {k.lower(): v for k, v in r.getheaders()}, body)
        finally:
            conn.close()

    def metrics(self, node: str, **kw: Any) -> Exposition:
        r = self.get(node, **kw)
        assert r.status == 200, (r.status, r.body[:300])
        body = gzip_module.decompress(r.body) if r.headers.get("content-encoding") == "gzip" else r.body
        return parse(body.decode())

    def truth(self) -> dict[str, Any]:
        out: dict[str, Any] = self.sim.request("GET", "/_sim/truth")
        return out

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = self.sim.request("GET", "/_sim/kubelets")
        return out

    def faults(self, **settings: Any) -> dict[str, Any]:
        return self.sim.faults(**settings)

    def next_tick(self, after: int | None = None, timeout: float = 30.0) -> dict[str, Any]:
        """The truth once the kubelets' housekeeping tick has passed ``after`` (default: now)."""
        start = self.truth()["tick"] if after is None else after
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            t = self.truth()
            if t["tick"] > start:
                return t
            time.sleep(0.05)
        raise AssertionError(f"the kubelets' tick did not pass {start} in {timeout}s")


class _HTTPSConnection(http.client.HTTPSConnection):
    """Verifies the server's certificate for ``name`` (an address or a DNS name), whatever it dials."""

    def __init__(self, host: str, port: int, *, name: str, context: ssl.SSLContext, timeout: float) -> None:
        super().__init__(host, port, context=context, timeout=timeout)
        self._ctx = context
        self._name = name

    def connect(self) -> None:
        sock = socket.create_connection((self.host, self.port), self.timeout)
        self.sock = self._ctx.wrap_socket(sock, server_hostname=self._name)


# -- the text format ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    name: str
    labels: tuple[tuple[str, str], ...]
    value: str
    """As written (``1.253376e+07``)."""
    timestamp: int | None

    @property
    def label_dict(self) -> dict[str, str]:
        return dict(self.labels)

    @property
    def number(self) -> float:
        return float(self.value)


@dataclass
class Exposition:
    text: str
    families: list[str] = field(default_factory=list)
    """In the order written."""
    help: dict[str, str] = field(default_factory=dict)
    type: dict[str, str] = field(default_factory=dict)
    samples: list[Sample] = field(default_factory=list)

    def of(self, name: str) -> list[Sample]:
        return [s for s in self.samples if s.name == name]

    def by_labels(self, name: str) -> dict[tuple[str, ...], Sample]:
        """``name``'s samples keyed by their label values in order."""
        return {tuple(v for _, v in s.labels): s for s in self.of(name)}

    def value(self, name: str, **labels: str) -> float:
        found = [s for s in self.of(name) if s.label_dict == labels]
        assert len(found) == 1, f"{len(found)} samples of {name}{labels}"
        return found[0].number


_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)(?: (-?\d+))?$")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)')


def parse(text: str) -> Exposition:
    """Strict: every line is HELP, TYPE or a sample of the family last announced; nothing else."""
    out = Exposition(text)
    assert text.endswith("\n"), "the text format ends with a newline"
    current = ""
    for line in text[:-1].split("\n"):
        if line.startswith("# HELP "):
            name, _, help_text = line[7:].partition(" ")
            assert name not in out.help, f"{name}: a second HELP"
            out.families.append(name)
            out.help[name] = help_text
            current = name
            continue
        if line.startswith("# TYPE "):
            name, _, typ = line[7:].partition(" ")
            assert name == current and name not in out.type, f"TYPE {name} not right after its HELP"
            out.type[name] = typ
            continue
        m = _SAMPLE.match(line)
        assert m is not None, f"not a sample line: {line!r}"
        name, labels, value, ts = m.groups()
        assert name == current, f"{name}: a sample outside its family ({current})"
        pairs: list[tuple[str, str]] = []
        if labels:
            inner = labels[1:-1]
            pos = 0
            while pos < len(inner):
                lm = _LABEL.match(inner, pos)
                assert lm is not None, f"bad labels in {line!r}"
                pairs.append((lm.group(1), lm.group(2)))
                pos = lm.end()
        out.samples.append(Sample(name, tuple(pairs), value, int(ts) if ts is not None else None))
    return out


def retry(what: str, fn: Callable[[], Any], tries: int = 20, pause: float = 0.1) -> Any:
    """``fn()`` until it returns something true (it may raise AssertionError meanwhile)."""
    last: Any = None
    for _ in range(tries):
        try:
            last = fn()
        except AssertionError as e:
            last = e
        if last and not isinstance(last, Exception):
            return last
        time.sleep(pause)
    if isinstance(last, Exception):
        raise last
    raise AssertionError(f"{what}: not reached ({last!r})")


def api_request(sim: SimulatorProcess, method: str, path: str, body: Any, content_type: str) -> Any:
    """A write with a given content type (SimulatorProcess.request sends JSON only)."""
    req = urllib.request.Request(sim.url + path, data=json.dumps(body).encode(), method=method)
    req.add_header("Authorization", f"Bearer {sim.token}")
    req.add_header("Content-Type", content_type)
    with urllib.request.urlopen(req, timeout=30, context=sim.ssl_context()) as r:
        return json.loads(r.read())
