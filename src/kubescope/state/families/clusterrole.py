"""ClusterRole families (``kube_clusterrole_*``; not a default resource); identity label
``clusterrole``; the family shape is :func:`kubescope.state.families._rbac_common.rbac_families`.

Sample::

    kube_clusterrole_info{clusterrole="cluster-admin"} 1
    kube_clusterrole_metadata_resource_version{clusterrole="cluster-admin"} 74
"""

from __future__ import annotations

from kubescope.state.families._rbac_common import RoleObject, rbac_families
from kubescope.state.family import ResourceSpec
from kubescope.state.text import esc


def _identity(o: RoleObject) -> str:
    return f'clusterrole="{esc(o.metadata.name)}"'


families = rbac_families("kube_clusterrole", "cluster role", binding=False)

RESOURCE = ResourceSpec(
    name="clusterroles",
    group="rbac.authorization.k8s.io",
    version="v1",
    kind="ClusterRole",
    namespaced=False,
    struct=RoleObject,
    identity=_identity,
    families=families,
    default=False,
)
