"""The Go text/template and regexp-expand ports answer as Go 1.19 does (tests/data/custom/gotemplate_golden.json
was produced by real Go from gotemplate_cases.py; see that file to regenerate)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest

from kubescope.custom_metrics.gotemplate import Struct, TemplateError, TemplateExecError, parse
from kubescope.custom_metrics.naming import go_expand, go_regex

DATA = Path(__file__).parent.parent / "data" / "custom"


def _cases() -> list[tuple[dict[str, Any], dict[str, Any]]]:
    spec = importlib.util.spec_from_file_location("gotemplate_cases", DATA / "gotemplate_cases.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    golden = json.loads((DATA / "gotemplate_golden.json").read_text())
    assert len(golden) == len(mod.CASES)
    return list(zip(mod.CASES, golden, strict=True))


def _data(case: dict[str, Any]) -> Struct:
    if case["kind"] == "resource":
        return Struct("schema.GroupResource", Group=case["group"], Resource=case["resource"])
    gb = case.get("groupBy") or []
    return Struct(
        "naming.queryTemplateArgs",
        Series=case.get("series", ""),
        LabelMatchers=case.get("matchers", ""),
        LabelValuesByName=dict(case.get("values") or {}),
        GroupBy=",".join(gb),
        GroupBySlice=list(gb),
    )


@pytest.mark.parametrize(("case", "want"), _cases(), ids=lambda c: str(c.get("template", ""))[:40])
def test_case_answers_as_go_does(case: dict[str, Any], want: dict[str, Any]) -> None:
    if case["kind"] == "expand":
        rx = go_regex(case["regex"])
        m = rx.search(case["input"])
        assert m is not None
        assert go_expand(case["template"], m) == want["out"]
        return
    if want.get("parseError"):
        with pytest.raises(TemplateError):
            parse(case["template"], "metrics-query")
        return
    t = parse(case["template"], "metrics-query")
    if want.get("execError"):
        with pytest.raises(TemplateExecError) as e:
            t.execute(_data(case))
        # Go names the location as name:line:col, we as name:line; the message after it is Go's
        go_msg = want["execError"].rsplit(": ", 1)[-1].replace("main.", "naming.")
        ours = str(e.value).replace("schema.GroupResource", "naming.groupResource")
        assert go_msg in ours
        return
    assert t.execute(_data(case)) == want["out"]
