"""Label and annotation allowlists (``--metric-labels-allowlist``) and their matching.

Syntax: ``pods=[app,team],namespaces=[*],*=[team]``. ``*`` as the *first* entry selects every
key (elsewhere it is ignored); other entries may hold one partial wildcard (``app.kubernetes.io/*``),
compiled to an anchored pattern; entries with more wildcards are ignored, as in KSM.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from kubescope.state.text import map_to_prometheus_labels

MAX_PARTIAL_WILDCARDS = 1


@dataclass(frozen=True)
class KeyAllowList:
    """The allowed Kubernetes keys for one resource's ``_labels`` or ``_annotations`` family."""

    entries: tuple[str, ...] = ()
    _exact: frozenset[str] = field(init=False, repr=False, compare=False)
    _patterns: tuple[re.Pattern[str], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        exact = []
        patterns = []
        for e in self.entries:
            if "*" not in e:
                exact.append(e)
            elif e != "*" and e.count("*") <= MAX_PARTIAL_WILDCARDS:
                patterns.append(re.compile("^" + ".*".join(re.escape(p) for p in e.split("*")) + "$"))
        object.__setattr__(self, "_exact", frozenset(exact))
        object.__setattr__(self, "_patterns", tuple(patterns))

    @property
    def enabled(self) -> bool:
        """KSM emits no ``_labels`` series at all when the list is empty."""
        return bool(self.entries)

    @property
    def all_keys(self) -> bool:
        return bool(self.entries) and self.entries[0] == "*"

    def select(self, data: Mapping[str, str]) -> dict[str, str]:
        if self.all_keys:
            return dict(data)
        out = {k: data[k] for k in self._exact if k in data}
        if self._patterns:
            for k, v in data.items():
                if any(p.match(k) for p in self._patterns):
                    out[k] = v
        return out

    def labels(self, prefix: str, data: Mapping[str, str]) -> list[tuple[str, str]]:
        """``createPrometheusLabelKeysValues``: the allowed keys as Prometheus label pairs."""
        return map_to_prometheus_labels(prefix, self.select(data))
