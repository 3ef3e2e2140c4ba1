"""NodeMetrics and PodMetrics as JSON bytes and as ``meta.k8s.io`` Tables: pure functions.

The JSON matches what metrics-server serves through apimachinery, field for field and in order::

    {"kind":"NodeMetricsList","apiVersion":"metrics.k8s.io/v1","metadata":{},"items":[
     {"metadata":{"name":"n1","creationTimestamp":"2026-01-27T18:48:43Z","labels":{"a":"b"}},
      "timestamp":"2026-01-27T18:48:33Z","window":"14.98s","usage":{"cpu":"487558164n","memory":"732212Ki"}}]}

* list items carry no ``kind``/``apiVersion``; a single object does;
* ``creationTimestamp`` is the time of the answer (metrics-server's choice), labels are the
  object's (sorted keys, omitted when empty);
* ``timestamp`` is ``metav1.Time`` (RFC 3339, whole seconds; ``null`` for a pod none of whose
  containers had a value), ``window`` a Go duration, CPU a DecimalSI quantity in nano-cores, memory
  a BinarySI quantity in bytes.

An item is assembled from three byte strings so a list of 30,000 pods is a join, not 30,000 encodes:
the object's metadata head and tail (rendered when the watch delivers the object), the response
time, and the usage part (rendered once per storage generation).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import msgspec

from kubescope.model.gofmt import go_duration
from kubescope.model.quantity import format_binary_si, format_decimal_si
from kubescope.model.timefmt import format_time
from kubescope.resource.storage import PodUsage, Usage

GROUP = "metrics.k8s.io"
VERSIONS = ("v1", "v1beta1")
"""Served versions, preferred first (kubectl picks v1 when discovery lists it)."""

_INT64_MAX = (1 << 63) - 1
_encode = msgspec.json.encode


def cpu_quantity(nanocores: int) -> str:
    """metrics-server's ``uint64Quantity(v, DecimalSI, -9)``: one digit is dropped past int64."""
    if nanocores % 1000 and 0 < nanocores <= _INT64_MAX:
        return f"{nanocores}n"  # what format_decimal_si gives when no micro unit fits: most rates
    if nanocores > _INT64_MAX:
        return format_decimal_si(nanocores // 10, -8)
    return format_decimal_si(nanocores, -9)


def memory_quantity(n: int) -> str:
    """``uint64Quantity(v, BinarySI, 0)``."""
    if 1024 <= n <= _INT64_MAX:
        if n & 1023:
            return str(n)  # format_binary_si of a count that is no multiple of 1 Ki
        if n & 1048575:
            return f"{n >> 10}Ki"  # a page-aligned working set: most values
    if n > _INT64_MAX:
        return format_binary_si(n // 10 * 10)
    return format_binary_si(n)


_time_cache: dict[int, bytes] = {}
_duration_cache: dict[int, bytes] = {}
_CACHE_LIMIT = 4096


def time_json(ts_ns: int | None) -> bytes:
    """``metav1.Time`` JSON: whole seconds (truncated), ``null`` for the zero time."""
    if ts_ns is None:
        return b"null"
    sec = ts_ns // 1_000_000_000
    out = _time_cache.get(sec)
    if out is None:
        # a node's containers share the kubelet's few sample times: remember the last few thousand
        if len(_time_cache) >= _CACHE_LIMIT:
            _time_cache.clear()
        out = _time_cache[sec] = b'"' + format_time(sec).encode() + b'"'
    return out


def duration_bytes(ns: int) -> bytes:
    """``go_duration`` as bytes, memoised: windows repeat across the pods of a node."""
    out = _duration_cache.get(ns)
    if out is None:
        if len(_duration_cache) >= _CACHE_LIMIT:
            _duration_cache.clear()
        out = _duration_cache[ns] = go_duration(ns).encode()
    return out


def metadata_parts(name: str, namespace: str, labels: Mapping[str, str]) -> tuple[bytes, bytes]:
    """``(head, tail)`` of an item's metadata; the answer's time goes between them."""
    head = b'{"metadata":{"name":' + _encode(name)
    if namespace:
        head += b',"namespace":' + _encode(namespace)
    head += b',"creationTimestamp":"'
    tail = b'"'
    if labels:
        tail += b',"labels":' + _encode(dict(sorted(labels.items())))
    return head, tail + b"},"


def node_usage_part(u: Usage) -> bytes:
    """Everything after an item's metadata, closing brace included."""
    return (
        b'"timestamp":'
        + time_json(u.ts)
        + b',"window":"'
        + duration_bytes(u.window)
        + b'","usage":{"cpu":"'
        + cpu_quantity(u.cpu).encode()
        + b'","memory":"'
        + memory_quantity(u.mem).encode()
        + b'"}}'
    )


_name_heads: dict[str, bytes] = {}


def _name_head(name: str) -> bytes:
    """``{"name":"<name>","usage":{"cpu":"``: container names repeat across pods (app, istio-proxy)."""
    head = _name_heads.get(name)
    if head is None:
        if len(_name_heads) >= _CACHE_LIMIT:
            _name_heads.clear()
        head = _name_heads[name] = b'{"name":' + _encode(name) + b',"usage":{"cpu":"'
    return head


def pod_usage_part(u: PodUsage) -> bytes:
    containers = b",".join(
        b'%s%s","memory":"%s"}}'
        % (_name_head(name), cpu_quantity(cpu).encode(), memory_quantity(mem).encode())
        for name, cpu, mem in u.containers
    )
    return (
        b'"timestamp":'
        + time_json(u.ts)
        + b',"window":"'
        + duration_bytes(u.window)
        + b'","containers":['
        + containers
        + b"]}"
    )


@dataclass(frozen=True, slots=True)
class Item:
    """One object of an answer: its metadata parts and its usage part."""

    head: bytes
    tail: bytes
    usage: bytes
    name: str
    cells: tuple[str, ...]
    """Table cells after the name: one quantity per resource name in ``resources``, then the window."""
    resources: tuple[str, ...]


def item_json(item: Item, now: bytes) -> bytes:
    return item.head + now + item.tail + item.usage


def object_json(kind: str, version: str, item: Item, now: bytes) -> bytes:
    """A single object: the item with ``kind`` and ``apiVersion`` first."""
    return (
        b'{"kind":"' + kind.encode() + b'","apiVersion":"' + f"{GROUP}/{version}".encode() + b'",'
    ) + item_json(item, now)[1:]


def node_cells(u: Usage) -> tuple[tuple[str, ...], tuple[str, ...]]:
    return ("cpu", "memory"), (cpu_quantity(u.cpu), memory_quantity(u.mem), go_duration(u.window))


def pod_cells(u: PodUsage) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """metrics-server's table: usage summed over containers (resources present in some container)."""
    if not u.containers:
        return (), (go_duration(u.window),)
    cpu = sum(c[1] for c in u.containers)
    mem = sum(c[2] for c in u.containers)
    return ("cpu", "memory"), (cpu_quantity(cpu), memory_quantity(mem), go_duration(u.window))


_NAME_COLUMN = {
    "name": "Name",
    "type": "string",
    "format": "name",
    "description": "Name of the resource",
    "priority": 0,
}


def table_json(
    table_version: str,
    items: Sequence[Item],
    now: bytes,
    *,
    include: str,
    kind: str,
    version: str,
) -> bytes:
    """A ``meta.k8s.io`` Table as metrics-server's ``ConvertToTable`` builds it.

    Columns come from the first object with any usage: Name, one quantity column per resource (sorted),
    Window. No objects: no columns and no rows (``null``, as Go encodes nil slices).
    ``include``: ``None``, ``Metadata`` (default) or ``Object`` (the ``includeObject`` parameter).
    """
    names: tuple[str, ...] = ()
    columns: list[dict[str, object]] | None = None
    rows: list[bytes] = []
    for it in items:
        if not names:
            names = it.resources
            columns = [_NAME_COLUMN]
            columns += [
                {"name": n, "type": "string", "format": "quantity", "description": "", "priority": 0}
                for n in names
            ]
            columns.append(
                {"name": "Window", "type": "string", "format": "duration", "description": "", "priority": 0}
            )
        by_name = dict(zip(it.resources, it.cells, strict=False))
        cells = [it.name] + [by_name.get(n, "0") for n in names] + [it.cells[-1]]
        if include == "None":
            obj = b"null"
        elif include == "Object":
            obj = object_json(kind, version, it, now)
        else:
            meta = it.head[len(b'{"metadata":') :] + now + it.tail[:-1]
            obj = (
                b'{"kind":"PartialObjectMetadata","apiVersion":"meta.k8s.io/'
                + table_version.encode()
                + b'","metadata":'
                + meta
                + b"}"
            )
        rows.append(b'{"cells":' + _encode(cells) + b',"object":' + obj + b"}")
    head = (
        b'{"kind":"Table","apiVersion":"meta.k8s.io/'
        + table_version.encode()
        + b'","metadata":{},"columnDefinitions":'
        + _encode(columns)
        + b',"rows":'
    )
    return head + (b"[" + b",".join(rows) + b"]" if rows else b"null") + b"}"
