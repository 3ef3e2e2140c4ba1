"""The kubelet /metrics/resource parser: metrics-server's decoding rules, on real and crafted bodies."""

from __future__ import annotations

import contextlib
import datetime as dt
import random
from pathlib import Path

import pytest

from kubescope.kubelet.parser import ZERO_TIME_NS, KubeletParser, MetricsPoint, ParseError, parse_body

DATA = Path(__file__).resolve().parents[1] / "data" / "kubelet"
REQUEST_NS = 3_393_212_827_123_456_789  # 2077-07-07T07:07:07.123456789Z


def ns(year: int, month: int, day: int, hour: int, minute: int, second: int, micro: int = 0) -> int:
    """Unix nanoseconds of a UTC date."""
    t = dt.datetime(year, month, day, hour, minute, second, micro, tzinfo=dt.UTC)
    return int(t.timestamp()) * 1_000_000_000 + t.microsecond * 1000


def container_line(family: str, value: str, ts: str = "", **labels: str) -> str:
    lab = ",".join(f'{k}="{v}"' for k, v in labels.items())
    return f"{family}{{{lab}}} {value}" + (f" {ts}" if ts else "") + "\n"


def test_metrics_server_normal_case() -> None:
    batch = parse_body((DATA / "ms-decode-normal.prom").read_bytes(), REQUEST_NS)
    assert batch.node == MetricsPoint(
        start=ZERO_TIME_NS, ts=ns(2021, 10, 3, 9, 36, 49, 720000), cpu=357354910000, mem=1616273408
    )
    assert batch.pods == {
        ("kube-system", "coredns-558bd4d5db-4dpjz"): {
            "coredns": MetricsPoint(
                start=ns(2021, 10, 3, 9, 18, 32),
                ts=ns(2021, 10, 3, 9, 36, 52, 125000),
                cpu=4710169000,
                mem=12533760,
            )
        }
    }
    assert batch.lines == 23


def test_samples_without_timestamp_use_request_time_truncated_to_ms() -> None:
    body = (
        'container_cpu_usage_seconds_total{container="coredns",namespace="kube-system",pod="p"} 4.710169\n'
        'container_memory_working_set_bytes{container="coredns",namespace="kube-system",pod="p"} 1.25e+07\n'
        'container_start_time_seconds{container="coredns",namespace="kube-system",pod="p"} 1.633252712e+9\n'
        "node_cpu_usage_seconds_total 357.35491\n"
        "node_memory_working_set_bytes 1.616273408e+09\n"
    )
    batch = parse_body(body.encode(), REQUEST_NS)
    want_ts = REQUEST_NS // 1_000_000 * 1_000_000
    assert batch.node is not None and batch.node.ts == want_ts
    point = batch.pods[("kube-system", "p")]["coredns"]
    assert point.ts == want_ts
    assert point.start == ns(2021, 10, 3, 9, 18, 32)


def test_real_kubelet_response_with_70_pods() -> None:
    body = (DATA / "ms-client-70pods.prom").read_bytes()
    batch = parse_body(body, REQUEST_NS)
    assert len(batch.pods) == 70
    assert batch.dropped_pods == 0
    assert batch.lines == body.count(b"\n")
    p = batch.pods[("kube-system", "coredns-558bd4d5db-4dpjz")]["coredns"]
    assert (p.cpu, p.ts) == (4710169000, 1633253812125 * 1_000_000)


