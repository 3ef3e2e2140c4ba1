"""MutatingWebhookConfiguration families (``kube_mutatingwebhookconfiguration_*``); identity labels
``namespace,mutatingwebhookconfiguration``.

The object is cluster-scoped, so ``namespace`` is always ``""`` on a real cluster; KSM keeps the
label (it reads the object's namespace). The shape is shared with the validating variant
(:mod:`._webhook_common`).

Sample::

    kube_mutatingwebhookconfiguration_info{namespace="",mutatingwebhookconfiguration="istio-sidecar-injector"} 1
    kube_mutatingwebhookconfiguration_webhook_clientconfig_service{namespace="",mutatingwebhookconfiguration="istio-sidecar-injector",webhook_name="sidecar.istio.io",service_name="istiod",service_namespace="istio-system"} 1
"""

from __future__ import annotations

from kubescope.state.families._webhook_common import webhook_configuration_resource

RESOURCE = webhook_configuration_resource("MutatingWebhookConfiguration", "mutating")
families = RESOURCE.families
