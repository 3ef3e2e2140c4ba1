"""Where the simulated kubelets listen and who may ask them: every node advertises its kubelet as a
real node does (``status.addresses`` InternalIP, ``status.daemonEndpoints.kubeletEndpoint.Port``),
one loopback address per node on the kubelet's port; serving certificates from the cluster CA (IP
and node-name SANs); the kubelet's authentication (client certificates of the cluster CA, bearer
tokens; anonymous refused with 401) and authorization (``get nodes/metrics`` named after the node,
``nodes/healthz`` then ``nodes/proxy`` for /healthz; 403 with the kubelet's message); a node that is
not Ready has no kubelet listening, a new node gets one."""

from __future__ import annotations

import socket
import ssl
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from kubescope.sim.pki import CA
from kubescope.sim.process import SimulatorProcess
from tests.sim.kubelets import NOBODY, ONE_NODE, PROXY, READER, Kubelets, retry, start_simulator

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimulatorProcess]:
    s = start_simulator(tmp_path_factory.mktemp("kubelet-listen"), nodes=3, pods_per_node=4)
    yield s
    s.stop()


@pytest.fixture(scope="module")
def kubelets(sim: SimulatorProcess) -> Kubelets:
    return Kubelets(sim)


def pki(sim: SimulatorProcess) -> Path:
    return Path(sim.ca_file).parent


def client_context(
    sim: SimulatorProcess, tmp: Path, cn: str, orgs: tuple[str, ...] = (), ca: CA | None = None
) -> ssl.SSLContext:
    """Verifies the kubelet with the cluster CA; presents a client certificate signed by ``ca``
    (default: the cluster CA, whose key the simulator keeps in its pki directory)."""
    signer = ca or CA.load((pki(sim) / "ca.crt").read_bytes(), (pki(sim) / "ca.key").read_bytes())
    pair = signer.issue(cn, client=True, orgs=orgs)
    (tmp / f"{cn}.crt").write_bytes(pair.cert_pem)
    (tmp / f"{cn}.key").write_bytes(pair.key_pem)
    ctx = ssl.create_default_context(cafile=sim.ca_file)
    ctx.load_cert_chain(str(tmp / f"{cn}.crt"), str(tmp / f"{cn}.key"))
    return ctx


def test_nodes_advertise_where_their_kubelets_listen(sim: SimulatorProcess, kubelets: Kubelets) -> None:
    advertised = kubelets.advertised()
    summary = kubelets.summary()
    assert summary["nodes"] == summary["listening"] == len(advertised) == 3
    assert {n: f"{ip}:{port}" for n, (ip, port) in advertised.items()} == summary["addresses"]
    ips = [ip for ip, _ in advertised.values()]
    assert len(set(ips)) == len(ips)  # one address per node
    for name, (ip, port) in advertised.items():
        assert ip.startswith("127.") and ip != "127.0.0.1", name
        # the kubelet's port, unless simulators on this machine hold it on every block (then free ports)
        assert port == 10250 or (summary["port"] == 0 and port > 0), (name, port)
        assert kubelets.get(name).status == 200
    nodes = {n["metadata"]["name"]: n for n in sim.request("GET", "/api/v1/nodes")["items"]}
    for name, node in nodes.items():
        types = [a["type"] for a in node["status"]["addresses"]]
        assert types[:2] == ["InternalIP", "Hostname"]
        assert node["status"]["addresses"][1]["address"] == name
        assert "InternalDNS" in types  # what the scenario gave the node is kept


def test_pods_report_their_nodes_address(sim: SimulatorProcess, kubelets: Kubelets) -> None:
    """A kubelet reports its node's address as its pods' ``hostIP`` (the pods the simulator
    starts with too), and as the pod IP of ``hostNetwork`` pods."""
    advertised = kubelets.advertised()
    pods = [p for p in sim.request("GET", "/api/v1/pods")["items"] if p["spec"].get("nodeName")]
    assert pods
    for p in pods:
        ip = advertised[p["spec"]["nodeName"]][0]
        status = p["status"]
        if "hostIP" in status:
            assert status["hostIP"] == ip and status["hostIPs"] == [{"ip": ip}], p["metadata"]["name"]
        if p["spec"].get("hostNetwork") and "podIP" in status:
            assert status["podIP"] == ip and status["podIPs"] == [{"ip": ip}], p["metadata"]["name"]
    assert any(p["spec"].get("hostNetwork") for p in pods)


