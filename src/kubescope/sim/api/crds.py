"""CustomResourceDefinitions: what apiextensions-apiserver does when one is written. A CRD's served
versions are served at once (its types added to the registry) and the CRD is established; deleting
it deletes its objects and stops serving them."""

from __future__ import annotations

import contextlib
import time
from typing import Any

from kubescope.sim.errors import NotFound
from kubescope.sim.resources import from_crd
from kubescope.sim.store import ObjectStore

CRDS = "customresourcedefinitions.apiextensions.k8s.io"


class CRDServing:
    """Keeps the registry in step with the stored CRDs (a store hook)."""

    def __init__(self, store: ObjectStore) -> None:
        self.store = store
        for crd in store.iter_objects(CRDS):
            self.on_change("ADDED", crd)
        store.add_hook(CRDS, self.on_change)

    def on_change(self, typ: str, crd: dict[str, Any]) -> None:
        """Serve, re-serve or stop serving a CustomResourceDefinition's resource, and establish it."""
        spec = crd.get("spec") or {}
        group, plural = str(spec.get("group", "")), str((spec.get("names") or {}).get("plural", ""))
        store = self.store
        reg = store.registry
        if typ == "DELETED":
            key = f"{plural}.{group}"
            if reg.by_key.get(key) is not None:
                for ns, name in store.keys(key):
                    with contextlib.suppress(NotFound):
                        store.delete(key, ns, name)
            reg.remove_group_resource(group, plural)
            store.registry_version += 1
            return
        types = from_crd(crd)
        reg.remove_group_resource(group, plural)
        for t in types:
            reg.add(t)
        store.registry_version += 1
        if types and not any(
            c.get("type") == "Established" and c.get("status") == "True"
            for c in (crd.get("status") or {}).get("conditions") or []
        ):
            store.modify(
                CRDS, "", crd["metadata"]["name"], lambda o: o.__setitem__("status", _established(o))
            )


def _established(crd: dict[str, Any]) -> dict[str, Any]:
    """What the apiextensions controllers write: names accepted, established, stored versions."""
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    spec = crd.get("spec") or {}
    stored = [str(v.get("name")) for v in spec.get("versions") or [] if v.get("storage")]
    return {
        "acceptedNames": spec.get("names") or {},
        "conditions": [
            {
                "type": "NamesAccepted",
                "status": "True",
                "lastTransitionTime": now,
                "reason": "NoConflicts",
                "message": "no conflicts found",
            },
            {
                "type": "Established",
                "status": "True",
                "lastTransitionTime": now,
                "reason": "InitialNamesAccepted",
                "message": "the initial names have been accepted",
            },
        ],
        "storedVersions": stored,
    }
