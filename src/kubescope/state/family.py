"""Metric families and resources: the declarations every family module makes.

A family module (``families/<resource>.py``) declares one :class:`ResourceSpec`: the API
resource it watches, the msgspec Struct it decodes into, its identity labels and a factory that
returns its :class:`Family` list, in kube-state-metrics' emission order.

A family's text for one object comes from exactly one function, of one of two shapes:

* its own: ``fn(obj, lp) -> str`` returns every sample line of the family, where ``lp`` (the
  *line prefix*) is ``name{identity-labels`` so that a line is written as
  ``f'{lp},extra="x"}} 1\\n'`` or ``f'{lp}}} 1\\n'``;
* a :class:`Group`'s, shared with the other members: families that walk the same part of an
  object (a pod's fourteen container families walk its container statuses) are written by one
  function in one pass. The family then holds a :class:`Member` (the group and its place in it).

Either way the family is declared once; :mod:`kubescope.state.render` compiles a resource's served
families into the one renderer that the store, ``kubescope render`` and the tests all use.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from kubescope.model.meta import ObjectMeta
from kubescope.state.allowlist import KeyAllowList
from kubescope.state.text import esc, escape_help, gf, is_go_zero, labels_text, ts

MetricType = Literal["gauge", "counter", "info", "stateset"]
Stability = Literal["STABLE", "ALPHA"]
RenderFn = Callable[[Any, str], str]
GroupFn = Callable[[Any, Sequence[str]], list[str]]


@dataclass(frozen=True, slots=True, eq=False)
class Group:
    """Families whose texts one function writes together, in one pass over an object.

    ``fn(obj, lps)`` takes one line prefix per member, in ``members`` order, and returns one text
    per member, each exactly the lines of that family. A member whose prefix is ``""`` is not
    served (a deny list, a partial render): its text is dropped, so ``fn`` may skip its work.
    """

    key: str
    members: tuple[str, ...]
    """Names of the members (the part of the family name that tells them apart), in ``fn``'s order."""
    fn: GroupFn

    def member(self, name: str) -> Member:
        """The place of member ``name``, for a :class:`Family` to declare (a typo fails at import)."""
        try:
            return Member(self, self.members.index(name))
        except ValueError:
            raise ValueError(
                f"group {self.key!r} has no member {name!r}: {', '.join(self.members)}"
            ) from None


@dataclass(frozen=True, slots=True)
class Member:
    """A family's place in a :class:`Group`: its text is the group's ``index``-th."""

    group: Group
    index: int


@dataclass(frozen=True, slots=True)
class Family:
    """One metric family: its header facts and the function that writes its lines."""

    name: str
    help: str
    type: MetricType
    stability: Stability
    fn: RenderFn | Member
    """Its own render function, or its place in the group that renders it."""
    deprecated_version: str = ""
    opt_in: bool = False
    reads: frozenset[str] | None = None
    """The top-level fields of the object (``metadata``, ``spec``, ``status``, ...) the family's text
    depends on; None: any. The identity labels are not counted (they never change for an object).
    A family whose fields did not change in an update keeps its text
    (:meth:`kubescope.state.render.ObjectRenderer.only`)."""

    @property
    def full_help(self) -> str:
        h = self.help
        if self.deprecated_version:
            h = f"(Deprecated since {self.deprecated_version}) {h}"
        h = escape_help(h)
        return f"[STABLE] {h}" if self.stability == "STABLE" else h

    def header(self, openmetrics: bool = False) -> str:
        """``# HELP``/``# TYPE`` lines. info/stateset become gauge outside OpenMetrics (KSM #2270)."""
        t = self.type
        if not openmetrics and t in ("info", "stateset"):
            t = "gauge"
        return f"# HELP {self.name} {self.full_help}\n# TYPE {self.name} {t}\n"

    @property
    def line_prefix(self) -> str:
        return self.name + "{"


@dataclass(frozen=True)
class FamilyOptions:
    """What a resource's family factory may depend on: its label/annotation allowlists."""

    labels: KeyAllowList = field(default_factory=KeyAllowList)
    annotations: KeyAllowList = field(default_factory=KeyAllowList)


def _meta(obj: Any) -> ObjectMeta:
    m: ObjectMeta = obj.metadata
    return m


@dataclass(frozen=True)
class ResourceSpec:
    """A watched API resource and how its objects become metric families."""

    name: str
    """The ``--resources`` name (plural, lower case), e.g. ``pods``."""
    group: str
    version: str
    kind: str
    namespaced: bool
    struct: type
    identity: Callable[[Any], str]
    """Identity label pairs, already escaped, without braces: ``namespace="a",pod="b",uid="c"``."""
    families: Callable[[FamilyOptions], Sequence[Family]]
    default: bool = True
    plural: str = ""

    @property
    def resource(self) -> str:
        return self.plural or self.name

    @property
    def api_path(self) -> str:
        """``/api/v1`` or ``/apis/<group>/<version>``."""
        return f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"

    @property
    def go_type(self) -> str:
        """The client-go type string KSM uses as the ``resource`` label of its self metrics."""
        return f"*{self.version}.{self.kind}"

    @staticmethod
    def uid(obj: Any) -> str:
        return _meta(obj).uid

    @staticmethod
    def meta(obj: Any) -> ObjectMeta:
        return _meta(obj)


# --- families shared by many resources -------------------------------------------------------


