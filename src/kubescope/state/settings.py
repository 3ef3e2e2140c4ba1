"""``kubescope state-metrics`` settings: kube-state-metrics' flags, parsed and validated once.

Flag names, defaults, list syntaxes and the ``--config`` YAML keys are KSM v2.20's
(``pkg/options``). Every invalid value raises :class:`~kubescope.errors.ConfigError` naming the flag,
the value and the accepted form, so start-up stops with one clear line.
"""

from __future__ import annotations

import argparse
import dataclasses
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import regex

from kubescope.errors import ConfigError
from kubescope.model.gofmt import parse_go_duration
from kubescope.state.allowlist import MAX_PARTIAL_WILDCARDS, KeyAllowList
from kubescope.state.family import Family, FamilyOptions, ResourceSpec
from kubescope.state.registry import all_resources, default_resource_names
from kubescope.state.sharding import Sharding

LABELS_FORMAT = "resource=[key,key2],resource2=[*],*=[key] (e.g. pods=[app,app.kubernetes.io/name])"


def split_list(value: str | Iterable[str] | None) -> list[str]:
    """Comma-separated (or YAML list/map) values, trimmed, empties dropped, order kept."""
    if value is None:
        return []
    if isinstance(value, str):
        items: Iterable[str] = value.split(",")
    elif isinstance(value, Mapping):
        items = [str(k) for k in value]
    else:
        items = [str(v) for v in value]
    return [s.strip() for s in items if s.strip()]


def parse_allowlist(flag: str, value: str) -> dict[str, tuple[str, ...]]:
    """KSM's ``LabelsAllowList.Set``: ``pods=[app,team],namespaces=[*]``, strict about syntax."""
    out: dict[str, list[str]] = {}
    value = value.strip()
    if not value:
        return {}
    pos = 0
    n = len(value)
    while pos < n:
        eq = value.find("=", pos)
        if eq < 0 or eq + 1 >= n or value[eq + 1] != "[":
            raise ConfigError(f"{flag}={value!r}: invalid format, expected {LABELS_FORMAT}")
        name = value[pos:eq].strip()
        end = value.find("]", eq)
        if not name or "," in name or end < 0:
            raise ConfigError(f"{flag}={value!r}: invalid format, expected {LABELS_FORMAT}")
        inner = value[eq + 2 : end]
        keys = [k.strip() for k in inner.split(",")] if inner.strip() else []
        if any(k == "" for k in keys):
            raise ConfigError(f"{flag}={value!r}: empty key in [{inner}], expected {LABELS_FORMAT}")
        for k in keys:
            if k.count("*") > MAX_PARTIAL_WILDCARDS:
                raise ConfigError(
                    f"{flag}={value!r}: key {k!r} has more than one '*'; only a single partial "
                    "wildcard per key is supported (e.g. app.kubernetes.io/*)"
                )
        out.setdefault(name, []).extend(keys)
        pos = end + 1
        if pos < n:
            if value[pos] != "," or pos + 1 >= n:
                raise ConfigError(f"{flag}={value!r}: invalid format, expected {LABELS_FORMAT}")
            pos += 1
    return {k: tuple(v) for k, v in out.items()}


def _allowlist_from_yaml(key: str, value: Any) -> dict[str, tuple[str, ...]]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigError(
            f"--config: {key} must be a map of resource to a list of keys, e.g. {{pods: [app]}}"
        )
    out = {}
    for res, keys in value.items():
        ks = tuple(split_list(keys))
        for k in ks:
            if k.count("*") > MAX_PARTIAL_WILDCARDS:
                raise ConfigError(f"--config: {key}.{res}: key {k!r} has more than one '*'")
        out[str(res)] = ks
    return out


def _compile_ecma(flag: str, pattern: str) -> regex.Pattern[str]:
    # KSM compiles these with dlclark/regexp2 in ECMAScript mode (lookarounds allowed); the
    # `regex` module accepts the same syntax for every pattern KSM users write. Imported here: it
    # costs 3 MiB of RSS that a process without these flags need not pay.
    import regex

    try:
        return regex.compile(pattern)
    except regex.error as e:
        raise ConfigError(f"{flag}: invalid regular expression {pattern!r}: {e}") from e