def test_kubelet_collector_outputs() -> None:
    batch = parse_body(
        (
            DATA / "kubelet-arbitrary-container-metrics-for-different-container-pods-and-namespaces.prom"
        ).read_bytes(),
        REQUEST_NS,
    )
    assert batch.node is None
    assert set(batch.pods) == {("namespace_a", "pod_a"), ("namespace_b", "pod_b")}
    assert list(batch.pods[("namespace_a", "pod_a")]) == ["container_a", "container_b"]
    a = batch.pods[("namespace_a", "pod_a")]["container_a"]
    # start time lines carry no timestamp and never set the point's timestamp
    assert a == MetricsPoint(int(1.6243962483020916e9 * 1e9), 1624396278302 * 1_000_000, 10 * 10**9, 1000)

    node = parse_body((DATA / "kubelet-arbitrary-node-metrics.prom").read_bytes(), REQUEST_NS)
    assert node.node == MetricsPoint(ZERO_TIME_NS, 1624396278302 * 1_000_000, 10 * 10**9, 1000)
    assert node.pods == {}
    # pod-level families and scrape_error are not read
    assert parse_body((DATA / "kubelet-arbitrary-pod-metrics.prom").read_bytes(), REQUEST_NS).pods == {}
    failed = parse_body((DATA / "kubelet-error-getting-summary.prom").read_bytes(), REQUEST_NS)
    assert failed.node is None and failed.pods == {}


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(
            'container_memory_working_set_bytes{container="c",namespace="n",pod="p"} 1.25e+07 1633253812\n',
            id="no container cpu",
        ),
        pytest.param(
            'container_cpu_usage_seconds_total{container="c",namespace="n",pod="p"} 0 1633253812125\n'
            'container_memory_working_set_bytes{container="c",namespace="n",pod="p"} 1.25e+07 1633253812\n',
            id="zero container cpu",
        ),
        pytest.param(
            'container_cpu_usage_seconds_total{container="c",namespace="n",pod="p"} 4.7 1633253812125\n',
            id="no container memory",
        ),
        pytest.param(
            'container_cpu_usage_seconds_total{container="c",namespace="n",pod="p"} 4.7 1633253812125\n'
            'container_memory_working_set_bytes{container="c",namespace="n",pod="p"} 0 1633253812125\n',
            id="zero container memory",
        ),
        pytest.param(
            'container_cpu_usage_seconds_total{container="c",namespace="n",pod="p"} 4.7 1633253812125\n'
            'container_memory_working_set_bytes{container="c",namespace="n",pod="p"} 1e7 1633253812125\n'
            'container_start_time_seconds{container="d",namespace="n",pod="p"} 1.6e9\n',
            id="second container with only a start time drops the whole pod",
        ),
        pytest.param(
            'container_cpu_usage_seconds_total{container="c",namespace="n",pod="p"} NaN 1633253812125\n'
            'container_memory_working_set_bytes{container="c",namespace="n",pod="p"} 1e7 1633253812125\n',
            id="NaN cpu counts as missing",
        ),
        pytest.param(
            'container_cpu_usage_seconds_total{container="c",namespace="n",pod="p"} -4 1633253812125\n'
            'container_memory_working_set_bytes{container="c",namespace="n",pod="p"} 1e7 1633253812125\n',
            id="negative cpu counts as missing",
        ),
        pytest.param(
            'container_cpu_usage_seconds_total{container="c",namespace="n",pod="p"} 4 1633253812125\n'
            'container_memory_working_set_bytes{container="c",namespace="n",pod="p"} +Inf 1633253812125\n',
            id="infinite memory counts as missing",
        ),
    ],
)
def test_incomplete_container_drops_the_pod(body: str) -> None:
    batch = parse_body(body.encode(), REQUEST_NS)
    assert batch.pods == {}
    assert batch.dropped_pods == 1


@pytest.mark.parametrize(
    "body",
    [
        pytest.param("node_memory_working_set_bytes 1.6e+09 1633253809720\n", id="no cpu"),
        pytest.param(
            "node_cpu_usage_seconds_total 0 1\nnode_memory_working_set_bytes 1.6e+09 1\n", id="zero cpu"
        ),
        pytest.param("node_cpu_usage_seconds_total 357.35 1633253809720\n", id="no memory"),
        pytest.param(
            "node_cpu_usage_seconds_total 357 1\nnode_memory_working_set_bytes 0 1\n", id="zero memory"
        ),
        pytest.param(
            "node_cpu_usage_seconds_total 3e-10 1\nnode_memory_working_set_bytes 5 1\n", id="cpu < 1ns"
        ),
        pytest.param("node_cpu_usage_seconds_total NaN 1\nnode_memory_working_set_bytes 5 1\n", id="NaN cpu"),
        pytest.param("", id="empty body"),
    ],
)
def test_incomplete_node_point_is_dropped(body: str) -> None:
    assert parse_body(body.encode(), REQUEST_NS).node is None


def test_timestamp_zero_is_a_real_time_for_nodes() -> None:
    # Go's time.Unix(0, 0) is not the zero time, so metrics-server keeps such a point
    batch = parse_body(b"node_cpu_usage_seconds_total 1 0\nnode_memory_working_set_bytes 5 0\n", REQUEST_NS)
    assert batch.node == MetricsPoint(ZERO_TIME_NS, 0, 10**9, 5)


def test_later_line_sets_the_timestamp() -> None:
    body = b"node_cpu_usage_seconds_total 1 1000\nnode_memory_working_set_bytes 5 2000\n"
    assert parse_body(body, REQUEST_NS).node == MetricsPoint(ZERO_TIME_NS, 2000 * 10**6, 10**9, 5)


