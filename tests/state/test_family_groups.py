"""One render path for every family: grouped families (one function for several, see ``Group``)
render in any subset exactly what the whole resource renders; no state carries over from one
object to the next; and every family's declared ``reads`` hold, so a partial render after an
update (``ObjectRenderer.only``) gives what a full one would."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

import msgspec
import pytest

from kubescope.sim.scenario import ScenarioConfig, generate
from kubescope.state.family import Family, FamilyOptions, Member, ResourceSpec
from kubescope.state.registry import all_resources
from kubescope.state.render import ObjectRenderer, decode_object
from tests.state.test_pod_ksm_cases import POD_STORE_CASES

SPEC = all_resources()["pods"]
FAMS = list(SPEC.families(FamilyOptions()))
CLUSTER = list(generate(ScenarioConfig(seed=3, nodes=40, pods_per_node=30, start=1.7e9)))


def pods() -> list[Any]:
    objs = [decode_object(SPEC, c.obj) for c in POD_STORE_CASES]
    objs += [decode_object(SPEC, o) for r, o in CLUSTER if r == "pods"]
    return objs


PODS = pods()


def texts(fams: Sequence[Family], obj: Any, spec: ResourceSpec = SPEC) -> list[str]:
    return ObjectRenderer(fams).texts(obj, spec.identity(obj))


def test_pods_have_groups_and_the_pods_cover_their_branches() -> None:
    grouped = [f for f in FAMS if isinstance(f.fn, Member)]
    assert {f.fn.group.key for f in grouped if isinstance(f.fn, Member)} == {
        "pod_containers",
        "pod_init_containers",
        "pod_conditions",
    }
    assert len(grouped) == 38
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


@pytest.mark.parametrize("resource", sorted(all_resources()))
def test_every_group_member_is_declared_once_and_its_function_fills_every_member(resource: str) -> None:
    spec = all_resources()[resource]
    members = [f.fn for f in spec.families(FamilyOptions()) if isinstance(f.fn, Member)]
    assert len(set(members)) == len(members)
    for g in {m.group for m in members}:
        assert {m.index for m in members if m.group is g} == set(range(len(g.members))), g.key
        out = g.fn(spec.struct(), [f"m{i}{{" for i in range(len(g.members))])
        assert len(out) == len(g.members), g.key


def test_each_family_alone_renders_what_the_whole_resource_does() -> None:
    for p in PODS[:400]:
        whole = texts(FAMS, p)
        assert [texts([f], p)[0] for f in FAMS] == whole


@pytest.mark.parametrize("seed", range(6))
def test_any_subset_in_any_order_renders_what_the_whole_resource_does(seed: int) -> None:
    rng = random.Random(seed)
    picked = [i for i in range(len(FAMS)) if rng.random() < 0.6]
    if seed % 2:
        rng.shuffle(picked)  # a group's members apart and out of member order
    fams = [FAMS[i] for i in picked]
    for p in PODS[:300]:
        whole = texts(FAMS, p)
        assert texts(fams, p) == [whole[i] for i in picked]


def test_rendering_family_by_family_across_objects_equals_object_by_object() -> None:
    """No family or group keeps anything from the object it rendered before."""
    renderers = [ObjectRenderer([f]).texts for f in FAMS]
    sample = PODS[:50]
    by_object = [texts(FAMS, p) for p in sample]
    interleaved: list[list[str]] = [[] for _ in sample]
    for r in renderers:
        for i, p in enumerate(sample):
            interleaved[i] += r(p, SPEC.identity(p))
    assert interleaved == by_object


def _field_paths(struct: type) -> list[tuple[str, ...]]:
    """Every top-level field of a Struct and, for Struct-valued ones, every field of those."""
    out: list[tuple[str, ...]] = []
    for f in msgspec.structs.fields(struct):
        out.append((f.name,))
        inner = f.type
        if isinstance(inner, type) and issubclass(inner, msgspec.Struct):
            out += [(f.name, g.name) for g in msgspec.structs.fields(inner)]
    return out


def _with(obj: Any, path: tuple[str, ...], donor: Any) -> Any:
    """``obj`` with the field at ``path`` taken from ``donor``."""
    if len(path) == 1:
        return msgspec.structs.replace(obj, **{path[0]: getattr(donor, path[0])})
    head = path[0]
    return msgspec.structs.replace(obj, **{head: _with(getattr(obj, head), path[1:], getattr(donor, head))})


def _check_reads(spec: ResourceSpec, objs: Sequence[Any], pairs: int, seed: int) -> int:
    """Swap each field between pairs of objects: families not reading it keep their text, and
    ``only()`` picks every family whose text changed. Returns how many texts changed."""
    fams = list(spec.families(FamilyOptions()))
    renderer = ObjectRenderer(fams)
    rng = random.Random(seed)
    changed_texts = 0
    for _ in range(pairs):
        a, b = rng.choice(objs), rng.choice(objs)
        ident = spec.identity(a)
        before = renderer.texts(a, ident)
        for path in _field_paths(spec.struct):
            after = renderer.texts(_with(a, path, b), ident)
            positions, partial = renderer.only([".".join(path)])
            for i, fam in enumerate(fams):
                if after[i] != before[i]:
                    changed_texts += 1
                    assert i in positions, f"{fam.name} changed with {'.'.join(path)}, reads {fam.reads}"
            assert partial(_with(a, path, b), ident) == [after[i] for i in positions]
    return changed_texts


def test_pod_families_read_only_what_they_declare() -> None:
    assert all(f.reads is not None for f in FAMS)
    assert _check_reads(SPEC, PODS, 300, 1) > 1000


@pytest.mark.parametrize("resource", sorted({r.partition(".")[0] for r, _ in CLUSTER} & set(all_resources())))
def test_families_read_only_what_they_declare(resource: str) -> None:
    spec = all_resources()[resource]
    objs = [decode_object(spec, o) for r, o in CLUSTER if r.partition(".")[0] == resource]
    _check_reads(spec, objs, 20, 2)


def test_only_picks_the_families_of_the_changed_fields() -> None:
    renderer = ObjectRenderer(FAMS)
    positions, _ = renderer.only(["status.conditions"])
    names = {FAMS[i].name for i in positions}
    assert "kube_pod_status_ready" in names
    assert "kube_pod_status_reason" in names
    assert "kube_pod_container_status_ready" not in names
    assert "kube_pod_labels" not in names
    positions, _ = renderer.only(["metadata.resource_version"])
    assert positions == ()
    positions, _ = renderer.only(["status"])
    assert {FAMS[i].name for i in positions} >= {"kube_pod_status_phase", "kube_pod_container_status_ready"}
    assert renderer.only(["status"]) is renderer.only({"status"})  # compiled once


def test_render_text_leaves_out_an_object_that_does_not_render_when_asked_to() -> None:
    from kubescope.state.render import render_text

    def fragile(o: Any, lp: str) -> str:
        if o.metadata.name == "bad":
            raise ValueError("boom")
        return f"{lp}}} 1\n"

    fam = Family("kube_pod_fragile", "h", "gauge", "ALPHA", fragile)
    good, bad = (decode_object(SPEC, {"metadata": {"name": n, "uid": n}}) for n in ("good", "bad"))
    with pytest.raises(ValueError, match="boom"):
        render_text([(SPEC, [fam], [good, bad])])
    errors: list[tuple[Any, Exception]] = []
    text = render_text([(SPEC, [fam], [good, bad])], on_error=lambda o, e: errors.append((o, e)))
    assert text.endswith('kube_pod_fragile{namespace="",pod="good",uid="good"} 1\n')
    assert [o.metadata.name for o, _ in errors] == ["bad"]
    assert render_text([(SPEC, [fam], [bad])], on_error=lambda o, e: None) == ""