@dataclass(frozen=True)
class MetricFilter:
    """``--metric-allowlist``/``--metric-denylist`` (unanchored) and ``--metric-opt-in-list``."""

    allow: tuple[str, ...] = ()
    deny: tuple[str, ...] = ()
    opt_in: tuple[str, ...] = ()
    _allow: tuple[regex.Pattern[str], ...] = field(default=(), repr=False, compare=False)
    _deny: tuple[regex.Pattern[str], ...] = field(default=(), repr=False, compare=False)
    _opt_in: tuple[re.Pattern[str], ...] = field(default=(), repr=False, compare=False)

    @classmethod
    def build(cls, allow: Sequence[str], deny: Sequence[str], opt_in: Sequence[str]) -> MetricFilter:
        if allow and deny:
            raise ConfigError(
                "--metric-allowlist and --metric-denylist are both set: they are mutually exclusive, "
                "set only one of them"
            )
        opt = []
        for p in opt_in:
            try:
                opt.append(re.compile(p))
            except re.error as e:
                raise ConfigError(f"--metric-opt-in-list: invalid regular expression {p!r}: {e}") from e
        return cls(
            tuple(allow),
            tuple(deny),
            tuple(opt_in),
            tuple(_compile_ecma("--metric-allowlist", p) for p in allow),
            tuple(_compile_ecma("--metric-denylist", p) for p in deny),
            tuple(opt),
        )

    def keep(self, fam: Family) -> bool:
        name = fam.name
        if self._allow:
            if not any(r.search(name) for r in self._allow):
                return False
        elif any(r.search(name) for r in self._deny):
            return False
        return not fam.opt_in or any(r.search(name) for r in self._opt_in)


