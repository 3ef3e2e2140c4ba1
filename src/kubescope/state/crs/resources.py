"""Custom resources as state-metrics resources: untyped objects (:class:`Unstructured`), one
:class:`CustomResourceSpec` per configured and discovered kind, and CRD discovery (KSM's
``extractGVKPs`` and ``ResolveGVKToGVKPs``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import msgspec

from kubescope.errors import ConfigError
from kubescope.model.meta import ObjectMeta
from kubescope.state.crs.compiled import CompiledFamily, ErrorSink, compile_families
from kubescope.state.crs.schema import CRSConfig, GroupVersionKind, ResourceConfig
from kubescope.state.crs.values import CRSError
from kubescope.state.family import Family, FamilyOptions, ResourceSpec


class Unstructured:
    """A custom resource as decoded JSON (``object``), with its metadata typed for the store."""

    __slots__ = ("metadata", "object")

    def __init__(self, obj: dict[str, Any]) -> None:
        self.object = obj
        self.metadata = _metadata(obj.get("metadata"))

    def __repr__(self) -> str:
        return f"Unstructured({self.object!r})"


def _metadata(raw: Any) -> ObjectMeta:
    if not isinstance(raw, dict):
        return ObjectMeta()
    try:
        return msgspec.convert(raw, ObjectMeta)
    except msgspec.ValidationError:
        # keep what the store needs (uid, names) even when another field is odd
        def text(key: str) -> str:
            v = raw.get(key)
            return v if isinstance(v, str) else ""

        return ObjectMeta(
            name=text("name"),
            namespace=text("namespace"),
            uid=text("uid"),
            resource_version=text("resourceVersion"),
        )


def unstructured_dec_hook(type_: type, obj: Any) -> Any:
    """A msgspec ``dec_hook`` that builds :class:`Unstructured` items, for decoders such as
    ``msgspec.json.Decoder(KubeList[Unstructured], dec_hook=unstructured_dec_hook)``."""
    if type_ is Unstructured:
        if not isinstance(obj, dict):
            raise msgspec.ValidationError(
                f"expected a JSON object for a custom resource, got {type(obj).__name__}"
            )
        return Unstructured(obj)
    raise NotImplementedError(f"no decoding for {type_!r}")


def _no_identity(o: Any) -> str:
    return ""


@dataclass(frozen=True)
class CustomResourceSpec(ResourceSpec):
    """A configured custom resource: plugs into the same store and server as built-in resources.

    ``struct`` is :class:`Unstructured` (not a msgspec Struct): decoders need ``dec_hook``.
    ``name`` is KSM's store name for it, ``"<group>/<version>, Resource=<plural>"``.
    """

    config: ResourceConfig | None = None
    compiled: tuple[CompiledFamily, ...] = ()
    dec_hook: Callable[[type, Any], Any] = unstructured_dec_hook

    @property
    def go_type(self) -> str:
        return "*unstructured.Unstructured"

    def decode(self, data: bytes | str) -> Unstructured:
        """Decode one object's JSON (raises ``msgspec.DecodeError`` when it is not an object)."""
        obj: Unstructured = msgspec.json.decode(data, type=Unstructured, dec_hook=self.dec_hook)
        return obj

    @staticmethod
    def from_object(obj: Mapping[str, Any]) -> Unstructured:
        return Unstructured(dict(obj))


