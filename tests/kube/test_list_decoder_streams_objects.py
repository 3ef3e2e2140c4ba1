"""ListDecoder: a list response decoded object by object as its bytes arrive, whatever the chunking,
with nested arrays that look like item boundaries, odd items and bodies that are not lists."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest

from kubescope.errors import DecodeError
from kubescope.kube.liststream import ListDecoder
from kubescope.model.meta import ObjectMeta, Wire


class Template(Wire):
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)


class Spec(Wire):
    replicas: int = 0
    volume_claim_templates: list[Template] = msgspec.field(default_factory=list)


class Obj(Wire):
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    spec: Spec = msgspec.field(default_factory=Spec)


def item(i: int, templates: int = 0, *, replicas: Any = 1, apiversion: bool = False) -> dict[str, Any]:
    o: dict[str, Any] = {}
    if apiversion:  # a custom resource: unstructured, keys sorted
        o.update(apiVersion="example.com/v1", kind="Widget")
    o["metadata"] = {"name": f"o-{i}", "namespace": "ns", "uid": f"u-{i}", "resourceVersion": str(i)}
    o["spec"] = {
        "replicas": replicas,
        # a nested array whose objects begin as the items do: '},{"metadata":{"name":"'
        "volumeClaimTemplates": [{"metadata": {"name": f"t{j}"}} for j in range(templates)],
        "note": 'text with },{"metadata":{"name":" inside a string, escaped: ' + "x" * (i % 50),
    }
    return o


def body(items: list[Any], meta: dict[str, Any] | None = None, *, meta_last: bool = False) -> bytes:
    m = {"resourceVersion": "777", **(meta or {})}
    if meta_last:
        doc: dict[str, Any] = {"kind": "List", "apiVersion": "v1", "items": items, "metadata": m}
    else:
        doc = {"kind": "List", "apiVersion": "v1", "metadata": m, "items": items}
    return json.dumps(doc, separators=(",", ":")).encode()


def decode(data: bytes, chunk: int, window: int = 4096, **kw: Any) -> tuple[list[Obj], ListDecoder[Obj]]:
    dec: ListDecoder[Obj] = ListDecoder(Obj, window=window, **kw)
    out: list[Obj] = []
    for i in range(0, len(data), chunk):
        for run in dec.feed(data[i : i + chunk]):
            out += run
    out += dec.finish()
    return out, dec


def names(objs: list[Obj]) -> list[str]:
    return [o.metadata.name for o in objs]


@pytest.mark.parametrize("chunk", [1, 7, 100, 4096, 1 << 20])
def test_every_object_in_order_whatever_the_chunks(chunk: int) -> None:
    items = [item(i, templates=i % 3) for i in range(300)]
    data = body(items, {"continue": "tok"})
    out, dec = decode(data, chunk)
    assert names(out) == [f"o-{i}" for i in range(300)]
    assert [len(o.spec.volume_claim_templates) for o in out] == [i % 3 for i in range(300)]
    assert dec.metadata.resource_version == "777" and dec.metadata.continue_ == "tok"
    assert dec.items == 300 and dec.bytes == len(data)


def test_objects_come_before_the_body_ends() -> None:
    data = body([item(i) for i in range(2000)])
    dec: ListDecoder[Obj] = ListDecoder(Obj, window=16 << 10)
    early = []
    for i in range(0, len(data) // 2, 1000):
        for run in dec.feed(data[i : i + 1000]):
            early += run
    assert len(early) > 500  # decoded window by window, not held until the end
    assert dec.metadata.resource_version == "777"  # known from the head, before the items


def test_custom_resources_and_metadata_after_the_items() -> None:
    items = [item(i, templates=2, apiversion=True) for i in range(200)]
    out, dec = decode(body(items, meta_last=True), 333)
    assert names(out) == [f"o-{i}" for i in range(200)]
    assert dec.metadata.resource_version == "777"


def test_empty_and_null_items() -> None:
    out, dec = decode(body([]), 5)
    assert out == [] and dec.metadata.resource_version == "777"
    out, dec = decode(b'{"kind":"List","metadata":{"resourceVersion":"5"},"items":null}', 3)
    assert out == [] and dec.metadata.resource_version == "5"


def test_an_object_that_does_not_fit_the_type_is_skipped_and_reported() -> None:
    items = [item(i, replicas="many" if i in (3, 150) else 1) for i in range(300)]
    skipped: list[tuple[bytes, Exception]] = []
    out, _ = decode(body(items), 512, on_skip=lambda raw, e: skipped.append((bytes(raw), e)))
    assert names(out) == [f"o-{i}" for i in range(300) if i not in (3, 150)]
    assert [json.loads(r)["metadata"]["name"] for r, _ in skipped] == ["o-3", "o-150"]
    assert all("replicas" in str(e) for _, e in skipped)


def test_a_body_that_is_not_json_is_refused() -> None:
    data = body([item(i) for i in range(100)])
    broken = data[: len(data) // 2] + b"\x00" + data[len(data) // 2 :]  # invalid anywhere in JSON
    with pytest.raises(DecodeError, match="list"):
        decode(broken, 1000)
    with pytest.raises(DecodeError, match="not a list"):
        decode(b"<html>502 Bad Gateway</html>", 10)


def test_an_unsplittable_body_is_refused_past_the_bound() -> None:
    data = body([item(i) for i in range(100)]).replace(b"},{", b"} , {")  # not as kube-apiserver writes
    with pytest.raises(DecodeError, match="no item boundary"):
        decode(data, 1000, window=1024, max_buffer=8192)
    # under the bound it still decodes (whole, at the end)
    out, _ = decode(data, 1000, window=1024, max_buffer=1 << 20)
    assert len(out) == 100


def test_memory_stays_within_a_few_windows_whatever_the_body_size() -> None:
    """A whole-list answer (a resourceVersion=0 list from the watch cache ignores limit) of ~14 MB,
    fed as a socket delivers it, objects dropped as a consumer takes them: the decoder never holds
    more than a few windows of text and objects, nowhere near the body."""
    import tracemalloc

    data = body([item(i) for i in range(60000)])
    assert len(data) > 12 << 20
    window = 256 << 10
    dec: ListDecoder[Obj] = ListDecoder(Obj, window=window)
    count = 0
    tracemalloc.start()
    try:
        for i in range(0, len(data), 64 << 10):
            count += sum(map(len, dec.feed(data[i : i + (64 << 10)])))
        count += len(dec.finish())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 60000
    assert peak < 12 * window, f"peak {peak} bytes for a {len(data)}-byte body"


def test_a_big_read_is_decoded_a_window_at_a_time() -> None:
    """aiohttp can hand over ~2 MiB at once: the objects of such a read come in runs of at most
    about a window of text, each decoded only once the consumer has taken the one before."""
    items = [item(i) for i in range(3000)]
    data = body(items)
    window = 16 << 10
    most = window // min(len(json.dumps(o, separators=(",", ":"))) for o in items) + 1
    dec: ListDecoder[Obj] = ListDecoder(Obj, window=window)
    runs = dec.feed(data[: len(data) - 10])  # nearly the whole body in one read
    assert dec.items == 0  # nothing decoded before it is asked for
    first = next(runs)
    assert 0 < len(first) <= most and dec.items == len(first)
    sizes = [len(first), *map(len, runs)]
    sizes += map(len, dec.feed(data[len(data) - 10 :]))
    assert len(sizes) > 10 and max(sizes) <= most
    last = dec.finish()
    assert len(last) <= most
    assert sum(sizes) + len(last) == 3000


def test_an_item_bigger_than_the_window_is_still_cut() -> None:
    items = [item(0), {**item(1), "big": "x" * 20000}, *[item(i) for i in range(2, 50)]]
    out, _ = decode(body(items), 7000, window=4096)
    assert names(out) == [f"o-{i}" for i in range(50)]
