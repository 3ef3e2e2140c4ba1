"""Validation as kube-apiserver words it: field errors, ``422 Invalid`` Statuses, names, labels and
ListOptions.

A :class:`FieldError` prints as apimachinery's ``field.Error`` (``metadata.name: Invalid value: "x":
<detail>``); :func:`invalid` aggregates them into ``errors.NewInvalid``'s Status (message, details,
one cause per error). The checks are apimachinery's (``IsDNS1123Subdomain``, ``IsDNS1123Label``,
``IsDNS1035Label``, path segment names, label keys and values, ``ValidateObjectMetaAccessor``'s name
and labels, ``ValidateListOptions`` with the WatchList feature) with their messages, and each
built-in kind's choice of name rule.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from kubescope.apiserver.status import go_quote
from kubescope.sim.errors import Invalid

_TYPES = {
    "FieldValueInvalid": "Invalid value",
    "FieldValueRequired": "Required value",
    "FieldValueForbidden": "Forbidden",
    "FieldValueNotSupported": "Unsupported value",
}
_SHOWS_VALUE = frozenset({"FieldValueInvalid", "FieldValueNotSupported"})


@dataclass(frozen=True)
class FieldError:
    """apimachinery's ``field.Error``."""

    type: str
    field: str
    value: Any = ""
    detail: str = ""

    def body(self) -> str:
        """``ErrorBody``: the message without the field."""
        s = _TYPES[self.type]
        if self.type in _SHOWS_VALUE:
            v = self.value
            s += f": {go_quote(v)}" if isinstance(v, str) else f": {v}"
        return f"{s}: {self.detail}" if self.detail else s

    def __str__(self) -> str:
        return f"{self.field}: {self.body()}"


def invalid(kind: str, group: str, name: str, errors: Iterable[FieldError]) -> Invalid:
    """``errors.NewInvalid``: ``<Kind>[.<group>] "<name>" is invalid: <errors>`` with their causes."""
    errs = list(errors)
    unique = list(dict.fromkeys(str(e) for e in errs))  # utilerrors' aggregate drops repeats
    agg = unique[0] if len(unique) == 1 else "[" + ", ".join(unique) + "]"
    qualified = f"{kind}.{group}" if group else kind
    details: dict[str, Any] = {"name": name, "group": group, "kind": kind}
    details = {k: v for k, v in details.items() if v}
    details["causes"] = [{"reason": e.type, "message": e.body(), "field": e.field} for e in errs]
    return Invalid(f"{qualified} {go_quote(name)} is invalid: {agg}", details)


# -- apimachinery's string formats --------------------------------------------------------------


def regex_error(msg: str, fmt: str, *examples: str) -> str:
    if not examples:
        return f"{msg} (regex used for validation is '{fmt}')"
    shown = "".join((" or " if i else "") + f"'{e}', " for i, e in enumerate(examples))
    return f"{msg} (e.g. {shown}regex used for validation is '{fmt}')"


def max_len_error(n: int) -> str:
    return f"must be no more than {n} characters"


_LABEL = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_SUBDOMAIN = _LABEL + r"(\." + _LABEL + ")*"
_DNS1035 = "[a-z]([-a-z0-9]*[a-z0-9])?"
_LABEL_KEY = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_LABEL_VALUE = "(" + _LABEL_KEY + ")?"
_LABEL_KEY_MSG = (
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character"
)
_RE = {f: re.compile(f"^{f}$") for f in (_LABEL, _SUBDOMAIN, _DNS1035, _LABEL_KEY, _LABEL_VALUE)}


def dns1123_subdomain(value: str) -> list[str]:
    errs = [max_len_error(253)] if len(value) > 253 else []
    if not _RE[_SUBDOMAIN].match(value):
        errs.append(
            regex_error(
                "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
                "'.', and must start and end with an alphanumeric character",
                _SUBDOMAIN,
                "example.com",
            )
        )
    return errs


def dns1123_label(value: str) -> list[str]:
    errs = [max_len_error(63)] if len(value) > 63 else []
    if not _RE[_LABEL].match(value):
        if _RE[_SUBDOMAIN].match(value):
            errs.append("must not contain dots")
        else:
            errs.append(
                regex_error(
                    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
                    "and must start and end with an alphanumeric character",
                    _LABEL,
                    "my-name",
                    "123-abc",
                )
            )
    return errs


def dns1035_label(value: str) -> list[str]:
    errs = [max_len_error(63)] if len(value) > 63 else []
    if not _RE[_DNS1035].match(value):
        errs.append(
            regex_error(
                "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
                "alphabetic character, and end with an alphanumeric character",
                _DNS1035,
                "my-name",
                "abc-123",
            )
        )
    return errs


def path_segment(value: str) -> list[str]:
    if value in (".", ".."):
        return [f"may not be '{value}'"]
    return [f"may not contain '{c}'" for c in ("/", "%") if c in value]


def label_key(value: str) -> list[str]:
    parts = value.split("/")
    errs: list[str] = []
    if len(parts) > 2:
        return [
            "a valid label key "
            + regex_error(_LABEL_KEY_MSG, _LABEL_KEY, "MyName", "my.name", "123-abc")
            + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
        ]
    name = parts[-1]
    if len(parts) == 2:
        if not parts[0]:
            errs.append("prefix part must be non-empty")
        else:
            errs += ["prefix part " + m for m in dns1123_subdomain(parts[0])]
    if not name:
        errs.append("name part must be non-empty")
    elif len(name) > 63:
        errs.append("name part " + max_len_error(63))
    if not _RE[_LABEL_KEY].match(name):
        errs.append("name part " + regex_error(_LABEL_KEY_MSG, _LABEL_KEY, "MyName", "my.name", "123-abc"))
    return errs