def test_cpu_and_memory_conversions_truncate_like_go() -> None:
    body = b"node_cpu_usage_seconds_total 0.1234567899 1\nnode_memory_working_set_bytes 1023.9 1\n"
    node = parse_body(body, REQUEST_NS).node
    assert node is not None
    assert node.cpu == int(0.1234567899 * 1e9) == 123456789
    assert node.mem == 1023


@pytest.mark.parametrize(
    "line",
    [
        "node_cpu_usage_seconds_total_extra 5 1\n",
        "node_cpu_usage_seconds_totalx 5 1\n",
        "xnode_cpu_usage_seconds_total 5 1\n",
        "node_cpu_usage_seconds_total:rate 5 1\n",
    ],
)
def test_family_name_must_match_the_whole_token(line: str) -> None:
    body = line + "node_memory_working_set_bytes 5 1\n"
    assert parse_body(body.encode(), REQUEST_NS).node is None


def test_whitespace_between_tokens_is_accepted() -> None:
    body = (
        "node_cpu_usage_seconds_total\t2 7\n"
        "  node_memory_working_set_bytes   5   7  \n"
        'container_cpu_usage_seconds_total { container = "c" , namespace="n" pod="p", } 1 7\n'
        'container_memory_working_set_bytes{namespace="n",pod="p",container="c"}5 7\n'
    )
    batch = parse_body(body.encode(), REQUEST_NS)
    assert batch.node == MetricsPoint(ZERO_TIME_NS, 7_000_000, 2 * 10**9, 5)
    assert batch.pods == {("n", "p"): {"c": MetricsPoint(ZERO_TIME_NS, 7_000_000, 10**9, 5)}}


def test_label_values_with_escapes_and_any_order() -> None:
    body = (
        'container_cpu_usage_seconds_total{pod="we\\"ird",image="a,b=\\"c\\"}",namespace="n\\\\s",'
        'container="line\\nbreak"} 1 7\n'
        'container_memory_working_set_bytes{container="line\\nbreak",namespace="n\\\\s",pod="we\\"ird"} 5 7\n'
    )
    batch = parse_body(body.encode(), REQUEST_NS)
    assert batch.pods == {
        ("n\\s", 'we"ird'): {"line\nbreak": MetricsPoint(ZERO_TIME_NS, 7_000_000, 10**9, 5)}
    }


def test_unknown_escape_is_kept_verbatim() -> None:
    body = (
        'container_cpu_usage_seconds_total{container="a\\tb",namespace="n",pod="p"} 1 7\n'
        'container_memory_working_set_bytes{container="a\\tb",namespace="n",pod="p"} 5 7\n'
    )
    assert list(parse_body(body.encode(), REQUEST_NS).pods[("n", "p")]) == ["a\\tb"]


def test_raw_newline_inside_a_label_value_is_accepted_like_textparse() -> None:
    body = (
        b'container_cpu_usage_seconds_total{container="a\nb",namespace="n",pod="p"} 1 7\n'
        b'container_memory_working_set_bytes{container="a\nb",namespace="n",pod="p"} 5 7\n'
    )
    parser = KubeletParser(REQUEST_NS)
    for i in range(len(body)):
        parser.feed(body[i : i + 1])
    assert list(parser.finish().pods[("n", "p")]) == ["a\nb"]


def test_series_without_the_three_labels_is_ignored() -> None:
    body = (
        'container_cpu_usage_seconds_total{container="c",pod="p"} 1 7\n'
        'container_memory_working_set_bytes{container="c",pod="p"} 5 7\n'
        "container_cpu_usage_seconds_total 5 7\n"
    )
    batch = parse_body(body.encode(), REQUEST_NS)
    assert batch.pods == {}


def test_duplicate_sample_overwrites() -> None:
    body = (
        b"node_cpu_usage_seconds_total 1 7\nnode_cpu_usage_seconds_total 2 8\n"
        b"node_memory_working_set_bytes 5 7\n"
    )
    assert parse_body(body, REQUEST_NS).node == MetricsPoint(ZERO_TIME_NS, 7_000_000, 2 * 10**9, 5)


def test_comments_and_blank_lines() -> None:
    body = (
        "\n   \n# a free comment\n#HELP not metadata\n# HELP node_cpu_usage_seconds_total\n"
        "# HELPX whatever\n# TYPE node_cpu_usage_seconds_total counter\n"
        "node_cpu_usage_seconds_total 1 7\n# TYPE node_memory_working_set_bytes\tgauge\n"
        "node_memory_working_set_bytes 5 7"  # no final newline: textparse adds one
    )
    assert parse_body(body.encode(), REQUEST_NS).node == MetricsPoint(ZERO_TIME_NS, 7_000_000, 10**9, 5)


