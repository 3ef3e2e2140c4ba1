"""The list pages' questions, answered from memory (the watches' tables and the usage ring): filter,
sort, paginate, then build the rows of one page with their sparklines. No I/O.

Query parameters (each list takes those that apply; anything else is a 400 naming what is accepted):
``ns`` (namespace), ``label`` (a label selector: ``app=web,tier!=db``), ``node``, ``kind`` (workloads:
Deployment, ...), ``q`` (text in the name), ``status`` (text in the status column), ``sort`` (a column,
``-`` first for descending), ``page`` (from 1) and ``per`` (rows per page, 10-500).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kubescope.apiserver.selectors import EVERYTHING, LabelSelector, SelectorError, parse_label_selector
from kubescope.console import sparkline, units, wire
from kubescope.console.charts import BadInput
from kubescope.console.cluster import KIND_PATHS, Cluster, WorkloadKey
from kubescope.console.records import PodRecord, WorkloadRecord
from kubescope.console.usage import Ring, Usage, pod_key

PER_PAGE = 50
MAX_PER_PAGE = 500


@dataclass(frozen=True)
class ListQuery:
    ns: str = ""
    label: LabelSelector = EVERYTHING
    label_text: str = ""
    node: str = ""
    kind: str = ""
    q: str = ""
    status: str = ""
    sort: str = ""
    desc: bool = False
    page: int = 1
    per: int = PER_PAGE

    def url(self, base: str, **change: Any) -> str:
        """This query's URL with some parameters changed (links for sorting and paging)."""
        from urllib.parse import urlencode

        current = {"ns": self.ns, "label": self.label_text, "node": self.node, "kind": self.kind, "q": self.q,
                   "status": self.status, "sort": ("-" if self.desc else "") + self.sort if self.sort else "",
                   "page": str(self.page) if self.page != 1 else "", "per": str(self.per) if self.per != PER_PAGE else ""}  # fmt: skip
        current.update({k: str(v) for k, v in change.items()})
        params = {k: v for k, v in current.items() if v}
        return base + ("?" + urlencode(params) if params else "")

    def sort_url(self, base: str, column: str) -> str:
        desc = not self.desc if self.sort == column else column in NUMERIC
        return self.url(base, sort=("-" if desc else "") + column, page="")


NUMERIC = {"cpu", "memory", "restarts", "age", "pods", "replicas"}


def _int(query: Mapping[str, str], key: str, default: int, lo: int, hi: int) -> int:
    text = query.get(key, "")
    if not text:
        return default
    try:
        v = int(text)
    except ValueError:
        raise BadInput(f"{key}={text!r} is not a whole number") from None
    if not lo <= v <= hi:
        raise BadInput(f"{key}={v} is out of range: use {lo} to {hi}")
    return v


def parse_query(query: Mapping[str, str], *, allowed: Sequence[str], sorts: Sequence[str]) -> ListQuery:
    known = {*allowed, "sort", "page", "per"}
    for k in query:
        if k not in known:
            raise BadInput(f"unknown parameter {k!r}: this list takes {', '.join(sorted(known))}")
    text = query.get("label", "").strip()
    try:
        label = parse_label_selector(text) if text else EVERYTHING
    except SelectorError as e:
        raise BadInput(f"label={text!r} is not a label selector ({e}); write e.g. app=web,tier!=db") from None
    sort = query.get("sort", "").strip()
    desc = sort.startswith("-")
    sort = sort.lstrip("-")
    if sort and sort not in sorts:
        raise BadInput(f"sort={sort!r}: sort by one of {', '.join(sorts)} (a leading - for descending)")
    kind = query.get("kind", "")
    if kind and kind not in KIND_PATHS:
        raise BadInput(f"kind={kind!r}: use one of {', '.join(KIND_PATHS)}")
    return ListQuery(
        ns=query.get("ns", "").strip(), label=label, label_text=text, node=query.get("node", "").strip(),
        kind=kind, q=query.get("q", "").strip().lower(), status=query.get("status", "").strip().lower(),
        sort=sort, desc=desc, page=_int(query, "page", 1, 1, 1_000_000),
        per=_int(query, "per", PER_PAGE, 10, MAX_PER_PAGE),
    )  # fmt: skip