def compile_resource(res: ResourceConfig, on_error: ErrorSink | None = None) -> CustomResourceSpec:
    """The :class:`CustomResourceSpec` of a concrete (resolved) resource.

    ``on_error`` receives the per-object problems KSM logs (a path that did not resolve, a value
    that is not a number); rendering itself never raises for them.
    """
    if res.gvk.wildcard:
        raise ConfigError(
            f"custom resource {res.gvk}: version and kind must be concrete to compile; resolve wildcards "
            "against discovered CRDs first (resolve())"
        )
    try:
        compiled = tuple(compile_families(res))
    except CRSError as e:
        raise ConfigError(f"failed to create metrics factory for {res.gvk}: {e}") from None
    families = [c.family(on_error) for c in compiled]

    def factory(opts: FamilyOptions) -> list[Family]:
        return families

    plural = res.plural
    return CustomResourceSpec(
        name=f"{res.gvk.group}/{res.gvk.version}, Resource={plural}",
        group=res.gvk.group,
        version=res.gvk.version,
        kind=res.gvk.kind,
        namespaced=res.namespaced,
        struct=Unstructured,
        identity=_no_identity,
        families=factory,
        default=True,
        plural=plural,
        config=res,
        compiled=compiled,
    )


# --- discovery ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DiscoveredKind:
    """One served version of a CRD."""

    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool = True


def crd_kinds(crd: Any) -> list[DiscoveredKind]:
    """The served versions of an ``apiextensions.k8s.io/v1`` CustomResourceDefinition, as a dict or
    :class:`Unstructured` (KSM's ``extractGVKPs``): a version whose ``served`` is not ``true``
    cannot be listed and is skipped; a malformed CRD yields nothing."""
    if isinstance(crd, Unstructured):
        crd = crd.object
    if not isinstance(crd, Mapping):
        return []
    spec = crd.get("spec")
    if not isinstance(spec, dict):
        return []
    group = spec.get("group")
    names = spec.get("names")
    versions = spec.get("versions")
    if not isinstance(group, str) or not isinstance(names, dict) or not isinstance(versions, list):
        return []
    kind = names.get("kind")
    plural = names.get("plural")
    if not isinstance(kind, str) or not isinstance(plural, str):
        return []
    namespaced = spec.get("scope", "Namespaced") != "Cluster"
    out = []
    for v in versions:
        if not isinstance(v, dict) or not isinstance(v.get("name"), str):
            continue
        if "served" in v and v["served"] is not True:
            continue
        out.append(DiscoveredKind(group, v["name"], kind, plural, namespaced))
    return out


def resolve(
    config: CRSConfig | Iterable[ResourceConfig], kinds: Iterable[DiscoveredKind]
) -> list[ResourceConfig]:
    """Concrete resources for the configured ones, KSM's ``ResolveGVKToGVKPs``: ``*`` (or empty)
    version/kind match every served one of the group, the plural and scope come from the CRD
    (``resourcePlural`` is ignored then, as in KSM), a resource without a CRD resolves to nothing
    (built-in kinds included), and a later entry for the same group/version/plural replaces an
    earlier one."""
    resources = config.resources if isinstance(config, CRSConfig) else tuple(config)
    by_group: dict[str, list[DiscoveredKind]] = {}
    for dk in kinds:
        found = by_group.setdefault(dk.group, [])
        if not any(x.version == dk.version and x.kind == dk.kind for x in found):
            found.append(dk)
    out: dict[tuple[str, str, str], ResourceConfig] = {}
    for res in resources:
        g, v, k = res.gvk.group, res.gvk.version, res.gvk.kind
        if not g or g == "*":
            continue
        any_v = v in ("", "*")
        any_k = k in ("", "*")
        for d in by_group.get(g, []):
            if (any_v or d.version == v) and (any_k or d.kind == k):
                r = replace(
                    res,
                    gvk=GroupVersionKind(g, d.version, d.kind),
                    resource_plural=d.plural,
                    namespaced=d.namespaced,
                )
                out.pop((g, d.version, d.plural), None)
                out[(g, d.version, d.plural)] = r
    return list(out.values())


def specs_for(
    config: CRSConfig, crds: Iterable[Any], on_error: ErrorSink | None = None
) -> list[CustomResourceSpec]:
    """Every resource spec to watch, given the cluster's CRD objects."""
    kinds = [k for crd in crds for k in crd_kinds(crd)]
    return [compile_resource(r, on_error) for r in resolve(config, kinds)]
