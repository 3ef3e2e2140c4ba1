"""Compiled Custom Resource State metrics: what each ``each`` block finds in an object (gauges,
info series, state sets), KSM's ``scrapeValuesFor``, and one :class:`CompiledFamily` per
configured metric, which renders as a :class:`~kubescope.state.family.Family`."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kubescope.model.govalue import go_type_name
from kubescope.state.crs.paths import LabelPaths, ValuePath, compile_path
from kubescope.state.crs.schema import (
    LABEL_GROUP,
    LABEL_KIND,
    LABEL_VERSION,
    CRSType,
    EachConfig,
    ResourceConfig,
)
from kubescope.state.crs.values import CRSError, to_float
from kubescope.state.family import Family, MetricType
from kubescope.state.text import esc, gf

ErrorSink = Callable[[str, str, int], None]
"""``on_error(family_name, message, error_log_v)``: what KSM logs at verbosity ``errorLogV``."""

Labels = dict[str, str]
EachValue = tuple[Labels, float]


def _compare_key(ev: EachValue) -> list[tuple[str, str]]:
    # KSM's compareLabels: key by key, then value, over sorted keys; a prefix sorts first
    return sorted(ev[0].items())


class CompiledEach:
    """One ``each`` block: where to look (``path``) and how to turn what is there into values."""

    type: CRSType

    def __init__(self, path: ValuePath, labels: LabelPaths) -> None:
        self.path = path
        self.labels = labels

    def values(self, v: Any) -> tuple[list[EachValue], list[str]]:
        raise NotImplementedError


class CompiledGauge(CompiledEach):
    type: CRSType = "gauge"

    def __init__(
        self,
        path: ValuePath,
        labels: LabelPaths,
        value_from: ValuePath,
        nil_is_zero: bool,
        label_from_key: str,
    ) -> None:
        super().__init__(path, labels)
        self.value_from = value_from
        self.nil_is_zero = nil_is_zero
        self.label_from_key = label_from_key
        # KSM matches a map key against a one-element valueFrom by its text ("[ready]" -> "ready")
        only = value_from.parts[0] if len(value_from.parts) == 1 else ""
        self._key_is_value = only if only and "," not in only else None

    def _value(self, it: Any) -> tuple[EachValue | None, str | None]:
        got = self.value_from.get(it)
        if got is None:
            if self.nil_is_zero:
                return ({}, 0.0), None
            if it is None:
                return None, "got nil while resolving path"
            return None, None
        try:
            return ({}, to_float(got, self.nil_is_zero)), None
        except CRSError as e:
            return None, f"{self.value_from}: {e}"

    def values(self, v: Any) -> tuple[list[EachValue], list[str]]:
        out: list[EachValue] = []
        errs: list[str] = []
        where = str(self.path)
        if isinstance(v, dict):
            for key, it in v.items():
                ev: EachValue | None
                if self._key_is_value is not None and key == self._key_is_value:
                    try:
                        ev = ({}, to_float(it, self.nil_is_zero))
                    except CRSError as e:
                        errs.append(f"{where}: [{key}]: {e}")
                        continue
                else:
                    # KSM drops this element silently, even when resolving it failed
                    ev, _ = self._value(it)
                    if ev is None:
                        continue
                labels = ev[0]
                if key and self.label_from_key:
                    labels[self.label_from_key] = key
                self.labels.add(it, labels)
                # then again relative to the map itself: these win
                self.labels.add(v, labels)
                out.append(ev)
        elif isinstance(v, list):
            for i, it in enumerate(v):
                ev, err = self._value(it)
                if err is not None:
                    errs.append(f"{where}: [{i}]: {err}")
                    continue
                if ev is None:
                    continue
                self.labels.add(it, ev[0])
                out.append(ev)
        else:
            ev, err = self._value(v)
            if err is not None:
                errs.append(f"{where}: {err}")
            elif ev is not None:
                self.labels.add(v, ev[0])
                out.append(ev)
        return out, errs


class CompiledInfo(CompiledEach):
    type: CRSType = "info"

    def __init__(self, path: ValuePath, labels: LabelPaths, label_from_key: str) -> None:
        super().__init__(path, labels)
        self.label_from_key = label_from_key

    def _of(self, v: Any) -> list[EachValue]:
        if v is None:
            return []
        labels: Labels = {}
        self.labels.add(v, labels)
        return [(labels, 1.0)] if labels else []

    def values(self, v: Any) -> tuple[list[EachValue], list[str]]:
        if isinstance(v, list):
            return [ev for obj in v for ev in self._of(obj)], []
        if not isinstance(v, dict):
            return self._of(v), []
        whole = self._of(v)
        errs = [
            f"{self.path}: labelFromKey ({self.label_from_key}) generated labels conflict with labelsFromPath, "
            "consider renaming it"
            for labels, _ in whole
            if self.label_from_key in labels
        ]
        out: list[EachValue] = []
        for key, it in v.items():
            labels = {}
            if key and self.label_from_key:
                labels[self.label_from_key] = key
            self.labels.add(it, labels)
            if labels:
                out.append((labels, 1.0))
        out.extend(whole)
        return out, errs


class CompiledStateSet(CompiledEach):
    type: CRSType = "stateset"

    def __init__(
        self,
        path: ValuePath,
        labels: LabelPaths,
        value_from: ValuePath,
        label_name: str,
        states: Sequence[str],
    ) -> None:
        super().__init__(path, labels)
        self.value_from = value_from
        self.label_name = label_name
        self.states = tuple(states)
        full = path.parts + value_from.parts if len(value_from) else path.parts
        self._where = "[" + ",".join(full) + "]"

    def _of(self, v: Any) -> tuple[list[EachValue], list[str]]:
        current = self.value_from.get(v)
        if current is None:
            # not set yet (a status field at creation): no series, no error
            return [], []
        if not isinstance(current, str):
            return [], [f"{self._where}: expected value for path to be string, got {go_type_name(current)}"]
        out: list[EachValue] = []
        for state in self.states:
            labels = {self.label_name: state}
            self.labels.add(v, labels)
            out.append((labels, 1.0 if current == state else 0.0))
        return out, []

    def values(self, v: Any) -> tuple[list[EachValue], list[str]]:
        if not isinstance(v, list):
            return self._of(v)
        out: list[EachValue] = []
        errs: list[str] = []
        for obj in v:
            evs, e = self._of(obj)
            if e:
                errs.extend(e)
                continue
            out.extend(evs)
        return out, errs


def scrape_values(each: CompiledEach, obj: Any) -> tuple[list[EachValue], list[str]]:
    """KSM's ``scrapeValuesFor``: the (each-labels, value) pairs found at ``each.path`` of an
    object, sorted by labels, and the problems KSM would log."""
    found, errs = each.values(each.path.get(obj))
    found.sort(key=_compare_key)
    return found, errs


def _label_text(labels: Mapping[str, str]) -> str:
    return ",".join(f'{k}="{esc(labels[k])}"' for k in sorted(labels))


@dataclass(frozen=True, eq=False)
class CompiledFamily:
    """One configured metric of one resource, ready to render objects."""

    name: str
    help: str
    each: CompiledEach
    common_labels: Mapping[str, str]
    labels: LabelPaths
    error_log_v: int = 0

    def base_labels(self, obj: Mapping[str, Any]) -> Labels:
        out = dict(self.common_labels)
        self.labels.add(obj, out)
        return out

    def values(self, obj: Mapping[str, Any]) -> tuple[list[EachValue], list[str]]:
        return scrape_values(self.each, obj)

    def series(self, obj: Mapping[str, Any]) -> tuple[list[EachValue], list[str]]:
        """Every series' full label set (each-labels win over the base labels) and value."""
        found, errs = self.values(obj)
        if found:
            base = self.base_labels(obj)
            for labels, _ in found:
                for k, v in base.items():
                    labels.setdefault(k, v)
        return found, errs

    def render(self, obj: Mapping[str, Any], lp: str, on_error: ErrorSink | None = None) -> str:
        found, errs = self.series(obj)
        if errs and on_error is not None:
            for e in errs:
                on_error(self.name, e, self.error_log_v)
        out = []
        for labels, value in found:
            if labels:
                out.append(f"{lp}{_label_text(labels)}}} {gf(value)}\n")
            else:
                out.append(f"{lp[:-1]} {gf(value)}\n")
        return "".join(out)

    def family(self, on_error: ErrorSink | None = None) -> Family:
        def fn(o: Any, lp: str) -> str:  # an Unstructured
            return self.render(o.object, lp, on_error)

        t: MetricType = self.each.type
        return Family(self.name, self.help, t, "ALPHA", fn)


