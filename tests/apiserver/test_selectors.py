"""Label and field selectors: apimachinery's syntax, matching and errors."""

from __future__ import annotations

import pytest

from kubescope.apiserver.selectors import (
    SelectorError,
    check_metadata_fields,
    parse_field_selector,
    parse_label_selector,
)

LABELS = {"app": "web", "tier": "front", "replicas": "3", "example.com/team": "a"}


@pytest.mark.parametrize(
    ("selector", "matches"),
    [
        ("", True),
        ("app=web", True),
        ("app==web", True),
        ("app=db", False),
        ("app!=db", True),
        ("missing!=x", True),
        ("app in (web,db)", True),
        ("app in (db)", False),
        ("app notin (db)", True),
        ("missing notin (db)", True),
        ("tier", True),
        ("missing", False),
        ("!missing", True),
        ("!tier", False),
        ("replicas>2", True),
        ("replicas<3", False),
        ("app>2", False),
        ("example.com/team=a", True),
        ("app=web,tier=front", True),
        ("app=web,tier=back", False),
        ("  app = web ,  tier  ", True),
        ("app=", False),
        ("missing=", False),
    ],
)
def test_label_selector_matching(selector: str, matches: bool) -> None:
    assert parse_label_selector(selector).matches(LABELS) is matches


@pytest.mark.parametrize(
    "selector",
    [
        "app=web=x",
        "app in web",
        "app in (web",
        "=web",
        "app=web,",
        "a b",
        "app in ()",
        "x>y",
        "bad key=1",
        "-x=1",
    ],
)
def test_bad_label_selectors(selector: str) -> None:
    with pytest.raises(SelectorError):
        parse_label_selector(selector)


def test_value_longer_than_63_is_refused() -> None:
    with pytest.raises(SelectorError, match="63"):
        parse_label_selector("a=" + "x" * 64)


def test_selectors_combine() -> None:
    s = parse_label_selector("app=web") & parse_label_selector("tier=back")
    assert not s.matches(LABELS)


@pytest.mark.parametrize(
    ("selector", "fields", "matches"),
    [
        ("metadata.name=a", {"metadata.name": "a"}, True),
        ("metadata.name==a", {"metadata.name": "b"}, False),
        ("metadata.name!=a", {"metadata.name": "b"}, True),
        ("metadata.namespace=", {"metadata.name": "a"}, True),
        ("metadata.name=a,metadata.namespace=ns", {"metadata.name": "a", "metadata.namespace": "ns"}, True),
        (r"metadata.name=a\,b", {"metadata.name": "a,b"}, True),
        (r"metadata.name=a\=b", {"metadata.name": "a=b"}, True),
    ],
)
def test_field_selector_matching(selector: str, fields: dict[str, str], matches: bool) -> None:
    assert parse_field_selector(selector).matches(fields) is matches


@pytest.mark.parametrize("selector", ["metadata.name", r"metadata.name=a\x", "metadata.name=a=b"])
def test_bad_field_selectors(selector: str) -> None:
    with pytest.raises(SelectorError):
        parse_field_selector(selector)


def test_only_metadata_fields_exist() -> None:
    check_metadata_fields(parse_field_selector("metadata.name=a,metadata.namespace!=b"))
    with pytest.raises(SelectorError, match=r'"status\.phase" is not a known field selector'):
        check_metadata_fields(parse_field_selector("status.phase=Running"))
