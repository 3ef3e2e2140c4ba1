"""The credential loader subprocess (``python -m kubescope.kube.credentials``) writes nothing to
disk: the certificates and keys kubernetes_asyncio turns into files live in memory, so a loader
killed half-way (its server stopped during start-up, as the demo does on Ctrl-C) leaves no
``kubescope-kubeconfig-*`` directory with a private key in TMPDIR."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.kube.certs import CA
from tests.kube.test_kubeconfig_variants_connect import b64, kubeconfig
from tests.simfixtures import CLEAN_ENV


def loader(kc: Path, tmp: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "kubescope.kube.credentials", "--kubeconfig", str(kc)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**CLEAN_ENV, "TMPDIR": str(tmp)},
        start_new_session=True,
    )


def test_inline_certificates_and_keys_are_loaded_without_files(tmp_path: Path) -> None:
    ca = CA("loader-ca")
    alice = ca.issue("alice", client=True)
    user = {"client-certificate-data": b64(alice.cert_pem), "client-key-data": b64(alice.key_pem)}
    kc = kubeconfig(
        tmp_path / "kc", "https://127.0.0.1:1", user, cluster={"certificate-authority-data": b64(ca.pem)}
    )
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    p = loader(kc, tmp)
    out, err = p.communicate(timeout=120)
    assert p.returncode == 0, err.decode(errors="replace")
    conn = json.loads(out)
    assert (conn["ca_pem"], conn["client_cert_pem"], conn["client_key_pem"]) == (
        ca.pem,
        alice.cert_pem,
        alice.key_pem,
    )
    assert list(tmp.iterdir()) == []


def test_a_loader_killed_while_loading_leaves_nothing_in_tmpdir(tmp_path: Path) -> None:
    ca = CA("loader-ca")
    marker = tmp_path / "plugin-started"
    user = {
        "exec": {
            "apiVersion": "client.authentication.k8s.io/v1",
            "command": "sh",
            "args": ["-c", f"touch {marker}; exec sleep 120"],
            "interactiveMode": "Never",
        }
    }
    kc = kubeconfig(
        tmp_path / "kc", "https://127.0.0.1:1", user, cluster={"certificate-authority-data": b64(ca.pem)}
    )
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    p = loader(kc, tmp)
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():  # the loader is in the middle: its exec plugin runs
            assert p.poll() is None, f"loader exited {p.returncode}: {p.stderr.read() if p.stderr else b''!r}"
            assert time.monotonic() < deadline, "the exec plugin did not start in 120 s"
            time.sleep(0.05)
        p.kill()
    finally:
        os.killpg(p.pid, signal.SIGKILL)  # the plugin too
        p.communicate()
    assert list(tmp.iterdir()) == []
