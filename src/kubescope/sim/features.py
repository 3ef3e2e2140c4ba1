"""The kube-apiserver feature gates the simulator emulates, and how a client can see them.

kube-apiserver advertises no feature in discovery. A client learns that the server serves a feature
from the feature's own answers (a WatchList request to a server without it is refused with 422
``sendInitialEvents: Forbidden: ... unless the WatchList feature gate is enabled``) or, given
``get`` on the non-resource URL ``/metrics``, from ``kubernetes_feature_enabled{name,stage}``, which
the simulator serves as kube-apiserver does.

``--feature-gates WatchList=false`` (kube-apiserver's syntax) makes the simulator a server without
the feature, as 1.33 is by default and 1.27-1.31 were: the fallback of a WatchList client can be
tested against it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from prometheus_client.core import GaugeMetricFamily

from kubescope.errors import ConfigError

GATES: dict[str, tuple[str, bool]] = {
    "WatchList": ("BETA", True),
}
"""Gate -> (stage, default) in kube-apiserver 1.36."""


def parse(text: str) -> dict[str, bool]:
    """``--feature-gates``: ``Name=true,Other=false``, Go's boolean syntax, known gates only."""
    out: dict[str, bool] = {}
    for item in filter(None, (p.strip() for p in text.split(","))):
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep:
            raise ConfigError(f"--feature-gates={text}: missing bool value for {name}")
        if name not in GATES:
            raise ConfigError(f"--feature-gates={text}: unrecognized feature gate: {name}")
        v = value.strip().lower()
        if v not in ("1", "t", "true", "0", "f", "false"):
            raise ConfigError(
                f"--feature-gates={text}: invalid value of {name}={value}, err: strconv.ParseBool"
            )
        out[name] = v in ("1", "t", "true")
    return out


def enabled(gates: Mapping[str, bool], name: str) -> bool:
    return gates.get(name, GATES[name][1])


class FeatureCollector:
    """kube-apiserver's ``kubernetes_feature_enabled`` family for the emulated gates (a collector
    of the simulator's self metrics, served on ``/metrics``)."""

    def __init__(self, gates: Mapping[str, bool]) -> None:
        self.gates = dict(gates)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "kubernetes_feature_enabled",
            "[BETA] This metric records the data about the stage and enablement of a k8s feature.",
            labels=["name", "stage"],
        )
        for name, (stage, _) in sorted(GATES.items()):
            family.add_metric([name, stage], float(enabled(self.gates, name)))
        yield family
