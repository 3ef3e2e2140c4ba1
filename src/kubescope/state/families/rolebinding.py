"""RoleBinding families (``kube_rolebinding_*``; not a default resource); identity labels
``namespace,rolebinding``; the family shape is :func:`kubescope.state.families._rbac_common.rbac_families`.

Sample::

    kube_rolebinding_info{namespace="kube-system",rolebinding="system:controller:bootstrap-signer",roleref_kind="Role",roleref_name="system:controller:bootstrap-signer"} 1
"""

from __future__ import annotations

from kubescope.state.families._rbac_common import BindingObject, rbac_families
from kubescope.state.family import ResourceSpec
from kubescope.state.text import esc


def _identity(o: BindingObject) -> str:
    m = o.metadata
    return f'namespace="{esc(m.namespace)}",rolebinding="{esc(m.name)}"'


families = rbac_families("kube_rolebinding", "rolebinding", binding=True)

RESOURCE = ResourceSpec(
    name="rolebindings",
    group="rbac.authorization.k8s.io",
    version="v1",
    kind="RoleBinding",
    namespaced=True,
    struct=BindingObject,
    identity=_identity,
    families=families,
    default=False,
)
