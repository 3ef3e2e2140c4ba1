"""ValidatingWebhookConfiguration families (``kube_validatingwebhookconfiguration_*``); identity
labels ``namespace,validatingwebhookconfiguration`` (``namespace`` is ``""``: cluster-scoped).

Same shape as the mutating variant (:mod:`._webhook_common`).

Sample::

    kube_validatingwebhookconfiguration_info{namespace="",validatingwebhookconfiguration="gatekeeper"} 1
    kube_validatingwebhookconfiguration_webhook_clientconfig_service{namespace="",validatingwebhookconfiguration="gatekeeper",webhook_name="validation.gatekeeper.sh",service_name="gatekeeper-webhook",service_namespace="gatekeeper-system"} 1
"""

from __future__ import annotations

from kubescope.state.families._webhook_common import webhook_configuration_resource

RESOURCE = webhook_configuration_resource("ValidatingWebhookConfiguration", "validating")
families = RESOURCE.families