@dataclass(frozen=True)
class StateSettings:
    """Everything ``kubescope state-metrics`` runs with. Built once from flags (+ ``--config``)."""

    resources: tuple[str, ...] = ()
    """``--resources``: the resources watched and exported, sorted; default KSM's 32 default
    resources (endpoints, RBAC objects, service accounts and ingress classes are opt-in, as in KSM)."""
    namespaces: tuple[str, ...] = ()
    """``--namespaces``: empty (default) means all namespaces with one watch per resource; otherwise
    one watch per listed namespace and namespaced resource, as KSM does (N x M watches)."""
    namespaces_denylist: tuple[str, ...] = ()
    """``--namespaces-denylist``: namespaces excluded server-side with ``metadata.namespace!=``
    field selectors (so their objects are never sent); default none. Ignored by cluster-scoped
    resources, as in KSM."""
    metric_filter: MetricFilter = field(default_factory=MetricFilter)
    """``--metric-allowlist``/``--metric-denylist``/``--metric-opt-in-list``, compiled once; default:
    every family except the opt-in ones. Applied when stores are built, so denied families are
    never rendered."""
    labels_allowlist: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """``--metric-labels-allowlist``: resource -> label keys for its ``*_labels`` family; default
    none, so ``*_labels`` families have headers and no series (KSM's default: label values are
    high-cardinality)."""
    annotations_allowlist: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """``--metric-annotations-allowlist``: the same for ``*_annotations``; default none."""
    host: str = "::"
    """``--host``: address of the main listener (``/metrics``, ``/healthz``, ``/livez``); default
    ``::``, every address, as KSM."""
    port: int = 8080
    """``--port``: TCP port of the main listener; default 8080, as KSM."""
    telemetry_host: str = "::"
    """``--telemetry-host``: address of the self-metrics listener (``/metrics``, ``/readyz``);
    default ``::``."""
    telemetry_port: int = 8081
    """``--telemetry-port``: TCP port of the self-metrics listener; default 8081, as KSM."""
    shard: int = 0
    """``--shard``: this instance's shard, 0-based; default 0. Objects are kept when the jump hash
    of the FNV-64a of their UID over ``total_shards`` equals it (KSM's exact shard map)."""
    total_shards: int = 1
    """``--total-shards``: number of shards; default 1 (no sharding)."""
    pod: str = ""
    """``--pod``: this pod's name, for automatic sharding from its StatefulSet (ordinal = name
    suffix, shards = replicas); default empty, off."""
    pod_namespace: str = ""
    """``--pod-namespace``: the namespace of ``pod``; default empty."""
    node: str = ""
    """``--node``: watch only the pods of this node (server-side ``spec.nodeName=`` selector), for
    DaemonSet sharding, the one mode that cuts API traffic; only with ``--resources=pods``; default
    empty, every node."""
    track_unscheduled_pods: bool = False
    """``--track-unscheduled-pods``: watch only pods not yet bound to a node (``spec.nodeName=``),
    the companion Deployment of ``--node`` sharding; default off."""
    enable_gzip_encoding: bool = True
    """Answer ``Accept-Encoding: gzip`` with gzip. On by default, unlike KSM (off since v1.5): the
    store keeps the text gzip-compressed, so a gzip scrape costs no compression at all and sends
    7x fewer bytes; ``--enable-gzip-encoding=false`` restores KSM's plain-only behaviour."""
    use_apiserver_cache: bool = False
    """``--use-apiserver-cache``: list with ``resourceVersion=0`` (served from the API server's
    watch cache, cheaper for it); default off. A real API server then ignores ``limit`` and sends
    every object in one response, which costs memory here (see docs/state-metrics.md)."""
    object_limit: int = 0
    """``--object-limit``: at most this many objects listed per resource (the list is truncated,
    as KSM's experimental flag does); default 0, no limit."""
    kubeconfig: str = ""
    """``--kubeconfig``: kubeconfig file; default empty: ``$KUBECONFIG``, ``~/.kube/config`` or the
    in-cluster service account, the order client-go uses."""
    apiserver: str = ""
    """``--apiserver``: API server URL overriding the kubeconfig's; default empty."""
    context: str = ""
    """``--context``: kubeconfig context; default empty, the current context."""
    config_file: str = ""
    """``--config``: KSM's options YAML file; its values override the flags' and a change restarts
    what it affects; default empty, none."""
    continue_without_config: bool = False
    """``--continue-without-config``: start even if ``config_file`` is absent and apply it when it
    appears; default off (an absent file stops start-up, as in KSM)."""
    tls_config: str = ""
    """``--tls-config``: Prometheus web-config file (TLS, client certificates, basic auth) for both
    listeners; default empty, plain HTTP as KSM."""
    auth_filter: bool = False
    """``--auth-filter``: require a bearer token the API server authenticates (TokenReview) and
    allows ``get`` on ``/metrics`` (SubjectAccessReview); default off, as KSM."""
    custom_resource_state_config: str = ""
    """``--custom-resource-state-config``: inline Custom Resource State YAML (wins over the file);
    default empty."""
    custom_resource_state_config_file: str = ""
    """``--custom-resource-state-config-file``: Custom Resource State file, polled and applied again
    on change; default empty."""
    continue_without_custom_resource_state_config_file: bool = False
    """Start even if the Custom Resource State file is absent, and load it when it appears; default
    off, as KSM."""
    custom_resource_state_only: bool = False
    """``--custom-resource-state-only``: export only custom resources; default off."""
    server_read_timeout: float = 60.0
    """``--server-read-timeout``: seconds, default 60 (KSM's). Accepted and validated for
    compatibility with KSM's command lines; the listener does not enforce it yet."""
    server_write_timeout: float = 60.0
    """``--server-write-timeout``: seconds, default 60 (KSM's): a /metrics response still being
    written after this long is aborted (a client that reads nothing for 10 s sooner)."""
    server_idle_timeout: float = 300.0
    """``--server-idle-timeout``: seconds an idle keep-alive connection stays open; default 300,
    KSM's."""
    server_read_header_timeout: float = 5.0
    """``--server-read-header-timeout``: seconds, default 5 (KSM's, after hangs under concurrent
    scrapes, KSM #2412). Accepted and validated for compatibility; not enforced yet."""
    max_plain_scrapes: int = 4
    """``--max-plain-scrapes`` (ours): uncompressed /metrics responses in flight at once; more are
    answered 503 with Retry-After. Each holds ~6 MiB of inflated text while it is sent (gzip ones
    nothing of their own: at most 64 scrapes in all are in flight)."""
    block_size: int = 256
    """``--block-size`` (ours): objects per compressed block; default 256. Bigger compresses better
    and splices more per change, smaller re-compresses less per change (measured in
    docs/benchmarks.md: 256 against 128 at 1,000 x 30, dense members 35.84 against 36.96 MiB and
    steady RSS 2-3 MiB lower, the same CPU per pod update)."""
    flush_interval: float = 1.0
    """``--flush-interval`` (ours): seconds between background flushes of pending changes into
    compressed blocks; default 1. A scrape flushes first anyway, so this only bounds how long
    rendered text waits uncompressed in memory."""
    watch_list: bool = True
    """``--watch-list`` (ours): (re)list with watch-list streams where the API server serves them
    (client-go's ``WatchListClient``); default true; false: always LIST."""

    @property
    def sharding(self) -> Sharding:
        return Sharding(self.shard, self.total_shards)

    def family_options(self, resource: str) -> FamilyOptions:
        return FamilyOptions(
            labels=KeyAllowList(self._allow_for(self.labels_allowlist, resource)),
            annotations=KeyAllowList(self._allow_for(self.annotations_allowlist, resource)),
        )

    @staticmethod
    def _allow_for(m: Mapping[str, tuple[str, ...]], resource: str) -> tuple[str, ...]:
        # an explicit entry for the resource wins; "*" applies to every enabled resource
        if resource in m:
            return m[resource]
        return m.get("*", ())

    def families(self, resource: str) -> list[Family]:
        spec = all_resources()[resource]
        return [f for f in spec.families(self.family_options(resource)) if self.metric_filter.keep(f)]

    def field_selector(self, resource: str, spec: ResourceSpec | None = None) -> str:
        """The server-side field selector for a resource (KSM: node and namespace denylist);
        ``spec`` for resources outside the registry (custom resources)."""
        spec = spec or all_resources()[resource]
        parts = []
        if resource == "pods":
            if self.track_unscheduled_pods:
                parts.append("spec.nodeName=")
            elif self.node:
                parts.append(f"spec.nodeName={self.node}")
        if spec.namespaced:
            parts.extend(f"metadata.namespace!={ns}" for ns in self.namespaces_denylist)
        return ",".join(parts)


