"""Reading a Custom Resource State configuration: KSM's YAML schema, goyaml's typing rules, every
path compiled at start-up, and warnings for what KSM accepts but Prometheus will not."""

from __future__ import annotations

import re
from dataclasses import replace

import yaml

from kubescope.errors import ConfigError
from kubescope.state.crs.compiled import compile_families
from kubescope.state.crs.schema import (
    CONFIG_KIND,
    CRSConfig,
    EachConfig,
    GroupVersionKind,
    MetricConfig,
    ResourceConfig,
)
from kubescope.state.crs.values import CRSError
from kubescope.state.documents import InputError, YamlLoader, check_node
from kubescope.state.text import sanitize_label_name

_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


class _Yaml:
    """Typed reading of a composed YAML tree with goyaml v3's rules (any scalar fills a string,
    null fills nothing, YAML 1.1 words fill booleans, duplicate keys are errors)."""

    _NULL = "tag:yaml.org,2002:null"
    _MERGE = "tag:yaml.org,2002:merge"

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, msg: str) -> ConfigError:
        return ConfigError(f"custom resource state config {self.source}: {where}: {msg}")

    def is_null(self, node: yaml.Node | None) -> bool:
        return node is None or (isinstance(node, yaml.ScalarNode) and node.tag == self._NULL)

    def mapping(self, node: yaml.Node | None, where: str) -> dict[str, yaml.Node]:
        if self.is_null(node):
            return {}
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(where, f"expected a mapping, got {self._kind(node)}")
        out: dict[str, yaml.Node] = {}
        merged: list[yaml.Node] = []
        for k, v in node.value:
            if k.tag == self._MERGE:
                merged.extend(v.value if isinstance(v, yaml.SequenceNode) else [v])
                continue
            key = self.string(k, where)
            if key in out:
                raise self.fail(where, f'mapping key "{key}" is defined twice; keep one')
            out[key] = v
        # "<<: *anchor" fills the keys not given explicitly; the first merged mapping wins
        for m in merged:
            for key, v in self.mapping(m, where).items():
                out.setdefault(key, v)
        return out

    def string(self, node: yaml.Node | None, where: str) -> str:
        if self.is_null(node):
            return ""
        if not isinstance(node, yaml.ScalarNode):
            raise self.fail(where, f"expected a string, got {self._kind(node)}")
        return str(node.value)

    def optional_string(self, node: yaml.Node | None, where: str) -> str | None:
        return None if self.is_null(node) else self.string(node, where)

    def strings(self, node: yaml.Node | None, where: str) -> tuple[str, ...]:
        if self.is_null(node):
            return ()
        if not isinstance(node, yaml.SequenceNode):
            raise self.fail(
                where, f"expected a list of strings such as [status, phase], got {self._kind(node)}"
            )
        return tuple(self.string(n, f"{where}[{i}]") for i, n in enumerate(node.value))

    def string_map(self, node: yaml.Node | None, where: str) -> dict[str, str]:
        return {k: self.string(v, f"{where}.{k}") for k, v in self.mapping(node, where).items()}

    def paths_map(self, node: yaml.Node | None, where: str) -> dict[str, tuple[str, ...]]:
        return {k: self.strings(v, f"{where}.{k}") for k, v in self.mapping(node, where).items()}

    def boolean(self, node: yaml.Node | None, where: str) -> bool:
        if self.is_null(node):
            return False
        s = self.string(node, where)
        if s in ("true", "True", "TRUE", "y", "Y", "yes", "Yes", "YES", "on", "On", "ON"):
            return True
        if s in ("false", "False", "FALSE", "n", "N", "no", "No", "NO", "off", "Off", "OFF"):
            return False
        raise self.fail(where, f"expected true or false, got {s!r}")

    def integer(self, node: yaml.Node | None, where: str) -> int:
        if self.is_null(node):
            return 0
        s = self.string(node, where).replace("_", "")
        try:
            v = int(s, 0)
        except ValueError:
            raise self.fail(where, f"expected an integer (a klog verbosity such as 5), got {s!r}") from None
        if not -(1 << 31) <= v < (1 << 31):
            raise self.fail(where, f"{v} is out of range for a verbosity")
        return v

    @staticmethod
    def _kind(node: yaml.Node | None) -> str:
        if isinstance(node, yaml.MappingNode):
            return "a mapping"
        if isinstance(node, yaml.SequenceNode):
            return "a list"
        return f"the scalar {getattr(node, 'value', '')!r}"


