"""Role families (``kube_role_*``; not a default resource); identity labels ``namespace,role``;
the family shape is :func:`kubescope.state.families._rbac_common.rbac_families`.

Sample::

    kube_role_info{namespace="kube-system",role="extension-apiserver-authentication-reader"} 1
    kube_role_created{namespace="kube-system",role="extension-apiserver-authentication-reader"} 1.7e+09
"""

from __future__ import annotations

from kubescope.state.families._rbac_common import RoleObject, rbac_families
from kubescope.state.family import ResourceSpec
from kubescope.state.text import esc


def _identity(o: RoleObject) -> str:
    m = o.metadata
    return f'namespace="{esc(m.namespace)}",role="{esc(m.name)}"'


families = rbac_families("kube_role", "role", binding=False)

RESOURCE = ResourceSpec(
    name="roles",
    group="rbac.authorization.k8s.io",
    version="v1",
    kind="Role",
    namespaced=True,
    struct=RoleObject,
    identity=_identity,
    families=families,
    default=False,
)
