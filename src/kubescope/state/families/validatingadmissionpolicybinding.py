"""ValidatingAdmissionPolicyBinding families (``kube_validatingadmissionpolicybinding_*``); identity
labels ``namespace,validatingadmissionpolicybinding`` (``namespace`` is ``""``: cluster-scoped).

Sample::

    kube_validatingadmissionpolicybinding_info{namespace="",validatingadmissionpolicybinding="replica-limit-prod",policy_name="replica-limit",param_name="prod",param_namespace="default",param_not_found_action="Deny"} 1
    kube_validatingadmissionpolicybinding_validation_action{namespace="",validatingadmissionpolicybinding="replica-limit-prod",action="Deny"} 1
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


class BindingSpec(Wire):
    policy_name: str = ""
    param_ref: ParamRef | None = None
    validation_actions: list[str] = msgspec.field(default_factory=list)


class ValidatingAdmissionPolicyBinding(Wire):
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    spec: BindingSpec = msgspec.field(default_factory=BindingSpec)


def _identity(o: ValidatingAdmissionPolicyBinding) -> str:
    m = o.metadata
    return f'namespace="{esc(m.namespace)}",validatingadmissionpolicybinding="{esc(m.name)}"'


def _info(o: ValidatingAdmissionPolicyBinding, lp: str) -> str:
    s = o.spec
    ref = s.param_ref or ParamRef()
    return (
        f'{lp},policy_name="{esc(s.policy_name)}",param_name="{esc(ref.name)}",'
        f'param_namespace="{esc(ref.namespace)}",'
        f'param_not_found_action="{esc(ref.parameter_not_found_action or "")}"}} 1\n'
    )


def _validation_action(o: ValidatingAdmissionPolicyBinding, lp: str) -> str:
    return "".join([f'{lp},action="{esc(a)}"}} 1\n' for a in o.spec.validation_actions])


def families(opts: FamilyOptions) -> list[Family]:
    p = "kube_validatingadmissionpolicybinding"
    return [
        Family(
            f"{p}_info",
            "Information about the ValidatingAdmissionPolicyBinding.",
            "gauge",
            "ALPHA",
            _info,
        ),
        created_family(p, "ALPHA", "Unix creation timestamp."),
        Family(
            f"{p}_validation_action",
            "Validation actions for the ValidatingAdmissionPolicyBinding.",
            "gauge",
            "ALPHA",
            _validation_action,
        ),
    ]


RESOURCE = ResourceSpec(
    name="validatingadmissionpolicybindings",
    group="admissionregistration.k8s.io",
    version="v1",
    kind="ValidatingAdmissionPolicyBinding",
    namespaced=False,
    struct=ValidatingAdmissionPolicyBinding,
    identity=_identity,
    families=families,
)
