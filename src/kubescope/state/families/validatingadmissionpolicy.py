"""ValidatingAdmissionPolicy families (``kube_validatingadmissionpolicy_*``); identity labels
``namespace,validatingadmissionpolicy`` (``namespace`` is ``""``: the object is cluster-scoped).

Sample::

    kube_validatingadmissionpolicy_info{namespace="",validatingadmissionpolicy="replica-limit",param_api_version="rules.example.com/v1",param_kind="ReplicaLimit",failure_policy="Fail"} 1
    kube_validatingadmissionpolicy_created{namespace="",validatingadmissionpolicy="replica-limit"} 1.7e+09
"""

from __future__ import annotations

import msgspec

from kubescope.model.meta import ObjectMeta, Wire
from kubescope.state.family import Family, FamilyOptions, ResourceSpec, created_family
from kubescope.state.text import esc


class ParamKind(Wire):
    api_version: str = ""
    kind: str = ""


class PolicySpec(Wire):
    param_kind: ParamKind | None = None
    failure_policy: str | None = None


class ValidatingAdmissionPolicy(Wire):
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    spec: PolicySpec = msgspec.field(default_factory=PolicySpec)


def _identity(o: ValidatingAdmissionPolicy) -> str:
    m = o.metadata
    return f'namespace="{esc(m.namespace)}",validatingadmissionpolicy="{esc(m.name)}"'


def _info(o: ValidatingAdmissionPolicy, lp: str) -> str:
    pk = o.spec.param_kind or ParamKind()
    return (
        f'{lp},param_api_version="{esc(pk.api_version)}",param_kind="{esc(pk.kind)}",'
        f'failure_policy="{esc(o.spec.failure_policy or "")}"}} 1\n'
    )


def families(opts: FamilyOptions) -> list[Family]:
    p = "kube_validatingadmissionpolicy"
    return [
        Family(f"{p}_info", "Information about the ValidatingAdmissionPolicy.", "gauge", "ALPHA", _info),
        created_family(p, "ALPHA", "Unix creation timestamp."),
    ]


RESOURCE = ResourceSpec(
    name="validatingadmissionpolicies",
    group="admissionregistration.k8s.io",
    version="v1",
    kind="ValidatingAdmissionPolicy",
    namespaced=False,
    struct=ValidatingAdmissionPolicy,
    identity=_identity,
    families=families,
)
