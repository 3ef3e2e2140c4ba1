"""The default configuration: what prometheus-adapter's ``config-gen`` writes (``cmd/config-gen``).

Used when ``--config`` is not given, so the server works without editing: cAdvisor's
``container_*`` series per pod (``*_seconds_total`` and ``*_total`` as rates, the rest as gauges),
every other series with a ``namespace`` label associated through the ``<<.Resource>>`` template
(counters as rates), and the ``resourceRules`` for ``metrics.k8s.io``. ``--print-default-config``
prints it as ``config-gen --rate-interval=5m`` does.
"""

from __future__ import annotations

from typing import Any

import yaml

from kubescope.custom_metrics.config import MetricsConfig, format_prom_duration, parse_config


def _rule(
    series_query: str, is_not: str, resources: dict[str, Any], matches: str, query: str
) -> dict[str, Any]:
    return {
        "seriesQuery": series_query,
        "seriesFilters": [{"isNot": is_not}] if is_not else [],
        "resources": resources,
        "name": {"matches": matches, "as": ""},
        "metricsQuery": query,
    }


def default_config_dict(rate_interval: float = 300.0, label_prefix: str = "") -> dict[str, Any]:
    """``utils.DefaultConfig(rateInterval, labelPrefix)``."""
    ri = format_prom_duration(rate_interval)
    p = label_prefix
    container_sq = '{__name__=~"^container_.*",container!="POD",namespace!="",pod!=""}'
    normal_sq = f'{{{p}namespace!="",__name__!~"^container_.*"}}'
    pod_ns = {"overrides": {"namespace": {"resource": "namespace"}, "pod": {"resource": "pod"}}}
    by_template = {"template": f"{p}<<.Resource>>"}
    container_rate = f'sum(rate(<<.Series>>{{<<.LabelMatchers>>,container!="POD"}}[{ri}])) by (<<.GroupBy>>)'
    normal_rate = f"sum(rate(<<.Series>>{{<<.LabelMatchers>>}}[{ri}])) by (<<.GroupBy>>)"
    node_overrides = {
        "overrides": {
            "instance": {"resource": "node"},
            "namespace": {"resource": "namespace"},
            "pod": {"resource": "pod"},
        }
    }
    return {
        "rules": [
            _rule(container_sq, "", pod_ns, "^container_(.*)_seconds_total$", container_rate),
            _rule(
                container_sq, "^container_.*_seconds_total$", pod_ns, "^container_(.*)_total$", container_rate
            ),
            _rule(
                container_sq,
                "^container_.*_total$",
                pod_ns,
                "^container_(.*)$",
                'sum(<<.Series>>{<<.LabelMatchers>>,container!="POD"}) by (<<.GroupBy>>)',
            ),
            _rule(
                normal_sq,
                ".*_total$",
                by_template,
                "",
                "sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)",
            ),
            _rule(normal_sq, ".*_seconds_total", by_template, "^(.*)_total$", normal_rate),
            _rule(normal_sq, "", by_template, "^(.*)_seconds_total$", normal_rate),
        ],
        "resourceRules": {
            "cpu": {
                "containerQuery": f"sum(rate(container_cpu_usage_seconds_total{{<<.LabelMatchers>>}}[{ri}])) by (<<.GroupBy>>)",
                "nodeQuery": f"sum(rate(container_cpu_usage_seconds_total{{<<.LabelMatchers>>, id='/'}}[{ri}])) by (<<.GroupBy>>)",
                "resources": node_overrides,
                "containerLabel": f"{p}container",
            },
            "memory": {
                "containerQuery": "sum(container_memory_working_set_bytes{<<.LabelMatchers>>}) by (<<.GroupBy>>)",
                "nodeQuery": "sum(container_memory_working_set_bytes{<<.LabelMatchers>>,id='/'}) by (<<.GroupBy>>)",
                "resources": node_overrides,
                "containerLabel": f"{p}container",
            },
            "window": ri,
        },
    }


class _PlainDumper(yaml.SafeDumper):
    """Writes shared mappings in full (no ``&id001`` anchors), as Go's yaml.v2 does."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def default_config_yaml(rate_interval: float = 300.0, label_prefix: str = "") -> str:
    return yaml.dump(
        default_config_dict(rate_interval, label_prefix), Dumper=_PlainDumper, sort_keys=False, width=200
    )


def default_config(rate_interval: float = 300.0, label_prefix: str = "") -> MetricsConfig:
    return parse_config(default_config_yaml(rate_interval, label_prefix), "default config")
