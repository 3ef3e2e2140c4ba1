"""Every command line in README.md, docs/*.md and deploy/**/*.md runs, for real, as a reader would
type it: servers against the simulator, started and waited for, probed by the commands after them,
stopped with Ctrl-C; one-shot commands exit 0 and print what the doc shows. See
tests/docs/session.py for how a doc is run, tests/docs/allowlist.py for the few lines that cannot
run here.

A failure names the doc line, the command and why: fix the doc (or the code it describes).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests import netns
from tests.docs import commands as dc
from tests.docs.allowlist import ALLOWED

pytestmark = [pytest.mark.slow, pytest.mark.kubectl]

DOCS = [d for d in dc.docs() if any(isinstance(x, dc.Command) for x in dc.parse(d))]


WHEELHOUSE = dc.REPO / ".venv" / "doctest-wheelhouse"


def wheelhouse() -> Path:
    """kubescope's dependencies and build backend, downloaded from PyPI into a local directory: the
    doc session's namespace has no network, so its ``pip install`` reads them from here."""
    p = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check", "--dest",
         str(WHEELHOUSE), "setuptools>=77", "wheel", "pip", str(dc.REPO)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert p.returncode == 0, f"pip download (for the docs' pip install lines) failed:\n{p.stderr}"
    return WHEELHOUSE


def start_session(
    doc: Path, tmp: Path, retry_seconds: float | None = None
) -> tuple[subprocess.Popen[str], Path]:
    netns.require()
    env = dict(os.environ)
    if retry_seconds is not None:
        env["DOCTEST_RETRY_SECONDS"] = str(retry_seconds)
    if "pip install" in doc.read_text():
        env.update(PIP_NO_INDEX="1", PIP_FIND_LINKS=str(wheelhouse()), PIP_DISABLE_PIP_VERSION_CHECK="1")
    result = tmp / "result.json"
    proc = subprocess.Popen(
        netns.isolated(sys.executable, "-m", "tests.docs.session", str(doc), str(result), mount=True),
        cwd=dc.REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    return proc, result


def finish_session(proc: subprocess.Popen[str], result: Path, timeout: float = 1500) -> list[dict[str, Any]]:
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.terminate()
        out, _ = proc.communicate(timeout=60)
    assert result.exists() and result.stat().st_size, f"the doc runner failed:\n{out}"
    outcomes: list[dict[str, Any]] = json.loads(result.read_text())
    return outcomes


def run_session(doc: Path, tmp: Path, retry_seconds: float | None = None) -> list[dict[str, Any]]:
    return finish_session(*start_session(doc, tmp, retry_seconds))


@pytest.fixture(scope="module")
def sessions(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[Path, tuple[subprocess.Popen[str], Path]]]:
    """Every selected doc's session, started at once: each runs in namespaces of its own, and most
    of a session is waiting for servers to be ready, so they overlap well."""
    # the docs run scripts/demo, whose set-up step must find the virtualenv up to date: the
    # sessions have no network to install anything (a no-op when scripts/test just ran it)
    setup = subprocess.run(
        [str(dc.REPO / "scripts" / "setup"), "test,lint,demo"], capture_output=True, text=True, timeout=900
    )
    assert setup.returncode == 0, f"scripts/setup failed:\n{setup.stdout}\n{setup.stderr}"
    wanted = [
        d
        for d in DOCS
        if any(
            f"test_the_doc_commands_run[{d.relative_to(dc.REPO)}]" in i.nodeid for i in request.session.items
        )
    ]
    started = {d: start_session(d, tmp_path_factory.mktemp("doc")) for d in wanted}
    yield started
    for proc, _ in started.values():
        if proc.poll() is None:
            proc.terminate()
        # communicate, not wait: a session its test never finished (a failure, a timeout) still has
        # its stdout pipe open, and a later test's garbage collection reported it as unclosed
        proc.communicate(timeout=60)


def report(outcomes: list[dict[str, Any]]) -> str:
    failed = [o for o in outcomes if o["status"] == "failed"]
    return "\n\n".join(f"{o['where']}: `{o['text']}`\n  {o['message']}" for o in failed)


@pytest.mark.parametrize("doc", DOCS, ids=[str(d.relative_to(dc.REPO)) for d in DOCS])
# the sessions run side by side from the fixture on, so the first test waits while all of them share
# the machine: README's took 185 s in one full run and more than the suite's 300 s hang guard in the
# next, with other suites running beside it, 447 s alone on a loaded machine; a hang is still caught
# (finish_session's own limit)
@pytest.mark.timeout(1500)
def test_the_doc_commands_run(doc: Path, sessions: dict[Path, tuple[subprocess.Popen[str], Path]]) -> None:
    outcomes = finish_session(*sessions[doc])
    commands = [x for x in dc.parse(doc) if isinstance(x, dc.Command)]
    assert len(
        [o for o in outcomes if o["text"] not in ("(server)", "(Ctrl-C)", "(working directory)")]
    ) == len(commands), outcomes
    failures = report(outcomes)
    assert not failures, f"{len(failures.split(chr(10) * 2))} doc command(s) failed:\n\n{failures}"


def test_every_allowlisted_line_is_still_in_its_doc() -> None:
    present = {(c.doc, c.text) for d in dc.docs() for c in dc.parse(d) if isinstance(c, dc.Command)}
    stale = [key for key in ALLOWED if key not in present]
    assert stale == [], f"allowlist entries whose command left the doc (remove them): {stale}"


FAILING_DOC = """# A doc with mistakes

```console
$ kubescope simulate --nodes 2 --pods-per-node 2 --port 0 --write-kubeconfig ./kc --no-kubelets &
$ KUBECONFIG=./kc kubectl get nodes
NAME              STATUS   ROLES           AGE   VERSION
$ KUBECONFIG=./kc kubectl get nodez
$ KUBECONFIG=./kc kubectl get nodes -o name
NAME   STATUS
$ curl -s http://127.0.0.1:1/nothing | head -1
$ echo "$UNDEFINED_TOKEN"
$ touch "stray$((1 + 1)).bin"
```
"""


def test_the_runner_catches_each_kind_of_mistake(tmp_path: Path) -> None:
    doc = tmp_path / "mistakes.md"
    doc.write_text(FAILING_DOC)
    by_line = {o["where"].rsplit(":", 1)[-1]: o for o in run_session(doc, tmp_path, retry_seconds=0)}
    assert by_line["4"]["status"] == "ok", by_line["4"]  # the simulator starts and is ready
    assert by_line["5"]["status"] == "ok", by_line["5"]  # its output looks like the doc's
    assert "exit status 1" in by_line["7"]["message"] and "nodez" in by_line["7"]["message"]
    assert "does not look like the doc's" in by_line["8"]["message"]
    assert "printed nothing" in by_line["10"]["message"]
    assert "UNDEFINED_TOKEN: unbound variable" in by_line["11"]["message"]
    leftovers = [o for o in by_line.values() if o["text"] == "(working directory)"]
    assert leftovers and "stray2.bin" in leftovers[0]["message"]
