"""CRS paths, label extraction and value resolution: the cases of KSM's
``pkg/customresourcestate/registry_factory_test.go`` (v2.20), plus Go conversion details.

KSM's test object goes through ``encoding/json`` into ``interface{}``, so all its numbers are
float64 (an error says "got float64"); :data:`CR` is decoded the same way here.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from kubescope.model.govalue import go_string
from kubescope.model.quantity import QuantityError, approximate_float
from kubescope.state.crs import (
    CompiledEach,
    CompiledFamily,
    CompiledGauge,
    CompiledInfo,
    CompiledStateSet,
    CRSError,
    EachConfig,
    GroupVersionKind,
    LabelPaths,
    MetricConfig,
    ResourceConfig,
    compile_families,
    compile_path,
    scrape_values,
    to_float,
)

CR: dict[str, Any] = json.loads(
    """
    {
      "spec": {
        "replicas": 1,
        "version": "v0.0.0",
        "order": [{"id": 1, "value": true}, {"id": 3, "value": false}]
      },
      "status": {
        "active": {"type-a": 1, "type-b": 3},
        "phase": "foo",
        "sub": {"type-a": {"active": 1, "ready": 2}, "type-b": {"active": 3, "ready": 4}},
        "uptime": 43.21,
        "quantity_milli": "250m",
        "quantity_binarySI": "5Gi",
        "percentage": "28%",
        "condition_values": [{"name": "a", "value": 45}, {"name": "b", "value": 66}],
        "conditions": [{"type": "Ready", "status": "True"}, {"type": "Provisioned", "status": "False"}]
      },
      "metadata": {
        "name": "foo",
        "labels": {"foo": "bar"},
        "annotations": {"qux": "quxx", "bar": "baz"},
        "percentage": "39%",
        "creationTimestamp": "2022-06-28T00:00:00Z"
      }
    }
    """,
    parse_int=float,
)


def P(*parts: str) -> Any:
    return compile_path(parts)


def L(**paths: Any) -> LabelPaths:
    return LabelPaths(paths)


def ev(value: float, *labels: str) -> tuple[dict[str, str], float]:
    return dict(zip(labels[::2], labels[1::2], strict=True)), value


def gauge(path: Any, labels: LabelPaths | None = None, value_from: Any = None, **kw: Any) -> CompiledGauge:
    return CompiledGauge(
        path, labels or L(), value_from or P(), kw.get("nil_is_zero", False), kw.get("label_from_key", "")
    )


def info(path: Any, labels: LabelPaths | None = None, label_from_key: str = "") -> CompiledInfo:
    return CompiledInfo(path, labels or L(), label_from_key)


def stateset(path: Any, states: list[str], value_from: Any = None) -> CompiledStateSet:
    return CompiledStateSet(path, L(), value_from or P(), "phase", states)


VALUE_CASES: list[tuple[str, CompiledEach, list[Any], list[str]]] = [
    ("single", gauge(P("spec", "replicas")), [ev(1)], []),
    (
        "obj",
        gauge(P("status", "active"), label_from_key="type"),
        [ev(1, "type", "type-a"), ev(3, "type", "type-b")],
        [],
    ),
    (
        "deep obj",
        gauge(P("status", "sub"), L(active=P("active")), P("ready"), label_from_key="type"),
        [ev(2, "type", "type-a", "active", "1"), ev(4, "type", "type-b", "active", "3")],
        [],
    ),
    (
        "path-relative valueFrom value",
        gauge(P("metadata"), L(name=P("name")), P("creationTimestamp")),
        [ev(1.6563744e09, "name", "foo")],
        [],
    ),
    (
        "non-existent path",
        gauge(P("foo"), L(name=P("name")), P("creationTimestamp")),
        [],
        ["[foo]: got nil while resolving path"],
    ),
    ("valueFrom non-existent, single", gauge(P("spec", "replicas"), value_from=P("non-existent")), [], []),
    (
        "valueFrom non-existent, array",
        gauge(P("status", "condition_values"), L(name=P("name")), P("non-existent")),
        [],
        [],
    ),
    (
        "array",
        gauge(P("status", "condition_values"), L(name=P("name")), P("value")),
        [ev(45, "name", "a"), ev(66, "name", "b")],
        [],
    ),
    ("timestamp", gauge(P("metadata", "creationTimestamp")), [ev(1656374400)], []),
    ("quantity_milli", gauge(P("status", "quantity_milli")), [ev(0.25)], []),
    ("quantity_binarySI", gauge(P("status", "quantity_binarySI")), [ev(5.36870912e09)], []),
    ("percentage", gauge(P("status", "percentage")), [ev(0.28)], []),
    (
        "path-relative valueFrom percentage",
        gauge(P("metadata"), L(name=P("name")), P("percentage")),
        [ev(0.39, "name", "foo")],
        [],
    ),
    ("boolean_string", gauge(P("spec", "paused"), nil_is_zero=True), [ev(0)], []),
    ("info", info(P(), L(version=P("spec", "version"))), [ev(1, "version", "v0.0.0")], []),
    ("info nil path", info(P("does", "not", "exist")), [], []),
    (
        "info label from key",
        info(P("status", "active"), label_from_key="type"),
        [ev(1, "type", "type-a"), ev(1, "type", "type-b")],
        [],
    ),
    (
        "info label from path",
        info(P("status", "sub"), L(active=P("active"))),
        [ev(1, "active", "1"), ev(1, "active", "3")],
        [],
    ),
    (
        "stateset",
        stateset(P("status", "phase"), ["foo", "bar"]),
        [ev(0, "phase", "bar"), ev(1, "phase", "foo")],
        [],
    ),
    ("stateset nil path", stateset(P("does", "not", "exist"), ["foo", "bar"]), [], []),
    ("stateset nil valueFrom", stateset(P("status"), ["foo", "bar"], P("does", "not", "exist")), [], []),
    (
        "stateset non-string value",
        stateset(P("spec", "replicas"), ["1", "2"]),
        [],
        ["[spec,replicas]: expected value for path to be string, got float64"],
    ),
    (
        "stateset non-string valueFrom",
        stateset(P("status"), ["foo", "bar"], P("uptime")),
        [],
        ["[status,uptime]: expected value for path to be string, got float64"],
    ),
    ("status_conditions", gauge(P("status", "conditions", "[type=Ready]", "status")), [ev(1)], []),
    (
        "status_conditions_all",
        gauge(P("status", "conditions"), L(type=P("type")), P("status")),
        [ev(0, "type", "Provisioned"), ev(1, "type", "Ready")],
        [],
    ),
    (
        "= expression matching",
        info(P(), L(bar=P("metadata", "annotations", "bar=baz"))),
        [ev(1, "bar", "baz")],
        [],
    ),
]


@pytest.mark.parametrize(
    ("each", "want", "errors"), [c[1:] for c in VALUE_CASES], ids=[c[0] for c in VALUE_CASES]
)
def test_values(each: CompiledEach, want: list[Any], errors: list[str]) -> None:
    got, errs = scrape_values(each, CR)
    assert got == want
    assert errs == errors


def test_add_path_labels_of_every_value_type() -> None:
    out: dict[str, str] = {}
    L(
        bool=P("spec", "order", "-1", "value"),
        number=P("spec", "replicas"),
        string=P("metadata", "labels", "foo"),
    ).add(CR, out)
    assert out == {"bool": "false", "number": "1", "string": "bar"}


def test_add_path_labels_copies_maps_and_fields_override() -> None:
    out: dict[str, str] = {}
    L(
        **{
            "*1": P("metadata", "annotations"),
            "bar": P("metadata", "labels", "foo"),
            "label_object_*": P("metadata", "annotations"),
        }
    ).add(CR, out)
    assert out == {"qux": "quxx", "bar": "bar", "label_object_qux": "quxx", "label_object_bar": "baz"}


def test_add_path_labels_index_out_of_range_is_skipped() -> None:
    out: dict[str, str] = {}
    L(idx=P("spec", "order", "5")).add(CR, out)
    assert out == {}


def test_add_path_labels_sanitizes_names_and_star_prefix() -> None:
    out: dict[str, str] = {}
    L(**{"app.kubernetes.io/name": P("metadata", "name"), "**": P("metadata", "labels")}).add(CR, out)
    # "**" copies with the prefix "*", which sanitizes to "_" (KSM's docs show otherwise)
    assert out == {"app_kubernetes_io_name": "foo", "_foo": "bar"}


@pytest.mark.parametrize("where", ["path", "labelsFromPath"])
@pytest.mark.parametrize("kind", ["gauge", "info", "stateset"])
def test_list_lookup_without_key_value_does_not_compile(kind: str, where: str) -> None:
    bad = ("status", "conditions", "[Ready]")
    each = (
        EachConfig(type=kind, path=bad)  # type: ignore[arg-type]
        if where == "path"
        else EachConfig(type=kind, labels_from_path={"cond": bad})  # type: ignore[arg-type]
    )
    res = ResourceConfig(GroupVersionKind("g", "v1", "K"), metrics=(MetricConfig("m", "", each),))
    with pytest.raises(CRSError, match=r"invalid list lookup: \[Ready\]"):
        compile_families(res)


def test_base_labels_and_each_labels_win() -> None:
    fam = CompiledFamily(
        name="x",
        help="",
        each=gauge(P("status", "active"), label_from_key="foo"),
        common_labels={"hello": "world", "foo": "common"},
        labels=L(foo=P("metadata", "annotations", "bar")),
    )
    assert fam.base_labels(CR) == {"hello": "world", "foo": "baz"}
    series, _ = fam.series(CR)
    # the each-level label (labelFromKey) wins over both common and path labels
    assert series == [
        ({"foo": "type-a", "hello": "world"}, 1.0),
        ({"foo": "type-b", "hello": "world"}, 3.0),
    ]
    assert fam.render(CR, "x{") == 'x{foo="type-a",hello="world"} 1\nx{foo="type-b",hello="world"} 3\n'


def test_full_names() -> None:
    def name(prefix: str | None) -> str:
        res = ResourceConfig(
            GroupVersionKind("apps", "v1", "Deployment"),
            metrics=(MetricConfig("count", "", EachConfig(type="gauge")),),
            metric_name_prefix=prefix,
        )
        return compile_families(res)[0].name

    assert name(None) == "kube_customresource_count"
    assert name("") == "count"
    assert name("bar_baz") == "bar_baz_count"


@pytest.mark.parametrize(
    ("parts", "want"),
    [
        (("spec", "replicas"), 1.0),
        (("status", "condition_values", "[name=b]", "value"), 66.0),
        (("spec", "order", "0", "value"), True),
        (("metadata", "labels", "foo"), "bar"),
        (("spec", "order", "[id=3]", "value"), False),
        # "false" is also the number 0, which false converts to
        (("spec", "order", "[value=false]", "id"), 3.0),
        (("spec", "order", "-2", "id"), 1.0),
        (("spec", "order", "-3"), None),
        (("spec", "order", "x"), None),
        (("metadata", "name=foo"), "foo"),
        (("metadata", "name=bar"), None),
        (("status", "conditions", "[type=Nope]"), None),
        ((), CR),
    ],
)
def test_value_path_get(parts: tuple[str, ...], want: Any) -> None:
    assert compile_path(parts).get(CR) == want


def test_value_path_text() -> None:
    assert (
        str(compile_path(["status", "conditions", "[type=Ready]", "status"]))
        == "[status,conditions,[type=Ready],status]"
    )
    assert str(compile_path([])) == "[]"


def test_gauge_map_key_matching_value_from_and_errors() -> None:
    obj = {"status": {"ready": "7", "broken": {"ready": "not-a-number"}, "ok": {"ready": 2}}}
    got, errs = scrape_values(gauge(P("status"), value_from=P("ready"), label_from_key="k"), obj)
    # the key "ready" equals the one-element valueFrom: its own value is used; the bad element
    # is dropped without an error, as in KSM
    assert got == [ev(2, "k", "ok"), ev(7, "k", "ready")]
    assert errs == []
    got, errs = scrape_values(gauge(P("status"), value_from=P("ready")), {"status": {"ready": "x"}})
    assert got == []
    assert errs == ['[status]: [ready]: strconv.ParseFloat: parsing "x": invalid syntax']


def test_gauge_list_errors_name_the_index() -> None:
    obj = {"items": [{"v": "1"}, {"v": {"a": 1}}, None, {"w": 1}]}
    got, errs = scrape_values(gauge(P("items"), value_from=P("v")), obj)
    assert got == [ev(1)]
    assert errs == [
        "[items]: [1]: [v]: expected number but was map[a:1]",
        "[items]: [2]: got nil while resolving path",
    ]


def test_info_label_from_key_conflict_is_reported() -> None:
    obj = {"m": {"k": "x", "a": {"k": "y"}}}
    got, errs = scrape_values(info(P("m"), L(k=P("k")), label_from_key="k"), obj)
    assert ({"k": "x"}, 1.0) in got
    assert errs == [
        "[m]: labelFromKey (k) generated labels conflict with labelsFromPath, consider renaming it"
    ]


def test_stateset_over_a_list() -> None:
    obj = {"items": [{"phase": "A"}, {"phase": 3}, {"x": 1}, {"phase": "B"}]}
    each = CompiledStateSet(P("items"), L(), P("phase"), "phase", ["A", "B"])
    got, errs = scrape_values(each, obj)
    # equal label sets keep their element order (Go's unstable sort leaves it unspecified)
    assert got == [ev(1, "phase", "A"), ev(0, "phase", "A"), ev(0, "phase", "B"), ev(1, "phase", "B")]
    assert errs == ["[items,phase]: expected value for path to be string, got int64"]


@pytest.mark.parametrize(
    ("value", "want"),
    [
        (True, 1.0),
        (False, 0.0),
        (7, 7.0),
        (2.5, 2.5),
        ("TRUE", 1.0),
        ("Yes", 1.0),
        ("no", 0.0),
        ("Unknown", 0.0),
        ("2022-06-28T00:00:00Z", 1656374400.0),
        ("2022-06-28T02:00:00.999+02:00", 1656374400.0),
        ("250m", 0.25),
        ("5Gi", 5368709120.0),
        ("1.5Gi", 1610612736.0),
        ("1e3", 1000.0),
        ("43.21", 43.21),
        # Go holds "0.3" as 3 x 10^-1 and multiplies by Pow10(-1)
        ("0.3", 0.30000000000000004),
        ("8Ei", 9.223372036854776e18),
        ("-1.5", -1.5),
        ("m", 0.0),
        ("28%", 0.28),
        ("0x1p4", 16.0),
        ("-Infinity", -math.inf),
    ],
)
def test_to_float(value: Any, want: float) -> None:
    assert to_float(value, False) == want


@pytest.mark.parametrize("value", ["", "abc", " 1", "1_000", "0x10", "+nan", "1.5%", {"a": 1}, [1]])
def test_to_float_rejects(value: Any) -> None:
    with pytest.raises(CRSError):
        to_float(value, False)


def test_nil_values() -> None:
    assert to_float(None, True) == 0.0
    with pytest.raises(CRSError, match="expected number but found nil value"):
        to_float(None, False)
    assert math.isnan(to_float("NaN", False))


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("0", 0.0),
        ("000", 0.0),
        ("100m", 0.1),
        ("1n", 1e-09),
        ("0.9n", 1e-09),  # rounded up to nano
        ("1Ki", 1024.0),
        ("1.5", 1.5),
        ("1.", 1.0),
        (".5", 0.5),
        ("1E", 1e18),
        ("2e-3", 0.002),
        ("1e400", math.inf),
        # 20 digits: Go's arbitrary-precision path (x 10^9, then x Pow10(-9)) rounds twice
        ("12345678901234567890", 1.234567890123457e19),
        ("9Ei", 9.223372036854776e18),  # BinarySI is capped at 2^63-1
        ("1.0.0", None),
        ("1Gb", None),
        ("1e", None),
        ("e5", 0.0),
    ],
)
def test_quantity_float(text: str, want: float | None) -> None:
    if want is None:
        with pytest.raises(QuantityError):
            approximate_float(text)
    else:
        assert approximate_float(text) == want


@pytest.mark.parametrize(
    ("value", "want"),
    [
        ("x", "x"),
        (True, "true"),
        (3, "3"),
        (12345678, "12345678"),
        (3.0, "3"),
        (1e6, "1e+06"),
        (0.5, "0.5"),
        (-0.0, "-0"),
        (None, "<nil>"),
        ({"b": 1, "a": "x"}, "map[a:x b:1]"),
        ([1, "a", [True]], "[1 a [true]]"),
        (1 << 70, "1.1805916207174113e+21"),
    ],
)
def test_go_string(value: Any, want: str) -> None:
    assert go_string(value) == want
