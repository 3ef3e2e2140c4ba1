"""``kubescope state-metrics`` command line: kube-state-metrics' flags (same names, defaults and
help, plus ours) and the ``--config`` YAML file's keys, mapped to the same argparse destinations.

Declarations only: :func:`kubescope.state.settings.from_args` validates what they parse into a
:class:`~kubescope.state.settings.StateSettings`.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kubescope.errors import ConfigError
from kubescope.state.registry import default_resource_names
from kubescope.state.settings import StateSettings, go_bool
from kubescope.web import flags as web_flags


def configure(p: argparse.ArgumentParser) -> None:
    """Add kube-state-metrics' flags (same names, defaults and help) plus ours."""
    d = StateSettings()
    g = p.add_argument_group("what to export")
    g.add_argument(
        "--resources",
        default=None,
        help="Comma-separated list of resources to be enabled. Defaults to "
        f'"{",".join(default_resource_names())}"',
    )
    g.add_argument(
        "--namespaces", default="", help='Comma-separated list of namespaces to be enabled. Defaults to ""'
    )
    g.add_argument(
        "--namespaces-denylist",
        default="",
        help="Comma-separated list of namespaces not to be enabled. If namespaces and namespaces-denylist are "
        "both set, only namespaces that are excluded in namespaces-denylist will be used.",
    )
    g.add_argument(
        "--metric-allowlist",
        default="",
        help="Comma-separated list of metrics to be exposed. This list comprises of exact metric names and/or "
        "ECMAScript-based regex patterns (unanchored). The allowlist and denylist are mutually exclusive.",
    )
    g.add_argument(
        "--metric-denylist",
        default="",
        help="Comma-separated list of metrics not to be enabled. This list comprises of exact metric names "
        "and/or ECMAScript-based regex patterns (unanchored). The allowlist and denylist are mutually exclusive.",
    )
    g.add_argument(
        "--metric-opt-in-list",
        default="",
        help="Comma-separated list of metrics which are opt-in and not enabled by default. This is in addition "
        "to the metric allow- and denylists",
    )
    g.add_argument(
        "--metric-labels-allowlist",
        default="",
        help="Kubernetes label keys to add to each resource's _labels metric, as "
        "'resource=[key,...],...'. '*' as the first key allows all keys (severe performance implications); "
        "a resource of '*' applies to every enabled resource; one partial wildcard per key "
        "('pods=[app.kubernetes.io/*]').",
    )
    g.add_argument(
        "--metric-annotations-allowlist",
        default="",
        help="Kubernetes annotation keys to add to each resource's _annotations metric; same syntax as "
        "--metric-labels-allowlist.",
    )
    g.add_argument(
        "--custom-resource-state-config",
        default="",
        help="Inline Custom Resource State Metrics config YAML (experimental)",
    )
    g.add_argument(
        "--custom-resource-state-config-file",
        default="",
        help="Path to a Custom Resource State Metrics config file (experimental)",
    )
    g.add_argument(
        "--continue-without-custom-resource-state-config-file",
        action="store_true",
        help="Keep running if the file given by --custom-resource-state-config-file is absent; load it when "
        "it appears.",
    )
    g.add_argument(
        "--custom-resource-state-only",
        action="store_true",
        help="Only provide Custom Resource State metrics (experimental)",
    )

    g = p.add_argument_group("serving")
    # the listeners' flags come from the serving core: a taken port stops the command naming the flag
    # (when the server binds, first thing: --config may move a listener, so no check before that)
    web_flags.add_listen_flags(
        g,
        host_flag="--host",
        port_flag="--port",
        host=d.host,
        port=d.port,
        what="metrics",
        host_help='Host to expose metrics on. (default "::")',
        port_help="Port to expose metrics on. (default 8080)",
        precheck=False,
    )
    web_flags.add_listen_flags(
        g,
        host_flag="--telemetry-host",
        port_flag="--telemetry-port",
        host=d.telemetry_host,
        port=d.telemetry_port,
        what="self metrics",
        host_help='Host to expose self metrics on. (default "::")',
        port_help="Port to expose self metrics on. (default 8081)",
        precheck=False,
    )
    g.add_argument(
        "--enable-gzip-encoding",
        nargs="?",
        const=True,
        default=True,
        type=go_bool,
        metavar="BOOL",
        help="Gzip responses when requested by clients via 'Accept-Encoding: gzip' header. On by default "
        "(KSM: off): the text is stored compressed, so gzip costs nothing; --enable-gzip-encoding=false "
        "keeps KSM's behaviour (default true)",
    )
    g.add_argument(
        "--tls-config",
        default="",
        help="Path to the TLS configuration file (Prometheus web config: tls_server_config, basic_auth_users)",
    )
    g.add_argument(
        "--auth-filter",
        action="store_true",
        help="If true, requires authentication and authorization through Kubernetes API (TokenReview and "
        "SubjectAccessReview for get on /metrics) to access metrics endpoints",
    )
    for name, default, text in (
        (
            "server-read-timeout",
            "1m0s",
            "KSM's maximum duration for reading a request; accepted and validated for compatibility, "
            "not applied (aiohttp has no per-request read deadline; requests here are bodiless GETs)",
        ),
        (
            "server-write-timeout",
            "1m0s",
            "Maximum duration for writing a /metrics response; longer ones are aborted, and so is one whose "
            "client reads nothing for 10s (or this, if shorter)",
        ),
        (
            "server-idle-timeout",
            "5m0s",
            "The maximum time to wait for the next request on a keep-alive connection",
        ),
        (
            "server-read-header-timeout",
            "5s",
            "KSM's maximum duration for reading request headers; accepted and validated, not applied",
        ),
    ):
        g.add_argument(f"--{name}", default=default, help=f"{text} (default {default})")

    g = p.add_argument_group("sharding")
    g.add_argument(
        "--shard",
        type=int,
        default=0,
        help="The instances shard nominal (zero indexed) within the total number of shards. (default 0)",
    )
    g.add_argument(
        "--total-shards",
        type=int,
        default=1,
        help="The total number of shards. Sharding is disabled when total shards is set to 1.",
    )
    g.add_argument(
        "--pod",
        default="",
        help="Name of the pod that contains kubescope (automatic sharding from its StatefulSet).",
    )
    g.add_argument("--pod-namespace", default="", help="Namespace of the pod given by --pod.")
    g.add_argument(
        "--node",
        default="",
        help="Name of the node kubescope runs on (daemonset sharding; only with --resources=pods): "
        "watches pods with spec.nodeName=<node>.",
    )
    g.add_argument(
        "--track-unscheduled-pods",
        action="store_true",
        help="Watch only unscheduled pods (spec.nodeName=); companion of --node daemonset sharding.",
    )

    g = p.add_argument_group("Kubernetes API")
    g.add_argument("--kubeconfig", default="", help="Absolute path to the kubeconfig file")
    g.add_argument("--apiserver", default="", help="The URL of the apiserver to use as a master")
    g.add_argument("--context", default="", help="kubeconfig context to use (default: the current context)")
    g.add_argument(
        "--use-apiserver-cache",
        action="store_true",
        help="Sets resourceVersion=0 for ListWatch requests, using cached resources from the apiserver "
        "instead of an etcd quorum read.",
    )
    g.add_argument(
        "--object-limit",
        type=int,
        default=0,
        help="The total number of objects to list per resource from the API Server. (experimental)",
    )

    g = p.add_argument_group("configuration file")
    g.add_argument(
        "--config",
        default="",
        help="Path to the options config YAML file (KSM's keys). Values in the file override the command "
        "line flags; the file is watched and applied again when it changes.",
    )
    g.add_argument(
        "--continue-without-config",
        action="store_true",
        help="Keep running if the file given by --config is absent; apply it when it appears.",
    )

    g = p.add_argument_group("tuning (kubescope)")
    g.add_argument(
        "--print-rbac",
        action="store_true",
        help="print the least-privilege ClusterRole for the selected --resources (and --auth-filter) and exit",
    )
    g.add_argument(
        "--max-plain-scrapes",
        type=int,
        default=d.max_plain_scrapes,
        help="uncompressed /metrics responses in flight at once, ~6 MiB each; more are answered 503 with "
        "Retry-After (gzip ones hold no memory of their own: 64 scrapes in all) (default %(default)s)",
    )
    g.add_argument(
        "--block-size",
        type=int,
        default=d.block_size,
        help="objects per compressed block (default %(default)s)",
    )
    g.add_argument(
        "--watch-list",
        nargs="?",
        const=True,
        default=True,
        type=go_bool,
        metavar="BOOL",
        help="list with a watch-list stream (sendInitialEvents, kube-apiserver 1.32+) where the API server "
        "serves one, LIST otherwise; false: always LIST (default true)",
    )
    g.add_argument(
        "--flush-interval",
        type=float,
        default=d.flush_interval,
        help="seconds between background flushes of changed objects into compressed blocks (default %(default)s)",
    )


