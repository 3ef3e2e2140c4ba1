"""Run one document's command lines as a reader would, in order, in one working directory.

Run inside private user, network and mount namespaces (tests/netns.py), so the fixed ports and
paths the docs use (8080, 6443, /tmp/kubescope.kubeconfig...) are this session's alone:

    unshare -rnm python -m tests.docs.session DOC RESULT.json

The session gets its own empty /tmp (a tmpfs) and HOME, a working directory that looks like a clone
(the repository's top-level entries linked in), ``PATH`` with the virtualenv's ``bin`` first (where
``scripts/setup`` installs ``kubescope`` and ``kubectl``), and no privilege to bind ports below
1024, as an ordinary user.

* Assignments (``export X=...``, ``X=$(...)``) are kept and replayed before every later command.
* A server (``kubescope demo|simulate|state-metrics|resource-metrics|custom-metrics|history|events``,
  ``scripts/demo``, ``prometheus``; a trailing ``&`` is allowed) is started in the background and
  waited for: its readiness endpoint, found from its flags as kubescope's own parser reads them
  (Prometheus': ``/-/ready`` at ``--web.listen-address``), or the demo's banner. It runs until a later server
  of the same kind or needing one of its ports replaces it, or the session ends (then Ctrl-C: SIGINT
  to its process group, and it must stop).
* Any other command must exit 0 (retried for a few seconds while servers run); a pipeline must print something; where the doc
  shows output, the first line printed must look like the first line shown (same table header,
  same metric name, same first JSON key...).
* At the end, the working directory may hold only files the doc names.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import signal
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tests import netns
from tests.docs import commands as dc
from tests.docs.allowlist import ALLOWED

REPO = dc.REPO
SERVER_KINDS = (
    "demo", "simulate", "state-metrics", "resource-metrics", "custom-metrics", "console", "history", "events",
)
ONE_SHOT_SUBCOMMANDS = {"history": ("recommend", "idle", "backfill"), "events": ("query",)}
"""Subcommands of a server's command that answer and exit."""
ONE_SHOT_FLAGS = ("--help", "-h", "--version", "--print-rbac", "--exit-after")
READY_TIMEOUT = 300.0
COMMAND_TIMEOUT = 600.0
"""A one-shot command still running after this long has hung. Not a timing check: README's
``pip install .`` into a fresh venv (a wheel built, every dependency installed) took over 180 s in
a full run on the shared 2-core machine, and was killed half-way."""
# a failing command is tried again for this long while servers run (a scrape may be due); the
# servers' readiness already covers what the docs wait for, so this only absorbs a loaded machine
RETRY_FOR = float(os.environ.get("DOCTEST_RETRY_SECONDS", "20"))
STOP_TIMEOUT = 30.0
ASSIGNMENT = re.compile(r"^(export\s+)?([A-Za-z_][A-Za-z0-9_]*=(\S+|\$\(.*\))\s*)+$")


@dataclass
class Outcome:
    where: str
    text: str
    status: str  # ok, failed, allowed
    message: str = ""
    seconds: float = 0.0
    attempts: int = 1


@dataclass
class Server:
    kind: str
    where: str
    proc: subprocess.Popen[bytes]
    log: Path
    ports: set[int] = field(default_factory=set)

    def tail(self, n: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-n:]