@dataclass
class Page:
    rows: list[dict[str, Any]]
    total: int
    query: ListQuery

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.query.per))


def _page(
    items: list[Any],
    q: ListQuery,
    key: Callable[[Any], Any] | None,
    default: Callable[[Any], Any],
    ordered: bool = False,
) -> tuple[list[Any], int]:
    """Sort (None values last whatever the direction) and cut one page. ``ordered``: the items come
    in the default order already (ties keep it)."""
    start = (q.page - 1) * q.per
    if key is None:
        ordered_items = items if ordered else sorted(items, key=default)
        if q.desc:
            ordered_items = ordered_items[::-1]
        return ordered_items[start : start + q.per], len(ordered_items)
    keyed = [(key(i), i) for i in items]
    present = [(v, i) for v, i in keyed if v is not None]
    missing = [i for v, i in keyed if v is None]
    del keyed
    present.sort(key=lambda vi: vi[0], reverse=q.desc)
    if not ordered:
        missing.sort(key=default)
    ordered_items = [i for _, i in present] + missing
    return ordered_items[start : start + q.per], len(ordered_items)


def _spark(ring: Ring, keys: Sequence[str], what: str, fmt: Callable[[float | None], str]) -> Any:
    times, values = ring.series(keys, what)
    idx = ring.order()
    if idx.size == 0:
        return sparkline.svg(times, values, 0, 0, fmt, what)
    end = float(ring.times[ring.head])
    return sparkline.svg(times, values, end - 900, end, fmt, what)


def _matches_text(q: ListQuery, name: str, status: str = "") -> bool:
    return (not q.q or q.q in name.lower()) and (not q.status or q.status in status.lower())


# -- pods --------------------------------------------------------------------------------------------


POD_SORTS = ("name", "namespace", "node", "status", "restarts", "age", "cpu", "memory")


def pods(cluster: Cluster, usage: Usage, q: ListQuery, now: float) -> Page:
    ring = usage.pods

    def cur(p: PodRecord) -> tuple[float | None, float | None]:
        return ring.current(pod_key(p.namespace, p.name))

    everything = cluster.pods_in_order()
    chosen = everything if not (q.ns or q.node or q.q or q.status or not q.label.empty) else [
        p for p in everything
        if (not q.ns or p.namespace == q.ns) and (not q.node or p.node == q.node)
        and _matches_text(q, p.name, p.status) and (q.label.empty or q.label.matches(p.labels))
    ]  # fmt: skip
    keys: dict[str, Callable[[PodRecord], Any]] = {
        "name": lambda p: p.name, "namespace": lambda p: (p.namespace, p.name), "node": lambda p: p.node,
        "status": lambda p: p.status, "restarts": lambda p: p.restarts, "age": lambda p: -p.created,
        "cpu": lambda p: cur(p)[0], "memory": lambda p: cur(p)[1],
    }  # fmt: skip
    items, total = _page(chosen, q, keys.get(q.sort), lambda p: (p.namespace, p.name), ordered=True)
    rows = []
    for p in items:
        key = pod_key(p.namespace, p.name)
        c, m = ring.current(key)
        owner = cluster.owner_of(p)
        rows.append({
            "name": p.name, "namespace": p.namespace, "node": p.node, "status": p.status,
            "ready": f"{p.ready[0]}/{p.ready[1]}", "restarts": p.restarts, "age": units.age(now - p.created),
            "cpu": units.cpu(c), "memory": units.memory(m), "cpu_value": c, "memory_value": m,
            "cpu_request": units.cpu(p.cpu_req), "memory_request": units.memory(p.mem_req),
            "cpu_spark": _spark(ring, [key], "cpu", units.cpu), "memory_spark": _spark(ring, [key], "memory", units.memory),
            "owner": owner,
        })  # fmt: skip
    return Page(rows, total, q)


