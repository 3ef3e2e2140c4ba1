"""Rules compiled: series filters, metric names, and the resource <-> label conversion
(prometheus-adapter's ``pkg/naming``: ``metric_namer.go``, ``resource_converter.go``, ``lbl_res.go``).

* :class:`MetricNamer` is one rule: which series it takes (``seriesQuery``, ``seriesFilters`` and the
  implicit ``name.matches`` filter), what the API calls them (``name.as``, Go's ``Regexp.Expand``:
  ``$1``, ``${1}``, ``$name``; ``$1x`` means the group named ``1x``), and its query template.
* :class:`ResourceConverter` maps Prometheus labels to Kubernetes group-resources and back: the
  ``overrides`` first, then the ``template`` (``kube_<<.Group>>_<<.Resource>>``: a label matching the
  template's form names the resource; a resource's label is the template run on its sanitised group
  and singular name). Names are normalised through the cluster's :class:`~kubescope.custom_metrics.mapper.RESTMapper`,
  so ``pod``, ``pods`` and ``Pod`` are one resource; :meth:`ResourceConverter.bind` ties a converter
  to one mapper generation (an override naming a resource the cluster does not serve yet waits in
  ``unresolved`` for a later discovery).

Regular expressions use the ``regex`` module, closer to Go's RE2 syntax than ``re`` (``\\pL``,
``[[:alpha:]]``); matching is unanchored and leftmost-first, as Go's ``MatchString`` is.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import regex

from kubescope.custom_metrics.config import DiscoveryRule, GroupResourceRef, RegexFilter, ResourceMapping
from kubescope.custom_metrics.gotemplate import Struct, Template, TemplateError, TemplateExecError, parse
from kubescope.custom_metrics.mapper import CLUSTER_ONLY, GroupResource, NoMatch, RESTMapper
from kubescope.errors import ConfigError


class ConversionError(ValueError):
    """No label for a resource, or no resource for a label."""


def go_regex(pattern: str) -> regex.Pattern[str]:
    """Compile a Go (RE2) regular expression; ``regex.error`` when it is not one."""
    return regex.compile(pattern, regex.VERSION0)


def _word_char(ch: str) -> bool:
    """Go's ``unicode.IsLetter || unicode.IsDigit || '_'``."""
    return ch == "_" or ch.isalpha() or unicodedata.category(ch) == "Nd"


def _extract(template: str, i: int) -> tuple[str, int] | None:
    """Go's ``extract``: the name after ``$`` at ``i`` (``name``, ``{name}``) and the index after it."""
    if i >= len(template):
        return None
    brace = template[i] == "{"
    j = i + 1 if brace else i
    k = j
    while k < len(template) and _word_char(template[k]):
        k += 1
    if k == j:
        return None
    name = template[j:k]
    if brace:
        if k >= len(template) or template[k] != "}":
            return None
        k += 1
    return name, k


def go_expand(template: str, match: regex.Match[str]) -> str:
    """``Regexp.ExpandString``: ``$1``, ``${1}``, ``$name``, ``${name}``, ``$$``; unknown names are empty."""
    out: list[str] = []
    i = 0
    n = len(template)
    names = match.re.groupindex
    while i < n:
        d = template.find("$", i)
        if d < 0:
            out.append(template[i:])
            break
        out.append(template[i:d])
        if d + 1 < n and template[d + 1] == "$":
            out.append("$")
            i = d + 2
            continue
        got = _extract(template, d + 1)
        if got is None:
            out.append("$")  # malformed: the $ stays as text
            i = d + 1
            continue
        name, i = got
        if name.isdigit() and name.isascii() and not (name[0] == "0" and len(name) > 1) and len(name) < 9:
            num = int(name)
            if num <= match.re.groups:
                out.append(match.group(num) or "")
        elif name in names:
            out.append(match.group(name) or "")
    return "".join(out)


@dataclass(frozen=True)
class ReMatcher:
    pattern: regex.Pattern[str]
    positive: bool

    def matches(self, value: str) -> bool:
        return (self.pattern.search(value) is not None) == self.positive