class Session:
    def __init__(self, doc: Path, doc_text: str, work: Path) -> None:
        self.doc = doc
        self.doc_text = doc_text
        self.work = work
        self.prelude: list[str] = []
        self.servers: list[Server] = []
        self.outcomes: list[Outcome] = []
        self.home = work.parent / "home"
        self.home.mkdir(exist_ok=True)
        self.env = {
            "PATH": f"{REPO / '.venv' / 'bin'}:/usr/local/bin:/usr/bin:/bin",
            "HOME": str(self.home),
            "LANG": "C.UTF-8",
            "TERM": "dumb",
            "CI": os.environ.get("CI", ""),
        }
        for name in ("PIP_NO_INDEX", "PIP_FIND_LINKS", "PIP_DISABLE_PIP_VERSION_CHECK"):
            if name in os.environ:
                self.env[name] = os.environ[name]
        self.mirror = {p.name for p in REPO.iterdir() if p.name not in (".git",)}
        for name in sorted(self.mirror):
            (work / name).symlink_to(REPO / name)

    # -- running -------------------------------------------------------------------------------

    def bash(self, script: str) -> list[str]:
        """bash as the reader's shell, without the privilege to bind ports below 1024."""
        return ["setpriv", "--bounding-set=-net_bind_service", "bash", "-c", script]

    def script(self, text: str) -> str:
        return "set -u\n" + "\n".join(self.prelude) + "\n" + text

    def run(self, items: list[dc.Command | dc.FileBlock]) -> None:
        for item in items:
            if isinstance(item, dc.FileBlock):
                (self.work / item.name).write_text(item.content)
                continue
            t0 = time.monotonic()
            reason = ALLOWED.get((item.doc, item.text))
            if reason is not None:
                self.outcomes.append(Outcome(item.where(), item.text, "allowed", reason))
                continue
            try:
                outcome = self.command(item)
            except Exception as e:  # the runner's own failure is reported against the doc line
                outcome = Outcome(item.where(), item.text, "failed", f"{type(e).__name__}: {e}")
            outcome.seconds = round(time.monotonic() - t0, 1)
            self.outcomes.append(outcome)
        self.stop_all()
        self.check_leftovers()

    def command(self, cmd: dc.Command) -> Outcome:
        text = cmd.text
        if ASSIGNMENT.match(_strip_comment(text)):
            p = self.shell(text, 60)
            if p.returncode != 0:
                return self.fail(cmd, f"exit {p.returncode}", p)
            self.prelude.append(_strip_comment(text))
            return Outcome(cmd.where(), text, "ok")
        server = self.server_kind(text)
        if server is not None:
            return self.start(cmd, *server)
        deadline = time.monotonic() + RETRY_FOR
        attempts = 0
        while True:
            attempts += 1
            p = self.shell(text, COMMAND_TIMEOUT)
            problem = self.judge(cmd, p)
            if not problem:
                return Outcome(cmd.where(), text, "ok", attempts=attempts)
            if not self.alive_servers() or time.monotonic() > deadline:
                out = self.fail(cmd, problem, p)
                out.attempts = attempts
                return out
            time.sleep(2)

    def shell(self, text: str, timeout: float) -> subprocess.CompletedProcess[str]:
        try:
            return subprocess.run(
                self.bash(self.script(text)),
                cwd=self.work,
                env=self.env,
                capture_output=True,
                text=True,
                timeout=timeout,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired as e:
            out = e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
            return subprocess.CompletedProcess(e.cmd, -9, out, f"still running after {timeout:.0f}s")

    def judge(self, cmd: dc.Command, p: subprocess.CompletedProcess[str]) -> str:
        """What is wrong with this run of the command ("" if nothing)."""
        if p.returncode != 0:
            return f"exit status {p.returncode}"
        lines = [x for x in p.stdout.splitlines() if x.strip()]
        if "|" in _strip_comment(cmd.text).replace("||", "") and not lines:
            return "the pipeline printed nothing"
        shown = [x for x in cmd.output if x.strip() not in ("...", "…")]
        if shown:
            if not lines:
                return "printed nothing, the doc shows output"
            want, got = signature(shown[0]), signature(lines[0])
            # an elided JSON document ("{...,") says only that JSON comes
            if want != got and not (want in ("{", "[") and got.startswith(want)):
                return (
                    f"the first line printed does not look like the doc's: {want!r} expected, {got!r} printed"
                )
        return ""

    def fail(self, cmd: dc.Command, problem: str, p: subprocess.CompletedProcess[str]) -> Outcome:
        msg = f"{problem}\n  stdout: {_tail(p.stdout)}\n  stderr: {_tail(p.stderr)}"
        return Outcome(cmd.where(), cmd.text, "failed", msg)

    # -- servers -------------------------------------------------------------------------------

    def words(self, text: str) -> list[str]:
        """The command's words after the shell's expansions (variables, ~, globs)."""
        p = self.shell(f"printf '%s\\0' {text}", 30)
        return [w for w in p.stdout.split("\0") if w] if p.returncode == 0 else shlex.split(text)

    def server_kind(self, text: str) -> tuple[str, list[str], str] | None:
        body = _strip_comment(text)
        background = body.endswith("&")
        body = body.rstrip("&").strip()
        if any(c in body for c in "|;><"):
            return None
        argv = self.words(body)
        if not argv:
            return None
        exe = argv[0]
        if exe.endswith("scripts/demo"):
            kind, args = "demo", argv[1:]
        elif Path(exe).name == "prometheus":
            kind, args = "prometheus", argv[1:]
        elif Path(exe).name == "kubescope" and len(argv) > 1 and argv[1] in SERVER_KINDS:
            kind, args = argv[1], argv[2:]
            if any(a in ONE_SHOT_SUBCOMMANDS.get(kind, ()) for a in args):
                return None
        else:
            return None
        if any(a.split("=")[0] in ONE_SHOT_FLAGS for a in args):
            return None
        del background  # started in the background either way
        return kind, args, body

    def start(self, cmd: dc.Command, kind: str, args: list[str], body: str) -> Outcome:
        from kubescope import cli

        ns = (
            _prometheus_flags(args)
            if kind == "prometheus"
            else cli.build_parser(only=kind).parse_args([kind, *args])
        )
        ports = _ports(kind, ns)
        for s in list(self.servers):
            if s.kind == kind or s.ports & ports:
                self.stop(s)
        log = self.work.parent / f"server-{len(self.outcomes)}-{kind}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                self.bash(self.script("exec " + body)),
                cwd=self.work,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        server = Server(kind, cmd.where(), proc, log, ports)
        self.servers.append(server)
        problem = self.wait_ready(server, ns)
        if problem:
            self.servers.remove(server)
            if server.proc.poll() is None:
                os.killpg(server.proc.pid, signal.SIGKILL)
                server.proc.wait()
            return Outcome(cmd.where(), cmd.text, "failed", f"{kind} {problem}; its output:\n{server.tail()}")
        return Outcome(cmd.where(), cmd.text, "ok")

    def wait_ready(self, server: Server, ns: Any) -> str:
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if server.proc.poll() is not None:
                return f"exited with status {server.proc.returncode} before it was ready"
            if self.ready(server, ns):
                return ""
            time.sleep(0.5)
        return f"not ready after {READY_TIMEOUT:.0f}s"

    def ready(self, server: Server, ns: Any) -> bool:
        if server.kind == "demo":
            # the banner, then the Metrics API's readiness (figures for kubectl top) at the URL it prints
            banner = re.search(
                r"kubescope demo is running.*?resource metrics\s+(https://\S+)", server.tail(100_000), re.S
            )
            return banner is not None and _get(banner[1] + "/readyz") == 200
        if server.kind == "simulate":
            if ns.port:
                scheme = "http" if ns.insecure_http else "https"
                return _get(f"{scheme}://{_host(ns.host)}:{ns.port}/readyz") == 200
            files = [f for f in (ns.ready_file, ns.write_kubeconfig) if f]
            return bool(files) and all((self.work / f).exists() for f in files)
        if server.kind == "state-metrics":
            scheme = "https" if ns.tls_config else "http"
            return _get(f"{scheme}://{_host(ns.telemetry_host)}:{ns.telemetry_port}/readyz") == 200
        if server.kind in ("resource-metrics", "custom-metrics", "history", "events"):
            return _get(f"https://{_host(ns.bind_address)}:{ns.secure_port}/readyz") == 200
        if server.kind == "prometheus":
            return _get(f"http://{ns.listen}/-/ready") == 200
        if server.kind == "console":
            scheme = "https" if ns.cert_dir or ns.tls_cert_file or ns.web_config_file else "http"
            return _get(f"{scheme}://{_host(ns.host)}:{ns.port}/readyz") == 200
        raise AssertionError(server.kind)

    def alive_servers(self) -> list[Server]:
        return [s for s in self.servers if s.proc.poll() is None]

    def stop(self, server: Server) -> None:
        """Ctrl-C, as in the terminal it runs in: SIGINT to its process group."""
        self.servers.remove(server)
        if server.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.proc.pid, signal.SIGINT)
            try:
                server.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                os.killpg(server.proc.pid, signal.SIGKILL)
                server.proc.wait()
                self.outcomes.append(
                    Outcome(server.where, "(Ctrl-C)", "failed", f"{server.kind} did not stop within "
                            f"{STOP_TIMEOUT:.0f}s of Ctrl-C; its output:\n{server.tail()}")
                )  # fmt: skip
                return
        elif server.proc.returncode not in (0, 130, -signal.SIGINT):
            self.outcomes.append(
                Outcome(server.where, "(server)", "failed", f"{server.kind} exited with status "
                        f"{server.proc.returncode} while the doc still used it:\n{server.tail()}")
            )  # fmt: skip

    def stop_all(self) -> None:
        for s in reversed(list(self.servers)):
            self.stop(s)

    def check_leftovers(self) -> None:
        for p in sorted(self.work.iterdir()):
            if p.name in self.mirror or p.name in self.doc_text:
                continue
            self.outcomes.append(
                Outcome(
                    str(self.doc.relative_to(REPO)) if self.doc.is_relative_to(REPO) else str(self.doc),
                    "(working directory)",
                    "failed",
                    f"a command left {p.name}{'/' if p.is_dir() else ''} in the working directory; the doc "
                    "never names it (write it elsewhere, or say so in the doc)",
                )
            )


