"""Resolve Kubernetes credentials with kubernetes_asyncio's loaders, in a short-lived subprocess.

kubernetes_asyncio has the most complete kubeconfig and in-cluster loaders (exec plugins
``client.authentication.k8s.io/v1`` and ``v1beta1`` returning a token or a client certificate,
token files, CA/cert data or files, ``insecure-skip-tls-verify``, ``tls-server-name``,
``proxy-url``), but importing it costs the importing process about 35 MB of RSS for the rest of
its life. Measured on CPython 3.11.7 (``VmRSS`` after the imports, 3 runs each, all within
0.3 MB): ``kubescope.kube.client`` + ``reflector`` + ``credentials`` (aiohttp, msgspec): 37.2 MB;
the same plus ``import kubernetes_asyncio.config``: 73.5 MB, i.e. +36 MB, a quarter of the
exporter's 150 MiB budget, for code used once at start-up.

So the parent never imports it. ``python -m kubescope.kube.credentials`` loads the config, prints
the resolved :class:`~kubescope.kube.config.Connection` as JSON on stdout and exits; the parent
(:class:`Credentials`) builds its TLS context and headers from that, keeps the secrets in memory,
and runs the subprocess again shortly before exec-plugin credentials expire or after a 401.
Token files (in-cluster service account, kubeconfig ``tokenFile``) are re-read by the parent
every minute, as client-go does, since bound service-account tokens rotate.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as dt
import logging
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import msgspec

from kubescope.errors import ConfigError, truncate
from kubescope.kube.config import (
    Connection,
    KubeSettings,
    Source,
    build_ssl_context,
    check_proxy,
    choose_source,
    proxy_from_environment,
)
from kubescope.log import fields, redact
from kubescope.model.timefmt import parse_time

logger = logging.getLogger(__name__)

TOKEN_FILE_PERIOD = 60.0
"""Seconds between re-reads of a token file (client-go's cached file token source period)."""
MIN_REFRESH_INTERVAL = 1.0
"""A 401 re-resolves credentials at most this often (per client), so many requests failing at once
cause one subprocess, not one each."""
RETRY_FAILED_REFRESH = 10.0
"""After a failed refresh, keep the old credentials and try again after this many seconds."""
RESOLVE_TIMEOUT = 60.0
"""Seconds the loader subprocess (and the exec plugin it runs) may take."""

Resolver = Callable[[Source, Mapping[str, str] | None], Any]


# -- parent side ------------------------------------------------------------------------------


async def resolve(source: Source, environ: Mapping[str, str] | None = None) -> Connection:
    """Resolve ``source`` into a :class:`Connection` (a subprocess for kubeconfig and in-cluster)."""
    if source.kind == "apiserver":
        return Connection(server=source.apiserver.rstrip("/"))
    args = [sys.executable, "-m", "kubescope.kube.credentials"]
    if source.kind == "kubeconfig":
        args += ["--kubeconfig", source.kubeconfig]
        if source.context:
            args += ["--context", source.context]
    else:
        args += ["--in-cluster", "--service-account-dir", source.service_account_dir]
    try:
        proc = await asyncio.create_subprocess_exec(
            *args,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=dict(environ) if environ is not None else None,
        )
    except OSError as e:
        raise ConfigError(f"cannot start the credential loader for {source.describe()}: {e}") from e
    try:
        out, err = await asyncio.wait_for(proc.communicate(), RESOLVE_TIMEOUT)
    except asyncio.CancelledError:
        proc.kill()  # the caller stops (its server was told to): so does the loader, now
        await proc.wait()
        raise
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise ConfigError(
            f"loading credentials from {source.describe()} took over {RESOLVE_TIMEOUT:.0f}s "
            "(an exec plugin waiting for input?)"
        ) from None
    if proc.returncode != 0:
        msg = truncate(redact(err.decode("utf-8", "replace").strip()) or f"exit code {proc.returncode}")
        raise ConfigError(f"cannot load credentials from {source.describe()}: {msg}")
    try:
        return msgspec.json.decode(out, type=Connection)
    except msgspec.DecodeError as e:
        raise ConfigError(f"credential loader for {source.describe()} printed invalid output: {e}") from None


class Credentials:
    """The live credentials of one client: TLS context, ``Authorization`` header, refreshes.

    ``ensure_fresh()`` is called before every request (two comparisons unless something is due);
    ``unauthorized(generation)`` after a 401, returning whether a retry with new credentials makes
    sense. ``generation`` changes whenever the header or TLS context changes.
    """

    def __init__(
        self,
        connection: Connection,
        *,
        source: Source | None = None,
        environ: Mapping[str, str] | None = None,
        apiserver: str = "",
        resolver: Callable[[Source, Mapping[str, str] | None], Any] = resolve,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.source = source
        self._environ = environ
        self._apiserver = apiserver
        self._resolver = resolver
        self._clock = clock
        self._lock = asyncio.Lock()
        self.min_refresh_interval = MIN_REFRESH_INTERVAL
        self.generation = 0
        self.refreshes = 0
        self.refresh_failures = 0
        self._last_refresh = clock()
        self._refresh_at: float | None = None
        self._token_file = ""
        self._token_next_read = float("inf")
        self.connection = connection
        self.ssl = build_ssl_context(connection)
        self.headers: dict[str, str] = {}
        self._apply(connection, first=True)

    @classmethod
    async def load(cls, settings: KubeSettings, environ: Mapping[str, str]) -> Credentials:
        """Choose the source from ``settings`` and resolve it."""
        source = choose_source(settings, environ)
        conn = await resolve(source, environ)
        if settings.apiserver and source.kind != "apiserver":
            conn = dataclasses.replace(conn, server=settings.apiserver.rstrip("/"))
        if not conn.proxy_url:
            conn = dataclasses.replace(conn, proxy_url=proxy_from_environment(conn.server, environ))
        logger.info(
            "kubernetes api configured",
            extra=fields(source=source.describe(), server=conn.server, auth=conn.describe_auth()),
        )
        return cls(conn, source=source, environ=environ, apiserver=settings.apiserver)

    @property
    def server(self) -> str:
        return self.connection.server

    @property
    def server_hostname(self) -> str | None:
        return self.connection.tls_server_name or None

    @property
    def proxy(self) -> str | None:
        return self.connection.proxy_url or None

    def _apply(self, conn: Connection, *, first: bool = False) -> None:
        check_proxy(conn.proxy_url)
        old = self.connection
        if not first and (
            conn.ca_pem != old.ca_pem
            or conn.client_cert_pem != old.client_cert_pem
            or conn.client_key_pem != old.client_key_pem
            or conn.insecure != old.insecure
        ):
            self.ssl = build_ssl_context(conn)
        self.connection = conn
        now = self._clock()
        self._last_refresh = now
        if conn.expiry is not None and self.source is not None:
            # refresh a little before expiry, so requests in flight don't meet a 401
            margin = min(60.0, max(1.0, (conn.expiry - now) * 0.2))
            self._refresh_at = conn.expiry - margin
        else:
            self._refresh_at = None
        self._token_file = conn.token_file
        headers = {"Authorization": conn.authorization} if conn.authorization else {}
        if self._token_file:
            token = self._read_token_file()
            if token:
                headers["Authorization"] = "Bearer " + token
        self.headers = headers
        self.generation += 1

    def _read_token_file(self) -> str:
        """The token in ``token_file`` (whitespace trimmed, like client-go), or "" if unreadable."""
        self._token_next_read = self._clock() + TOKEN_FILE_PERIOD
        try:
            with open(self._token_file, encoding="utf-8") as f:
                token = f.read().strip()
        except OSError as e:
            logger.warning("cannot read token file", extra=fields(path=self._token_file, error=str(e)))
            return ""
        return token

    def _reread_token_file(self) -> bool:
        """Re-read the token file; True if the header changed."""
        token = self._read_token_file()
        if not token:
            return False
        value = "Bearer " + token
        if self.headers.get("Authorization") == value:
            return False
        self.headers = {**self.headers, "Authorization": value}
        self.generation += 1
        logger.debug("token file re-read, token changed", extra=fields(path=self._token_file))
        return True

    async def ensure_fresh(self) -> None:
        """Refresh what is due: expiring exec credentials, a token file's periodic re-read."""
        now = self._clock()
        if self._refresh_at is not None and now >= self._refresh_at:
            await self._refresh("credentials expire")
        if self._token_file and now >= self._token_next_read:
            self._reread_token_file()

    async def unauthorized(self, generation: int) -> bool:
        """A request made with ``generation`` got a 401: refresh if possible; True to retry once."""
        async with self._lock:
            if generation != self.generation:
                return True
            if self._token_file and self._reread_token_file():
                return True
            if self.source is None or self.source.kind in ("apiserver", "in-cluster"):
                return False
            if self._clock() - self._last_refresh < self.min_refresh_interval:
                return False
            return await self._refresh_locked("401 Unauthorized")

    async def _refresh(self, reason: str) -> bool:
        async with self._lock:
            now = self._clock()
            if self._refresh_at is None or now < self._refresh_at:
                return False  # someone else refreshed while we waited
            return await self._refresh_locked(reason)

    async def _refresh_locked(self, reason: str) -> bool:
        assert self.source is not None
        try:
            conn = await self._resolver(self.source, self._environ)
            if self._apiserver:
                conn = dataclasses.replace(conn, server=self._apiserver.rstrip("/"))
            if not conn.proxy_url:
                conn = dataclasses.replace(conn, proxy_url=self.connection.proxy_url)
            self._apply(conn)
        except ConfigError as e:
            self.refresh_failures += 1
            self._refresh_at = self._clock() + RETRY_FAILED_REFRESH
            logger.warning(
                "cannot refresh Kubernetes credentials, keeping the old ones",
                extra=fields(source=self.source.describe(), reason=reason, error=str(e)),
            )
            return False
        self.refreshes += 1
        logger.info(
            "kubernetes credentials refreshed", extra=fields(source=self.source.describe(), reason=reason)
        )
        return True


# -- subprocess side --------------------------------------------------------------------------


def _read_text(path: str | None) -> str:
    if not path:
        return ""
    with open(path, encoding="utf-8") as f:
        return f.read()


def _parse_expiry(value: Any) -> float | None:
    if not value:
        return None
    if not isinstance(value, dt.datetime):
        return parse_time(str(value))  # metav1.Time, as client-go reads it
    t: dt.datetime = value
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.UTC)
    return t.timestamp()


def _auth_header(api_key: Mapping[str, str]) -> str:
    value = (api_key.get("BearerToken") or api_key.get("authorization") or "").strip()
    scheme, _, cred = value.partition(" ")
    return f"{scheme} {cred.strip()}" if cred else value


def _token_file(user: Any) -> str:
    """The kubeconfig user's ``tokenFile`` (relative to its kubeconfig) when no inline ``token``
    takes precedence: the parent re-reads it, as client-go does."""
    if user is None or "tokenFile" not in user or user.safe_get("token"):
        return ""
    base_dir = os.path.dirname(os.path.abspath(user.path)) if user.path else ""
    return os.path.normpath(os.path.join(base_dir, str(user["tokenFile"])))


async def _load_kubeconfig(paths: str, context: str, tmp: str | None) -> Connection:
    from kubernetes_asyncio.client import Configuration
    from kubernetes_asyncio.config import kube_config

    statuses: list[dict[str, Any]] = []
    base = kube_config.ExecProvider  # type: ignore[attr-defined]

    class RecordingExecProvider(base):  # type: ignore[misc,valid-type]
        """The library's exec provider, keeping the plugin's status to learn its expiry (the
        library records it only for tokens, not for client certificates)."""

        async def run(self, previous_response: str | None = None) -> Any:
            status = await super().run(previous_response)
            if isinstance(status, dict):
                statuses.append(status)
            return status

    kube_config.ExecProvider = RecordingExecProvider  # type: ignore[attr-defined]
    cfg = Configuration()
    loader = await kube_config.load_kube_config(
        config_file=paths,
        context=context or None,
        client_configuration=cfg,
        persist_config=False,
        temp_file_path=tmp,
    )
    # the library exposes no accessor for the user entry
    token_file = "" if statuses else _token_file(getattr(loader, "_user", None))
    expiry = _parse_expiry(statuses[-1].get("expirationTimestamp")) if statuses else None
    return Connection(
        server=str(cfg.host).rstrip("/"),
        ca_pem=_read_text(cfg.ssl_ca_cert),
        client_cert_pem=_read_text(cfg.cert_file),
        client_key_pem=_read_text(cfg.key_file),
        authorization=_auth_header(cfg.api_key),
        token_file=token_file,
        expiry=expiry,
        tls_server_name=cfg.tls_server_name or "",
        insecure=not cfg.verify_ssl,
        proxy_url=cfg.proxy or "",
    )


def _load_incluster(sa_dir: str) -> Connection:
    from kubernetes_asyncio.client import Configuration
    from kubernetes_asyncio.config.incluster_config import load_incluster_config

    cfg = Configuration()
    token_file = os.path.join(sa_dir, "token")
    load_incluster_config(  # type: ignore[no-untyped-call]
        client_configuration=cfg,
        try_refresh_token=False,
        token_filename=token_file,
        cert_filename=os.path.join(sa_dir, "ca.crt"),
    )
    return Connection(
        server=str(cfg.host).rstrip("/"),
        ca_pem=_read_text(cfg.ssl_ca_cert),
        authorization=_auth_header(cfg.api_key),
        token_file=token_file,
    )


def _files_in_memory() -> bool:
    """Make kubernetes_asyncio keep the files it writes in memory; False where it cannot.

    The library writes a kubeconfig's inline certificates and keys (``*-data``, an exec plugin's
    client certificate) to temporary files, which this process reads back at once. On disk they
    outlive a loader that is killed meanwhile (its parent stopped during start-up: a
    ``kubescope-kubeconfig-*`` directory with a private key left in TMPDIR); a memfd
    (``/proc/self/fd/N``) holds them only as long as the loader lives, whatever ends it.
    """
    if not hasattr(os, "memfd_create") or not os.path.isdir("/proc/self/fd"):
        return False
    from kubernetes_asyncio.config import kube_config

    def in_memory(self: Any, content: str | bytes) -> str:
        fd = os.memfd_create("kubescope-kubeconfig", os.MFD_CLOEXEC)
        with open(fd, "wb", closefd=False) as f:
            f.write(content.encode() if isinstance(content, str) else content)
        return f"/proc/self/fd/{fd}"

    kube_config.FileOrData._create_temp_file_with_content = in_memory  # type: ignore[method-assign]
    return True


async def _load(ns: argparse.Namespace) -> Connection:
    if ns.in_cluster:
        return _load_incluster(ns.service_account_dir)
    if _files_in_memory():
        return await _load_kubeconfig(ns.kubeconfig, ns.context, None)
    tmp = tempfile.mkdtemp(prefix="kubescope-kubeconfig-")
    try:
        return await _load_kubeconfig(ns.kubeconfig, ns.context, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Print the resolved connection as JSON; on failure, a one-line reason on stderr and exit 1."""
    p = argparse.ArgumentParser(
        prog="python -m kubescope.kube.credentials", description=__doc__.split("\n")[0]
    )
    p.add_argument("--kubeconfig", default="")
    p.add_argument("--context", default="")
    p.add_argument("--in-cluster", action="store_true")
    p.add_argument("--service-account-dir", default="/var/run/secrets/kubernetes.io/serviceaccount")
    ns = p.parse_args(argv)
    logging.basicConfig(level=logging.ERROR, format="%(message)s")
    try:
        conn = asyncio.run(_load(ns))
    except Exception as e:  # every loader failure becomes one line for the parent's ConfigError
        sys.stderr.write(redact(f"{e.__class__.__name__}: {e}".strip()) + "\n")
        return 1
    sys.stdout.buffer.write(msgspec.json.encode(conn))
    return 0


if __name__ == "__main__":
    sys.exit(main())