def label_value(value: str) -> list[str]:
    errs = [max_len_error(63)] if len(value) > 63 else []
    if not _RE[_LABEL_VALUE].match(value):
        errs.append(
            regex_error(
                "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
                "'.', and must start and end with an alphanumeric character",
                _LABEL_VALUE,
                "MyValue",
                "my_value",
                "12345",
            )
        )
    return errs


# -- objects ---------------------------------------------------------------------------------------

NameRule = Callable[[str], list[str]]

NAME_RULES: dict[str, NameRule] = {
    "namespaces": dns1123_label,
    "services": dns1035_label,
    "persistentvolumes": path_segment,
    "roles.rbac.authorization.k8s.io": path_segment,
    "rolebindings.rbac.authorization.k8s.io": path_segment,
    "clusterroles.rbac.authorization.k8s.io": path_segment,
    "clusterrolebindings.rbac.authorization.k8s.io": path_segment,
}
"""Each kind's name rule (``ValidateNamespaceName``, ``ValidateServiceName``, ``ValidateRBACName``...);
every other kind, custom resources included, needs a DNS-1123 subdomain."""


def _mask_trailing_dash(name: str) -> str:
    """A generateName prefix may end in '-' (apimachinery's ``maskTrailingDash``)."""
    return name[:-2] + "a" if len(name) > 1 and name.endswith("-") else name


def object_meta_errors(key: str, namespaced: bool, meta: Mapping[str, Any]) -> list[FieldError]:
    """``ValidateObjectMetaAccessor``'s name, generateName, namespace and label checks."""
    rule = NAME_RULES.get(key, dns1123_subdomain)
    errs: list[FieldError] = []
    generate = str(meta.get("generateName") or "")
    if generate:
        errs += [
            FieldError("FieldValueInvalid", "metadata.generateName", generate, m)
            for m in rule(_mask_trailing_dash(generate))
        ]
    name = str(meta.get("name") or "")
    if not name:
        errs.append(
            FieldError("FieldValueRequired", "metadata.name", detail="name or generateName is required")
        )
    else:
        errs += [FieldError("FieldValueInvalid", "metadata.name", name, m) for m in rule(name)]
    ns = str(meta.get("namespace") or "")
    if namespaced and ns:
        errs += [FieldError("FieldValueInvalid", "metadata.namespace", ns, m) for m in dns1123_label(ns)]
    labels = meta.get("labels") or {}
    for k in sorted(labels):
        errs += [FieldError("FieldValueInvalid", "metadata.labels", k, m) for m in label_key(k)]
        v = str(labels[k])
        errs += [FieldError("FieldValueInvalid", "metadata.labels", v, m) for m in label_value(v)]
    return errs


# -- ListOptions -----------------------------------------------------------------------------------


def _forbidden(field: str, detail: str) -> FieldError:
    return FieldError("FieldValueForbidden", field, detail=detail)


def _not_supported(field: str, value: str, supported: Iterable[str]) -> FieldError:
    return FieldError(
        "FieldValueNotSupported",
        field,
        value,
        "supported values: " + ", ".join(go_quote(v) for v in supported),
    )


def list_options_errors(q: Mapping[str, str], *, watch: bool, watch_list: bool = True) -> list[FieldError]:
    """``ValidateListOptions``; ``watch_list``: whether the WatchList feature is on."""
    match = q.get("resourceVersionMatch", "")
    rv = q.get("resourceVersion", "")
    initial = q.get("sendInitialEvents")
    cont = q.get("continue", "")
    field = "resourceVersionMatch"
    errs: list[FieldError] = []
    if watch:
        if initial is not None:
            if match != "NotOlderThan":
                errs.append(
                    _forbidden(
                        field, "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan"
                    )
                )
            if not watch_list:
                errs.append(
                    _forbidden(
                        "sendInitialEvents",
                        "sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled",
                    )
                )
        if match:
            if initial is None:
                errs.append(
                    _forbidden(
                        field,
                        "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided",
                    )
                )
            if match != "NotOlderThan":
                errs.append(_not_supported(field, match, ["NotOlderThan"]))
            if cont:
                errs.append(_forbidden(field, "resourceVersionMatch is forbidden when continue is provided"))
        return errs
    if match:
        if not rv:
            errs.append(
                _forbidden(field, "resourceVersionMatch is forbidden unless resourceVersion is provided")
            )
        if cont:
            errs.append(_forbidden(field, "resourceVersionMatch is forbidden when continue is provided"))
        if match not in ("Exact", "NotOlderThan"):
            errs.append(_not_supported(field, match, ["Exact", "NotOlderThan", ""]))
        if match == "Exact" and rv == "0":
            errs.append(
                _forbidden(field, 'resourceVersionMatch "exact" is forbidden for resourceVersion "0"')
            )
    if initial is not None:
        errs.append(_forbidden("sendInitialEvents", "sendInitialEvents is forbidden for list"))
    return errs


def check_list_options(q: Mapping[str, str], *, watch: bool, watch_list: bool = True) -> None:
    """Raise the 422 kube-apiserver answers for invalid ListOptions."""
    errs = list_options_errors(q, watch=watch, watch_list=watch_list)
    if errs:
        raise invalid("ListOptions", "meta.k8s.io", "", errs)