def _parse_each(y: _Yaml, node: yaml.Node | None, where: str) -> EachConfig:
    m = y.mapping(node, where)
    raw_type = y.string(m.get("type"), f"{where}.type")
    t = raw_type.lower()
    if t not in ("gauge", "info", "stateset"):
        raise y.fail(f"{where}.type", f"unknown metric type {t!r}; use Gauge, StateSet or Info")
    block_key = {"gauge": "gauge", "info": "info", "stateset": "stateSet"}[t]
    block_node = m.get(block_key)
    bw = f"{where}.{block_key}"
    if y.is_null(block_node):
        raise y.fail(
            where, f"expected each.{block_key} to not be nil: a {raw_type} needs a '{block_key}:' block"
        )
    b = y.mapping(block_node, bw)
    each = EachConfig(
        type=t,  # type: ignore[arg-type]
        path=y.strings(b.get("path"), f"{bw}.path"),
        labels_from_path=y.paths_map(b.get("labelsFromPath"), f"{bw}.labelsFromPath"),
    )
    if t == "gauge":
        return replace(
            each,
            value_from=y.strings(b.get("valueFrom"), f"{bw}.valueFrom"),
            label_from_key=y.string(b.get("labelFromKey"), f"{bw}.labelFromKey"),
            nil_is_zero=y.boolean(b.get("nilIsZero"), f"{bw}.nilIsZero"),
        )
    if t == "info":
        return replace(each, label_from_key=y.string(b.get("labelFromKey"), f"{bw}.labelFromKey"))
    return replace(
        each,
        value_from=y.strings(b.get("valueFrom"), f"{bw}.valueFrom"),
        states=y.strings(b.get("list"), f"{bw}.list"),
        label_name=y.string(b.get("labelName"), f"{bw}.labelName"),
    )


def _parse_resource(y: _Yaml, node: yaml.Node | None, where: str) -> ResourceConfig:
    m = y.mapping(node, where)
    g = y.mapping(m.get("groupVersionKind"), f"{where}.groupVersionKind")
    gvk = GroupVersionKind(
        group=y.string(g.get("group"), f"{where}.groupVersionKind.group"),
        version=y.string(g.get("version"), f"{where}.groupVersionKind.version"),
        kind=y.string(g.get("kind"), f"{where}.groupVersionKind.kind"),
    )
    metrics_node = m.get("metrics")
    if not y.is_null(metrics_node) and not isinstance(metrics_node, yaml.SequenceNode):
        raise y.fail(f"{where}.metrics", "expected a list of metrics")
    metrics = []
    for j, mn in enumerate(metrics_node.value if isinstance(metrics_node, yaml.SequenceNode) else []):
        mw = f"{where}.metrics[{j}]"
        mm = y.mapping(mn, mw)
        metrics.append(
            MetricConfig(
                name=y.string(mm.get("name"), f"{mw}.name"),
                help=y.string(mm.get("help"), f"{mw}.help"),
                each=_parse_each(y, mm.get("each"), f"{mw}.each"),
                common_labels=y.string_map(mm.get("commonLabels"), f"{mw}.commonLabels"),
                labels_from_path=y.paths_map(mm.get("labelsFromPath"), f"{mw}.labelsFromPath"),
                error_log_v=y.integer(mm.get("errorLogV"), f"{mw}.errorLogV"),
            )
        )
    return ResourceConfig(
        gvk=gvk,
        metrics=tuple(metrics),
        metric_name_prefix=y.optional_string(m.get("metricNamePrefix"), f"{where}.metricNamePrefix"),
        resource_plural=y.string(m.get("resourcePlural"), f"{where}.resourcePlural"),
        common_labels=y.string_map(m.get("commonLabels"), f"{where}.commonLabels"),
        labels_from_path=y.paths_map(m.get("labelsFromPath"), f"{where}.labelsFromPath"),
        error_log_v=y.integer(m.get("errorLogV"), f"{where}.errorLogV"),
    )


