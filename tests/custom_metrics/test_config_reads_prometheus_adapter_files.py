"""prometheus-adapter's configuration files are read unchanged; every error names line, rule and field."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from kubescope.custom_metrics.config import format_prom_duration, parse_config, parse_prom_duration
from kubescope.custom_metrics.defaults import default_config, default_config_yaml
from kubescope.custom_metrics.naming import namer_from_rule
from kubescope.errors import ConfigError

# docs/sample-config.yaml of prometheus-adapter (comments trimmed); its double-quoted metricsQuery
# strings hold unescaped double quotes, which no YAML parser (Go's yaml.v2 included) accepts, so they
# are single-quoted here as working configs write them
SAMPLE = """\
rules:
- seriesQuery: '{__name__=~"^container_.*",container!="POD",namespace!="",pod!=""}'
  resources:
    overrides:
      namespace: {resource: "namespace"}
      pod: {resource: "pod"}
  name:
    matches: "^container_(.*)_seconds_total$"
  metricsQuery: 'sum(rate(<<.Series>>{<<.LabelMatchers>>,container!="POD"}[2m])) by (<<.GroupBy>>)'
- seriesQuery: '{__name__=~"^container_.*_total",container!="POD",namespace!="",pod!=""}'
  resources:
    overrides:
      namespace: {resource: "namespace"}
      pod: {resource: "pod"}
  seriesFilters:
  - isNot: "^container_.*_seconds_total$"
  name: {matches: "^container_(.*)_total$"}
  metricsQuery: 'sum(rate(<<.Series>>{<<.LabelMatchers>>,container!="POD"}[2m])) by (<<.GroupBy>>)'
- seriesQuery: '{namespace!="",__name__!="^container_.*"}'
  name: {matches: "^(.*)_total$"}
  resources:
    template: "<<.Resource>>"
  metricsQuery: 'sum(rate(<<.Series>>{<<.LabelMatchers>>,container!="POD"}[2m])) by (<<.GroupBy>>)'
- seriesQuery: 'cheddar{sharp="true"}'
  name: {as: "cheesy_goodness"}
  resources:
    overrides:
      brand: {group: "cheese.io", resource: "brand"}
  metricsQuery: 'count(cheddar{sharp="true"})'
externalRules:
- seriesQuery: '{__name__="queue_consumer_lag",name!=""}'
  metricsQuery: sum(<<.Series>>{<<.LabelMatchers>>}) by (name)
- seriesQuery: '{__name__="queue_depth",topic!=""}'
  metricsQuery: sum(<<.Series>>{<<.LabelMatchers>>}) by (name)
  resources:
    namespaced: false
"""

# deploy/manifests/config-map.yaml (kube-prometheus' resourceRules), quoted keys and block scalars
RESOURCE_RULES = """\
"resourceRules":
  "cpu":
    "containerLabel": "container"
    "containerQuery": |
      sum by (<<.GroupBy>>) (
        irate (
            container_cpu_usage_seconds_total{<<.LabelMatchers>>,container!="",pod!=""}[4m]
        )
      )
    "nodeQuery": |
      sum by (<<.GroupBy>>) (
        irate(
            node_cpu_usage_seconds_total{<<.LabelMatchers>>}[4m]
        )
      )
    "resources":
      "overrides":
        "namespace":
          "resource": "namespace"
        "node":
          "resource": "node"
        "pod":
          "resource": "pod"
  "memory":
    "containerLabel": "container"
    "containerQuery": |
      sum by (<<.GroupBy>>) (
        container_memory_working_set_bytes{<<.LabelMatchers>>,container!="",pod!=""}
      )
    "nodeQuery": |
      sum by (<<.GroupBy>>) (
        node_memory_working_set_bytes{<<.LabelMatchers>>}
      )
    "resources":
      "overrides":
        "node":
          "resource": "node"
        "namespace":
          "resource": "namespace"
        "pod":
          "resource": "pod"
  "window": "5m"