# -- nodes -------------------------------------------------------------------------------------------


NODE_SORTS = ("name", "status", "cpu", "memory", "pods", "age")


def node_status(n: wire.Node) -> str:
    ready = wire.condition(n.status.conditions, "Ready")
    s = "Ready" if ready is not None and ready.status == "True" else "NotReady"
    return s + (",SchedulingDisabled" if n.spec.unschedulable else "")


def node_roles(n: wire.Node) -> str:
    prefix = "node-role.kubernetes.io/"
    roles = sorted(k[len(prefix) :] for k in n.metadata.labels if k.startswith(prefix))
    return ",".join(roles) or "<none>"


def pods_per_node(cluster: Cluster) -> dict[str, int]:
    out: dict[str, int] = {}
    for p in cluster.pods.values():
        if p.node and p.phase in ("Running", "Pending"):
            out[p.node] = out.get(p.node, 0) + 1
    return out


def nodes(cluster: Cluster, usage: Usage, q: ListQuery, now: float) -> Page:
    ring = usage.nodes
    counts = pods_per_node(cluster)
    chosen = [
        n for n in cluster.nodes.values()
        if _matches_text(q, n.metadata.name, node_status(n)) and (q.label.empty or q.label.matches(n.metadata.labels))
    ]  # fmt: skip
    keys: dict[str, Callable[[wire.Node], Any]] = {
        "name": lambda n: n.metadata.name, "status": node_status, "pods": lambda n: counts.get(n.metadata.name, 0),
        "age": lambda n: -(n.metadata.creation_timestamp.timestamp() if n.metadata.creation_timestamp else 0),
        "cpu": lambda n: ring.current(n.metadata.name)[0], "memory": lambda n: ring.current(n.metadata.name)[1],
    }  # fmt: skip
    items, total = _page(chosen, q, keys.get(q.sort), lambda n: n.metadata.name)
    rows = []
    for n in items:
        name = n.metadata.name
        c, m = ring.current(name)
        acpu = units.millicores_of(n.status.allocatable.get("cpu", ""))
        amem = units.bytes_of(n.status.allocatable.get("memory", ""))
        created = n.metadata.creation_timestamp
        rows.append({
            "name": name, "status": node_status(n), "roles": node_roles(n), "version": n.status.node_info.kubelet_version,
            "age": units.age(now - created.timestamp()) if created else "-", "pods": counts.get(name, 0),
            "cpu": units.cpu(c), "memory": units.memory(m), "cpu_value": c, "memory_value": m,
            "cpu_allocatable": units.cpu(acpu), "memory_allocatable": units.memory(amem),
            "cpu_percent": units.percent(c, acpu), "memory_percent": units.percent(m, amem),
            "cpu_spark": _spark(ring, [name], "cpu", units.cpu), "memory_spark": _spark(ring, [name], "memory", units.memory),
        })  # fmt: skip
    return Page(rows, total, q)


# -- namespaces and workloads --------------------------------------------------------------------------


NAMESPACE_SORTS = ("name", "pods", "cpu", "memory", "age")
WORKLOAD_SORTS = ("name", "namespace", "kind", "pods", "cpu", "memory", "age")


def _sum_current(ring: Ring, keys: Iterable[str]) -> tuple[float | None, float | None]:
    c_total = m_total = 0.0
    seen = False
    for k in keys:
        c, m = ring.current(k)
        if c is not None and m is not None:
            c_total += c
            m_total += m
            seen = True
    return (c_total, m_total) if seen else (None, None)


def namespace_usage(
    cluster: Cluster, usage: Usage
) -> dict[str, tuple[list[str], float | None, float | None]]:
    keys: dict[str, list[str]] = {}
    for p in cluster.pods.values():
        keys.setdefault(p.namespace, []).append(pod_key(p.namespace, p.name))
    return {ns: (ks, *_sum_current(usage.pods, ks)) for ns, ks in keys.items()}


