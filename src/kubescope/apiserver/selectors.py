"""Label and field selectors as apimachinery parses and matches them.

``labels.Parse`` and ``fields.ParseSelector`` semantics.

Label selectors (``labelSelector=``, ``--node-selector``)::

    app=web,tier!=db          equality (``=``, ``==``) and inequality (``!=``)
    env in (prod,staging)     set membership, ``notin`` for the complement
    gpu, !spot                key exists / does not exist
    replicas>2, rank<10       integer comparison (the label must parse as an integer)

``!=`` and ``notin`` also match objects without the key, as in Kubernetes. Keys are qualified names
(``prefix/name``), values label values; both are validated with Kubernetes' rules.

Field selectors (``fieldSelector=``) are ``key=value``, ``key==value`` or ``key!=value`` terms joined by
commas, with ``\\,``, ``\\=`` and ``\\\\`` escapes. A missing field reads as the empty string.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from kubescope.errors import KubescopeError


class SelectorError(KubescopeError):
    """A selector string does not parse; the message is what the API server answers (400)."""


_NAME = re.compile(r"(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?)\Z")
_DNS1123_SUBDOMAIN = re.compile(r"[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*\Z")


def validate_key(key: str) -> str | None:
    """Kubernetes' qualified-name check; returns an error message or None."""
    prefix, sep, name = key.rpartition("/")
    if sep and not prefix:
        return f"key: Invalid value: {key!r}: prefix part must be non-empty"
    if prefix and (len(prefix) > 253 or not _DNS1123_SUBDOMAIN.match(prefix)):
        return (
            f"key: Invalid value: {key!r}: prefix part a lowercase RFC 1123 subdomain must consist of lower "
            "case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character"
        )
    if not name:
        return f"key: Invalid value: {key!r}: name part must be non-empty"
    if len(name) > 63:
        return f"key: Invalid value: {key!r}: name part must be no more than 63 characters"
    if not _NAME.match(name):
        return (
            f"key: Invalid value: {key!r}: name part must consist of alphanumeric characters, '-', '_' or "
            "'.', and must start and end with an alphanumeric character"
        )
    return None


def validate_value(value: str) -> str | None:
    if value == "":
        return None
    if len(value) > 63:
        return f"values[0][{value}]: Invalid value: {value!r}: must be no more than 63 characters"
    if not _NAME.match(value):
        return (
            f"values[0][{value}]: Invalid value: {value!r}: a valid label must be an empty string or "
            "consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
            "alphanumeric character"
        )
    return None


@dataclass(frozen=True, slots=True)
class Requirement:
    key: str
    op: str
    """``in`` (=, ==, in), ``notin`` (!=, notin), ``exists``, ``!``, ``gt``, ``lt``."""
    values: frozenset[str] = frozenset()
    number: int = 0

    def matches(self, labels: Mapping[str, str]) -> bool:
        op = self.op
        if op == "in":
            v = labels.get(self.key)
            return v is not None and v in self.values
        if op == "notin":
            v = labels.get(self.key)
            return v is None or v not in self.values
        if op == "exists":
            return self.key in labels
        if op == "!":
            return self.key not in labels
        v = labels.get(self.key)
        if v is None:
            return False
        try:
            n = int(v)
        except ValueError:
            return False
        return n > self.number if op == "gt" else n < self.number