def test_nul_byte_at_line_start_ends_the_input() -> None:
    body = (
        b"node_cpu_usage_seconds_total 1 7\nnode_memory_working_set_bytes 5 7\n\x00garbage that is ignored\n"
    )
    assert parse_body(body, REQUEST_NS).node is not None


@pytest.mark.parametrize(
    ("body", "message"),
    [
        pytest.param(b"<html><body>502 Bad Gateway</body></html>\n", "line 1: expected a sample", id="html"),
        pytest.param(b'{"kind":"Status","code":403}\n', "line 1", id="json"),
        pytest.param(b"node_cpu_usage_seconds_total 1 7\nnode_memory\n", "line 2", id="name without value"),
        pytest.param(
            b'# TYPE x gauge\ncontainer_cpu_usage_seconds_total{container="a",pod=',
            "line 2",
            id="truncated in labels",
        ),
        pytest.param(
            b'container_cpu_usage_seconds_total{container="a} 1\n', "line 1", id="unterminated quote"
        ),
        pytest.param(b"node_cpu_usage_seconds_total 1 -1633253812125\n", "line 1", id="negative timestamp"),
        pytest.param(b"node_cpu_usage_seconds_total 1 16332538.5\n", "line 1", id="fractional timestamp"),
        pytest.param(
            b"node_cpu_usage_seconds_total 1 99999999999999999\n", "out of range", id="huge timestamp"
        ),
        pytest.param(b"node_cpu_usage_seconds_total 1 2 3\n", "line 1", id="two timestamps"),
        pytest.param(b"node_cpu_usage_seconds_total 1_000 2\n", "line 1", id="underscore in float"),
        pytest.param(b"node_cpu_usage_seconds_total 0x1p3 2\n", "line 1", id="hex float"),
        pytest.param(b"node_cpu_usage_seconds_total +nan 2\n", "line 1", id="signed nan"),
        pytest.param(b"node_cpu_usage_seconds_total 1e400 2\n", "out of range", id="float overflow"),
        pytest.param(
            b'pod_cpu_usage_seconds_total{pod="x"} abc\n', "line 1", id="bad value in another family"
        ),
        pytest.param(b"node_cpu_usage_seconds_total 1\r\n", "line 1", id="CRLF"),
        pytest.param(b'node_cpu_usage_seconds_total{a="b",,} 1\n', "line 1", id="double comma"),
        pytest.param(b"# TYPE node_cpu_usage_seconds_total countr\n", "invalid metric type", id="bad type"),
        pytest.param(
            b"# TYPE node_cpu_usage_seconds_total  counter\n", "invalid metric type", id="two blanks"
        ),
        pytest.param(b"# HELP 9lives text\n", "expected metric name after HELP", id="help without name"),
        pytest.param(b"# HELP x \xff\xfe\n", "UTF-8", id="help not utf-8"),
        pytest.param(
            b'container_cpu_usage_seconds_total{container="\xff",namespace="n",pod="p"} 1 7\n'
            b'container_memory_working_set_bytes{container="\xff",namespace="n",pod="p"} 1 7\n',
            "UTF-8",
            id="label not utf-8",
        ),
    ],
)
def test_bad_input_fails_the_node(body: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        parse_body(body, REQUEST_NS)


def test_random_bytes_fail_cleanly() -> None:
    rng = random.Random(7)
    for _ in range(200):
        body = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 300)))
        with contextlib.suppress(ParseError):
            parse_body(body, REQUEST_NS)


def test_oversized_body_fails_as_soon_as_the_cap_is_passed() -> None:
    parser = KubeletParser(REQUEST_NS, max_bytes=1000)
    line = b"node_cpu_usage_seconds_total 1 7\n"
    with pytest.raises(ParseError, match="exceeds 1000 bytes"):
        for _ in range(100):
            parser.feed(line)
    # without a cap the same input parses
    assert parse_body(line * 100 + b"node_memory_working_set_bytes 5 7\n", REQUEST_NS).node is not None


def test_endless_line_is_refused() -> None:
    parser = KubeletParser(REQUEST_NS)
    with pytest.raises(ParseError, match="too long"):
        parser.feed(
            b'container_cpu_usage_seconds_total{container="' + b"x" * (KubeletParser.MAX_PENDING + 10)
        )


