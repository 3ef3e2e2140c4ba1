"""Every kubeconfig / in-cluster variant yields a working TLS connection (loader in a subprocess).

The API server here is the fake one over TLS with a throwaway CA, accepting bearer tokens or
client certificates, so each test can see which credential arrived.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import stat
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubescope.errors import ConfigError, TransportError
from kubescope.kube.client import KubeClient
from kubescope.kube.config import KubeSettings
from tests.kube.certs import CA, Pair
from tests.kube.fakeapi import FakeApi
from tests.simfixtures import CLEAN_ENV

pytestmark = pytest.mark.slow


def server_context(ca: CA, pair: Pair, tmp: Path) -> ssl.SSLContext:
    cert, key = tmp / "server.crt", tmp / "server.key"
    cert.write_text(pair.cert_pem)
    key.write_text(pair.key_pem)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    ctx.load_verify_locations(cadata=ca.pem)
    ctx.verify_mode = ssl.CERT_OPTIONAL
    return ctx


@pytest.fixture(scope="module")
def ca() -> CA:
    return CA()


@pytest.fixture
async def tls(ca: CA, tmp_path: Path) -> AsyncIterator[FakeApi]:
    api = await FakeApi().start(server_context(ca, ca.issue("apiserver", ips=("127.0.0.1",)), tmp_path))
    api.tokens = {"tok-1"}
    api.client_cns = {"alice"}
    yield api
    await api.stop()


def kubeconfig(
    path: Path,
    server: str,
    user: dict[str, Any],
    *,
    cluster: dict[str, Any] | None = None,
    extra_contexts: dict[str, str] | None = None,
) -> Path:
    contexts = [{"name": "main", "context": {"cluster": "c", "user": "u"}}]
    clusters = [{"name": "c", "cluster": {"server": server, **(cluster or {})}}]
    for name, other_server in (extra_contexts or {}).items():
        contexts.append({"name": name, "context": {"cluster": name, "user": "u"}})
        clusters.append({"name": name, "cluster": {"server": other_server, **(cluster or {})}})
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": "main",
        "clusters": clusters,
        "contexts": contexts,
        "users": [{"name": "u", "user": user}],
    }
    path.write_text(yaml.safe_dump(doc))
    return path


def b64(text: str) -> str:
    import base64

    return base64.b64encode(text.encode()).decode()


def leftover_key_dirs() -> list[Path]:
    return list(Path("/dev/shm").glob("kubescope-tls-*")) + list(Path("/tmp").glob("kubescope-tls-*"))


async def connect(path: Path, **kw: Any) -> KubeClient:
    return await KubeClient.connect(KubeSettings(kubeconfig=str(path), **kw), environ=CLEAN_ENV)


def last_auth(api: FakeApi) -> str:
    return api.requests[-1][2].get("Authorization", "")


async def test_inline_token_with_ca_data(tls: FakeApi, ca: CA, tmp_path: Path) -> None:
    kc = kubeconfig(
        tmp_path / "kc", tls.url, {"token": "tok-1"}, cluster={"certificate-authority-data": b64(ca.pem)}
    )
    async with await connect(kc) as client:
        assert await client.check() == "v1.37.0-fake"
        assert last_auth(tls) == "Bearer tok-1"
        assert client.credentials.connection.describe_auth() == "bearer credentials"


async def test_client_certificate_data_and_ca_file(tls: FakeApi, ca: CA, tmp_path: Path) -> None:
    alice = ca.issue("alice", client=True)
    (tmp_path / "ca.crt").write_text(ca.pem)
    user = {"client-certificate-data": b64(alice.cert_pem), "client-key-data": b64(alice.key_pem)}
    kc = kubeconfig(tmp_path / "kc", tls.url, user, cluster={"certificate-authority": "ca.crt"})
    async with await connect(kc) as client:
        await client.check()
        assert last_auth(tls) == ""
    # the key was only on disk for the moment of loading it
    assert not leftover_key_dirs()


async def test_client_certificate_files(tls: FakeApi, ca: CA, tmp_path: Path) -> None:
    alice = ca.issue("alice", client=True)
    (tmp_path / "alice.crt").write_text(alice.cert_pem)
    (tmp_path / "alice.key").write_text(alice.key_pem)
    user = {"client-certificate": str(tmp_path / "alice.crt"), "client-key": str(tmp_path / "alice.key")}
    kc = kubeconfig(tmp_path / "kc", tls.url, user, cluster={"certificate-authority-data": b64(ca.pem)})
    async with await connect(kc) as client:
        await client.check()


async def test_token_file_is_re_read_when_the_token_rotates(tls: FakeApi, ca: CA, tmp_path: Path) -> None:
    (tmp_path / "token").write_text("tok-1\n")
    kc = kubeconfig(
        tmp_path / "kc", tls.url, {"tokenFile": "token"}, cluster={"certificate-authority-data": b64(ca.pem)}
    )
    async with await connect(kc) as client:
        await client.check()
        assert last_auth(tls) == "Bearer tok-1"
        (tmp_path / "token").write_text("tok-2\n")
        tls.tokens = {"tok-2"}
        await client.check()  # 401, re-read, retried once
        assert last_auth(tls) == "Bearer tok-2"
        assert client.credentials.refreshes == 0  # no subprocess for a file re-read


def plugin(tmp_path: Path, mode: str, ttl: float | None, pair: Pair | None = None) -> dict[str, Any]:
    script = tmp_path / "plugin.py"
    script.write_text(
        f"#!{sys.executable}\n"
        + """