def _lint(res: ResourceConfig, where: str) -> list[str]:
    out = []
    if not res.gvk.group or res.gvk.group == "*":
        out.append(f"{where}: groupVersionKind.group is required (KSM resolves nothing without it)")
    for j, m in enumerate(res.metrics):
        mw = f"{where}.metrics[{j}]"
        if m.each.type == "info" and not m.name.endswith("_info"):
            out.append(f"{mw}: info metric {res.full_name(m.name)!r} does not have the _info suffix")
        names = [*res.common_labels, *m.common_labels]
        if m.each.label_from_key:
            names.append(m.each.label_from_key)
        if m.each.type == "stateset":
            names.append(m.each.label_name)
        names += [
            sanitize_label_name(k)
            for k in [*res.labels_from_path, *m.labels_from_path, *m.each.labels_from_path]
            if not (k.startswith("*") or k.endswith("*"))
        ]
        for n in names:
            if not _LABEL_NAME.match(n):
                out.append(
                    f"{mw}: label name {n!r} is not a valid Prometheus label name; Prometheus will reject the scrape"
                )
    return out


def parse_config(text: str, source: str = "<inline>") -> CRSConfig:
    """Parse a CRS configuration (KSM's schema); raises :class:`ConfigError` naming the field.

    Only the first YAML document is read and unknown keys are ignored, as in KSM. Every path is
    compiled here, so a bad list lookup fails at start-up rather than at the first object.
    """
    try:
        return _parse(text, source)
    except RecursionError:
        raise ConfigError(f"custom resource state config {source}: nested too deeply") from None
    except yaml.YAMLError as e:
        raise ConfigError(
            f"custom resource state config {source}: failed to parse Custom Resource State metrics: {e}"
        ) from None


def _parse(text: str, source: str) -> CRSConfig:
    y = _Yaml(source)
    root = next(iter(yaml.compose_all(text, Loader=YamlLoader)), None)
    if root is not None:
        try:
            check_node(root)  # bounded nesting and alias expansion, as for render's input files
        except InputError as e:
            raise ConfigError(f"custom resource state config {source}: {e}") from None
    if root is None:
        raise ConfigError(
            f"custom resource state config {source}: the document is empty; "
            f"expected 'kind: {CONFIG_KIND}' and 'spec.resources'"
        )
    top = y.mapping(root, "(document)")
    warnings: list[str] = []
    kind = y.string(top.get("kind"), "kind")
    if kind != CONFIG_KIND:
        warnings.append(f"kind is {kind!r}, expected {CONFIG_KIND!r} (ignored, as KSM does)")
    spec = y.mapping(top.get("spec"), "spec")
    res_node = spec.get("resources")
    if not y.is_null(res_node) and not isinstance(res_node, yaml.SequenceNode):
        raise y.fail("spec.resources", "expected a list of resources")
    resources = []
    for i, rn in enumerate(res_node.value if isinstance(res_node, yaml.SequenceNode) else []):
        where = f"spec.resources[{i}]"
        res = _parse_resource(y, rn, where)
        try:
            compile_families(res)
        except CRSError as e:
            raise y.fail(where, f"failed to create metrics factory for {res.gvk}: {e}") from None
        warnings += _lint(res, where)
        resources.append(res)
    return CRSConfig(resources=tuple(resources), warnings=tuple(warnings))