def test_the_node_proxy_reaches_the_kubelet(sim: SimulatorProcess, kubelets: Kubelets) -> None:
    """``kubectl get --raw /api/v1/nodes/N/proxy/metrics/resource``, the debugging path."""
    for name in kubelets.advertised():
        assert raw(sim, f"/api/v1/nodes/{name}/proxy/healthz") == "ok"
        text = raw(sim, f"/api/v1/nodes/{name}/proxy/metrics/resource")
        assert text.startswith("# HELP ") and "\nnode_cpu_usage_seconds_total " in text


def raw(sim: SimulatorProcess, path: str) -> str:
    req = urllib.request.Request(sim.url + path, headers={"Authorization": f"Bearer {sim.token}"})
    with urllib.request.urlopen(req, timeout=30, context=sim.ssl_context()) as r:
        assert r.status == 200
        return str(r.read().decode())


def test_serving_certificates_come_from_the_cluster_ca(sim: SimulatorProcess, kubelets: Kubelets) -> None:
    for name, (ip, port) in kubelets.advertised().items():
        # verified for the address dialled (IP SAN) and for the node's name (DNS SAN)
        assert kubelets.get(name).status == 200
        assert kubelets.get((ip, port), server_hostname=name).status == 200
        with pytest.raises(ssl.SSLCertVerificationError):
            kubelets.get((ip, port), server_hostname="not-this-node")
        with pytest.raises(ssl.SSLCertVerificationError):
            kubelets.get(name, context=ssl.create_default_context())  # the system trust store
        ctx = ssl.create_default_context(cafile=sim.ca_file)
        with ctx.wrap_socket(socket.create_connection((ip, port), 5), server_hostname=ip) as s:
            cert = s.getpeercert()
        issuer = dict(x[0] for x in cert["issuer"])
        assert issuer["commonName"] == "kubescope-sim-ca"
        sans = cert["subjectAltName"]
        assert ("IP Address", ip) in sans and ("DNS", name) in sans


def test_authentication_tokens_and_client_certificates(
    sim: SimulatorProcess, kubelets: Kubelets, tmp_path: Path
) -> None:
    node = "node-0001"
    r = kubelets.get(node, token=None)
    assert (r.status, r.text) == (401, "Unauthorized")
    assert kubelets.get(node, token="made-up").status == 401
    assert kubelets.get(node).status == 200  # the admin token
    assert kubelets.get(node, token=READER).status == 200
    # the API server's kubelet client certificate (O=system:masters), as kube-apiserver presents it
    ctx = ssl.create_default_context(cafile=sim.ca_file)
    ctx.load_cert_chain(
        str(pki(sim) / "apiserver-kubelet-client.crt"), str(pki(sim) / "apiserver-kubelet-client.key")
    )
    assert kubelets.get(node, token=None, context=ctx).status == 200
    # a certificate signed by the cluster CA names a user: authenticated, then authorized as that user
    r = kubelets.get(node, token=None, context=client_context(sim, tmp_path, "someone"))
    assert (r.status, r.text) == (
        403,
        "Forbidden (user=someone, verb=get, resource=nodes, subresource(s)=[metrics])",
    )
    masters = client_context(sim, tmp_path, "ops", ("system:masters",))
    assert kubelets.get(node, token=None, context=masters).status == 200
    # a certificate from another CA does not get past the handshake
    stranger = client_context(sim, tmp_path, "stranger", ca=CA.create("another-ca"))
    with pytest.raises((ssl.SSLError, ConnectionResetError)):
        kubelets.get(node, token=None, context=stranger)
    summary = kubelets.summary()
    assert summary["unauthorized"] >= 2 and summary["forbidden"] >= 1


