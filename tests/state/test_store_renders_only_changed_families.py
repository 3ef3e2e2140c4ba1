"""An update of an object the store holds renders only the families reading fields that changed
(fingerprints of the read fields, kubescope.state.changes), and the store still serves exactly
what a whole render of the current objects gives."""

from __future__ import annotations

import copy
import random
from typing import Any

from kubescope.sim.scenario import ScenarioConfig, generate
from kubescope.state.blocks import Rendered
from kubescope.state.changes import ChangeDetector, buckets_of
from kubescope.state.family import FamilyOptions
from kubescope.state.registry import all_resources
from kubescope.state.render import ObjectRenderer, decode_object, render_text
from kubescope.state.store import ResourceStore
from tests.state.ksm import normalize

SPEC = all_resources()["pods"]
FAMS = list(SPEC.families(FamilyOptions()))
PODS = [o for r, o in generate(ScenarioConfig(seed=5, nodes=6, pods_per_node=10, start=1.7e9)) if r == "pods"]


def expected(live: dict[int, dict[str, Any]]) -> list[str]:
    text = render_text([(SPEC, FAMS, [decode_object(SPEC, o) for o in live.values()])])
    return [line for line in normalize(text) if not line.startswith("#")]


def mutate(rng: random.Random, pod: dict[str, Any], step: int) -> dict[str, Any]:
    """A new version of ``pod``: its resourceVersion always, and one or two fields a real update
    changes (or none, as a resync or a managedFields-only write)."""
    p = copy.deepcopy(pod)
    p["metadata"]["resourceVersion"] = str(step)
    st = p.setdefault("status", {})
    for _ in range(rng.randrange(3)):
        what = rng.randrange(8)
        statuses = st.get("containerStatuses") or []
        if what == 0 and statuses:
            c = rng.choice(statuses)
            c["ready"] = not c.get("ready", False)
            c["restartCount"] = c.get("restartCount", 0) + 1
        elif what == 1 and statuses:
            c = rng.choice(statuses)
            c["state"] = rng.choice(
                [
                    {"waiting": {"reason": "CrashLoopBackOff"}},
                    {"running": {"startedAt": f"2024-05-01T10:{step % 60:02d}:00Z"}},
                    {
                        "terminated": {
                            "reason": "OOMKilled",
                            "exitCode": 137,
                            "finishedAt": "2024-05-01T11:00:00Z",
                        }
                    },
                ]
            )
        elif what == 2:
            for cond in st.get("conditions") or []:
                if cond.get("type") == "Ready":
                    cond["status"] = rng.choice(["True", "False", "Unknown"])
                    cond["lastTransitionTime"] = f"2024-05-01T12:{step % 60:02d}:00Z"
        elif what == 3:
            p["metadata"].setdefault("labels", {})["rev"] = str(rng.randrange(3))
        elif what == 4:
            st["phase"] = rng.choice(["Running", "Failed", "Succeeded", "Pending"])
            st["reason"] = rng.choice(["", "Evicted", "Weird"])
        elif what == 5:
            p["spec"]["nodeName"] = rng.choice(["", "node-x", p["spec"].get("nodeName", "")])
        elif what == 6:
            p["metadata"]["managedFields"] = [{"manager": f"m{step}"}]  # read by no family
        else:
            p["metadata"].setdefault("annotations", {})["a"] = str(step)
    return p


def test_pod_buckets_give_the_busy_status_fields_their_own() -> None:
    buckets = buckets_of(FAMS)
    assert ("status.container_statuses",) in buckets
    assert ("status.conditions",) in buckets
    flat = [p for b in buckets for p in b]
    assert len(flat) == len(set(flat)) == len({p for f in FAMS for p in f.reads or ()})


def test_random_updates_pages_and_deletes_match_a_whole_render() -> None:
    rng = random.Random(3)
    s = ResourceStore(SPEC, FAMS, block_size=8)
    assert s._changes is not None
    live: dict[int, dict[str, Any]] = {}
    for step in range(1, 1500):
        r = rng.random()
        if r < 0.04:  # a relist of what is there (known objects, some changed) in pages
            s.replace_begin()
            items = list(live.items())
            for k in range(0, len(items), 5):
                page = []
                for i, pod in items[k : k + 5]:
                    if rng.random() < 0.3:
                        live[i] = pod = mutate(rng, pod, step)
                    page.append(decode_object(SPEC, pod))
                s.upsert_page(page)
            s.replace_end()
        elif r < 0.12 and live:
            i = rng.choice(sorted(live))
            s.delete(decode_object(SPEC, live.pop(i)))
        else:
            i = rng.randrange(len(PODS))
            live[i] = mutate(rng, live.get(i, PODS[i]), step)
            s.upsert(decode_object(SPEC, live[i]))
        if rng.random() < 0.1:
            s.flush_sync()
    assert len(s) == len(live)
    assert normalize(s.text()) == expected(live)


