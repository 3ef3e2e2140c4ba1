"""What the reflector asks for: namespace, selectors, apiserver cache, object limit."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from kubescope.kube.reflector import Reflector, resource_path
from tests.kube.conftest import until
from tests.kube.fakeapi import FakeApi


async def test_namespace_and_selectors_reach_every_request(fake: FakeApi, start: Any) -> None:
    for i in range(250):
        fake.add(i, ns="ns1" if i % 2 else "ns2")
    run = start(namespace="ns1", field_selector="spec.nodeName=node-0", label_selector="app in (a0,a1)")
    await run.synced()
    await until(lambda: fake.open_watches == 1, what="watch")
    assert {o.metadata.namespace for o in run.sink.objects.values()} == {"ns1"}
    assert len(run.sink) == 125
    assert {p for p, _, _ in fake.requests} == {"/api/v1/namespaces/ns1/pods"}
    for _, q, _ in fake.requests:
        assert q["fieldSelector"] == "spec.nodeName=node-0"
        assert q["labelSelector"] == "app in (a0,a1)"


async def test_use_cache_lists_from_resource_version_zero(fake: FakeApi, start: Any) -> None:
    for i in range(150):
        fake.add(i)
    run = start(use_cache=True)
    await run.synced()
    lists = [q for _, q, _ in fake.requests if q.get("watch") != "true"]
    assert lists[0]["resourceVersion"] == "0"
    assert "resourceVersion" not in lists[1] and lists[1]["continue"]


async def test_object_limit_lists_one_page_of_that_size(fake: FakeApi, start: Any) -> None:
    for i in range(150):
        fake.add(i)
    run = start(object_limit=5)
    await run.synced()
    assert len(run.sink) == 5
    lists = [q for _, q, _ in fake.requests if q.get("watch") != "true"]
    assert lists == [{"limit": "5"}]


def test_paths() -> None:
    assert resource_path("/api/v1", "pods") == "/api/v1/pods"
    assert resource_path("/apis/apps/v1/", "deployments", "kube-system") == (
        "/apis/apps/v1/namespaces/kube-system/deployments"
    )


class NoMeta(msgspec.Struct):
    name: str = ""


def test_item_type_must_carry_a_resource_version(client: Any) -> None:
    with pytest.raises(TypeError, match="'metadata' Struct field"):
        Reflector(client, api_path="/api/v1", resource="pods", item_type=NoMeta, sink=None)  # type: ignore[arg-type]
