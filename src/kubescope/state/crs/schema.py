"""The Custom Resource State configuration as data (KSM's ``pkg/customresourcestate`` types)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

DEFAULT_PREFIX = "kube_customresource"
LABEL_GROUP = "customresource_group"
LABEL_VERSION = "customresource_version"
LABEL_KIND = "customresource_kind"
CONFIG_KIND = "CustomResourceStateMetrics"

CRSType = Literal["gauge", "info", "stateset"]


@dataclass(frozen=True)
class GroupVersionKind:
    group: str = ""
    version: str = ""
    kind: str = ""

    def __str__(self) -> str:
        return f"{self.group}_{self.version}_{self.kind}"

    @property
    def wildcard(self) -> bool:
        return self.version in ("", "*") or self.kind in ("", "*")


@dataclass(frozen=True)
class EachConfig:
    """``each``: the type and its settings (only the block of the chosen type is used)."""

    type: CRSType
    path: tuple[str, ...] = ()
    labels_from_path: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    value_from: tuple[str, ...] = ()
    label_from_key: str = ""
    nil_is_zero: bool = False
    states: tuple[str, ...] = ()
    label_name: str = ""


@dataclass(frozen=True)
class MetricConfig:
    name: str
    help: str
    each: EachConfig
    common_labels: Mapping[str, str] = field(default_factory=dict)
    labels_from_path: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    error_log_v: int = 0


@dataclass(frozen=True)
class ResourceConfig:
    gvk: GroupVersionKind
    metrics: tuple[MetricConfig, ...] = ()
    metric_name_prefix: str | None = None
    """None (absent or null) means ``kube_customresource``; ``""`` means no prefix."""
    resource_plural: str = ""
    common_labels: Mapping[str, str] = field(default_factory=dict)
    labels_from_path: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    error_log_v: int = 0
    namespaced: bool = True
    """From the CRD's scope once resolved; KSM lists per namespace either way."""

    @property
    def prefix(self) -> str:
        return DEFAULT_PREFIX if self.metric_name_prefix is None else self.metric_name_prefix

    @property
    def plural(self) -> str:
        """``resourcePlural``, else the kind pluralized (discovery replaces both: :func:`resolve`)."""
        return self.resource_plural or pluralize(self.gvk.kind).lower()

    def full_name(self, metric: str) -> str:
        return f"{self.prefix}_{metric}" if self.prefix else metric


@dataclass(frozen=True)
class CRSConfig:
    resources: tuple[ResourceConfig, ...] = ()
    warnings: tuple[str, ...] = ()
    """Accepted but suspicious settings (KSM logs some of them); log them once at start."""


_IRREGULAR_PLURALS = {"person": "people", "child": "children", "man": "men", "woman": "women"}


def pluralize(kind: str) -> str:
    """The plural KSM falls back to (kubebuilder's, via flect) when no CRD says otherwise."""
    low = kind.lower()
    if not low:
        return kind
    if low in _IRREGULAR_PLURALS:
        return _IRREGULAR_PLURALS[low]
    if low.endswith(("s", "x", "z", "ch", "sh")):
        return kind + "es"
    if low.endswith("y") and len(low) > 1 and low[-2] not in "aeiou":
        return kind[:-1] + "ies"
    return kind + "s"