@dataclass(frozen=True, slots=True)
class LabelSelector:
    requirements: tuple[Requirement, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.requirements

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(r.matches(labels) for r in self.requirements)

    def __and__(self, other: LabelSelector) -> LabelSelector:
        return LabelSelector(self.requirements + other.requirements)


EVERYTHING = LabelSelector()

# the lexer's special characters (labels/selector.go): everything else belongs to an identifier
_TOKEN = re.compile(r"\s*(?:(!=|==|=|!|\(|\)|,|>|<)|([^\s!=(),<>]+))")


def _tokens(s: str) -> list[str]:
    out: list[str] = []
    pos = 0
    n = len(s)
    while pos < n:
        m = _TOKEN.match(s, pos)
        if m is None:
            break  # only whitespace left
        out.append(m.group(1) or m.group(2))
        pos = m.end()
    return out


def parse_label_selector(s: str) -> LabelSelector:
    """Parse a label selector; raises :class:`SelectorError` with the API server's kind of message."""
    toks = _tokens(s)
    reqs: list[Requirement] = []
    i = 0
    n = len(toks)

    def fail(what: str) -> SelectorError:
        return SelectorError(f"unable to parse requirement: {what}")

    while i < n:
        tok = toks[i]
        if tok == "!":
            i += 1
            if i >= n or not _is_ident(toks[i]):
                raise fail(f"found '{toks[i] if i < n else 'end of string'}', expected: identifier after '!'")
            key = toks[i]
            _check_key(key)
            reqs.append(Requirement(key, "!"))
            i += 1
        elif _is_ident(tok):
            key = tok
            _check_key(key)
            i += 1
            if i >= n or toks[i] == ",":
                reqs.append(Requirement(key, "exists"))
            else:
                op = toks[i]
                i += 1
                if op in ("=", "==", "!="):
                    value = ""
                    if i < n and _is_ident(toks[i]):
                        value = toks[i]
                        i += 1
                    elif i < n and toks[i] != ",":
                        raise fail(f"found '{toks[i]}', expected: identifier")
                    _check_value(value)
                    reqs.append(Requirement(key, "notin" if op == "!=" else "in", frozenset((value,))))
                elif op in ("in", "notin"):
                    if i >= n or toks[i] != "(":
                        raise fail(f"found '{toks[i] if i < n else 'end of string'}', expected: '('")
                    i += 1
                    values: list[str] = []
                    while True:
                        if i >= n:
                            raise fail("found 'end of string', expected: ')'")
                        t = toks[i]
                        if t == ")":
                            i += 1
                            break
                        if t == ",":
                            values.append("")
                            i += 1
                            continue
                        if not _is_ident(t):
                            raise fail(f"found '{t}', expected: ',', ')' or identifier")
                        values.append(t)
                        i += 1
                        if i < n and toks[i] == ",":
                            i += 1
                            if i < n and toks[i] == ")":
                                values.append("")
                    for v in values:
                        _check_value(v)
                    if not values:
                        raise SelectorError(
                            "values: Invalid value: []: for 'in', 'notin' operators, "
                            "values set can't be empty"
                        )
                    reqs.append(Requirement(key, op, frozenset(values)))
                elif op in (">", "<"):
                    if i >= n or not _is_ident(toks[i]):
                        raise fail("found 'end of string', expected: integer value")
                    raw = toks[i]
                    i += 1
                    try:
                        number = int(raw)
                    except ValueError:
                        raise SelectorError(
                            f"values[0]: Invalid value: {raw!r}: for 'Gt', 'Lt' operators, the value must be "
                            "an integer"
                        ) from None
                    reqs.append(Requirement(key, "gt" if op == ">" else "lt", number=number))
                else:
                    raise fail(f"found '{op}', expected: in, notin, =, ==, !=, gt, lt")
        else:
            raise fail(f"found '{tok}', expected: !, identifier, or 'end of string'")
        if i < n:
            if toks[i] != ",":
                raise fail(f"found '{toks[i]}', expected: ',' or 'end of string'")
            i += 1
            if i >= n:
                raise fail("found 'end of string', expected: identifier")
    return LabelSelector(tuple(reqs))


def _is_ident(tok: str) -> bool:
    return tok not in ("!=", "==", "=", "!", "(", ")", ",", ">", "<")


def _check_key(key: str) -> None:
    err = validate_key(key)
    if err:
        raise SelectorError(f"unable to parse requirement: {err}")


def _check_value(value: str) -> None:
    err = validate_value(value)
    if err:
        raise SelectorError(f"unable to parse requirement: {err}")


# -- field selectors --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FieldTerm:
    field: str
    value: str
    equal: bool


@dataclass(frozen=True, slots=True)
class FieldSelector:
    terms: tuple[FieldTerm, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.terms

    def matches(self, values: Mapping[str, str]) -> bool:
        return all((values.get(t.field, "") == t.value) == t.equal for t in self.terms)


def _split_unescaped(s: str, sep: str) -> list[str]:
    parts: list[str] = []
    cur: list[str] = []
    i = 0
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            cur.append(s[i : i + 2])
            i += 2
            continue
        if c == sep:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(c)
        i += 1
    parts.append("".join(cur))
    return parts


def _unescape_field_value(s: str) -> str:
    if "\\" not in s and "," not in s and "=" not in s:
        return s
    out: list[str] = []
    i = 0
    while i < len(s):
        c = s[i]
        if c == "\\":
            if i + 1 >= len(s) or s[i + 1] not in "\\,=":
                raise SelectorError(f"invalid field selector: invalid escape sequence in {s!r}")
            out.append(s[i + 1])
            i += 2
            continue
        if c in ",=":
            raise SelectorError(f"invalid field selector: unescaped {c!r} in {s!r}")
        out.append(c)
        i += 1
    return "".join(out)


def _find_operator(term: str) -> tuple[int, str] | None:
    i = 0
    while i < len(term):
        c = term[i]
        if c == "\\":
            i += 2
            continue
        for op in ("!=", "==", "="):
            if term.startswith(op, i):
                return i, op
        i += 1
    return None


def parse_field_selector(s: str) -> FieldSelector:
    """``fields.ParseSelector``; raises :class:`SelectorError` on a malformed term."""
    if not s:
        return FieldSelector()
    terms: list[FieldTerm] = []
    for raw in _split_unescaped(s, ","):
        if raw == "":
            continue
        found = _find_operator(raw)
        if found is None:
            raise SelectorError(f"invalid selector: '{s}'; can't understand '{raw}'")
        at, op = found
        key = raw[:at]
        value = _unescape_field_value(raw[at + len(op) :])
        terms.append(FieldTerm(key, value, op != "!="))
    return FieldSelector(tuple(terms))


def check_metadata_fields(sel: FieldSelector) -> None:
    """Only ``metadata.name`` and ``metadata.namespace`` exist for types without their own field set
    (apimachinery's ``DefaultMetaV1FieldSelectorConversion``)."""
    for t in sel.terms:
        if t.field not in ("metadata.name", "metadata.namespace"):
            raise SelectorError(
                f'"{t.field}" is not a known field selector: only "metadata.name", "metadata.namespace"'
            )
