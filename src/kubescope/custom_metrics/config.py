"""prometheus-adapter's configuration file (``pkg/config``), read as strictly as the original reads it.

The file is YAML (JSON works too) with ``rules``, ``externalRules`` and ``resourceRules``, decoded as
``yaml.UnmarshalStrict`` decodes it into the Go structs: unknown fields and duplicate keys are
errors, a scalar fills a string field with its text (``as: 1`` is ``"1"``), ``null`` is the zero
value, ``window`` is a Prometheus duration (``5m``, ``1h30m``). Every error names the file, the line,
the rule and the field (``config.yaml:14: rules[2].name.matches: ...``) and the fix.

kubescope reads four more optional fields per rule; prometheus-adapter would refuse them, so a file
using them is kubescope's own:

``nullAsZero: true``
    an empty result, NaN or ±Inf answers 0 instead of NotFound (KEDA's ``ignoreNullValues``).
``seriesAggregation: sum|avg|min|max|each``
    for ``externalRules``: how several series for one request become the answer. Without it
    several series are an error (the HPA would silently add them up); ``each`` keeps
    prometheus-adapter's one item per series.
``queryTimeout: 10s``
    this rule's Prometheus query timeout (default ``--query-timeout``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import yaml

from kubescope.errors import ConfigError

AGGREGATIONS = ("sum", "avg", "min", "max", "each")


@dataclass(frozen=True)
class GroupResourceRef:
    group: str = ""
    resource: str = ""


@dataclass(frozen=True)
class ResourceMapping:
    template: str = ""
    overrides: Mapping[str, GroupResourceRef] = field(default_factory=dict)
    namespaced: bool | None = None


@dataclass(frozen=True)
class NameMapping:
    matches: str = ""
    as_: str = ""


@dataclass(frozen=True)
class RegexFilter:
    is_: str = ""
    is_not: str = ""


@dataclass(frozen=True)
class DiscoveryRule:
    where: str = ""
    """Where the rule is, for messages: ``rules[2]`` or ``externalRules[0]`` (and the file line)."""
    series_query: str = ""
    series_filters: tuple[RegexFilter, ...] = ()
    resources: ResourceMapping = field(default_factory=ResourceMapping)
    name: NameMapping = field(default_factory=NameMapping)
    metrics_query: str = ""
    null_as_zero: bool = False
    series_aggregation: str = ""
    query_timeout: float | None = None


@dataclass(frozen=True)
class ResourceRule:
    container_query: str = ""
    node_query: str = ""
    resources: ResourceMapping = field(default_factory=ResourceMapping)
    container_label: str = ""


@dataclass(frozen=True)
class ResourceRules:
    cpu: ResourceRule = field(default_factory=ResourceRule)
    memory: ResourceRule = field(default_factory=ResourceRule)
    window: float = 0.0
    """Seconds."""


@dataclass(frozen=True)
class MetricsConfig:
    rules: tuple[DiscoveryRule, ...] = ()
    external_rules: tuple[DiscoveryRule, ...] = ()
    resource_rules: ResourceRules | None = None
    source: str = ""


# -- Prometheus durations -------------------------------------------------------------------------

_PROM_UNITS = (("y", 365 * 86400.0), ("w", 7 * 86400.0), ("d", 86400.0), ("h", 3600.0), ("m", 60.0),
               ("s", 1.0), ("ms", 0.001))  # fmt: skip


def parse_prom_duration(text: str) -> float:
    """``model.ParseDuration``: ``1y2w3d4h5m6s7ms`` (units in that order, each at most once), or ``0``."""
    if text == "0":
        return 0.0
    m = re.fullmatch(r"(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?", text)
    if not text or m is None:
        raise ValueError(f'not a valid duration string: "{text}"')
    return sum(int(g) * unit for g, (_, unit) in zip(m.groups(), _PROM_UNITS, strict=True) if g)


def format_prom_duration(seconds: float) -> str:
    """``model.Duration.String()``: ``5m``, ``1h30m``, ``0s``."""
    ms = round(seconds * 1000)
    if ms == 0:
        return "0s"
    out = []
    for suffix, unit in _PROM_UNITS:
        unit_ms = round(unit * 1000)
        if ms >= unit_ms:
            out.append(f"{ms // unit_ms}{suffix}")
            ms %= unit_ms
    return "".join(out)


# -- strict YAML decoding -------------------------------------------------------------------------

_STR = "tag:yaml.org,2002:str"
_NULL = "tag:yaml.org,2002:null"
_BOOL = "tag:yaml.org,2002:bool"


class _Decoder:
    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, node: yaml.Node | None, path: str, msg: str) -> ConfigError:
        line = f":{node.start_mark.line + 1}" if node is not None else ""
        return ConfigError(f"{self.source}{line}: {path}: {msg}")

    def mapping(self, node: yaml.Node, path: str, go_type: str, known: set[str]) -> dict[str, yaml.Node]:
        if node.tag == _NULL:
            return {}
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, path, f"cannot unmarshal {_short(node)} into {go_type}: expected a mapping")
        yaml.constructor.SafeConstructor().flatten_mapping(node)
        out: dict[str, yaml.Node] = {}
        for k, v in node.value:
            key = k.value if isinstance(k, yaml.ScalarNode) else None
            if key is None:
                raise self.fail(k, path, "mapping keys must be strings")
            if key in out:
                raise self.fail(k, f"{path}.{key}" if path else key, f'key "{key}" already set in map')
            if known and key not in known:
                raise self.fail(
                    k,
                    f"{path}.{key}" if path else key,
                    f"field {key} not found in type {go_type} (known fields: {', '.join(sorted(known))})",
                )
            out[key] = v
        return out

    def string(self, node: yaml.Node | None, path: str) -> str:
        if node is None or node.tag == _NULL:
            return ""
        if not isinstance(node, yaml.ScalarNode):
            raise self.fail(node, path, f"cannot unmarshal {_short(node)} into string")
        return str(node.value)

    def boolean(self, node: yaml.Node | None, path: str) -> bool | None:
        if node is None or node.tag == _NULL:
            return None
        if not isinstance(node, yaml.ScalarNode) or node.tag != _BOOL:
            raise self.fail(
                node, path, f"cannot unmarshal {_short(node)} `{_text(node)}` into bool: use true or false"
            )
        return bool(yaml.constructor.SafeConstructor().construct_yaml_bool(node))

    def duration(self, node: yaml.Node | None, path: str) -> float | None:
        if node is None or node.tag == _NULL:
            return None
        text = self.string(node, path)
        try:
            return parse_prom_duration(text)
        except ValueError as e:
            raise self.fail(node, path, f'{e}: use a duration such as "5m", "30s" or "1h30m"') from None

    def sequence(self, node: yaml.Node | None, path: str) -> list[yaml.Node]:
        if node is None or node.tag == _NULL:
            return []
        if not isinstance(node, yaml.SequenceNode):
            raise self.fail(node, path, f"cannot unmarshal {_short(node)} into a list")
        return list(node.value)


def _short(node: yaml.Node) -> str:
    return "!!" + node.tag.rsplit(":", 1)[-1] if node.tag.startswith("tag:yaml.org,2002:") else node.tag


def _text(node: yaml.Node) -> str:
    return str(node.value) if isinstance(node, yaml.ScalarNode) else "..."


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _resource_mapping(d: _Decoder, node: yaml.Node | None, path: str) -> ResourceMapping:
    if node is None:
        return ResourceMapping()
    m = d.mapping(node, path, "config.ResourceMapping", {"template", "overrides", "namespaced"})
    overrides: dict[str, GroupResourceRef] = {}
    ov_path = _join(path, "overrides")
    if "overrides" in m:
        for label, gr_node in d.mapping(
            m["overrides"], ov_path, "map[string]config.GroupResource", set()
        ).items():
            p = f"{ov_path}.{label}"
            gr = d.mapping(gr_node, p, "config.GroupResource", {"group", "resource"})
            ref = GroupResourceRef(
                d.string(gr.get("group"), p + ".group"), d.string(gr.get("resource"), p + ".resource")
            )
            if not ref.resource:
                raise d.fail(
                    gr_node,
                    p + ".resource",
                    "empty: name the Kubernetes resource this label holds, e.g. {resource: pod}",
                )
            overrides[label] = ref
    return ResourceMapping(
        template=d.string(m.get("template"), _join(path, "template")),
        overrides=overrides,
        namespaced=d.boolean(m.get("namespaced"), _join(path, "namespaced")),
    )


_RULE_FIELDS = {"seriesQuery", "seriesFilters", "resources", "name", "metricsQuery",
                "nullAsZero", "seriesAggregation", "queryTimeout"}  # fmt: skip


def _rule(d: _Decoder, node: yaml.Node, where: str) -> DiscoveryRule:
    m = d.mapping(node, where, "config.DiscoveryRule", _RULE_FIELDS)
    filters = []
    for i, f_node in enumerate(d.sequence(m.get("seriesFilters"), f"{where}.seriesFilters")):
        p = f"{where}.seriesFilters[{i}]"
        f = d.mapping(f_node, p, "config.RegexFilter", {"is", "isNot"})
        filters.append(RegexFilter(d.string(f.get("is"), p + ".is"), d.string(f.get("isNot"), p + ".isNot")))
    name = NameMapping()
    if "name" in m:
        n = d.mapping(m["name"], f"{where}.name", "config.NameMapping", {"matches", "as"})
        name = NameMapping(
            d.string(n.get("matches"), f"{where}.name.matches"), d.string(n.get("as"), f"{where}.name.as")
        )
    aggregation = d.string(m.get("seriesAggregation"), f"{where}.seriesAggregation")
    if aggregation and aggregation not in AGGREGATIONS:
        raise d.fail(
            m["seriesAggregation"],
            f"{where}.seriesAggregation",
            f"{aggregation!r} is not one of {', '.join(AGGREGATIONS)}",
        )
    timeout = d.duration(m.get("queryTimeout"), f"{where}.queryTimeout")
    if timeout is not None and timeout <= 0:
        raise d.fail(m["queryTimeout"], f"{where}.queryTimeout", "must be positive, e.g. 5s")
    line = node.start_mark.line + 1
    return DiscoveryRule(
        where=f"{where} (line {line})",
        series_query=d.string(m.get("seriesQuery"), f"{where}.seriesQuery"),
        series_filters=tuple(filters),
        resources=_resource_mapping(d, m.get("resources"), f"{where}.resources"),
        name=name,
        metrics_query=d.string(m.get("metricsQuery"), f"{where}.metricsQuery"),
        null_as_zero=bool(d.boolean(m.get("nullAsZero"), f"{where}.nullAsZero")),
        series_aggregation=aggregation,
        query_timeout=timeout,
    )


def _resource_rule(d: _Decoder, node: yaml.Node | None, path: str) -> ResourceRule:
    if node is None:
        return ResourceRule()
    m = d.mapping(
        node, path, "config.ResourceRule", {"containerQuery", "nodeQuery", "resources", "containerLabel"}
    )
    return ResourceRule(
        container_query=d.string(m.get("containerQuery"), path + ".containerQuery"),
        node_query=d.string(m.get("nodeQuery"), path + ".nodeQuery"),
        resources=_resource_mapping(d, m.get("resources"), path + ".resources"),
        container_label=d.string(m.get("containerLabel"), path + ".containerLabel"),
    )


def parse_config(text: str, source: str = "config") -> MetricsConfig:
    """Decode a configuration; raise :class:`ConfigError` naming the line, rule and field."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as e:
        raise ConfigError(f"{source}: unable to parse metrics discovery config: {e}") from None
    d = _Decoder(source)
    if root is None:
        return MetricsConfig(source=source)
    top = d.mapping(root, "", "config.MetricsDiscoveryConfig", {"rules", "externalRules", "resourceRules"})
    rules = tuple(_rule(d, n, f"rules[{i}]") for i, n in enumerate(d.sequence(top.get("rules"), "rules")))
    external = tuple(
        _rule(d, n, f"externalRules[{i}]")
        for i, n in enumerate(d.sequence(top.get("externalRules"), "externalRules"))
    )
    resource_rules = None
    rr_node = top.get("resourceRules")
    if rr_node is not None and rr_node.tag != _NULL:
        rr = d.mapping(rr_node, "resourceRules", "config.ResourceRules", {"cpu", "memory", "window"})
        resource_rules = ResourceRules(
            cpu=_resource_rule(d, rr.get("cpu"), "resourceRules.cpu"),
            memory=_resource_rule(d, rr.get("memory"), "resourceRules.memory"),
            window=d.duration(rr.get("window"), "resourceRules.window") or 0.0,
        )
    return MetricsConfig(rules=rules, external_rules=external, resource_rules=resource_rules, source=source)


def load_config(path: str) -> MetricsConfig:
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise ConfigError(f"--config={path}: unable to load metrics discovery config file: {e}") from None
    except UnicodeDecodeError as e:
        raise ConfigError(f"--config={path}: not UTF-8 text: {e}") from None
    return parse_config(text, path)
