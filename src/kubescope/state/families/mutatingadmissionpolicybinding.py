"""MutatingAdmissionPolicyBinding families (``kube_mutatingadmissionpolicybinding_*``); identity
labels ``namespace,mutatingadmissionpolicybinding`` (``namespace`` is ``""``: cluster-scoped).

Sample::

    kube_mutatingadmissionpolicybinding_info{namespace="",mutatingadmissionpolicybinding="sidecar-all",policy_name="sidecar",param_name="",param_namespace="",param_not_found_action=""} 1
"""

from __future__ import annotations

import msgspec

from kubescope.model.meta import ObjectMeta, Wire
from kubescope.state.family import Family, FamilyOptions, ResourceSpec, created_family
from kubescope.state.text import esc


class ParamRef(Wire):
    name: str = ""
    namespace: str = ""
    parameter_not_found_action: str | None = None


class MutatingBindingSpec(Wire):
    policy_name: str = ""
    param_ref: ParamRef | None = None


class MutatingAdmissionPolicyBinding(Wire):
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    spec: MutatingBindingSpec = msgspec.field(default_factory=MutatingBindingSpec)


def _identity(o: MutatingAdmissionPolicyBinding) -> str:
    m = o.metadata
    return f'namespace="{esc(m.namespace)}",mutatingadmissionpolicybinding="{esc(m.name)}"'


def _info(o: MutatingAdmissionPolicyBinding, lp: str) -> str:
    s = o.spec
    ref = s.param_ref or ParamRef()
    return (
        f'{lp},policy_name="{esc(s.policy_name)}",param_name="{esc(ref.name)}",'
        f'param_namespace="{esc(ref.namespace)}",'
        f'param_not_found_action="{esc(ref.parameter_not_found_action or "")}"}} 1\n'
    )


def families(opts: FamilyOptions) -> list[Family]:
    p = "kube_mutatingadmissionpolicybinding"
    return [
        Family(
            f"{p}_info",
            "Information about the MutatingAdmissionPolicyBinding.",
            "gauge",
            "ALPHA",
            _info,
        ),
        created_family(p, "ALPHA", "Unix creation timestamp."),
    ]


RESOURCE = ResourceSpec(
    name="mutatingadmissionpolicybindings",
    group="admissionregistration.k8s.io",
    version="v1",
    kind="MutatingAdmissionPolicyBinding",
    namespaced=False,
    struct=MutatingAdmissionPolicyBinding,
    identity=_identity,
    families=families,
)
