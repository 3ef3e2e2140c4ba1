"""PromQL for one request: prometheus-adapter's ``metricsQuery.Build`` and ``BuildExternal``.

For a custom metric on objects ``n1, n2`` of a resource in namespace ``ns`` the template gets::

    Series             the Prometheus series name the metric was discovered from
    LabelMatchers      <metricLabelSelector matchers>,<ns label>="ns",<resource label>=~"n1|n2"
                       (``="n1"`` for one name)
    LabelValuesByName  {label: "value" or "n1|n2"} for each matcher
    GroupBy            <resource label>[,<extra>]   GroupBySlice: the same as a list

For an external metric: the ``labelSelector`` matchers, then ``<ns label>="ns"`` unless the rule says
``resources.namespaced: false``; ``GroupBy`` is empty and ``GroupBySlice`` ``[]``.

An empty query (the template printed nothing) is an error, as in the original.
"""

from __future__ import annotations

from collections.abc import Sequence

from kubescope.custom_metrics.gotemplate import Struct, Template, TemplateExecError
from kubescope.custom_metrics.mapper import NAMESPACES, GroupResource
from kubescope.custom_metrics.matchers import Requirement, label_eq, label_matches, to_matchers
from kubescope.custom_metrics.naming import BoundConverter


class QueryBuildError(ValueError):
    """The rule cannot produce a query for this request (no label for a resource, template error)."""


def build_query(
    template: Template,
    conv: BoundConverter,
    series: str,
    resource: GroupResource,
    namespace: str,
    metric_selector: Sequence[Requirement],
    names: Sequence[str],
    extra_group_by: Sequence[str] = (),
) -> tuple[str, str]:
    """The PromQL and the label that holds the object names in the result."""
    exprs, by_name = to_matchers(list(metric_selector))
    if namespace:
        ns_label = conv.label_for_resource(NAMESPACES)
        exprs.append(label_eq(ns_label, namespace))
        by_name[ns_label] = namespace
    resource_label = conv.label_for_resource(resource)
    target = "|".join(names)
    exprs.append(
        label_matches(resource_label, target) if len(names) > 1 else label_eq(resource_label, target)
    )
    by_name[resource_label] = target
    group_by = [resource_label, *extra_group_by]
    promql = _render(
        template,
        {
            "Series": series,
            "LabelMatchers": ",".join(exprs),
            "LabelValuesByName": by_name,
            "GroupBy": ",".join(group_by),
            "GroupBySlice": group_by,
        },
    )
    return promql, resource_label


def build_external(
    template: Template,
    conv: BoundConverter,
    series: str,
    namespace: str,
    metric_selector: Sequence[Requirement],
    *,
    namespaced: bool = True,
) -> str:
    exprs, by_name = to_matchers(list(metric_selector))
    if namespaced and namespace:
        ns_label = conv.label_for_resource(NAMESPACES)
        exprs.append(label_eq(ns_label, namespace))
        by_name[ns_label] = namespace
    return _render(
        template,
        {
            "Series": series,
            "LabelMatchers": ",".join(exprs),
            "LabelValuesByName": by_name,
            "GroupBy": "",
            "GroupBySlice": [],
        },
    )


def _render(template: Template, args: dict[str, object]) -> str:
    try:
        out = template.execute(Struct("naming.queryTemplateArgs", **args))
    except TemplateExecError as e:
        raise QueryBuildError(str(e)) from None
    if not out:
        raise QueryBuildError("empty query produced by metrics query template")
    return out