def go_bool(v: str) -> bool:
    """A boolean flag value as Go's ``strconv.ParseBool`` reads it (``--flag=false``)."""
    s = v.strip()
    if s in ("1", "t", "T", "true", "TRUE", "True"):
        return True
    if s in ("0", "f", "F", "false", "FALSE", "False"):
        return False
    raise argparse.ArgumentTypeError(f"invalid boolean {v!r}: use true or false")


def _yaml_bool(key: str, v: Any) -> bool:
    """A boolean from a flag (already parsed) or a ``--config`` value (YAML bool, or a string)."""
    if isinstance(v, bool):
        return v
    try:
        return go_bool(str(v))
    except argparse.ArgumentTypeError:
        raise ConfigError(f"{key}={v!r}: expected true or false") from None


def _duration(flag: str, v: Any) -> float:
    """Seconds of a Go duration flag (``time.ParseDuration``: ``30s``, ``1m30s``, ``0``, ``1.5h``)."""
    if isinstance(v, int | float):
        return float(v)
    try:
        return parse_go_duration(str(v)) / 1e9
    except ValueError:
        raise ConfigError(
            f"{flag}={v!r}: invalid duration, expected a Go duration such as 30s, 1m or 1m30s"
        ) from None


def from_args(args: argparse.Namespace, overrides: Mapping[str, Any] | None = None) -> StateSettings:
    """Validate flags (and ``--config`` overrides) into a :class:`StateSettings`."""
    a = dict(vars(args))
    if overrides:
        a.update(overrides)

    known = all_resources()
    res = split_list(a.get("resources")) if a.get("resources") is not None else default_resource_names()
    if not res:
        res = default_resource_names()
    unknown = [r for r in res if r not in known]
    if unknown:
        raise ConfigError(
            f"--resources: unknown resource(s) {', '.join(unknown)}; known resources: {', '.join(known)}"
        )
    res = sorted(set(res))
    if a.get("custom_resource_state_only"):
        res = []  # KSM: only the custom resources of the CRS configuration, whatever --resources says

    def allow(flag: str, key: str) -> dict[str, tuple[str, ...]]:
        v = a.get(key)
        if isinstance(v, Mapping):
            m = _allowlist_from_yaml(flag, v)
        else:
            m = parse_allowlist(flag, str(v or ""))
        bad = [r for r in m if r != "*" and r not in known]
        if bad:
            raise ConfigError(
                f"{flag}: unknown resource(s) {', '.join(bad)}; use the plural names of --resources"
            )
        return m

    labels = allow("--metric-labels-allowlist", "metric_labels_allowlist")
    annotations = allow("--metric-annotations-allowlist", "metric_annotations_allowlist")
    mf = MetricFilter.build(
        split_list(a.get("metric_allowlist")),
        split_list(a.get("metric_denylist")),
        split_list(a.get("metric_opt_in_list")),
    )

    def port(flag: str, v: Any) -> int:
        try:
            p = int(v)
        except (TypeError, ValueError):
            raise ConfigError(f"{flag}={v!r}: expected a port number 0-65535") from None
        if not 0 <= p <= 65535:
            raise ConfigError(f"{flag}={p}: expected a port number 0-65535")
        return p

    total = int(a.get("total_shards") or 1)
    shard = int(a.get("shard") or 0)
    if total < 1:
        raise ConfigError(f"--total-shards={total}: must be at least 1")
    if not 0 <= shard < total:
        raise ConfigError(f"--shard={shard}: must be between 0 and --total-shards-1 ({total - 1})")
    node = str(a.get("node") or "")
    if node and res != ["pods"]:
        raise ConfigError(
            f"--node={node}: only pods can be sharded by the spec.nodeName field selector; "
            f"set --resources=pods (got {','.join(res)})"
        )
    if bool(a.get("pod")) != bool(a.get("pod_namespace")):
        raise ConfigError("--pod and --pod-namespace must be set together (automatic sharding)")
    olimit = int(a.get("object_limit") or 0)
    if olimit < 0:
        raise ConfigError(f"--object-limit={olimit}: must be equal or greater than 0")
    bs = int(a.get("block_size") or 256)
    max_plain = int(a.get("max_plain_scrapes") or 4)
    if not 1 <= max_plain <= 64:
        raise ConfigError(f"--max-plain-scrapes={max_plain}: expected 1..64")
    if not 1 <= bs <= 65536:
        raise ConfigError(f"--block-size={bs}: expected 1..65536")

    return StateSettings(
        resources=tuple(res),
        namespaces=tuple(ns for ns in split_list(a.get("namespaces")) if ns),
        namespaces_denylist=tuple(split_list(a.get("namespaces_denylist"))),
        metric_filter=mf,
        labels_allowlist=labels,
        annotations_allowlist=annotations,
        host=str(a.get("host", "::")),
        port=port("--port", a.get("port", 8080)),
        telemetry_host=str(a.get("telemetry_host", "::")),
        telemetry_port=port("--telemetry-port", a.get("telemetry_port", 8081)),
        shard=shard,
        total_shards=total,
        pod=str(a.get("pod") or ""),
        pod_namespace=str(a.get("pod_namespace") or ""),
        node=node,
        track_unscheduled_pods=bool(a.get("track_unscheduled_pods")),
        enable_gzip_encoding=_yaml_bool("enable_gzip_encoding", a.get("enable_gzip_encoding", True)),
        use_apiserver_cache=bool(a.get("use_apiserver_cache")),
        object_limit=olimit,
        kubeconfig=str(a.get("kubeconfig") or ""),
        apiserver=str(a.get("apiserver") or ""),
        context=str(a.get("context") or ""),
        config_file=str(a.get("config") or ""),
        continue_without_config=bool(a.get("continue_without_config")),
        tls_config=str(a.get("tls_config") or ""),
        auth_filter=bool(a.get("auth_filter")),
        custom_resource_state_config=str(a.get("custom_resource_state_config") or ""),
        custom_resource_state_config_file=str(a.get("custom_resource_state_config_file") or ""),
        continue_without_custom_resource_state_config_file=bool(
            a.get("continue_without_custom_resource_state_config_file")
        ),
        custom_resource_state_only=bool(a.get("custom_resource_state_only")),
        server_read_timeout=_duration("--server-read-timeout", a.get("server_read_timeout", "1m")),
        server_write_timeout=_duration("--server-write-timeout", a.get("server_write_timeout", "1m")),
        server_idle_timeout=_duration("--server-idle-timeout", a.get("server_idle_timeout", "5m")),
        server_read_header_timeout=_duration(
            "--server-read-header-timeout", a.get("server_read_header_timeout", "5s")
        ),
        block_size=bs,
        max_plain_scrapes=max_plain,
        flush_interval=float(a.get("flush_interval") or 1.0),
        watch_list=_yaml_bool("--watch-list", a.get("watch_list", True)),
    )


def replace(s: StateSettings, **changes: Any) -> StateSettings:
    return dataclasses.replace(s, **changes)
