"""ValidatingWebhookConfiguration families (``kube_validatingwebhookconfiguration_*``); identity
labels ``namespace,validatingwebhookconfiguration`` (``namespace`` is ``""``: cluster-scoped).

Same shape as the mutating variant (:mod:`.mutatingwebhookconfiguration`).

Sample::

    kube_validatingwebhookconfiguration_info{namespace="",validatingwebhookconfiguration="gatekeeper"} 1
    kube_validatingwebhookconfiguration_webhook_clientconfig_service{namespace="",validatingwebhookconfiguration="gatekeeper",webhook_name="validation.gatekeeper.sh",service_name="gatekeeper-webhook",service_namespace="gatekeeper-system"} 1
"""

from __future__ import annotations

from kubescope.state.families.mutatingwebhookconfiguration import webhook_configuration_resource

RESOURCE = webhook_configuration_resource("ValidatingWebhookConfiguration", "validating")
families = RESOURCE.families
