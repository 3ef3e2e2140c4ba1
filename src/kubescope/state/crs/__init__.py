"""Custom Resource State (CRS): kube-state-metrics' config-driven metrics for custom resources.

A YAML configuration (``kind: CustomResourceStateMetrics``, KSM's schema) names custom resources by
group/version/kind and says which fields become gauges, state sets or info series. The package is
pure, one module per step:

* :mod:`.config` parses and validates the configuration (:func:`parse_config`) into the data of
  :mod:`.schema`;
* :mod:`.paths` compiles paths and ``labelsFromPath``, :mod:`.values` turns a field into a sample
  value (KSM's ``toFloat64``, on top of Go's conversions in :mod:`kubescope.model`);
* :mod:`.compiled` compiles each configured metric (gauge, info, state set) into a family;
* :mod:`.resources` resolves wildcard versions and kinds against discovered CRDs
  (:func:`crd_kinds`, :func:`resolve`) and compiles every resource into a
  :class:`CustomResourceSpec`, a :class:`~kubescope.state.family.ResourceSpec` whose families
  render untyped objects (:class:`Unstructured`: the JSON object as plain dicts and lists, plus
  its typed metadata for the store). Semantics follow KSM v2.20 ``pkg/customresourcestate`` exactly,
including its quirks (see the notes at each step).

Example: with ``{group: myteam.io, version: v1, kind: Foo}``, ``labelsFromPath: {name: [metadata,
name]}`` and a gauge on ``[status, uptime]`` named ``uptime``::

    # HELP kube_customresource_uptime Foo uptime
    # TYPE kube_customresource_uptime gauge
    kube_customresource_uptime{customresource_group="myteam.io",customresource_kind="Foo",customresource_version="v1",name="foo"} 43.21

Labels of a series are sorted by name (KSM sorts them); there are no identity labels. ``Info``
and ``StateSet`` families keep their TYPE in OpenMetrics and are written as ``gauge`` in text.
"""

from kubescope.state.crs.compiled import (
    CompiledEach,
    CompiledFamily,
    CompiledGauge,
    CompiledInfo,
    CompiledStateSet,
    ErrorSink,
    compile_families,
    scrape_values,
)
from kubescope.state.crs.config import parse_config
from kubescope.state.crs.paths import LabelPaths, ValuePath, compile_path
from kubescope.state.crs.resources import (
    CustomResourceSpec,
    DiscoveredKind,
    Unstructured,
    compile_resource,
    crd_kinds,
    resolve,
    specs_for,
    unstructured_dec_hook,
)
from kubescope.state.crs.schema import (
    CRSConfig,
    EachConfig,
    GroupVersionKind,
    MetricConfig,
    ResourceConfig,
    pluralize,
)
from kubescope.state.crs.values import CRSError, to_float

__all__ = [
    "CRSConfig",
    "CRSError",
    "CompiledEach",
    "CompiledFamily",
    "CompiledGauge",
    "CompiledInfo",
    "CompiledStateSet",
    "CustomResourceSpec",
    "DiscoveredKind",
    "EachConfig",
    "ErrorSink",
    "GroupVersionKind",
    "LabelPaths",
    "MetricConfig",
    "ResourceConfig",
    "Unstructured",
    "ValuePath",
    "compile_families",
    "compile_path",
    "compile_resource",
    "crd_kinds",
    "parse_config",
    "pluralize",
    "resolve",
    "scrape_values",
    "specs_for",
    "to_float",
    "unstructured_dec_hook",
]