def signature(line: str) -> str:
    """What a line is, ignoring the values that change from run to run."""
    s = line.strip()
    if s.startswith(("{", "[{", '["')):
        key = re.match(r'[\[{]+\s*"([^"]*)"', s)
        return s[0] + (key[1] if key else "")
    words = re.split(r"\s{2,}", s)
    if len(words) > 1 and all(re.fullmatch(r"[A-Z][A-Z0-9_-]*(\([^)]*\))?", w) for w in words):
        return " ".join(words)  # a table header
    return re.split(r"[\s{=:]", s, maxsplit=1)[0] or s[:1]


def _ports(kind: str, ns: Any) -> set[int]:
    if kind == "demo":
        return {ns.state_port, ns.state_telemetry_port, ns.console_port}
    if kind == "console":
        return {ns.port}
    if kind == "simulate":
        return {ns.port} - {0}
    if kind == "state-metrics":
        return {ns.port, ns.telemetry_port}
    if kind == "prometheus":
        return {int(ns.listen.rsplit(":", 1)[1])}
    return {ns.secure_port}


def _prometheus_flags(args: list[str]) -> Any:
    """The listen address of a ``prometheus`` command line (Debian's package; default 0.0.0.0:9090)."""
    import argparse

    listen = "127.0.0.1:9090"
    for i, a in enumerate(args):
        if a.startswith("--web.listen-address="):
            listen = a.split("=", 1)[1]
        elif a == "--web.listen-address" and i + 1 < len(args):
            listen = args[i + 1]
    host, _, port = listen.rpartition(":")
    return argparse.Namespace(listen=f"{_host(host)}:{port}")