def namespaces(cluster: Cluster, usage: Usage, q: ListQuery, now: float) -> Page:
    sums = namespace_usage(cluster, usage)
    chosen = [
        n for n in cluster.namespaces.values()
        if _matches_text(q, n.metadata.name, n.status.phase) and (q.label.empty or q.label.matches(n.metadata.labels))
    ]  # fmt: skip

    def get(n: wire.Namespace) -> tuple[list[str], float | None, float | None]:
        return sums.get(n.metadata.name, ([], None, None))

    keys: dict[str, Callable[[wire.Namespace], Any]] = {
        "name": lambda n: n.metadata.name, "pods": lambda n: len(get(n)[0]), "cpu": lambda n: get(n)[1],
        "memory": lambda n: get(n)[2],
        "age": lambda n: -(n.metadata.creation_timestamp.timestamp() if n.metadata.creation_timestamp else 0),
    }  # fmt: skip
    items, total = _page(chosen, q, keys.get(q.sort), lambda n: n.metadata.name)
    rows = []
    for n in items:
        ks, c, m = get(n)
        created = n.metadata.creation_timestamp
        rows.append({
            "name": n.metadata.name, "status": n.status.phase or "Active", "pods": len(ks),
            "age": units.age(now - created.timestamp()) if created else "-",
            "cpu": units.cpu(c), "memory": units.memory(m), "cpu_value": c, "memory_value": m,
            "cpu_spark": _spark(usage.pods, ks, "cpu", units.cpu), "memory_spark": _spark(usage.pods, ks, "memory", units.memory),
        })  # fmt: skip
    return Page(rows, total, q)


def workloads(cluster: Cluster, usage: Usage, q: ListQuery, now: float) -> Page:
    groups = cluster.pods_by_workload()
    chosen: list[tuple[WorkloadKey, WorkloadRecord]] = []
    for kind, table in cluster.workloads.items():
        if kind == "ReplicaSet" or (q.kind and KIND_PATHS[kind] != q.kind and kind != q.kind):
            continue  # ReplicaSets are shown through their Deployments (and on their own page)
        for w in table.values():
            if (
                (not q.ns or w.namespace == q.ns)
                and _matches_text(q, w.name)
                and (q.label.empty or q.label.matches(w.labels))
            ):
                chosen.append((WorkloadKey(kind, w.namespace, w.name), w))
    sums: dict[WorkloadKey, tuple[list[str], float | None, float | None]] = {}
    for key, _ in chosen:
        ks = [pod_key(p.namespace, p.name) for p in groups.get(key, ())]
        sums[key] = (ks, *_sum_current(usage.pods, ks))
    keys: dict[str, Callable[[tuple[WorkloadKey, WorkloadRecord]], Any]] = {
        "name": lambda kw: kw[0].name, "namespace": lambda kw: (kw[0].namespace, kw[0].name), "kind": lambda kw: kw[0].kind,
        "pods": lambda kw: len(sums[kw[0]][0]), "cpu": lambda kw: sums[kw[0]][1], "memory": lambda kw: sums[kw[0]][2],
        "age": lambda kw: -(kw[1].created or 0),
    }  # fmt: skip
    items, total = _page(chosen, q, keys.get(q.sort), lambda kw: (kw[0].namespace, kw[0].kind, kw[0].name))
    rows = []
    for key, w in items:
        ks, c, mem = sums[key]
        rows.append({
            "key": key, "kind": key.kind, "namespace": key.namespace, "name": key.name,
            "ready": w.ready, "pods": len(ks), "age": units.age(now - w.created) if w.created is not None else "-",
            "cpu": units.cpu(c), "memory": units.memory(mem), "cpu_value": c, "memory_value": mem,
            "cpu_spark": _spark(usage.pods, ks, "cpu", units.cpu), "memory_spark": _spark(usage.pods, ks, "memory", units.memory),
        })  # fmt: skip
    return Page(rows, total, q)
