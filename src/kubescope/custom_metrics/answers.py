"""Query results -> ``MetricValueList`` / ``ExternalMetricValueList`` bodies, and the no-data rules.

Values are prometheus-adapter's quantities: ``resource.NewMilliQuantity(int64(v*1000.0), DecimalSI)``
(``0.1`` -> ``100m``, ``2`` -> ``2``, ``1500`` -> ``1500``; the float product truncated toward zero,
as Go converts). Beyond int64 milli-units (|v| > 9.2e15), where Go's conversion overflows into a
negative number, the value is written in whole units instead.

Semantics, where kubescope is deliberately safer than the original:

* an object without a sample, or whose sample is NaN or ±Inf, has no value (the original writes NaN
  as ``0``); a request none of whose objects has a value is **NotFound**, so the HPA reports
  ``ScalingActive=False`` and does not act; the rule's ``nullAsZero: true`` answers ``0`` instead;
* a ``*`` request whose label selector matches no object is an empty list, not an error: nothing
  to measure (an HPA scaled to zero, or a selector that matches no pod yet);
* several series for one external request need the rule's ``seriesAggregation``
  (:func:`external_items`); ``each`` keeps one item per series as the original does.

Custom items are timestamped with the answer's time (``time.Now()`` in the original); external
items with the sample's time. No window is set, as in the original.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec

from kubescope.custom_metrics.mapper import ResourceInfo
from kubescope.model.quantity import format_decimal_si
from kubescope.model.timefmt import format_time

_INT64_LIMIT = float(1 << 63)


def milli_quantity(v: float) -> str:
    """``NewMilliQuantity(int64(v*1000.0), DecimalSI).String()`` for a finite ``v``."""
    m = v * 1000.0
    if abs(m) >= _INT64_LIMIT:
        return format_decimal_si(int(v), 0)
    return format_decimal_si(int(m), -3)


def usable(v: float) -> bool:
    return math.isfinite(v)


@dataclass(frozen=True, slots=True)
class Sample:
    labels: Mapping[str, str]
    value: float
    timestamp: float


class AnswerError(Exception):
    """A request that gets a Status instead of a list: ``code``, ``reason`` and a message."""

    def __init__(self, code: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message


def not_found(message: str) -> AnswerError:
    return AnswerError(404, "NotFound", message)


def values_by_name(samples: Sequence[Sample], label: str) -> dict[str, float]:
    """``MatchValuesToNames``: the value of each object name (the last sample wins)."""
    return {s.labels.get(label, ""): s.value for s in samples}


def custom_items(
    values: Mapping[str, float], names: Sequence[str], *, null_as_zero: bool
) -> list[tuple[str, float]]:
    """``(name, value)`` for each requested name that has a usable value, in request order."""
    out = []
    for n in names:
        v = values.get(n)
        if v is not None and usable(v):
            out.append((n, v))
        elif null_as_zero:
            out.append((n, 0.0))
    return out


def encode_custom(
    version: str,
    items: Sequence[tuple[str, float]],
    info: ResourceInfo,
    namespace: str,
    metric: str,
    selector: dict[str, Any] | None,
    now: float,
) -> bytes:
    ts = format_time(now)
    out_items = []
    for name, value in items:
        obj: dict[str, Any] = {"kind": info.kind}
        if namespace:
            obj["namespace"] = namespace
        obj["name"] = name
        obj["apiVersion"] = info.api_version
        if version == "v1beta1":
            out_items.append(
                {"describedObject": obj, "metricName": metric, "timestamp": ts, "value": milli_quantity(value),
                 "selector": selector}
            )  # fmt: skip
        else:
            out_items.append(
                {"describedObject": obj, "metric": {"name": metric, "selector": selector}, "timestamp": ts,
                 "value": milli_quantity(value)}
            )  # fmt: skip
    return msgspec.json.encode(
        {"kind": "MetricValueList", "apiVersion": f"custom.metrics.k8s.io/{version}", "metadata": {},
         "items": out_items}
    )  # fmt: skip


def _common_labels(samples: Sequence[Sample]) -> dict[str, str]:
    first = samples[0].labels
    return {k: v for k, v in first.items() if all(s.labels.get(k) == v for s in samples[1:])}


def external_items(
    samples: Sequence[Sample],
    *,
    aggregation: str,
    null_as_zero: bool,
    now: float,
    describe: str,
) -> list[Sample]:
    """The items of an external answer; raises :class:`AnswerError` (NotFound, or 500 for several
    series without an aggregation). ``describe`` names the metric, rule and request for messages."""
    good = [s for s in samples if usable(s.value)]
    if not good:
        if null_as_zero:
            return [Sample({}, 0.0, samples[0].timestamp if samples else now)]
        why = "the query returned no samples" if not samples else "every sample is NaN or infinite"
        raise not_found(f"the server could not find the metric {describe}: {why}")
    if len(good) == 1 or aggregation == "each":
        return good
    if not aggregation:
        raise AnswerError(
            500,
            "InternalError",
            f"external metric {describe}: the query returned {len(good)} series; an external metric must "
            "be one value (the HPA would add them up): aggregate in metricsQuery (e.g. sum(...)), narrow "
            "the HPA's metric.selector, or set seriesAggregation (sum, avg, min, max or each) on the rule",
        )
    values = [s.value for s in good]
    if aggregation == "sum":
        v = math.fsum(values)
    elif aggregation == "avg":
        v = math.fsum(values) / len(values)
    elif aggregation == "min":
        v = min(values)
    else:
        v = max(values)
    return [Sample(_common_labels(good), v, max(s.timestamp for s in good))]


def encode_external(metric: str, items: Sequence[Sample]) -> bytes:
    return msgspec.json.encode(
        {
            "kind": "ExternalMetricValueList",
            "apiVersion": "external.metrics.k8s.io/v1beta1",
            "metadata": {},
            "items": [
                {
                    "metricName": metric,
                    "metricLabels": dict(s.labels),
                    "timestamp": format_time(s.timestamp),
                    "value": milli_quantity(s.value),
                }
                for s in items
            ],
        }
    )


def empty_list(kind: str, api_version: str) -> bytes:
    return msgspec.json.encode({"kind": kind, "apiVersion": api_version, "metadata": {}, "items": []})
