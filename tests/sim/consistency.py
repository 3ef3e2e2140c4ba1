"""What the controllers' view of a churned cluster must satisfy, read through any lister (the store
in-process, or LISTs over the API): shared by the live cluster's unit and API tests.

These are the invariants a real cluster's controllers keep once they caught up: terminating pods
(``deletionTimestamp``) and finished ones no longer count for their owners; a terminating pod may
outlive its owner (background deletion) and stays in EndpointSlices as ``terminating``."""

from __future__ import annotations

import collections
from collections.abc import Callable
from typing import Any

Obj = dict[str, Any]
Lister = Callable[[str], list[Obj]]
"""Every object of a resource key (``pods``, ``replicasets.apps``...)."""

OWNER_KINDS = {
    "ReplicaSet": "replicasets.apps",
    "StatefulSet": "statefulsets.apps",
    "DaemonSet": "daemonsets.apps",
    "Job": "jobs.batch",
    "ReplicationController": "replicationcontrollers",
    "Deployment": "deployments.apps",
    "CronJob": "cronjobs.batch",
}


def is_ready(pod: Obj) -> bool:
    return any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in (pod.get("status") or {}).get("conditions") or ()
    )


def terminating(pod: Obj) -> bool:
    return bool(pod["metadata"].get("deletionTimestamp"))


def active(pod: Obj) -> bool:
    """Counted by its controller: neither terminating nor finished."""
    return not terminating(pod) and (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed")


def _key(o: Obj) -> tuple[str, str]:
    return o["metadata"].get("namespace", ""), o["metadata"]["name"]


def check_controllers(objs: Lister) -> collections.Counter[str]:
    """Assert that owner references resolve (with the owner's uid), ReplicaSets and Deployments
    count their active pods, and EndpointSlices and Endpoints list exactly the pods with an IP
    their Service selects, with their readiness. Returns how many of each thing were checked."""
    checked: collections.Counter[str] = collections.Counter()
    pods = {_key(p): p for p in objs("pods")}
    uids = {p["metadata"]["uid"]: p for p in pods.values()}
    nodes = {n["metadata"]["name"] for n in objs("nodes")}
    by_kind = {kind: {_key(o): o for o in objs(res)} for kind, res in OWNER_KINDS.items()}

    # every owner reference names a live object of its kind, with its uid
    owned: dict[tuple[str, str, str], list[Obj]] = collections.defaultdict(list)
    dependents = [("pod", pods), ("ReplicaSet", by_kind["ReplicaSet"]), ("Job", by_kind["Job"])]
    for what, table in dependents:
        for o in table.values():
            if what == "pod" and terminating(o):
                continue  # its owner may be gone already: the garbage collector deleted it
            ns = o["metadata"].get("namespace", "")
            for ref in o["metadata"].get("ownerReferences") or ():
                if ref["kind"] not in by_kind:
                    continue
                owner = by_kind[ref["kind"]].get((ns, ref["name"]))
                assert owner is not None, (
                    f"{what} {ns}/{o['metadata']['name']}: owner {ref['kind']} {ref['name']} is gone"
                )
                assert owner["metadata"]["uid"] == ref["uid"], (o["metadata"]["name"], ref)
                owned[(ref["kind"], ns, ref["name"])].append(o)
                checked["owner references"] += 1
    for p in pods.values():
        assert p["spec"].get("nodeName", "") in nodes | {""}, p["metadata"]["name"]

    # ReplicaSets and Deployments count their pods
    by_dep: dict[tuple[str, str], list[Obj]] = collections.defaultdict(list)
    for (ns, name), rs in by_kind["ReplicaSet"].items():
        mine = [p for p in owned.get(("ReplicaSet", ns, name), []) if active(p)]
        st = rs.get("status") or {}
        assert st.get("replicas", 0) == len(mine), f"ReplicaSet {ns}/{name}: {st} for {len(mine)} pods"
        assert st.get("readyReplicas", 0) == sum(map(is_ready, mine)), f"ReplicaSet {ns}/{name}"
        checked["replicasets"] += 1
        for ref in rs["metadata"].get("ownerReferences") or ():
            if ref["kind"] == "Deployment":
                by_dep[(ns, ref["name"])] += mine
    for key, d in by_kind["Deployment"].items():
        st = d.get("status") or {}
        assert st.get("replicas", 0) == len(by_dep[key]), f"Deployment {key}: {st}"
        assert st.get("readyReplicas", 0) == sum(map(is_ready, by_dep[key])), f"Deployment {key}"
        assert st.get("observedGeneration") == d["metadata"]["generation"], f"Deployment {key}"
        hashes = {p["metadata"]["labels"].get("pod-template-hash") for p in by_dep[key]}
        if len(hashes) == 1 and not d["spec"].get("paused"):
            # no rollout under way: the pods are the wanted number
            assert d["spec"]["replicas"] == len(by_dep[key]), f"Deployment {key}"
            checked["deployments at rest"] += 1
        checked["deployments"] += 1

    # EndpointSlices and Endpoints list exactly the live pods with an IP their Service selects
    services = {_key(s): s for s in objs("services")}

    def selected(ns: str, svc: Obj) -> dict[str, Obj]:
        sel = svc["spec"].get("selector") or {}
        return {
            p["metadata"]["name"]: p
            for (pns, _), p in pods.items()
            if pns == ns
            and (p.get("status") or {}).get("podIP")
            and (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")
            and all((p["metadata"].get("labels") or {}).get(k) == v for k, v in sel.items())
        }

    for sl in objs("endpointslices.discovery.k8s.io"):
        ns = sl["metadata"]["namespace"]
        svc = services[(ns, sl["metadata"]["labels"]["kubernetes.io/service-name"])]
        if not (svc["spec"].get("selector")):
            continue
        listed = {}
        for ep in sl.get("endpoints") or ():
            ref = ep["targetRef"]
            p = uids.get(ref["uid"])
            assert p is not None, f"EndpointSlice {ns}/{sl['metadata']['name']}: deleted pod {ref['name']}"
            assert ep["conditions"]["ready"] == (is_ready(p) and not terminating(p)), ref["name"]
            assert ep["conditions"]["serving"] == is_ready(p), ref["name"]
            assert ep["conditions"]["terminating"] == terminating(p), ref["name"]
            assert ep["addresses"] == [p["status"]["podIP"]], ref["name"]
            assert ep.get("nodeName") == p["spec"].get("nodeName"), ref["name"]
            listed[ref["name"]] = ep
        assert set(listed) == set(selected(ns, svc)), f"EndpointSlice {ns}/{sl['metadata']['name']}"
        checked["endpointslices"] += 1
        checked["endpoints listed"] += len(listed)
    for ep in objs("endpoints"):
        key = _key(ep)
        svc = services.get(key)
        if svc is None or not svc["spec"].get("selector"):
            continue
        ready: dict[str, bool] = {}
        for subset in ep.get("subsets") or ():
            for flag, field in ((True, "addresses"), (False, "notReadyAddresses")):
                for a in subset.get(field) or ():
                    p = uids.get(a["targetRef"]["uid"])
                    assert p is not None, f"Endpoints {key}: deleted pod {a['targetRef']['name']}"
                    assert a["ip"] == p["status"]["podIP"]
                    ready[a["targetRef"]["name"]] = flag
        want = {n: p for n, p in selected(key[0], svc).items() if not terminating(p)}
        assert ready == {n: is_ready(p) for n, p in want.items()}, f"Endpoints {key}"
        checked["endpoints"] += 1
    return checked