def _host(host: str) -> str:
    return "127.0.0.1" if host in ("", "::", "0.0.0.0") else host


def _get(url: str) -> int:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    try:
        with urllib.request.urlopen(url, timeout=5, context=ctx) as r:
            return int(r.status)
    except urllib.error.HTTPError as e:
        return int(e.code)
    except OSError:
        return 0


def _strip_comment(text: str) -> str:
    """The command without a trailing ``# comment`` (a ``#`` after a blank, outside quotes)."""
    quote = ""
    for i, ch in enumerate(text):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or text[i - 1] in " \t"):
            return text[:i].rstrip()
    return text.strip()


def _tail(s: str, n: int = 1500) -> str:
    s = s.strip()
    return ("..." + s[-n:]) if len(s) > n else s


def main() -> int:
    doc, result = Path(sys.argv[1]), Path(sys.argv[2])
    out = result.open("w")  # opened before /tmp is replaced by this session's own
    doc_text, items = doc.read_text(), dc.parse(doc)
    netns.loopback_up()
    subprocess.run(["mount", "-t", "tmpfs", "tmpfs", "/tmp"], check=True)
    work = Path("/tmp/session/work")
    work.mkdir(parents=True)
    session = Session(doc, doc_text, work)

    def _terminated(signum: int, frame: Any) -> None:
        raise SystemExit(f"the doc runner got signal {signum}")

    signal.signal(signal.SIGTERM, _terminated)
    try:
        session.run(items)
    except SystemExit as e:
        session.outcomes.append(Outcome(str(doc), "(runner)", "failed", str(e)))
    finally:
        session.stop_all()
        json.dump([asdict(o) for o in session.outcomes], out)
        out.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
