"""What a request asks for, checked before anything is read: pure, no I/O.

* field selectors (``=``, ``==``, ``!=``) on ``regarding.kind``, ``regarding.name``,
  ``regarding.uid``, ``regarding.namespace``, ``reason``, ``type``, ``reportingController``, and
  ``metadata.name``/``metadata.namespace``; any other field is a 400 naming the ones that exist;
* a time range on when events were last seen: ``since``/``until``, each an RFC 3339 time or a
  duration back from now (``90s``, ``15m``, ``6h``, ``7d``, ``2w``);
* ``limit`` and ``continue``: pages ordered by (last seen, uid); the token carries the position
  and a digest of the question, so it cannot be replayed against another one.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass
from typing import Any

import msgspec

from kubescope.apiserver.selectors import FieldSelector, FieldTerm, SelectorError, parse_field_selector
from kubescope.events.model import Record
from kubescope.model.timefmt import parse_rfc3339

FIELDS = (
    "regarding.kind", "regarding.name", "regarding.uid", "regarding.namespace", "reason", "type",
    "reportingController", "metadata.name", "metadata.namespace",
)  # fmt: skip
MAX_LIMIT = 5000
_DURATION = re.compile(r"^(\d+)(s|m|h|d|w)$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


class BadQuery(ValueError):
    """A 400: the message names the parameter and what would be accepted."""


@dataclass(frozen=True)
class Query:
    namespace: str = ""
    terms: tuple[FieldTerm, ...] = ()
    since: int | None = None
    """µs, inclusive"""
    until: int | None = None
    """µs, inclusive"""
    limit: int = 0
    after: tuple[int, str] | None = None
    """(last seen µs, uid) of the last item of the previous page"""

    def digest(self) -> str:
        key = repr((self.namespace, self.terms, self.since, self.until)).encode()
        return hashlib.sha256(key).hexdigest()[:16]

    def value(self, field: str) -> str | None:
        """The value an equality term requires of ``field``, if any."""
        for t in self.terms:
            if t.field == field and t.equal:
                return t.value
        return None

    def matches(self, r: Record) -> bool:
        """The same filter the archive's SQL applies, for live events."""
        if self.namespace and r.namespace != self.namespace:
            return False
        t = r.seen
        if (self.since is not None and t < self.since) or (self.until is not None and t > self.until):
            return False
        values = field_values(r)
        return all((values[term.field] == term.value) == term.equal for term in self.terms)


def field_values(r: Record) -> dict[str, str]:
    g = r.regarding
    return {
        "regarding.kind": g.kind or "", "regarding.name": g.name or "", "regarding.uid": g.uid or "",
        "regarding.namespace": g.namespace or "", "reason": r.reason, "type": r.type,
        "reportingController": r.controller, "metadata.name": r.name, "metadata.namespace": r.namespace,
    }  # fmt: skip


def parse_selector(text: str) -> tuple[FieldTerm, ...]:
    try:
        sel: FieldSelector = parse_field_selector(text)
    except SelectorError as e:
        raise BadQuery(str(e)) from None
    for t in sel.terms:
        if t.field not in FIELDS:
            raise BadQuery(
                f'"{t.field}" is not a known field selector: only ' + ", ".join(f'"{f}"' for f in FIELDS)
            )
    return sel.terms


def parse_when(value: str, name: str, now: float) -> int:
    """An RFC 3339 time or a duration back from ``now``, as µs."""
    m = _DURATION.match(value)
    if m:
        return int((now - int(m.group(1)) * _UNITS[m.group(2)]) * 1_000_000)
    got = parse_rfc3339(value)
    if got is None:
        raise BadQuery(
            f"{name}={value[:64]!r}: not a time; give an RFC 3339 time (2026-01-02T15:04:05Z) "
            "or a duration back from now (90s, 15m, 6h, 7d, 2w)"
        )
    return got[0] * 1_000_000 + got[1] // 1000


class _Token(msgspec.Struct, array_like=True):
    t: int
    uid: str
    q: str


def encode_continue(q: Query, t: int, uid: str) -> str:
    raw = msgspec.json.encode(_Token(t, uid, q.digest()))
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def parse_query(params: Any, namespace: str, now: float) -> Query:
    """A :class:`Query` from request parameters (``fieldSelector``, ``since``, ``until``,
    ``limit``, ``continue``); :class:`BadQuery` names what is wrong."""
    terms = parse_selector(params.get("fieldSelector", ""))
    ns_term = next((t for t in terms if t.field == "metadata.namespace" and t.equal), None)
    if ns_term is not None and namespace and ns_term.value != namespace:
        raise BadQuery(
            f"metadata.namespace={ns_term.value} does not match the request's namespace {namespace}"
        )
    since = parse_when(params["since"], "since", now) if params.get("since") else None
    until = parse_when(params["until"], "until", now) if params.get("until") else None
    if since is not None and until is not None and since > until:
        raise BadQuery(f"since={params['since']} is after until={params['until']}: an empty range")
    limit_text = params.get("limit", "") or "0"
    try:
        limit = int(limit_text)
    except ValueError:
        raise BadQuery(f"limit={limit_text[:32]!r}: not a number") from None
    if limit < 0:
        raise BadQuery(f"limit={limit}: must not be negative")
    q = Query(namespace, terms, since, until, min(limit, MAX_LIMIT) if limit else 0)
    token = params.get("continue", "")
    if token:
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            tok = msgspec.json.decode(raw, type=_Token)
        except (binascii.Error, ValueError, msgspec.DecodeError):
            raise BadQuery("continue: not a token this server gave; start again without it") from None
        if tok.q != q.digest():
            raise BadQuery(
                "continue: the token belongs to another question (namespace, selector or time range)"
            )
        q = Query(namespace, terms, since, until, q.limit, (tok.t, tok.uid))
    return q