"""


def test_the_sample_config_is_read_unchanged() -> None:
    cfg = parse_config(SAMPLE, "sample-config.yaml")
    assert len(cfg.rules) == 4 and len(cfg.external_rules) == 2
    r0 = cfg.rules[0]
    assert r0.name.matches == "^container_(.*)_seconds_total$"
    assert r0.resources.overrides["pod"].resource == "pod"
    assert cfg.rules[3].resources.overrides["brand"].group == "cheese.io"
    assert cfg.external_rules[1].resources.namespaced is False
    assert cfg.external_rules[0].resources.namespaced is None
    for r in (*cfg.rules, *cfg.external_rules):
        namer_from_rule(r)
    assert namer_from_rule(cfg.rules[3]).metric_name("cheddar") == "cheesy_goodness"
    assert namer_from_rule(cfg.rules[0]).metric_name("container_cpu_usage_seconds_total") == "cpu_usage"


def test_resource_rules_with_block_scalars_and_quoted_keys() -> None:
    cfg = parse_config(RESOURCE_RULES)
    assert cfg.resource_rules is not None
    assert cfg.resource_rules.window == 300.0
    assert cfg.resource_rules.cpu.container_label == "container"
    assert "irate" in cfg.resource_rules.cpu.container_query
    assert set(cfg.resource_rules.memory.resources.overrides) == {"node", "namespace", "pod"}


def test_the_default_config_is_config_gens() -> None:
    cfg = default_config()
    assert [r.name.matches for r in cfg.rules] == [
        "^container_(.*)_seconds_total$", "^container_(.*)_total$", "^container_(.*)$", "", "^(.*)_total$",
        "^(.*)_seconds_total$",
    ]  # fmt: skip
    assert cfg.rules[0].series_query == '{__name__=~"^container_.*",container!="POD",namespace!="",pod!=""}'
    assert cfg.rules[3].series_query == '{namespace!="",__name__!~"^container_.*"}'
    assert cfg.rules[4].metrics_query == "sum(rate(<<.Series>>{<<.LabelMatchers>>}[5m])) by (<<.GroupBy>>)"
    assert cfg.resource_rules is not None and cfg.resource_rules.window == 300
    assert "&id" not in default_config_yaml(), "no YAML anchors: the printed file reads like config-gen's"
    assert parse_config(default_config_yaml(60, "kube_")).rules[3].resources.template == "kube_<<.Resource>>"


def test_scalars_fill_string_fields_with_their_text_and_null_is_empty() -> None:
    cfg = parse_config("rules:\n- seriesQuery: x\n  name: {as: 123, matches: null}\n  metricsQuery: y\n")
    assert cfg.rules[0].name.as_ == "123" and cfg.rules[0].name.matches == ""
    assert parse_config("").rules == () and parse_config("rules: null").rules == ()


def test_yaml_merge_keys_work() -> None:
    text = "base: &b {seriesQuery: x, metricsQuery: y}\nrules:\n- <<: *b\n  name: {as: z}\n"
    with pytest.raises(ConfigError, match="field base not found"):
        parse_config(text)
    cfg = parse_config("rules:\n- &r {seriesQuery: x, metricsQuery: y}\n- <<: *r\n  name: {as: z}\n")
    assert cfg.rules[1].series_query == "x" and cfg.rules[1].name.as_ == "z"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("rules:\n- seriesQuery: x\n  metricQuery: y\n", r"c.yaml:3: rules\[0\]\.metricQuery: field metricQuery not found"),
        ("rules:\n- seriesQuery: x\n  seriesQuery: y\n", r"c.yaml:3: rules\[0\]\.seriesQuery: key \"seriesQuery\" already set"),
        ("rules: {a: b}\n", r"c.yaml:1: rules: cannot unmarshal !!map into a list"),
        ("rules:\n- seriesQuery: [a]\n", r"c.yaml:2: rules\[0\]\.seriesQuery: cannot unmarshal !!seq into string"),
        ("externalRules:\n- resources: {namespaced: maybe}\n",
         r"c.yaml:2: externalRules\[0\]\.resources\.namespaced: cannot unmarshal !!str `maybe` into bool"),
        ("resourceRules: {window: 5x}\n", r"c.yaml:1: resourceRules\.window: not a valid duration string"),
        ("rules:\n- resources: {overrides: {pod: {group: x}}}\n",
         r"rules\[0\]\.resources\.overrides\.pod\.resource: empty"),
        ("rules:\n- seriesQuery: x\n  metricsQuery: y\n  seriesAggregation: median\n",
         r"rules\[0\]\.seriesAggregation: 'median' is not one of"),
        ("rules: [\n", r"c.yaml: unable to parse metrics discovery config"),
    ],
)  # fmt: skip
def test_decoding_errors_name_the_line_rule_and_field(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_config(text, "c.yaml")


def _rule(**fields: str) -> str:
    body = {"seriesQuery": "x", "metricsQuery": "sum(<<.Series>>)", **fields}
    lines = []
    for k, v in body.items():
        lines.append(f"  {k}: {v}")
    return "rules:\n- " + "\n".join(lines)[2:] + "\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (_rule(metricsQuery="'sum(<<.Serie>>)'"), r"rules\[0\] \(line 2\)\.metricsQuery: .*can't evaluate field Serie"),
        (_rule(metricsQuery="'sum(<<.Series)'"), r"rules\[0\] \(line 2\)\.metricsQuery: unable to parse"),
        (_rule(metricsQuery="''"), r"rules\[0\] \(line 2\)\.metricsQuery: empty"),
        (_rule(seriesQuery="''"), r"rules\[0\] \(line 2\)\.seriesQuery: empty"),
        (_rule(name="{matches: '^(a)(b)$'}"), r"rules\[0\] \(line 2\)\.name\.as: must specify an 'as' value"),
        (_rule(name="{matches: '(unclosed'}"), r"rules\[0\] \(line 2\)\.name\.matches: unable to compile"),
        (_rule(seriesFilters="[{is: a, isNot: b}]"), r"rules\[0\] \(line 2\)\.seriesFilters\[0\]: cannot have both"),
        (_rule(seriesFilters="[{}]"), r"seriesFilters\[0\]: must have either an `is` or `isNot`"),
        (_rule(resources="{template: 'kube_<<.Group>>'}"), r"resources\.template: must include at least"),
        (_rule(resources="{template: '<<.Resourc>>'}"), r"resources\.template: unable to parse label template"),
        (_rule(queryTimeout="0s"), r"queryTimeout: must be positive"),
    ],
)  # fmt: skip
def test_rule_errors_name_the_rule_and_field(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        for r in parse_config(text, "c.yaml").rules:
            namer_from_rule(r)


def test_prometheus_durations() -> None:
    assert parse_prom_duration("1h30m") == 5400 and parse_prom_duration("0") == 0
    assert parse_prom_duration("1d") == 86400 and parse_prom_duration("250ms") == 0.25
    for bad in ("", "5", "1m1h", "-1s", "1.5m"):
        with pytest.raises(ValueError):
            parse_prom_duration(bad)
    assert format_prom_duration(300) == "5m" and format_prom_duration(5400) == "1h30m"
    assert format_prom_duration(0) == "0s" and format_prom_duration(86400 * 8) == "1w1d"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("rules:\n- seriesQuery: x\n  metricQuery: y\n",
         r"^kubescope custom-metrics: \S+/bad\.yaml:3: rules\[0\]\.metricQuery: field metricQuery not found"),
        ("rules:\n- seriesQuery: x\n  metricsQuery: 'sum(<<.Serie>>)'\n",
         r"^kubescope custom-metrics: rules\[0\] \(line 2\)\.metricsQuery: .*can't evaluate field Serie"),
    ],
)  # fmt: skip
def test_the_server_refuses_to_start_on_a_config_error(tmp_path: Path, text: str, message: str) -> None:
    """Exit status 2 and one line naming the file, line, rule and field, before anything is served or
    the Kubernetes API is contacted (its kubeconfig does not even exist)."""
    (tmp_path / "bad.yaml").write_text(text)
    p = subprocess.run(
        [sys.executable, "-m", "kubescope", "custom-metrics", f"--config={tmp_path / 'bad.yaml'}",
         f"--kubeconfig={tmp_path / 'missing.kubeconfig'}", "--bind-address=127.0.0.1", "--secure-port=0",
         f"--cert-dir={tmp_path / 'certs'}"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert p.returncode == 2, p.stderr
    assert len(p.stderr.splitlines()) == 1 and re.search(message, p.stderr), p.stderr
    assert not (tmp_path / "certs").exists(), "nothing was set up"


def test_kube_prometheus_adapter_config_map_is_read_unchanged() -> None:
    """kube-prometheus' ``adapter-config`` ConfigMap (the one the migration keeps): quoted keys, ``|-`` and
    ``|`` blocks, ``instance`` naming nodes for memory; its queries render as prometheus-adapter renders
    them (namespace matcher, then the resource's; the resource label, then the container label)."""
    from kubescope.custom_metrics.mapper import GroupResource
    from kubescope.custom_metrics.query import build_query
    from kubescope.custom_metrics.resourcemetrics import compile_rules
    from tests.custom_metrics.test_queries_build_like_prometheus_adapter import DATA, MAPPER

    cm = yaml.safe_load((DATA / "kube-prometheus-prometheusAdapter-configMap.yaml").read_text())
    cfg = parse_config(cm["data"]["config.yaml"], "adapter-config")
    assert cfg.rules == () and cfg.external_rules == () and cfg.resource_rules is not None
    assert cfg.resource_rules.window == 300
    cpu, memory = compile_rules(cfg.resource_rules)
    nodes, pods = GroupResource("", "nodes"), GroupResource("", "pods")
    promql, label = build_query(memory.node, memory.converter.bind(MAPPER), "", nodes, "", [], ["n1", "n2"])
    assert label == "instance"
    assert promql.splitlines()[:2] == [
        "sum by (instance) (",
        '  node_memory_MemTotal_bytes{job="node-exporter",instance=~"n1|n2"}',
    ]
    assert 'windows_memory_available_bytes{job="windows-exporter",instance=~"n1|n2"}' in promql
    promql, label = build_query(cpu.node, cpu.converter.bind(MAPPER), "", nodes, "", [], ["n1"])
    assert label == "node" and 'node_namespace_pod:kube_pod_info:{node="n1"}' in promql
    promql, label = build_query(cpu.container, cpu.converter.bind(MAPPER), "", pods, "monitoring", [],
                                ["p1", "p2"], (cpu.container_label,))  # fmt: skip
    assert (label, promql) == ("pod", (
        "sum by (pod,container) (\n  irate (\n      container_cpu_usage_seconds_total"
        '{namespace="monitoring",pod=~"p1|p2",container!="",pod!=""}[120s]\n  )\n)\n'
    ))  # fmt: skip