# YAML key (KSM's Options yaml tags) -> argparse dest
_YAML_KEYS = {
    "resources": "resources",
    "namespaces": "namespaces",
    "namespaces_denylist": "namespaces_denylist",
    "metric_allowlist": "metric_allowlist",
    "metric_denylist": "metric_denylist",
    "metric_opt_in_list": "metric_opt_in_list",
    "labels_allow_list": "metric_labels_allowlist",
    "annotations_allow_list": "metric_annotations_allowlist",
    "apiserver": "apiserver",
    "kubeconfig": "kubeconfig",
    "host": "host",
    "port": "port",
    "telemetry_host": "telemetry_host",
    "telemetry_port": "telemetry_port",
    "total_shards": "total_shards",
    "shard": "shard",
    "pod": "pod",
    "namespace": "pod_namespace",
    "node": "node",
    "tls_config": "tls_config",
    "enable_gzip_encoding": "enable_gzip_encoding",
    "use_api_server_cache": "use_apiserver_cache",
    "track_unscheduled_pods": "track_unscheduled_pods",
    "object_limit": "object_limit",
    "auth_filter": "auth_filter",
    "custom_resource_config": "custom_resource_state_config",
    "custom_resource_state_config_file": "custom_resource_state_config_file",
    "custom_resource_config_file": "custom_resource_state_config_file",
    "continue_without_custom_resource_state_config_file": "continue_without_custom_resource_state_config_file",
    "custom_resources_only": "custom_resource_state_only",
    "continue_without_config": "continue_without_config",
    "server_read_timeout": "server_read_timeout",
    "server_write_timeout": "server_write_timeout",
    "server_idle_timeout": "server_idle_timeout",
    "server_read_header_timeout": "server_read_header_timeout",
}


def load_config_file(path: str) -> dict[str, Any]:
    """Read a ``--config`` YAML file into argparse destinations; unknown keys are an error."""
    try:
        text = Path(path).read_text()
    except OSError as e:
        raise ConfigError(f"--config={path}: cannot read the file: {e.strerror}") from e
    try:
        import yaml  # only with --config: 3 MiB of RSS otherwise saved

        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as e:
        raise ConfigError(f"--config={path}: invalid YAML: {e}") from e
    if not isinstance(data, Mapping):
        raise ConfigError(
            f"--config={path}: expected a YAML map of options (e.g. 'resources: {{pods: {{}}}}')"
        )
    out: dict[str, Any] = {}
    for k, v in data.items():
        dest = _YAML_KEYS.get(str(k))
        if dest is None:
            raise ConfigError(
                f"--config={path}: unknown key {k!r}; known keys: {', '.join(sorted(_YAML_KEYS))}"
            )
        out[dest] = v
    return out