def _re_matcher(f: RegexFilter, where: str) -> ReMatcher:
    if f.is_ and f.is_not:
        raise ConfigError(
            f"{where}: cannot have both an `is` ({f.is_!r}) and `isNot` ({f.is_not!r}) expression in a single filter"
        )
    if not f.is_ and not f.is_not:
        raise ConfigError(f"{where}: must have either an `is` or `isNot` expression in a filter")
    raw = f.is_ or f.is_not
    try:
        return ReMatcher(go_regex(raw), bool(f.is_))
    except regex.error as e:
        raise ConfigError(f"{where}: unable to compile series filter {raw!r}: {e}") from None


SANITIZE = str.maketrans({".": "_", "-": "_"})


@dataclass
class ResourceConverter:
    """The label <-> resource mapping of one rule, independent of the cluster."""

    where: str
    template: Template | None
    extractor: regex.Pattern[str] | None
    overrides: Mapping[str, GroupResourceRef]

    def bind(self, mapper: RESTMapper) -> BoundConverter:
        return BoundConverter(self, mapper)


def converter_from_config(cfg: ResourceMapping, where: str) -> ResourceConverter:
    template = extractor = None
    if cfg.template:
        try:
            template = parse(cfg.template, "resource-label")
            probe = template.execute(
                Struct("schema.GroupResource", Group="(?P<group>.+?)", Resource="(?P<resource>.+?)")
            )
        except (TemplateError, TemplateExecError) as e:
            raise ConfigError(
                f"{where}.template: unable to parse label template {cfg.template!r}: {e}"
            ) from None
        if not probe:
            raise ConfigError(
                f"{where}.template: unable to convert label template to matcher: empty template"
            )
        try:
            extractor = go_regex("^" + probe + "$")
        except regex.error as e:
            raise ConfigError(f"{where}.template: unable to convert label template to matcher: {e}") from None
        if "resource" not in extractor.groupindex:
            raise ConfigError(
                f"{where}.template: must include at least `<<.Resource>>` in the label template"
            )
    return ResourceConverter(where, template, extractor, dict(cfg.overrides))


@dataclass
class BoundConverter:
    """A converter resolved against one :class:`RESTMapper`; caches what it learns."""

    conv: ResourceConverter
    mapper: RESTMapper
    label_to_resource: dict[str, GroupResource] = field(default_factory=dict)
    resource_to_label: dict[GroupResource, str] = field(default_factory=dict)
    unresolved: list[str] = field(default_factory=list)
    _template_miss: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        for label, ref in self.conv.overrides.items():
            try:
                gr = self.mapper.normalized(GroupResource(ref.group, ref.resource))
            except NoMatch:
                self.unresolved.append(f"{label}: {GroupResource(ref.group, ref.resource)}")
                continue
            self.label_to_resource[label] = gr
            self.resource_to_label[gr] = label

    def label_for_resource(self, gr: GroupResource) -> str:
        """``LabelForResource``: the override's label, else the template run on the resource."""
        label = self.resource_to_label.get(gr)
        if label is not None:
            return label
        if self.conv.template is None:
            raise ConversionError(
                f"unable to convert resource {gr} into label: no generic resource label form specified for this metric"
            )
        try:
            singular = self.mapper.singular(gr.resource)
        except NoMatch as e:
            raise ConversionError(
                f"unable to convert resource {gr} into label: unable to singularize resource {gr}: {e}"
            ) from None
        try:
            label = self.conv.template.execute(
                Struct("schema.GroupResource", Group=gr.group.translate(SANITIZE), Resource=singular)
            )
        except TemplateExecError as e:
            raise ConversionError(f"unable to convert resource {gr} into label: {e}") from None
        if not label:
            raise ConversionError(
                f"unable to convert resource {gr} into label: empty label produced by label template"
            )
        self.resource_to_label[gr] = label
        self.label_to_resource[label] = gr
        return label

    def resource_for_label(self, label: str) -> GroupResource | None:
        gr = self.label_to_resource.get(label)
        if gr is not None or self.conv.extractor is None or label in self._template_miss:
            return gr
        m = self.conv.extractor.match(label)
        if m is not None:
            group = m.group("group") if "group" in self.conv.extractor.groupindex else ""
            try:
                gr = self.mapper.normalized(GroupResource(group or "", m.group("resource")))
            except NoMatch:
                gr = None
        if gr is None:
            self._template_miss.add(label)
        else:
            self.label_to_resource[label] = gr
        return gr

    def resources_for_series(self, labels: Iterable[str]) -> tuple[list[GroupResource], bool]:
        """``ResourcesForSeries``: the resources a series' labels name, and whether it is namespaced
        (any label other than one naming namespaces, nodes or persistent volumes makes it so)."""
        out: list[GroupResource] = []
        namespaced = False
        for label in labels:
            gr = self.resource_for_label(label)
            if gr is not None:
                out.append(gr)
            if gr not in CLUSTER_ONLY:
                namespaced = True
        return out, namespaced