def test_authorization_asks_for_nodes_metrics_or_healthz_then_proxy(kubelets: Kubelets) -> None:
    r = kubelets.get("node-0001", token=NOBODY)
    assert (r.status, r.text) == (
        403,
        "Forbidden (user=nobody, verb=get, resource=nodes, subresource(s)=[metrics])",
    )
    r = kubelets.get("node-0001", "/healthz", token=NOBODY)
    assert (r.status, r.text) == (
        403,
        "Forbidden (user=nobody, verb=get, resource=nodes, subresource(s)=[healthz proxy])",
    )
    # a rule naming one node allows that node's kubelet only
    assert kubelets.get("node-0001", token=ONE_NODE).status == 200
    assert kubelets.get("node-0002", token=ONE_NODE).status == 403
    # nodes/proxy covers /healthz (its fallback) but not /metrics
    assert kubelets.get("node-0001", "/healthz", token=PROXY).text == "ok"
    assert kubelets.get("node-0001", token=PROXY).status == 403
    # verbs follow the HTTP method, as the kubelet maps them
    r = kubelets.get("node-0001", token=READER, method="POST")
    assert (r.status, r.text) == (
        403,
        "Forbidden (user=reader, verb=create, resource=nodes, subresource(s)=[metrics])",
    )


def test_a_node_that_is_not_ready_has_no_kubelet_listening(sim: SimulatorProcess, kubelets: Kubelets) -> None:
    node = "node-0002"
    address = kubelets.address(node)
    assert kubelets.get(address).status == 200

    def ready(value: str) -> None:
        obj = sim.request("GET", f"/api/v1/nodes/{node}")
        for c in obj["status"]["conditions"]:
            if c["type"] == "Ready":
                c["status"] = value
        sim.request("PUT", f"/api/v1/nodes/{node}/status", obj)

    ready("False")
    try:

        def refused() -> bool:
            try:
                kubelets.get(address, timeout=2)
            except ConnectionRefusedError:
                return True
            return False

        retry("connections refused", refused)
        assert kubelets.summary()["listening"] == 2
    finally:
        ready("True")
    retry("the kubelet back", lambda: kubelets.get(address).status == 200)
    assert kubelets.address(node) == address  # the same address and port again


def test_a_new_node_gets_a_kubelet_and_a_deleted_one_loses_it(
    sim: SimulatorProcess, kubelets: Kubelets
) -> None:
    sim.request(
        "POST",
        "/api/v1/nodes",
        {
            "metadata": {"name": "node-9000", "labels": {"kubernetes.io/hostname": "node-9000"}},
            "status": {
                "capacity": {"cpu": "4", "memory": "16Gi", "pods": "110"},
                "allocatable": {"cpu": "4", "memory": "16Gi", "pods": "110"},
                "conditions": [{"type": "Ready", "status": "True"}],
            },
        },
    )
    address = retry("the new node advertised", lambda: kubelets.advertised().get("node-9000"))
    assert address[0] not in {ip for n, (ip, _) in kubelets.advertised().items() if n != "node-9000"}
    e = retry("the new kubelet serving", lambda: kubelets.metrics("node-9000"))
    assert e.families == [  # no pods yet: the node's own families only
        "node_cpu_usage_seconds_total",
        "node_memory_working_set_bytes",
        "node_swap_usage_bytes",
        "resource_scrape_error",
    ]
    # a 16 GiB node's own working set: 350 MiB + 2-4 % of its memory, within a few percent
    low, high = 350 * 2**20 + 0.02 * 16 * 2**30, 350 * 2**20 + 0.04 * 16 * 2**30
    assert 0.91 * low <= e.value("node_memory_working_set_bytes") <= 1.09 * high
    sim.request("DELETE", "/api/v1/nodes/node-9000")
    with pytest.raises(ConnectionRefusedError):
        kubelets.get(address, timeout=2)