def _compile_label_paths(paths: Mapping[str, Sequence[str]], where: str) -> LabelPaths:
    out = {}
    for k, v in paths.items():
        try:
            out[k] = compile_path(v)
        except CRSError as e:
            raise CRSError(f"{where}: {k}: {e}") from None
    return LabelPaths(out)


def _compile_each(e: EachConfig) -> CompiledEach:
    block = {"gauge": "gauge", "info": "info", "stateset": "stateSet"}[e.type]
    try:
        path = compile_path(e.path)
    except CRSError as err:
        raise CRSError(f"each.{block}: path: {err}") from None
    labels = _compile_label_paths(e.labels_from_path, f"each.{block}: labelsFromPath")
    if e.type == "info":
        return CompiledInfo(path, labels, e.label_from_key)
    try:
        value_from = compile_path(e.value_from)
    except CRSError as err:
        raise CRSError(f"each.{block}.valueFrom: {err}") from None
    if e.type == "gauge":
        return CompiledGauge(path, labels, value_from, e.nil_is_zero, e.label_from_key)
    return CompiledStateSet(path, labels, value_from, e.label_name, e.states)


def compile_families(res: ResourceConfig) -> list[CompiledFamily]:
    """KSM's ``compile``: the GVK labels are added to the resource's common labels (a metric's own
    common labels and every path label still win over them), resource and metric labels merged."""
    common = dict(res.common_labels)
    common[LABEL_GROUP] = res.gvk.group
    common[LABEL_VERSION] = res.gvk.version
    common[LABEL_KIND] = res.gvk.kind
    out = []
    for m in res.metrics:
        try:
            each = _compile_each(m.each)
            labels = _compile_label_paths({**res.labels_from_path, **m.labels_from_path}, "labelsFromPath")
        except CRSError as e:
            raise CRSError(f"{m.name}: compiling metric: {e}") from None
        out.append(
            CompiledFamily(
                name=res.full_name(m.name),
                help=m.help,
                each=each,
                common_labels={**common, **m.common_labels},
                labels=labels,
                error_log_v=m.error_log_v or res.error_log_v,
            )
        )
    return out