@pytest.mark.parametrize("chunk", [1, 7, 100, 4096])
def test_chunked_feeding_gives_the_same_batch(chunk: int) -> None:
    body = (DATA / "ms-client-70pods.prom").read_bytes()
    whole = parse_body(body, REQUEST_NS)
    parser = KubeletParser(REQUEST_NS)
    for i in range(0, len(body), chunk):
        parser.feed(body[i : i + chunk])
    assert parser.finish() == whole


class ReferenceParser(KubeletParser):
    """Every line through the general rules: what the fast runs must agree with."""

    def _fast(self, buf: bytes, pos: int, end: int) -> tuple[int, int]:
        return pos, 0


def outcome(parser: KubeletParser, body: bytes, chunk: int) -> object:
    try:
        for off in range(0, len(body), chunk):
            parser.feed(body[off : off + chunk])
        b = parser.finish()
    except ParseError as e:
        return ("error", str(e))
    return (b.node, b.pods, b.lines, b.dropped_pods, parser.duplicates, parser.invalid)


MUTATIONS = (
    b"", b" ", b"\t", b"\n", b"#", b'"', b"\\", b"{", b"}", b",", b"=", b"-", b"+", b".", b"e", b"x",
    b"0", b"9", b"NaN", b"Inf", b"1e400", b"99999999999999", b"\x00", b"\xff", b"# TYPE ", b"# HELP ",
    b"\ncontainer_cpu_usage_seconds_total", b"\ncontainer_start_time_seconds", b"node_",
)  # fmt: skip


def kubelet_like_bodies() -> list[bytes]:
    bodies = [p.read_bytes() for p in sorted(DATA.glob("*.prom"))]
    rng = random.Random(7)
    out = list(bodies)
    for _ in range(1500):
        body = bytearray(rng.choice(bodies))
        for _ in range(rng.randint(1, 3)):
            at = rng.randrange(len(body) + 1)
            cut = rng.choice((0, 0, 1, 2, 5))
            body[at : at + cut] = rng.choice(MUTATIONS)
        out.append(bytes(body))
    return out


def test_fast_runs_agree_with_the_general_rules_on_mutated_kubelet_bodies() -> None:
    bodies = kubelet_like_bodies()
    assert any(b.count(b"\ncontainer_cpu_usage_seconds_total{container=") > 10 for b in bodies)
    fast_lines = 0
    for i, body in enumerate(bodies):
        chunk = (len(body) + 1, 4096, 97)[i % 3]
        fast = KubeletParser(REQUEST_NS, 1 << 20)
        assert outcome(fast, body, chunk) == outcome(ReferenceParser(REQUEST_NS, 1 << 20), body, chunk), (
            i,
            body,
        )
        fast_lines += fast.lines
    assert fast_lines > 40_000


def test_a_real_kubelet_body_goes_through_the_fast_runs() -> None:
    slow: list[int] = []

    class Counting(KubeletParser):
        def _line(self, buf: bytes, pos: int, end: int, final: bool) -> int:
            slow.append(pos)
            return super()._line(buf, pos, end, final)

    body = (DATA / "ms-client-70pods.prom").read_bytes()
    batch = Counting(REQUEST_NS).parse(body)
    assert batch == ReferenceParser(REQUEST_NS).parse(body)
    assert len(batch.pods) == 70 and batch.lines == 297
    assert len(slow) <= 4  # the two node samples (and nothing else of the kubelet's layout)


def test_duplicate_series_and_invalid_values_are_counted() -> None:
    lines = [
        container_line(
            "container_cpu_usage_seconds_total", "1", "1000", container="a", namespace="n", pod="p"
        ),
        container_line(
            "container_cpu_usage_seconds_total", "2", "1000", container="a", namespace="n", pod="p"
        ),
        container_line(
            "container_memory_working_set_bytes", "5", "1000", container="a", namespace="n", pod="p"
        ),
        container_line(
            "container_cpu_usage_seconds_total", "NaN", "1000", container="b", namespace="n", pod="q"
        ),
        container_line(
            "container_memory_working_set_bytes", "-1", "1000", container="b", namespace="n", pod="q"
        ),
        "node_cpu_usage_seconds_total 1 1000\nnode_cpu_usage_seconds_total 2 1000\n",
        "node_memory_working_set_bytes +Inf 1000\n",
    ]
    for parser in (KubeletParser(REQUEST_NS), ReferenceParser(REQUEST_NS)):
        batch = parser.parse("".join(lines).encode())
        assert batch.pods[("n", "p")]["a"].cpu == 2_000_000_000  # the later sample wins
        assert ("n", "q") not in batch.pods and batch.node is None
        assert parser.duplicates == 2
        assert parser.invalid == {"nan": 1, "negative": 1, "out_of_range": 1}
