"""Streaming parser for the kubelet's ``/metrics/resource`` (Prometheus text format 0.0.4).

Only five families are read, as metrics-server reads them (``pkg/scraper/client/resource``):

=================================== ============================== ===================================
family                              labels                         becomes
=================================== ============================== ===================================
``node_cpu_usage_seconds_total``    --                             node ``cpu`` = int(v * 1e9) ns·s
``node_memory_working_set_bytes``   --                             node ``mem`` = int(v) bytes
``container_cpu_usage_seconds_total`` container, pod, namespace    container ``cpu``
``container_memory_working_set_bytes`` container, pod, namespace   container ``mem``
``container_start_time_seconds``    container, pod, namespace      container ``start`` = int(v * 1e9) ns
=================================== ============================== ===================================

Rules carried over from metrics-server:

* a sample's timestamp (milliseconds) becomes the point's timestamp; a sample without one gets the
  request's start time (truncated to the millisecond). CPU and memory both set it, so the later line
  wins. ``container_start_time_seconds`` never sets it;
* a family is recognised by its whole name token (``node_cpu_usage_seconds_total_x`` is another
  family): the name ends where ``{``, a space or a tab starts;
* a node point is dropped when there was no node sample or its CPU or memory is zero; a whole pod is
  dropped when any of its containers has zero (or no) CPU or memory;
* any syntax error (what Prometheus' ``textparse`` rejects: a bad token, a negative or non-integer
  timestamp, a malformed float, an unknown ``# TYPE``) fails the whole node.

Where we differ, on purpose:

* label values are really parsed (order-independent, ``\\"``, ``\\\\`` and ``\\n`` unescaped);
  metrics-server cuts them out by byte search and mis-reads escaped quotes;
* NaN, infinite, negative and out-of-range values (which Go converts to unsigned integers in
  platform-dependent ways) count as missing, so they drop the node or pod like a zero does;
* a body larger than the configured cap fails the node instead of being buffered without limit.

The parser is fed chunks as they arrive (:meth:`KubeletParser.feed`) and parses every complete line
at once with one compiled pattern, so a response is never held whole. Lines of other families are
syntax-checked but not decoded.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import NoReturn

import msgspec

from kubescope.errors import DecodeError, truncate

ZERO_TIME_NS = -62_135_596_800 * 1_000_000_000
"""Go's zero ``time.Time`` (January 1, year 1) in Unix nanoseconds: the start time of a container
the kubelet reported none for, and of every node. It sorts before any real time, as in Go."""

_INT64_MAX = (1 << 63) - 1
_UINT64_LIMIT = float(1 << 64)
_INFINITIES = (math.inf, -math.inf)


class MetricsPoint(msgspec.Struct, frozen=True, gc=False):
    """One observation of a node or container (metrics-server's ``MetricsPoint``).

    A Struct without GC tracking: storage holds two per container, tens of thousands in all, and
    tracked objects would make every full garbage collection scan them."""

    start: int
    """Start time, Unix ns (:data:`ZERO_TIME_NS` when unknown); cumulative CPU is zero then."""
    ts: int
    """When the kubelet measured the sample, Unix ns."""
    cpu: int
    """Cumulative CPU time, nano-core-seconds."""
    mem: int
    """Working set, bytes."""


PodKey = tuple[str, str]
"""``(namespace, name)``."""


class NodeBatch(msgspec.Struct, frozen=True, gc=False):
    """Everything one kubelet response yields."""

    node: MetricsPoint | None
    pods: dict[PodKey, dict[str, MetricsPoint]]
    lines: int
    dropped_pods: int
    duplicates: int = 0
    """Samples of a series already seen in the response (the later one was kept)."""
    invalid: dict[str, int] = msgspec.field(default_factory=dict)
    """CPU and memory values dropped as ``nan``, ``negative`` or ``out_of_range``."""


class ParseError(DecodeError):
    """A kubelet response is not valid Prometheus text, or is too large."""


_NODE_CPU = 0
_NODE_MEM = 1
_CONTAINER_CPU = 2
_CONTAINER_MEM = 3
_CONTAINER_START = 4
_FAMILIES: dict[bytes, int] = {
    b"node_cpu_usage_seconds_total": _NODE_CPU,
    b"node_memory_working_set_bytes": _NODE_MEM,
    b"container_cpu_usage_seconds_total": _CONTAINER_CPU,
    b"container_memory_working_set_bytes": _CONTAINER_MEM,
    b"container_start_time_seconds": _CONTAINER_START,
}

# One line of the text format, as Prometheus' lexer (promlex.l) accepts it: blanks and tabs between
# any two tokens, a label value may hold any escaped character (even a raw newline), a trailing comma
# in the label set, spaces instead of commas between labels. Possessive quantifiers keep "name1" one
# name token (never "name" + value "1"), as the lexer's longest match does. The value is what Go's
# strconv.ParseFloat accepts once textparse has refused "_", "p" and "P" (no hex, no "+nan").
# The kubelet's own layout of a container series (labels sorted, no escapes) is tried first, so the
# common line is decoded by this one match; anything else falls back to the general label set.
_LVALUE = rb'"[^"\\]*+(?:\\.[^"\\]*+)*+"'
_LABEL = rb"[a-zA-Z_][a-zA-Z0-9_]*+[ \t]*+=[ \t]*+" + _LVALUE
_VALUE = (
    rb"[+-]?+(?:[0-9]++\.?+[0-9]*+|\.[0-9]++)(?:[eE][+-]?+[0-9]++)?+"
    rb"|[+-]?+[iI][nN][fF](?:[iI][nN][iI][tT][yY])?+"
    rb"|[nN][aA][nN]"
)
_LINE = re.compile(
    rb"[ \t]*+(?:"
    rb"#([^\n]*+)"  # 1: comment or metadata
    rb"|([a-zA-Z_:][a-zA-Z0-9_:]*+)[ \t]*+"  # 2: metric name
    rb"(?:"
    rb'\{container="([^"\\\n]*+)",namespace="([^"\\\n]*+)",pod="([^"\\\n]*+)"\}'  # 3, 4, 5
    rb"|\{[ \t]*+((?:" + _LABEL + rb"[ \t]*+,?+[ \t]*+)*+)\}"  # 6: any label set
    rb")?+[ \t]*+"
    rb"(" + _VALUE + rb")"  # 7: value
    rb"(?:[ \t]++([0-9]++))?+[ \t]*+"  # 8: timestamp (ms)
    rb")?+\n"
)
# Fast patterns: the kubelet's own layout (single spaces, labels without escapes, plain decimal values,
# millisecond timestamps), a subset of what _LINE accepts, taken in runs. Values are bounded (20 digits,
# 2-digit exponents) and timestamps below the int64 limit, so a fast sample can never be out of range.
_NAME = rb"[a-zA-Z_:][a-zA-Z0-9_:]*+"
_USED = rb"(?:node_cpu_usage_seconds_total|node_memory_working_set_bytes|container_cpu_usage_seconds_total|container_memory_working_set_bytes|container_start_time_seconds)(?![a-zA-Z0-9_:])"
_FAST_VALUE = rb"[0-9]{1,20}+(?:\.[0-9]*+)?+(?:[eE][+-]?+[0-9]{1,2}+)?+"
_FAST_TS = rb"(?:[0-8][0-9]{12}|[0-9]{1,12})"  # below 9223372036854 ms, the int64 nanosecond limit
_SKIP_RUN = re.compile(
    rb"(?:[ \t]*+(?:"
    rb"#(?:[ \t]++HELP[ \t]++[a-zA-Z_:][\x00-\x09\x0b-\x7f]*+"  # help text in ASCII (UTF-8 by definition)
    rb"|[ \t]++TYPE[ \t]++" + _NAME + rb"[ \t](?:counter|gauge|histogram|summary|untyped)"
    rb"|(?![ \t]++(?:HELP|TYPE)[ \t])[^\n]*+)"  # any other comment
    rb"|(?!"
    + _USED
    + rb")"
    + _NAME
    + rb'(?:\{[a-zA-Z_][a-zA-Z0-9_]*+="[^"\\\n]*+"(?:,[a-zA-Z_][a-zA-Z0-9_]*+="[^"\\\n]*+")*+\})?+'
    rb" " + _FAST_VALUE + rb"(?: " + _FAST_TS + rb")?+"
    rb")?+\n)*+"
).match


_Rows = Callable[[bytes, int, int], list[tuple[bytes, bytes, bytes, bytes, bytes]]]


def _container_run(name: bytes, family: int) -> tuple[bytes, _Rows, int]:
    """A container family's samples in the kubelet's layout: ``(prefix, rows, family)``; ``rows`` finds
    (container, namespace, pod, value, timestamp) of every such sample starting a line."""
    sample = (
        rb"(?m)^" + name + rb'\{container="([^"\\\n]*+)",namespace="([^"\\\n]*+)",pod="([^"\\\n]*+)"\} '
        rb"(" + _FAST_VALUE + rb")(?: (" + _FAST_TS + rb"))?+\n"
    )  # fmt: skip
    return name + b"{", re.compile(sample).findall, family


_CONTAINER_RUNS = (
    _container_run(b"container_cpu_usage_seconds_total", _CONTAINER_CPU),
    _container_run(b"container_memory_working_set_bytes", _CONTAINER_MEM),
    _container_run(b"container_start_time_seconds", _CONTAINER_START),
)
_LABEL_PAIR = re.compile(rb"([a-zA-Z_][a-zA-Z0-9_]*+)[ \t]*+=[ \t]*+\"([^\"\\]*+(?:\\.[^\"\\]*+)*+)\"")
_META = re.compile(rb"[ \t]++(HELP|TYPE)[ \t]++([a-zA-Z_:][a-zA-Z0-9_:]*+)?+(.*+)", re.DOTALL)
_TYPES = frozenset((b"counter", b"gauge", b"histogram", b"summary", b"untyped"))
_ESCAPE = re.compile(rb"\\(.)", re.DOTALL)
_UNESCAPED = {b"n": b"\n", b'"': b'"', b"\\": b"\\"}


def _unescape(m: re.Match[bytes]) -> bytes:
    c = m.group(1)
    return _UNESCAPED.get(c, b"\\" + c)


def _general_key(labels: bytes | None) -> tuple[bytes, bytes, bytes] | None:
    """``(namespace, pod, container)`` from any label set, unescaped, still as bytes."""
    container = pod = namespace = None
    for k, raw in _LABEL_PAIR.findall(labels or b""):
        v = _ESCAPE.sub(_unescape, raw) if b"\\" in raw else raw
        if k == b"container":
            container = v
        elif k == b"pod":
            pod = v
        elif k == b"namespace":
            namespace = v
    if container is None or pod is None or namespace is None:
        return None
    return (namespace, pod, container)


def _start_nanos(v: float) -> int:
    """``time.Unix(0, int64(v * 1e9))``; NaN and out-of-range values leave the start unknown."""
    x = v * 1e9
    if not math.isfinite(x) or not (-_INT64_MAX <= x <= _INT64_MAX):
        return ZERO_TIME_NS
    return int(x)


class KubeletParser:
    """Parse one kubelet response, chunk by chunk.

    ``default_ts_ns`` is the request's start time (ns); ``max_bytes`` caps the body (0: no cap).
    Call :meth:`feed` with each chunk, then :meth:`finish` for the batch. Errors raise
    :class:`ParseError` with the line number and the offending text.
    """

    __slots__ = (
        "_containers",
        "_default_ts",
        "_eof",
        "_lineno",
        "_max",
        "_node",
        "_node_seen",
        "_pending",
        "_size",
        "duplicates",
        "invalid",
    )

    # while a label value may hold a raw newline, a line can run past a chunk's last newline; bound it
    MAX_PENDING = 1 << 20

    def __init__(self, default_ts_ns: int, max_bytes: int = 0) -> None:
        self._default_ts = (default_ts_ns // 1_000_000) * 1_000_000
        self._max = max_bytes
        self._size = 0
        self._lineno = 0
        self._pending = b""
        self._eof = False
        # node accumulator: [ts or None, cpu, mem], and the node families seen (bits)
        self._node: list[int | None] = [None, 0, 0]
        self._node_seen = 0
        # (namespace, pod, container) as raw label bytes -> [start, ts, cpu, mem, families seen (bits)]
        self._containers: dict[tuple[bytes, bytes, bytes], list[int]] = {}
        self.duplicates = 0
        """Samples of a series already seen in this response (the later one wins, as in metrics-server)."""
        self.invalid: dict[str, int] = {}
        """CPU and memory values dropped as NaN, negative or out of range, by that reason."""

    @property
    def lines(self) -> int:
        return self._lineno

    @property
    def size(self) -> int:
        """Body bytes fed so far."""
        return self._size

    def feed(self, chunk: bytes) -> None:
        self._size += len(chunk)
        if self._max and self._size > self._max:
            raise ParseError(
                f"response body exceeds {self._max} bytes (--kubelet-max-response-bytes); "
                "raise the cap if this node really runs that many containers"
            )
        if self._eof:
            return
        buf = self._pending + chunk if self._pending else chunk
        end = buf.rfind(b"\n") + 1
        if end == 0:
            self._pending = buf
            self._check_pending()
            return
        pos = self._consume(buf, 0, end, final=False)
        self._pending = buf[pos:]
        self._check_pending()

    def _check_pending(self) -> None:
        if len(self._pending) > self.MAX_PENDING:
            self._fail(self._pending, 0, "line too long")

    def finish(self) -> NodeBatch:
        buf = self._pending
        self._pending = b""
        if buf and not self._eof:
            # textparse appends a newline, so a missing final newline is not an error
            if not buf.endswith(b"\n"):
                buf += b"\n"
            self._consume(buf, 0, len(buf), final=True)
        return self._batch()

    def parse(self, body: bytes) -> NodeBatch:
        """Parse a whole body at once."""
        self.feed(body)
        return self.finish()

    # -- internals --------------------------------------------------------------------------------

    def _consume(self, buf: bytes, pos: int, end: int, *, final: bool) -> int:
        """Parse complete lines in ``buf[pos:end]``; return where parsing stopped.

        Runs of lines in the kubelet's own layout are taken by :meth:`_fast` (a few regular
        expression calls per family block, no Python per skipped line); any other line by
        :meth:`_line`, which implements every rule. The fast patterns accept a subset of what
        :meth:`_line` accepts and treat it identically (tests compare both on generated bodies).
        """
        slow_until = 0
        while pos < end:
            if pos >= slow_until:
                pos, slow_until = self._fast(buf, pos, end)
                if pos >= end:
                    break
            new = self._line(buf, pos, end, final)
            if new == pos:
                break  # an incomplete line: wait for the next chunk
            pos = new
        return pos

    def _fast(self, buf: bytes, pos: int, end: int) -> tuple[int, int]:
        """Take what the fast patterns can from ``pos``; return where they stopped and, when a block
        of container samples had lines they do not take, where that block ends (for :meth:`_line`)."""
        while True:
            m = _SKIP_RUN(buf, pos, end)
            new = m.end() if m is not None else pos
            if new > pos:
                self._lineno += buf.count(b"\n", pos, new)
                pos = new
            if pos >= end or buf[pos] != 99:  # "c": a container family in the kubelet's layout?
                return pos, 0
            for prefix, rows_of, family in _CONTAINER_RUNS:
                if buf.startswith(prefix, pos):
                    # the block runs to the next comment (the next family's HELP); take it whole
                    # when every line of it is a sample in the kubelet's layout
                    stop = buf.find(b"\n#", pos, end) + 1 or end
                    rows = rows_of(buf, pos, stop)
                    if len(rows) != buf.count(b"\n", pos, stop):
                        return pos, stop
                    self._rows(rows, family)
                    self._lineno += len(rows)
                    pos = stop
                    break
            else:
                return pos, 0

    def _rows(self, rows: list[tuple[bytes, bytes, bytes, bytes, bytes]], family: int) -> None:
        """Container samples a fast pattern matched: values there are non-negative and finite, and
        timestamps within range, so only the upper bounds are checked."""
        accs = self._containers
        get = accs.get
        default_ts = self._default_ts
        bit = 1 << family
        if family == _CONTAINER_START:
            for c, ns, pod, raw, _ in rows:
                x = float(raw) * 1e9
                start = int(x) if x <= _INT64_MAX else ZERO_TIME_NS
                key = (ns, pod, c)
                acc = get(key)
                if acc is None:
                    accs[key] = [start, 0, 0, 0, bit]
                    continue
                if acc[4] & bit:
                    self.duplicates += 1
                acc[4] |= bit
                acc[0] = start
            return
        slot = 2 if family == _CONTAINER_CPU else 3
        scale = 1e9 if family == _CONTAINER_CPU else 1.0
        for c, ns, pod, raw, ts_raw in rows:
            x = float(raw) * scale
            if x < _UINT64_LIMIT:
                v = int(x)
            else:
                self._invalid(x)
                v = 0
            ts = int(ts_raw) * 1_000_000 if ts_raw else default_ts
            key = (ns, pod, c)
            acc = get(key)
            if acc is None:
                acc = accs[key] = [ZERO_TIME_NS, ts, 0, 0, bit]
            else:
                if acc[4] & bit:
                    self.duplicates += 1
                acc[4] |= bit
                acc[1] = ts
            acc[slot] = v

    def _line(self, buf: bytes, pos: int, end: int, final: bool) -> int:
        """One line at ``pos`` by the general pattern and every rule; return the position after it
        (``pos`` when the line may continue in the next chunk)."""
        m = _LINE.match(buf, pos, end)
        if m is None:
            if self._nul_ends_input(buf, pos):
                self._eof = True
                return end
            if not final and b'"' in buf[pos:end]:
                # possibly a label value holding a raw newline that the next chunk closes
                return pos
            self._lineno += 1
            self._fail(buf, pos, "expected a sample, a comment or a blank line")
        self._lineno += 1
        name = m.group(2)
        if name is None:
            comment = m.group(1)
            if comment is not None and comment[:1] in (b" ", b"\t"):
                self._meta(comment, buf, pos)
            return m.end()
        family = _FAMILIES.get(name)
        if family is None:
            return m.end()
        craw, nsraw, podraw, labels, raw, ts_raw = m.group(3, 4, 5, 6, 7, 8)
        value = float(raw)
        if ts_raw is None:
            ts = self._default_ts
        else:
            ts = int(ts_raw) * 1_000_000
            if ts > _INT64_MAX:
                self._fail(buf, pos, f"timestamp {ts_raw[:24]!r} out of range")
        if value in _INFINITIES and raw[-1] not in b"fFyY":
            # strconv.ParseFloat reports a range error for "1e400"
            self._fail(buf, pos, f"value {raw[:40]!r} out of range")
        bit = 1 << family
        if family <= _NODE_MEM:
            node = self._node
            if self._node_seen & bit:
                self.duplicates += 1
            self._node_seen |= bit
            node[0] = ts
            if family == _NODE_CPU:
                node[1] = self._nanos(value)
            else:
                node[2] = self._count(value)
            return m.end()
        key = (nsraw, podraw, craw) if craw is not None else _general_key(labels)
        if key is None:
            return m.end()  # the kubelet always sets all three labels; nothing to attribute
        acc = self._containers.get(key)
        if acc is None:
            acc = self._containers[key] = [ZERO_TIME_NS, 0, 0, 0, bit]
        elif acc[4] & bit:
            self.duplicates += 1
        else:
            acc[4] |= bit
        if family == _CONTAINER_CPU:
            acc[1] = ts
            acc[2] = self._nanos(value)
        elif family == _CONTAINER_MEM:
            acc[1] = ts
            acc[3] = self._count(value)
        else:
            acc[0] = _start_nanos(value)
        return m.end()

    def _nanos(self, v: float) -> int:
        """``uint64(v * 1e9)`` for the values Go converts portably; 0 (missing, counted) otherwise."""
        x = v * 1e9
        if 0.0 <= x < _UINT64_LIMIT:
            return int(x)
        self._invalid(v)
        return 0

    def _count(self, v: float) -> int:
        if 0.0 <= v < _UINT64_LIMIT:
            return int(v)
        self._invalid(v)
        return 0

    def _invalid(self, v: float) -> None:
        reason = "nan" if v != v else "negative" if v < 0 else "out_of_range"
        self.invalid[reason] = self.invalid.get(reason, 0) + 1

    @staticmethod
    def _nul_ends_input(buf: bytes, pos: int) -> bool:
        # promlex returns EOF on a NUL byte where a line starts
        i = pos
        n = len(buf)
        while i < n and buf[i] in b" \t":
            i += 1
        return i < n and buf[i] == 0

    def _meta(self, comment: bytes, buf: bytes, pos: int) -> None:
        mm = _META.match(comment)
        if mm is None:
            return  # a plain comment ("# some text")
        kind = mm.group(1)
        name = mm.group(2)
        if name is None:
            self._fail(buf, pos, f"expected metric name after {kind.decode()}")
        text = mm.group(3)
        text = text[1:] if len(text) > 1 else b""
        if kind == b"TYPE":
            if text not in _TYPES:
                self._fail(buf, pos, f"invalid metric type {text[:40]!r}")
        else:
            try:
                text.decode()
            except UnicodeDecodeError:
                self._fail(buf, pos, "help text is not valid UTF-8")

    def _fail(self, buf: bytes, pos: int, what: str) -> NoReturn:
        nl = buf.find(b"\n", pos)
        line = buf[pos : nl if nl >= 0 else pos + 200]
        raise ParseError(f"line {max(self._lineno, 1)}: {what}: {truncate(line, 160)}")

    def _batch(self) -> NodeBatch:
        ts, cpu, mem = self._node
        node = None
        if ts is not None and cpu and mem:
            node = MetricsPoint(ZERO_TIME_NS, ts, cpu, mem)
        pods: dict[PodKey, dict[str, MetricsPoint]] = {}
        broken: set[tuple[bytes, bytes]] = set()
        try:
            for (ns, pod, container), (start, cts, ccpu, cmem, _) in self._containers.items():
                if not ccpu or not cmem:
                    broken.add((ns, pod))
                    continue
                key = (ns.decode(), pod.decode())
                points = pods.get(key)
                if points is None:
                    points = pods[key] = {}
                points[container.decode()] = MetricsPoint(start, cts, ccpu, cmem)
        except UnicodeDecodeError:
            raise ParseError("a container, pod or namespace label value is not valid UTF-8") from None
        for ns, pod in broken:
            pods.pop((ns.decode(errors="replace"), pod.decode(errors="replace")), None)
        return NodeBatch(node, pods, self._lineno, len(broken), self.duplicates, self.invalid)


def parse_body(body: bytes, default_ts_ns: int, max_bytes: int = 0) -> NodeBatch:
    """Parse one complete kubelet response."""
    return KubeletParser(default_ts_ns, max_bytes).parse(body)
