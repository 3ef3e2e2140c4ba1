"""Kubernetes label selectors as Prometheus label matchers, exactly as prometheus-adapter turns them.

A ``metricLabelSelector`` (custom metrics) or ``labelSelector`` (external metrics: the HPA's
``metric.selector``) is parsed as ``labels.Parse`` does (requirements sorted by key, values sorted),
then each requirement becomes one matcher (``pkg/naming/metrics_query.go``)::

    k=v, k==v        k="v"          k in (a,b)    k=~"a|b"       k            k!=""
    k!=v             k!="v"         k notin (a)   k!~"a"         !k           k=""
    k in (v)         k=~"v"         k>1, k<1      400: Prometheus has no numeric label matchers

Values are quoted with Go's ``%q``; several values are joined by ``|`` into a regular expression, as
the original does (so ``in`` values are regular expressions too). A key that is not a Prometheus label
name (``app.kubernetes.io/name``) is refused with 400 instead of failing inside Prometheus.

:func:`to_label_selector` is ``metav1.ParseToLabelSelector``: the ``selector`` field of a
``MetricValue`` (``matchLabels`` for ``=``, ``matchExpressions`` for the rest; ``!=`` is written as
``NotIn``, where the original fails the whole request).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from kubescope.apiserver.selectors import SelectorError, parse_label_selector
from kubescope.apiserver.status import go_quote

_TOKEN = re.compile(r"\s*(?:(!=|==|=|!|\(|\)|,|>|<)|([^\s!=(),<>]+))")
_PROM_LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*\Z")
_OPS = frozenset({"!=", "==", "=", "!", "(", ")", ",", ">", "<"})


@dataclass(frozen=True, slots=True)
class Requirement:
    key: str
    op: str
    """``=``, ``==``, ``!=``, ``in``, ``notin``, ``exists``, ``!``, ``>`` or ``<`` as written."""
    values: tuple[str, ...] = ()
    """Sorted, as ``Requirement.Values().List()`` returns them."""


def parse_requirements(selector: str) -> list[Requirement]:
    """Requirements of a label selector with their operators as written, sorted by key.

    Raises :class:`~kubescope.apiserver.selectors.SelectorError` with the API server's message for
    an invalid selector.
    """
    if not selector.strip():
        return []
    parse_label_selector(selector)  # validates with Kubernetes' rules and messages
    toks = [m.group(1) or m.group(2) for m in _TOKEN.finditer(selector) if m.group(1) or m.group(2)]
    out: list[Requirement] = []
    i = 0
    n = len(toks)
    while i < n:
        if toks[i] == "!":
            out.append(Requirement(toks[i + 1], "!"))
            i += 2
        else:
            key = toks[i]
            i += 1
            if i >= n or toks[i] == ",":
                out.append(Requirement(key, "exists"))
            else:
                op = toks[i]
                i += 1
                if op in ("in", "notin"):
                    values: set[str] = set()
                    i += 1  # "("
                    expect_value = True
                    while toks[i] != ")":
                        if toks[i] == ",":
                            if expect_value:
                                values.add("")
                            expect_value = True
                        else:
                            values.add(toks[i])
                            expect_value = False
                        i += 1
                    if expect_value and values:
                        values.add("")
                    i += 1  # ")"
                    out.append(Requirement(key, op, tuple(sorted(values))))
                else:
                    value = ""
                    if i < n and toks[i] not in _OPS:
                        value = toks[i]
                        i += 1
                    out.append(Requirement(key, op, (value,)))
        i += 1  # ","
    out.sort(key=lambda r: r.key)
    return out


class MatcherError(ValueError):
    """A selector cannot be expressed as Prometheus matchers (400 Bad Request)."""


def label_eq(label: str, value: str) -> str:
    return f"{label}={go_quote(value)}"


def label_neq(label: str, value: str) -> str:
    return f"{label}!={go_quote(value)}"


def label_matches(label: str, value: str) -> str:
    return f"{label}=~{go_quote(value)}"


def label_not_matches(label: str, value: str) -> str:
    return f"{label}!~{go_quote(value)}"


def to_matchers(reqs: list[Requirement]) -> tuple[list[str], dict[str, str]]:
    """``processQueryParts``: the matcher expressions and ``LabelValuesByName``."""
    exprs: list[str] = []
    by_name: dict[str, str] = {}
    for r in reqs:
        if r.op in (">", "<"):
            raise MatcherError(
                f"label selector {r.key}{r.op}{r.values[0] if r.values else ''}: operator {r.op} "
                "is not supported by Prometheus label matchers"
            )
        if not _PROM_LABEL.match(r.key):
            raise MatcherError(
                f"label selector key {r.key!r} is not a valid Prometheus label name "
                "(letters, digits and underscores, not starting with a digit)"
            )
        exprs.append(_matcher(r))
        by_name[r.key] = "|".join(r.values)
    return exprs, by_name


def _matcher(r: Requirement) -> str:
    values = r.values
    if r.op == "exists":
        return label_neq(r.key, "")
    if r.op == "!":
        return label_eq(r.key, "")
    target = "|".join(values)
    if len(values) == 1:
        if r.op in ("=", "=="):
            return label_eq(r.key, target)
        if r.op == "!=":
            return label_neq(r.key, target)
        if r.op == "in":
            return label_matches(r.key, target)
        return label_not_matches(r.key, target)  # notin
    if r.op in ("=", "==", "in"):
        return label_matches(r.key, target)
    return label_not_matches(r.key, target)


def to_label_selector(reqs: list[Requirement]) -> dict[str, Any] | None:
    """``metav1.ParseToLabelSelector`` of a non-empty selector (None for an empty one)."""
    if not reqs:
        return None
    match_labels: dict[str, str] = {}
    exprs: list[dict[str, Any]] = []
    ops = {"in": "In", "notin": "NotIn", "!=": "NotIn", "exists": "Exists", "!": "DoesNotExist"}
    for r in reqs:
        if r.op in ("=", "=="):
            match_labels[r.key] = r.values[0]
            continue
        e: dict[str, Any] = {"key": r.key, "operator": ops[r.op]}
        if r.values:
            e["values"] = list(r.values)
        exprs.append(e)
    out: dict[str, Any] = {}
    if match_labels:
        out["matchLabels"] = match_labels
    if exprs:
        out["matchExpressions"] = exprs
    return out


__all__ = [
    "MatcherError",
    "Requirement",
    "SelectorError",
    "label_eq",
    "label_matches",
    "parse_requirements",
    "to_label_selector",
    "to_matchers",
]