def _held(pod: dict[str, Any]) -> ResourceStore:
    """A store holding ``pod``, flushed, whose fingerprints of it are known (one update seen)."""
    s = ResourceStore(SPEC, FAMS)
    s.upsert(decode_object(SPEC, pod))
    s.upsert(decode_object(SPEC, pod))
    s.flush_sync()
    return s


def _pending(s: ResourceStore) -> Rendered | None:
    (block,) = s.blocks
    return block.pending.get(0)


def test_an_update_of_fields_no_family_reads_renders_nothing() -> None:
    pod = PODS[0]
    s = _held(pod)
    p = copy.deepcopy(pod)
    p["metadata"]["resourceVersion"] = "999"
    p["metadata"]["managedFields"] = [{"manager": "kubectl"}]
    s.upsert(decode_object(SPEC, p))
    assert _pending(s) is None and not s.dirty


def test_a_container_status_update_renders_only_the_families_reading_it() -> None:
    pod = next(p for p in PODS if p["status"].get("containerStatuses"))
    s = _held(pod)
    p = copy.deepcopy(pod)
    p["status"]["containerStatuses"][0]["restartCount"] = 41
    s.upsert(decode_object(SPEC, p))
    r = _pending(s)
    assert r is not None and r.fams is not None
    names = {FAMS[i].name for i in r.fams}
    assert "kube_pod_container_status_restarts_total" in names
    assert "kube_pod_labels" not in names and "kube_pod_status_ready" not in names
    assert normalize(s.text()) == expected({0: p})


def test_two_partial_updates_before_a_flush_keep_both() -> None:
    pod = next(p for p in PODS if p["status"].get("containerStatuses"))
    s = _held(pod)
    p = copy.deepcopy(pod)
    p["status"]["containerStatuses"][0]["restartCount"] = 41
    s.upsert(decode_object(SPEC, p))
    p = copy.deepcopy(p)
    p["metadata"].setdefault("labels", {})["tier"] = "gold"
    s.upsert(decode_object(SPEC, p))
    assert normalize(s.text()) == expected({0: p})


class _Blind(ChangeDetector):
    """A detector that cannot fingerprint the objects listed in ``blind``."""

    blind: set[str] = set()  # noqa: RUF012

    def prints(self, obj: Any) -> Any:
        return None if obj.metadata.resource_version in self.blind else super().prints(obj)


def test_an_object_that_cannot_be_fingerprinted_is_rendered_whole_and_forgotten() -> None:
    pod = next(p for p in PODS if p["status"].get("containerStatuses"))
    s = _held(pod)
    renderer = ObjectRenderer(FAMS)
    s._changes = _Blind(renderer, buckets_of(FAMS))
    _Blind.blind = {"2"}
    b = copy.deepcopy(pod)
    b["metadata"]["resourceVersion"] = "2"
    b["status"]["containerStatuses"][0]["restartCount"] = 41
    s.upsert(decode_object(SPEC, b))
    r = _pending(s)
    assert r is not None and r.fams is None  # whole
    s.flush_sync()
    # back to the first version's fields: fingerprints compared with the held ones would say
    # "nothing changed" and keep the second version's text
    a = copy.deepcopy(pod)
    a["metadata"]["resourceVersion"] = "3"
    s.upsert(decode_object(SPEC, a))
    assert normalize(s.text()) == expected({0: a})


def test_a_slot_reused_by_a_new_object_starts_without_fingerprints() -> None:
    x = copy.deepcopy(next(p for p in PODS if p["status"].get("containerStatuses")))
    x["status"]["containerStatuses"][0]["restartCount"] = 5
    s = _held(x)  # x's fingerprints known
    s.delete(decode_object(SPEC, x))
    y = copy.deepcopy(x)
    y["metadata"].update(name="other", uid="0b0c0d0e-0000-4000-8000-000000000001")
    y["status"]["containerStatuses"][0]["restartCount"] = 0
    s.upsert(decode_object(SPEC, y))  # x's slot again
    assert [loc for _, loc in s.index.items()] == [0]
    s.flush_sync()
    # y's container statuses become what x's were: not "unchanged"
    y["status"]["containerStatuses"][0]["restartCount"] = 5
    s.upsert(decode_object(SPEC, y))
    assert normalize(s.text()) == expected({0: y})


def test_a_family_rendered_again_with_the_same_text_keeps_its_member() -> None:
    pod = next(p for p in PODS if p["status"].get("containerStatuses"))
    s = _held(pod)
    (block,) = s.blocks
    before = list(block.members)
    p = copy.deepcopy(pod)
    p["status"]["containerStatuses"][0]["restartCount"] = 41  # its other families keep their text
    s.upsert(decode_object(SPEC, p))
    r = _pending(s)
    assert r is not None and r.fams is not None and len(r.fams) > 2
    s.flush_sync()
    rewritten = {FAMS[f].name for f in range(s.nfam) if block.members[f] is not before[f]}
    assert rewritten == {"kube_pod_container_status_restarts_total"}
    assert normalize(s.text()) == expected({0: p})