@dataclass
class MetricNamer:
    """One rule (``rules[i]`` or ``externalRules[i]``), compiled."""

    rule: DiscoveryRule
    filters: list[ReMatcher]
    name_matches: regex.Pattern[str]
    name_as: str
    query: Template
    converter: ResourceConverter
    namespaced: bool
    """``resources.namespaced`` (external rules): add the request's namespace to the matchers."""

    @property
    def where(self) -> str:
        return self.rule.where

    @property
    def series_query(self) -> str:
        return self.rule.series_query

    def accepts(self, series_name: str) -> bool:
        """``FilterSeries`` for one name: every filter, including the implicit ``name.matches``."""
        return all(f.matches(series_name) for f in self.filters)

    def metric_name(self, series_name: str) -> str | None:
        """``MetricNameForSeries``; None when ``name.matches`` does not match."""
        m = self.name_matches.search(series_name)
        if m is None:
            return None
        return go_expand(self.name_as, m)


_SAMPLE_ARGS = {
    "Series": "series",
    "LabelMatchers": 'namespace="default",pod="p"',
    "LabelValuesByName": {"namespace": "default", "pod": "p"},
    "GroupBy": "pod",
    "GroupBySlice": ["pod"],
}


def namer_from_rule(rule: DiscoveryRule) -> MetricNamer:
    """``NamersFromConfig`` for one rule; every error names the rule and the field."""
    w = rule.where
    if not rule.series_query.strip():
        raise ConfigError(
            f"{w}.seriesQuery: empty: give a Prometheus series selector, e.g. '{{__name__=~\"^http_.*\"}}'"
        )
    if not rule.metrics_query.strip():
        raise ConfigError(
            f"{w}.metricsQuery: empty: every query of this rule would fail; give a template such as "
            "'sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)'"
        )
    converter = converter_from_config(rule.resources, f"{w}.resources")
    try:
        query = parse(rule.metrics_query, "metrics-query")
    except TemplateError as e:
        raise ConfigError(f"{w}.metricsQuery: unable to parse metrics query template: {e}") from None
    try:
        query.execute(Struct("naming.queryTemplateArgs", **_SAMPLE_ARGS))
    except TemplateExecError as e:
        from kubescope.custom_metrics.gotemplate import FieldError

        if isinstance(e, FieldError):
            raise ConfigError(
                f"{w}.metricsQuery: {e} (the fields are .Series, .LabelMatchers, .LabelValuesByName, "
                ".GroupBy and .GroupBySlice)"
            ) from None
    filters = [_re_matcher(f, f"{w}.seriesFilters[{i}]") for i, f in enumerate(rule.series_filters)]
    if rule.name.matches:
        filters.append(_re_matcher(RegexFilter(is_=rule.name.matches), f"{w}.name.matches"))
    pattern = rule.name.matches or ".*"
    try:
        name_matches = go_regex(pattern)
    except regex.error as e:
        raise ConfigError(
            f"{w}.name.matches: unable to compile series name match expression {pattern!r}: {e}"
        ) from None
    name_as = rule.name.as_
    if not name_as:
        groups = name_matches.groups
        if groups == 0:
            name_as = "$0"
        elif groups == 1:
            name_as = "$1"
        else:
            raise ConfigError(
                f"{w}.name.as: must specify an 'as' value for name matcher {pattern!r} (it has {groups} capture groups)"
            )
    namespaced = True if rule.resources.namespaced is None else rule.resources.namespaced
    return MetricNamer(rule, filters, name_matches, name_as, query, converter, namespaced)
