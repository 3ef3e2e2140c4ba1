"""MutatingAdmissionPolicy families (``kube_mutatingadmissionpolicy_*``); identity labels
``namespace,mutatingadmissionpolicy`` (``namespace`` is ``""``: the object is cluster-scoped).

KSM watches ``admissionregistration.k8s.io/v1`` (client-go 0.36), not the older v1alpha1/v1beta1.

Sample::

    kube_mutatingadmissionpolicy_info{namespace="",mutatingadmissionpolicy="sidecar",param_api_version="",param_kind="",failure_policy="Fail",reinvocation_policy="IfNeeded"} 1
"""

from __future__ import annotations

import msgspec

from kubescope.model.meta import ObjectMeta, Wire
from kubescope.state.family import Family, FamilyOptions, ResourceSpec, created_family
from kubescope.state.text import esc


class ParamKind(Wire):
    api_version: str = ""
    kind: str = ""


class MutatingPolicySpec(Wire):
    param_kind: ParamKind | None = None
    failure_policy: str | None = None
    reinvocation_policy: str = ""


class MutatingAdmissionPolicy(Wire):
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    spec: MutatingPolicySpec = msgspec.field(default_factory=MutatingPolicySpec)


def _identity(o: MutatingAdmissionPolicy) -> str:
    m = o.metadata
    return f'namespace="{esc(m.namespace)}",mutatingadmissionpolicy="{esc(m.name)}"'


def _info(o: MutatingAdmissionPolicy, lp: str) -> str:
    s = o.spec
    pk = s.param_kind or ParamKind()
    return (
        f'{lp},param_api_version="{esc(pk.api_version)}",param_kind="{esc(pk.kind)}",'
        f'failure_policy="{esc(s.failure_policy or "")}",reinvocation_policy="{esc(s.reinvocation_policy)}"}} 1\n'
    )


def families(opts: FamilyOptions) -> list[Family]:
    p = "kube_mutatingadmissionpolicy"
    return [
        Family(f"{p}_info", "Information about the MutatingAdmissionPolicy.", "gauge", "ALPHA", _info),
        created_family(p, "ALPHA", "Unix creation timestamp."),
    ]


RESOURCE = ResourceSpec(
    name="mutatingadmissionpolicies",
    group="admissionregistration.k8s.io",
    version="v1",
    kind="MutatingAdmissionPolicy",
    namespaced=False,
    struct=MutatingAdmissionPolicy,
    identity=_identity,
    families=families,
)
