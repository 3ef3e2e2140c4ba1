"""Batched families (one function for several, see ``Batch``) render exactly what each member's
own function does: every pod of KSM's test table, every pod of a generated cluster, and any subset
of the families a store may serve."""

from __future__ import annotations

import random
from typing import Any

import pytest

from kubescope.sim.scenario import ScenarioConfig, generate
from kubescope.state.family import FamilyOptions
from kubescope.state.registry import all_resources
from kubescope.state.render import decode_object, render_object
from kubescope.state.store import texts_renderer
from tests.state.test_pod_ksm_cases import POD_STORE_CASES

SPEC = all_resources()["pods"]
FAMS = list(SPEC.families(FamilyOptions()))


def pods() -> list[Any]:
    objs = [decode_object(SPEC, c.obj) for c in POD_STORE_CASES]
    cluster = generate(ScenarioConfig(seed=3, nodes=40, pods_per_node=30, start=1.7e9))
    objs += [decode_object(SPEC, o) for r, o in cluster if r == "pods"]
    return objs


PODS = pods()


def test_pods_have_batches_and_the_pods_cover_their_branches() -> None:
    batched = [f for f in FAMS if f.batch is not None]
    assert {f.batch.key for f in batched if f.batch} == {
        "pod_containers",
        "pod_init_containers",
        "pod_conditions",
    }
    assert len(batched) == 38
    states = {
        k
        for p in PODS
        for cs in [*p.status.container_statuses, *p.status.init_container_statuses]
        for k in ("running", "terminated", "waiting", "last")
        if (getattr(cs.state, k, None) if k != "last" else cs.last_state.terminated) is not None
    }
    assert states == {"running", "terminated", "waiting", "last"}
    assert any(p.status.init_container_statuses for p in PODS)
    conditions = {(c.type, c.status) for p in PODS for c in p.status.conditions}
    for ctype in ("Ready", "PodScheduled"):
        assert {(ctype, s) for s in ("True", "False")} <= conditions
    assert any(c.type == "DisruptionTarget" for p in PODS for c in p.status.conditions)


def test_every_family_served_renders_as_its_own_function() -> None:
    render = texts_renderer(FAMS)
    for p in PODS:
        assert render(p, SPEC.identity(p)) == render_object(SPEC, FAMS, p)


@pytest.mark.parametrize("seed", range(6))
def test_any_subset_of_the_families_renders_as_their_own_functions(seed: int) -> None:
    rng = random.Random(seed)
    fams = [f for f in FAMS if rng.random() < 0.6]
    render = texts_renderer(fams)
    for p in PODS[:300]:
        assert render(p, SPEC.identity(p)) == render_object(SPEC, fams, p)