import datetime, json, os
state = os.environ["PLUGIN_STATE"]
n = int(open(state).read()) + 1 if os.path.exists(state) else 1
open(state, "w").write(str(n))
info = json.loads(os.environ["KUBERNETES_EXEC_INFO"])
open(state + ".info", "w").write(json.dumps(info))
status = {}
if os.environ["PLUGIN_MODE"] == "token":
    status["token"] = f"exec-{n}"
else:
    status["clientCertificateData"] = open(os.environ["PLUGIN_CERT"]).read()
    status["clientKeyData"] = open(os.environ["PLUGIN_KEY"]).read()
ttl = os.environ.get("PLUGIN_TTL")
if ttl:
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=float(ttl))
    status["expirationTimestamp"] = t.strftime("%Y-%m-%dT%H:%M:%SZ")
print(json.dumps({"apiVersion": info["apiVersion"], "kind": "ExecCredential", "status": status}))
"""
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    env = [{"name": "PLUGIN_STATE", "value": str(tmp_path / "state")}, {"name": "PLUGIN_MODE", "value": mode}]
    if ttl is not None:
        env.append({"name": "PLUGIN_TTL", "value": str(ttl)})
    if pair is not None:
        (tmp_path / "p.crt").write_text(pair.cert_pem)
        (tmp_path / "p.key").write_text(pair.key_pem)
        env += [
            {"name": "PLUGIN_CERT", "value": str(tmp_path / "p.crt")},
            {"name": "PLUGIN_KEY", "value": str(tmp_path / "p.key")},
        ]
    return {"command": str(script), "env": env, "interactiveMode": "Never"}


async def test_exec_plugin_v1_token_is_refreshed_before_it_expires(
    tls: FakeApi, ca: CA, tmp_path: Path
) -> None:
    tls.tokens = {"exec-1", "exec-2"}
    # an hour's token, and the credentials' clock moved to its refresh time: what is checked is
    # when the refresh happens relative to the expiry, which no slow plugin run or loaded machine
    # can change (a token of a few real seconds could expire before the first request)
    user = {"exec": {"apiVersion": "client.authentication.k8s.io/v1", **plugin(tmp_path, "token", ttl=3600)}}
    kc = kubeconfig(tmp_path / "kc", tls.url, user, cluster={"certificate-authority-data": b64(ca.pem)})
    async with await connect(kc) as client:
        await client.check()
        assert last_auth(tls) == "Bearer exec-1"
        creds = client.credentials
        expiry, refresh_at = creds.connection.expiry, creds._refresh_at
        assert expiry is not None and refresh_at is not None
        assert time.time() < refresh_at < expiry, (time.time(), refresh_at, expiry)
        info = json.loads((tmp_path / "state.info").read_text())
        assert info["apiVersion"] == "client.authentication.k8s.io/v1" and info["kind"] == "ExecCredential"
        # not yet due: the same token, no plugin run
        await client.check()
        assert last_auth(tls) == "Bearer exec-1" and creds.refreshes == 0
        # due (the refresh time has come; the token has not expired): the next request refreshes first
        skew = refresh_at - time.time() + 1.0
        creds._clock = lambda: time.time() + skew
        assert creds._clock() < expiry
        await client.check()
        assert last_auth(tls) == "Bearer exec-2"
        assert creds.refreshes == 1
        assert creds.connection.expiry is not None and creds.connection.expiry >= expiry
        assert creds._refresh_at is not None and creds._refresh_at > creds._clock()


async def test_exec_plugin_v1beta1_client_certificate(tls: FakeApi, ca: CA, tmp_path: Path) -> None:
    alice = ca.issue("alice", client=True)
    user = {
        "exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1",
            **plugin(tmp_path, "cert", ttl=600, pair=alice),
        }
    }
    kc = kubeconfig(tmp_path / "kc", tls.url, user, cluster={"certificate-authority-data": b64(ca.pem)})
    before = time.time()
    async with await connect(kc) as client:
        await client.check()
        assert last_auth(tls) == ""
        assert client.credentials.connection.describe_auth() == "client certificate"
        expiry = client.credentials.connection.expiry
        # the plugin's 600 s from when it ran (its timestamp has whole seconds), however slow the machine
        assert expiry is not None and before + 600 - 1 <= expiry <= time.time() + 600


async def test_exec_plugin_is_run_again_after_a_401(tls: FakeApi, ca: CA, tmp_path: Path) -> None:
    tls.tokens = {"exec-2"}
    user = {"exec": {"apiVersion": "client.authentication.k8s.io/v1", **plugin(tmp_path, "token", ttl=None)}}
    kc = kubeconfig(tmp_path / "kc", tls.url, user, cluster={"certificate-authority-data": b64(ca.pem)})
    async with await connect(kc) as client:
        client.credentials.min_refresh_interval = 0
        await client.check()
        assert last_auth(tls) == "Bearer exec-2"
        assert client.credentials.refreshes == 1


async def test_insecure_skip_tls_verify(tls: FakeApi, tmp_path: Path) -> None:
    kc = kubeconfig(tmp_path / "kc", tls.url, {"token": "tok-1"}, cluster={"insecure-skip-tls-verify": True})
    async with await connect(kc) as client:
        await client.check()
    kc = kubeconfig(tmp_path / "kc2", tls.url, {"token": "tok-1"})
    async with await connect(kc) as client:
        with pytest.raises(TransportError, match="certificate verify failed"):
            await client.check()


async def test_tls_server_name(ca: CA, tmp_path: Path) -> None:
    api = await FakeApi().start(server_context(ca, ca.issue("apiserver", dns=("kube.test",)), tmp_path))
    try:
        cluster = {"certificate-authority-data": b64(ca.pem)}
        kc = kubeconfig(tmp_path / "kc", api.url, {}, cluster={**cluster, "tls-server-name": "kube.test"})
        async with await connect(kc) as client:
            await client.check()
        kc = kubeconfig(tmp_path / "kc2", api.url, {}, cluster=cluster)
        async with await connect(kc) as client:
            with pytest.raises(TransportError, match="certificate verify failed"):
                await client.check()
    finally:
        await api.stop()


async def test_context_and_apiserver_flags(tls: FakeApi, ca: CA, tmp_path: Path) -> None:
    cluster = {"certificate-authority-data": b64(ca.pem)}
    kc = kubeconfig(
        tmp_path / "kc",
        "https://127.0.0.1:1",
        {"token": "tok-1"},
        cluster=cluster,
        extra_contexts={"other": tls.url},
    )
    async with await connect(kc, context="other") as client:
        assert client.server == tls.url
        await client.check()
    async with await connect(kc, apiserver=tls.url) as client:
        assert client.server == tls.url
        await client.check()


async def test_in_cluster_service_account(tls: FakeApi, ca: CA, tmp_path: Path) -> None:
    sa = tmp_path / "serviceaccount"
    sa.mkdir()
    (sa / "token").write_text("tok-1\n")
    (sa / "ca.crt").write_text(ca.pem)
    (sa / "namespace").write_text("monitoring")
    env = {**CLEAN_ENV, "KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": str(tls.port)}
    async with await KubeClient.connect(KubeSettings(service_account_dir=str(sa)), environ=env) as client:
        assert client.server == tls.url
        await client.check()
        assert last_auth(tls) == "Bearer tok-1"
        (sa / "token").write_text("tok-2")  # bound tokens rotate
        tls.tokens = {"tok-2"}
        await client.check()
        assert last_auth(tls) == "Bearer tok-2"


async def test_broken_configs_name_the_input_and_hide_secrets(tls: FakeApi, ca: CA, tmp_path: Path) -> None:
    kc = kubeconfig(tmp_path / "kc", tls.url, {"token": "supersecret-token-value"})
    with pytest.raises(ConfigError) as info:
        await connect(kc, context="nope")
    msg = str(info.value)
    assert f"kubeconfig {kc} (context 'nope')" in msg and "nope" in msg
    assert "supersecret" not in msg
    user = {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": "/bin/false"}}
    kc = kubeconfig(tmp_path / "kc2", tls.url, user)
    with pytest.raises(ConfigError, match="exec: process returned 1"):
        await connect(kc)


async def test_proxy_url_tunnels_through_an_http_connect_proxy(tls: FakeApi, ca: CA, tmp_path: Path) -> None:
    tunnels: list[bytes] = []

    async def pipe(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        try:
            while data := await r.read(65536):
                w.write(data)
                await w.drain()
        except ConnectionError:
            pass
        finally:
            w.close()

    async def handle(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        request = await r.readuntil(b"\r\n\r\n")
        tunnels.append(request.split(b"\r\n", 1)[0])
        host, port = request.split()[1].decode().rsplit(":", 1)
        ur, uw = await asyncio.open_connection(host, int(port))
        w.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        await w.drain()
        await asyncio.gather(pipe(r, uw), pipe(ur, w))

    proxy = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = proxy.sockets[0].getsockname()[1]
    try:
        cluster = {"certificate-authority-data": b64(ca.pem), "proxy-url": f"http://127.0.0.1:{port}"}
        kc = kubeconfig(tmp_path / "kc", tls.url, {"token": "tok-1"}, cluster=cluster)
        async with await connect(kc) as client:
            assert await client.check() == "v1.37.0-fake"
        assert tunnels == [f"CONNECT 127.0.0.1:{tls.port} HTTP/1.1".encode()]
    finally:
        proxy.close()
        await proxy.wait_closed()