def created_family(
    prefix: str, stability: Stability = "STABLE", help: str = "Unix creation timestamp"
) -> Family:
    """``<prefix>_created``: creationTimestamp in unix seconds, absent when unset."""

    def fn(o: Any, lp: str) -> str:
        t = o.metadata.creation_timestamp
        return "" if is_go_zero(t) else f"{lp}}} {gf(ts(t) or 0)}\n"

    return Family(
        f"{prefix}_created", help, "gauge", stability, fn, reads=frozenset({"metadata.creation_timestamp"})
    )


def deletion_timestamp_family(
    prefix: str,
    stability: Stability = "ALPHA",
    help: str = "Unix deletion timestamp",
) -> Family:
    def fn(o: Any, lp: str) -> str:
        t = o.metadata.deletion_timestamp
        return "" if is_go_zero(t) else f"{lp}}} {gf(ts(t) or 0)}\n"

    return Family(
        f"{prefix}_deletion_timestamp",
        help,
        "gauge",
        stability,
        fn,
        reads=frozenset({"metadata.deletion_timestamp"}),
    )


def labels_family(
    prefix: str,
    allow: KeyAllowList,
    stability: Stability = "STABLE",
    help: str = "Kubernetes labels converted to Prometheus labels.",
) -> Family:
    """``<prefix>_labels``: allowlisted labels as ``label_*``; no series when not allowlisted."""

    def fn(o: Any, lp: str) -> str:
        if not allow.enabled:
            return ""
        return f"{lp}{labels_text(allow.labels('label', o.metadata.labels))}}} 1\n"

    return Family(f"{prefix}_labels", help, "gauge", stability, fn, reads=frozenset({"metadata.labels"}))


def annotations_family(
    prefix: str,
    allow: KeyAllowList,
    stability: Stability = "ALPHA",
    help: str = "Kubernetes annotations converted to Prometheus labels.",
) -> Family:
    def fn(o: Any, lp: str) -> str:
        if not allow.enabled:
            return ""
        return f"{lp}{labels_text(allow.labels('annotation', o.metadata.annotations))}}} 1\n"

    return Family(
        f"{prefix}_annotations", help, "gauge", stability, fn, reads=frozenset({"metadata.annotations"})
    )


def resource_version_family(
    prefix: str,
    stability: Stability = "ALPHA",
    help: str = "Resource version representing a specific version of the object.",
) -> Family:
    """``<prefix>_metadata_resource_version``: the resourceVersion when it parses as a float."""

    def fn(o: Any, lp: str) -> str:
        rv = o.metadata.resource_version
        try:
            v = float(rv)
        except ValueError:
            return ""
        return f"{lp}}} {gf(v)}\n"

    return Family(
        f"{prefix}_metadata_resource_version",
        help,
        "gauge",
        stability,
        fn,
        reads=frozenset({"metadata.resource_version"}),
    )


def owner_family(
    prefix: str,
    stability: Stability = "STABLE",
    help: str = "Information about the owner.",
    with_controller: bool = True,
) -> Family:
    """``<prefix>_owner``: one series per ownerReference; none -> one series of empty labels."""

    def fn(o: Any, lp: str) -> str:
        owners = o.metadata.owner_references
        if not owners:
            if with_controller:
                return f'{lp},owner_kind="",owner_name="",owner_is_controller=""}} 1\n'
            return f'{lp},owner_kind="",owner_name=""}} 1\n'
        out = []
        for r in owners:
            if with_controller:
                ctl = "true" if r.controller else "false"
                out.append(
                    f'{lp},owner_kind="{esc(r.kind)}",owner_name="{esc(r.name)}",owner_is_controller="{ctl}"}} 1\n'
                )
            else:
                out.append(f'{lp},owner_kind="{esc(r.kind)}",owner_name="{esc(r.name)}"}} 1\n')
        return "".join(out)

    return Family(
        f"{prefix}_owner", help, "gauge", stability, fn, reads=frozenset({"metadata.owner_references"})
    )


def gauge_family(
    name: str,
    help: str,
    stability: Stability,
    value: Callable[[Any], float | int | bool | None],
    type: MetricType = "gauge",
) -> Family:
    """A family of one identity-only series whose value comes from ``value(obj)``; None = no series."""

    def fn(o: Any, lp: str) -> str:
        v = value(o)
        if v is None:
            return ""
        if v is True or v is False:
            return f"{lp}}} {1 if v else 0}\n"
        return f"{lp}}} {gf(v)}\n"

    return Family(name, help, type, stability, fn)


def generation_family(
    prefix: str,
    stability: Stability = "STABLE",
    help: str = "Sequence number representing a specific generation of the desired state.",
) -> Family:
    fam = gauge_family(f"{prefix}_metadata_generation", help, stability, lambda o: o.metadata.generation)
    return replace(fam, reads=frozenset({"metadata.generation"}))


def conditions_family(
    name: str,
    help: str,
    stability: Stability,
    conditions: Callable[[Any], Iterable[Any]],
) -> Family:
    """``condition=<type>,status=true|false|unknown`` triplets for every present condition."""

    def fn(o: Any, lp: str) -> str:
        out = []
        for c in conditions(o):
            s = c.status
            p = f'{lp},condition="{esc(c.type)}",status='
            out.append(
                f'{p}"true"}} {1 if s == "True" else 0}\n'
                f'{p}"false"}} {1 if s == "False" else 0}\n'
                f'{p}"unknown"}} {1 if s == "Unknown" else 0}\n'
            )
        return "".join(out)

    return Family(name, help, "gauge", stability, fn)
