"""What the mutating and validating webhook configuration families share: the decoded shape and
the family list, which differ only in names and help texts. Not a family module itself."""

from __future__ import annotations

import msgspec

from kubescope.model.meta import ObjectMeta, Wire
from kubescope.state.family import (
    Family,
    FamilyOptions,
    ResourceSpec,
    created_family,
    resource_version_family,
)
from kubescope.state.text import esc


class ServiceReference(Wire):
    name: str = ""
    namespace: str = ""


class ClientConfig(Wire):
    service: ServiceReference | None = None


class Webhook(Wire):
    name: str = ""
    client_config: ClientConfig = msgspec.field(default_factory=ClientConfig)


class WebhookConfiguration(Wire):
    """Mutating and validating webhook configurations share every field these families read."""

    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    webhooks: list[Webhook] = msgspec.field(default_factory=list)


def _info(o: WebhookConfiguration, lp: str) -> str:
    return f"{lp}}} 1\n"


def _clientconfig_service(o: WebhookConfiguration, lp: str) -> str:
    out = []
    for w in o.webhooks:
        svc = w.client_config.service
        if svc is None:
            # a URL webhook: the series is still written, with empty service labels
            out.append(f'{lp},webhook_name="{esc(w.name)}",service_name="",service_namespace=""}} 1\n')
        else:
            out.append(
                f'{lp},webhook_name="{esc(w.name)}",service_name="{esc(svc.name)}",'
                f'service_namespace="{esc(svc.namespace)}"}} 1\n'
            )
    return "".join(out)


def webhook_configuration_resource(kind: str, adjective: str) -> ResourceSpec:
    """The ResourceSpec of ``<kind>`` (MutatingWebhookConfiguration or ValidatingWebhookConfiguration)."""
    res = kind.lower()
    prefix = f"kube_{res}"

    def identity(o: WebhookConfiguration) -> str:
        m = o.metadata
        return f'namespace="{esc(m.namespace)}",{res}="{esc(m.name)}"'

    def families(opts: FamilyOptions) -> list[Family]:
        return [
            Family(f"{prefix}_info", f"Information about the {kind}.", "gauge", "ALPHA", _info),
            created_family(prefix, "ALPHA", "Unix creation timestamp."),
            resource_version_family(
                prefix, help=f"Resource version representing a specific version of the {kind}."
            ),
            Family(
                f"{prefix}_webhook_clientconfig_service",
                f"Service used by the apiserver to connect to a {adjective} webhook.",
                "gauge",
                "ALPHA",
                _clientconfig_service,
            ),
        ]

    return ResourceSpec(
        name=f"{res}s",
        group="admissionregistration.k8s.io",
        version="v1",
        kind=kind,
        namespaced=False,
        struct=WebhookConfiguration,
        identity=identity,
        families=families,
    )
