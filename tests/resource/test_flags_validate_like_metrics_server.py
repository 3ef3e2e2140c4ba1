"""``kubescope resource-metrics`` flags: defaults, metrics-server's validation, clear errors."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from kubescope.errors import ConfigError
from kubescope.resource import settings as rs


def parse(*argv: str) -> rs.Settings:
    p = argparse.ArgumentParser()
    rs.configure(p)
    return rs.from_args(p.parse_args(list(argv)))


def test_defaults() -> None:
    s = parse()
    assert s.metric_resolution == 15.0
    assert s.kubelet.preferred_address_types == (
        "Hostname",
        "InternalDNS",
        "InternalIP",
        "ExternalDNS",
        "ExternalIP",
    )
    assert (s.kubelet.port, s.kubelet.request_timeout, s.kubelet.scheme) == (10250, 10.0, "https")
    assert (s.serving.secure_port, s.serving.cert_dir) == (443, "apiserver.local.config/certificates")
    assert s.auth.always_allow_paths == ("/healthz", "/readyz", "/livez")
    assert (s.auth.token_cache_ttl, s.auth.authorized_ttl, s.auth.unauthorized_ttl) == (10.0, 10.0, 10.0)
    assert s.auth.requestheader_username_headers == ("x-remote-user",)


def test_manifest_flags() -> None:
    s = parse(
        "--cert-dir=/tmp",
        "--secure-port=10250",
        "--kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname",
        "--kubelet-use-node-status-port",
        "--metric-resolution=15s",
        "--kubelet-insecure-tls",
        "-l",
        "pool!=system",
        "--requestheader-allowed-names=front-proxy-client,aggregator",
    )
    assert s.kubelet.preferred_address_types == ("InternalIP", "ExternalIP", "Hostname")
    assert s.kubelet.use_node_status_port and s.kubelet.insecure_tls
    assert s.kubelet.node_selector.matches({"pool": "gpu"}) and not s.kubelet.node_selector.matches(
        {"pool": "system"}
    )
    assert s.auth.requestheader_allowed_names == ("front-proxy-client", "aggregator")


@pytest.mark.parametrize(
    ("value", "seconds"), [("15s", 15.0), ("1m30s", 90.0), ("500ms", 0.5), ("1.5h", 5400.0), ("0", 0.0)]
)
def test_go_durations(value: str, seconds: float) -> None:
    assert rs.parse_duration(value, "--x") == seconds


@pytest.mark.parametrize("value", ["15", "1x", "s", "", "1m 30s"])
def test_bad_durations(value: str) -> None:
    with pytest.raises(ConfigError, match="invalid duration"):
        rs.parse_duration(value, "--x")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--metric-resolution=5s"], "metric-resolution should be a time duration at least 10s"),
        (["--metric-resolution=10s"], "metric-resolution should be larger than kubelet-request-timeout"),
        (["--kubelet-request-timeout=0s"], "kubelet-request-timeout should be positive"),
        (
            ["--kubelet-certificate-authority=ca.crt", "--kubelet-insecure-tls"],
            "cannot use both --kubelet-certificate-authority and --kubelet-insecure-tls",
        ),
        (["--kubelet-client-key=k"], "need both --kubelet-client-key and --kubelet-client-certificate"),
        (
            ["--kubelet-insecure-tls", "--deprecated-kubelet-completely-insecure"],
            "cannot use both --kubelet-insecure-tls and --deprecated-kubelet-completely-insecure",
        ),
        (["--node-selector=a in b"], "--node-selector="),
        (["--tls-cipher-suites=TLS_NOPE"], "unknown or unsupported cipher suite"),
        (["--kubelet-max-concurrent-requests=0"], "at least 1"),
    ],
)
def test_invalid_flags_name_the_problem(argv: list[str], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        parse(*argv)


def test_short_resolution_for_tests_needs_the_flag_and_a_matching_timeout() -> None:
    s = parse(
        "--metric-resolution=2s", "--kubelet-request-timeout=1s", "--testing-allow-short-metric-resolution"
    )
    assert s.metric_resolution == 2.0
    assert s.resolution_ns == 2_000_000_000


def test_command_help_and_exit_code() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "kubescope", "resource-metrics", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for flag in (
        "--metric-resolution",
        "--kubelet-preferred-address-types",
        "--kubelet-use-node-status-port",
        "--kubelet-request-via-apiserver",
        "--requestheader-client-ca-file",
        "--authorization-always-allow-paths",
        "--cert-dir",
        "--node-selector",
        "--kubeconfig",
    ):
        assert flag in out
    bad = subprocess.run(
        [sys.executable, "-m", "kubescope", "resource-metrics", "--metric-resolution=1s"],
        check=False,
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2
    assert "metric-resolution should be a time duration at least 10s" in bad.stderr
