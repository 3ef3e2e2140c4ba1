"""ClusterRoleBinding families (``kube_clusterrolebinding_*``; not a default resource); identity
label ``clusterrolebinding``; the family shape is :func:`kubescope.state.families._rbac_common.rbac_families`.

Sample::

    kube_clusterrolebinding_info{clusterrolebinding="cluster-admin",roleref_kind="ClusterRole",roleref_name="cluster-admin"} 1
"""

from __future__ import annotations

from kubescope.state.families._rbac_common import BindingObject, rbac_families
from kubescope.state.family import ResourceSpec
from kubescope.state.text import esc


def _identity(o: BindingObject) -> str:
    return f'clusterrolebinding="{esc(o.metadata.name)}"'


families = rbac_families("kube_clusterrolebinding", "clusterrolebinding", binding=True)

RESOURCE = ResourceSpec(
    name="clusterrolebindings",
    group="rbac.authorization.k8s.io",
    version="v1",
    kind="ClusterRoleBinding",
    namespaced=False,
    struct=BindingObject,
    identity=_identity,
    families=families,
    default=False,
)
