"""Flags -> KubeSettings -> where the connection comes from; TLS context from a Connection."""

from __future__ import annotations

import argparse
import re
import ssl
from pathlib import Path

import pytest

from kubescope.errors import ConfigError
from kubescope.kube.config import Connection, KubeSettings, add_kube_flags, build_ssl_context, choose_source
from tests.kube.certs import CA


def parse(*argv: str) -> KubeSettings:
    p = argparse.ArgumentParser()
    add_kube_flags(p)
    return KubeSettings.from_args(p.parse_args(argv))


def test_flags_as_kube_state_metrics_spells_them() -> None:
    s = parse("--kubeconfig", "/k", "--apiserver", "https://10.0.0.1:6443", "--context", "prod")
    assert (s.kubeconfig, s.apiserver, s.context) == ("/k", "https://10.0.0.1:6443", "prod")
    assert parse() == KubeSettings()


def test_bad_apiserver_url_names_the_flag() -> None:
    with pytest.raises(ConfigError, match=re.escape("--apiserver='10.0.0.1:6443' must be an http")):
        parse("--apiserver", "10.0.0.1:6443")


def test_source_order(tmp_path: Path) -> None:
    kc = tmp_path / "config"
    kc.write_text("apiVersion: v1\n")
    other = tmp_path / "other"
    other.write_text("apiVersion: v1\n")
    in_cluster = {
        "KUBERNETES_SERVICE_HOST": "10.96.0.1",
        "KUBERNETES_SERVICE_PORT": "443",
        "KUBECONFIG": str(other),
    }
    src = choose_source(KubeSettings(kubeconfig=str(kc), context="c"), in_cluster)
    assert (src.kind, src.kubeconfig, src.context) == ("kubeconfig", str(kc), "c")
    assert choose_source(KubeSettings(apiserver="http://127.0.0.1:1"), in_cluster).kind == "apiserver"
    src = choose_source(KubeSettings(), in_cluster)
    assert (src.kind, src.host, src.port) == ("in-cluster", "10.96.0.1", "443")
    src = choose_source(KubeSettings(), {"KUBECONFIG": f"{tmp_path}/missing:{other}", "HOME": str(tmp_path)})
    assert (src.kind, src.kubeconfig) == ("kubeconfig", str(other))


def test_no_source_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(ConfigError, match="pass --kubeconfig"):
        choose_source(KubeSettings(), {})
    with pytest.raises(ConfigError, match="--kubeconfig: file not found: /nope"):
        choose_source(KubeSettings(kubeconfig="/nope"), {})


def test_ssl_context_variants() -> None:
    ca = CA()
    client = ca.issue("alice", client=True)
    assert build_ssl_context(Connection(server="http://127.0.0.1:1")) is None
    ctx = build_ssl_context(
        Connection(
            server="https://h", ca_pem=ca.pem, client_cert_pem=client.cert_pem, client_key_pem=client.key_pem
        )
    )
    assert ctx is not None and ctx.verify_mode == ssl.CERT_REQUIRED and ctx.check_hostname
    insecure = build_ssl_context(Connection(server="https://h", insecure=True))
    assert insecure is not None and insecure.verify_mode == ssl.CERT_NONE
    with pytest.raises(ConfigError, match="invalid client certificate or key") as info:
        build_ssl_context(
            Connection(
                server="https://h", client_cert_pem=client.cert_pem, client_key_pem=ca.issue("x").key_pem
            )
        )
    assert "PRIVATE KEY" not in str(info.value)
    with pytest.raises(ConfigError, match="needs both"):
        build_ssl_context(Connection(server="https://h", client_cert_pem=client.cert_pem))


def test_connection_repr_and_description_hide_secrets() -> None:
    c = Connection(
        server="https://h", authorization="Bearer abcdef123456", client_key_pem="KEY", token_file="/t"
    )
    assert "abcdef" not in repr(c) and "KEY" not in repr(c)
    assert c.describe_auth() == "token file /t"
    assert (
        Connection(server="https://h", authorization="Basic eHg6eXk=").describe_auth() == "basic credentials"
    )


def test_proxy_from_environment_like_go() -> None:
    from kubescope.kube.config import check_proxy, proxy_from_environment

    env = {
        "HTTPS_PROXY": "proxy.corp:3128",
        "http_proxy": "http://p80:80",
        "NO_PROXY": ".svc,10.0.0.0/8,kube.local:6443",
    }
    assert proxy_from_environment("https://api.example.com", env) == "http://proxy.corp:3128"
    assert proxy_from_environment("http://api.example.com", env) == "http://p80:80"
    assert proxy_from_environment("https://kubernetes.default.svc", env) == ""
    assert proxy_from_environment("https://10.96.0.1:443", env) == ""
    assert proxy_from_environment("https://kube.local:6443", env) == ""
    assert proxy_from_environment("https://kube.local:443", env) == "http://proxy.corp:3128"
    assert proxy_from_environment("https://127.0.0.1:6443", env) == ""  # loopback is never proxied
    assert proxy_from_environment("https://api.example.com", {**env, "no_proxy": "*"}) == ""
    assert proxy_from_environment("https://api.example.com", {}) == ""
    with pytest.raises(ConfigError, match="not SOCKS"):
        check_proxy("socks5://127.0.0.1:1080")
