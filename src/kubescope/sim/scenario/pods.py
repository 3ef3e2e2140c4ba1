"""Pod templates (containers, resources, sidecars, init containers) and pods in every state a
cluster shows: running, restarted, not ready, crash-looping, being created, failing to pull,
unschedulable, finished, evicted."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kubescope.sim import defaults
from kubescope.sim.objects import pods
from kubescope.sim.objects.meta import rfc3339
from kubescope.sim.scenario.gen import IMAGES, Gen

Obj = dict[str, Any]


@dataclass
class Template:
    """A pod template: containers with resources, volumes, labels."""

    app: str
    containers: list[Obj]
    init_containers: list[Obj]
    labels: dict[str, str]
    volumes: list[Obj]
    service_account: str = "default"
    priority_class: str = ""
    host_network: bool = False
    tolerations: list[Obj] = field(default_factory=list)
    node_selector: dict[str, str] = field(default_factory=dict)


def container_resources(g: Gen, cpu_m: int, mem_mi: int, qos: str) -> Obj:
    if qos == "BestEffort":
        return {}
    req = {"cpu": f"{cpu_m}m", "memory": f"{mem_mi}Mi"}
    if qos == "Guaranteed":
        return {"requests": dict(req), "limits": dict(req)}
    lim = {"cpu": f"{cpu_m * g.rng.choice((2, 4))}m", "memory": f"{mem_mi * 2}Mi"}
    if g.rng.random() < 0.3:
        del lim["cpu"]
    return {"requests": req, "limits": lim}


def app_template(g: Gen, app: str, *, system: bool = False, gpu: bool = False) -> Template:
    qos = g.rng.choices(("Burstable", "Guaranteed", "BestEffort"), (70, 25, 5))[0]
    image = IMAGES.get(app, f"registry.example.com/{app}/{app}")
    ncont = g.rng.choices((1, 2, 3), (60, 32, 8))[0]
    containers = []
    for c in range(ncont):
        name = app if c == 0 else ("istio-proxy", "log-shipper")[c - 1]
        img = (
            f"{image}:v{g.rng.randrange(1, 9)}.{g.rng.randrange(0, 30)}.{g.rng.randrange(0, 9)}"
            if c == 0
            else ("docker.io/istio/proxyv2:1.24.1", "fluent/fluent-bit:3.2.2")[c - 1]
        )
        cpu_m = g.rng.choice((50, 100, 200, 250, 500, 1000)) if c == 0 else 50
        mem = g.rng.choice((64, 128, 256, 512, 1024)) if c == 0 else 64
        res = container_resources(g, cpu_m, mem, qos)
        if c == 0 and g.rng.random() < 0.1 and res:
            res.setdefault("requests", {})["ephemeral-storage"] = "1Gi"
        if c == 0 and gpu and res:
            res.setdefault("limits", {})["nvidia.com/gpu"] = "1"
            res.setdefault("requests", {})["nvidia.com/gpu"] = "1"
        containers.append(
            {
                "name": name,
                "image": img,
                "imagePullPolicy": "IfNotPresent",
                "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}] if c == 0 else [],
                "resources": res,
                "env": [{"name": "LOG_LEVEL", "value": "info"}],
                "volumeMounts": [{"name": "config", "mountPath": "/etc/app"}] if c == 0 else [],
                "terminationMessagePath": "/dev/termination-log",
                "terminationMessagePolicy": "File",
            }
        )
    init: list[Obj] = []
    if g.rng.random() < 0.2:
        init.append(
            {
                "name": "migrate",
                "image": f"{image}-migrate:v1",
                "resources": container_resources(g, 100, 64, qos),
            }
        )
    if g.rng.random() < 0.05:
        init.append(
            {
                "name": "vault-agent",
                "image": "hashicorp/vault:1.18",
                "restartPolicy": "Always",
                "resources": container_resources(g, 50, 64, qos),
            }
        )
    volumes = [
        {"name": "config", "configMap": {"name": f"{app}-config"}},
        {"name": "kube-api-access", "projected": {"sources": [{"serviceAccountToken": {"path": "token"}}]}},
    ]
    return Template(
        app=app,
        containers=containers,
        init_containers=init,
        labels={"app": app, "app.kubernetes.io/name": app, "app.kubernetes.io/part-of": "shop"},
        volumes=volumes,
        service_account=app,
        priority_class="system-node-critical" if system else "",
        tolerations=[
            {
                "key": "node.kubernetes.io/not-ready",
                "operator": "Exists",
                "effect": "NoExecute",
                "tolerationSeconds": 300,
            },
            {
                "key": "node.kubernetes.io/unreachable",
                "operator": "Exists",
                "effect": "NoExecute",
                "tolerationSeconds": 300,
            },
        ],
    )


def make_pod(
    g: Gen,
    name: str,
    ns: str,
    t: Template,
    node: str | None,
    owner: tuple[str, str, str, str] | None,
    extra_labels: dict[str, str],
    state: str,
    *,
    restart_policy: str = "Always",
    pvc: str | None = None,
) -> Obj:
    """One pod with a status consistent with ``state``.

    States: running, running-restarted, not-ready, crashloop, creating, imagepull, unschedulable,
    succeeded, failed-evicted.
    """
    created = g.ago(600, 86400 * 20)
    started = created + g.rng.uniform(2, 30)
    labels = dict(t.labels, **extra_labels)
    volumes = list(t.volumes)
    if pvc:
        volumes.append({"name": "data", "persistentVolumeClaim": {"claimName": pvc}})
    spec: Obj = {
        "containers": t.containers,
        "restartPolicy": restart_policy,
        "serviceAccountName": t.service_account,
        "serviceAccount": t.service_account,
        "tolerations": t.tolerations,
        "volumes": volumes,
    }
    if t.init_containers:
        spec["initContainers"] = t.init_containers
    if t.priority_class:
        spec["priorityClassName"] = t.priority_class
    if t.host_network:
        spec["hostNetwork"] = True
    if t.node_selector:
        spec["nodeSelector"] = t.node_selector
    pods.fill_spec(spec, node=node or "")
    status: Obj = {"qosClass": defaults.qos_class(spec)}
    if state == "unschedulable":
        status["phase"] = "Pending"
        status["conditions"] = [pods.unschedulable(rfc3339(created + 1), UNSCHEDULABLE)]
        return _pod(g, name, ns, created, labels, owner, spec, status)

    host_ip = g.node_ip.get(node or "", "172.20.0.1")
    ip = host_ip if t.host_network else g.pod_ip()
    status.update({"hostIP": host_ip, "hostIPs": [{"ip": host_ip}], "startTime": rfc3339(started)})
    running_like = state in ("running", "running-restarted", "not-ready", "crashloop")
    if state not in ("creating",):
        status["podIP"] = ip
        status["podIPs"] = [{"ip": ip}]
    ready = state in ("running", "running-restarted")
    phase = {
        "succeeded": "Succeeded",
        "failed-evicted": "Failed",
        "creating": "Pending",
        "imagepull": "Pending",
    }.get(state, "Running")
    status["phase"] = phase
    not_ready = "" if ready else ("PodCompleted" if phase == "Succeeded" else "ContainersNotReady")
    conds = [
        pods.condition("PodReadyToStartContainers", _flag(state != "creating"), rfc3339(started)),
        pods.condition("Initialized", "True", rfc3339(started + 1)),
        pods.condition("Ready", _flag(ready), rfc3339(started + 5), not_ready),
        pods.condition("ContainersReady", _flag(ready), rfc3339(started + 5), not_ready),
        pods.scheduled(rfc3339(created + 1)),
    ]
    if state == "failed-evicted":
        status["reason"] = "Evicted"
        status["message"] = (
            "The node was low on resource: memory. Threshold quantity: 100Mi, available: 90Mi."
        )
        conds.append(
            pods.condition(
                "DisruptionTarget",
                "True",
                rfc3339(g.ago(60, 3600)),
                "TerminationByKubelet",
                "The node was low on resource: memory.",
            )
        )
    status["conditions"] = conds
    status["containerStatuses"] = [
        _container_status(g, i, cont, state, started, ready) for i, cont in enumerate(t.containers)
    ]
    if t.init_containers:
        status["initContainerStatuses"] = [
            _init_container_status(g, ic, started, running_like) for ic in t.init_containers
        ]
    return _pod(g, name, ns, created, labels, owner, spec, status)


UNSCHEDULABLE = "0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available."


def _flag(ok: bool) -> str:
    return "True" if ok else "False"


def _pod(
    g: Gen,
    name: str,
    ns: str,
    created: float,
    labels: dict[str, str],
    owner: tuple[str, str, str, str] | None,
    spec: Obj,
    status: Obj,
) -> Obj:
    meta = g.meta(name, ns, created=created, labels=labels, owner=owner)
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec, "status": status}


def _container_status(g: Gen, i: int, cont: Obj, state: str, started: float, ready: bool) -> Obj:
    """Container ``i`` of a pod in ``state``: its first container crash-loops or failed to pull,
    has restarted (with the last termination), and so on."""
    restarts = 0
    last: Obj = {}
    if state == "running-restarted" and i == 0:
        restarts = g.rng.randrange(1, 12)
    if state == "crashloop" and i == 0:
        restarts = g.rng.randrange(5, 80)
    cid = f"containerd://{g.hexid(64)}"
    fin = 0.0
    if restarts:
        fin = g.ago(60, 3600)
        exit_code = g.rng.choice((1, 137, 2))
        reason = g.rng.choice(("Error", "OOMKilled"))
        last = pods.terminated(
            exit_code,
            reason,
            rfc3339(fin - 300),
            rfc3339(fin),
            container_id=f"containerd://{g.hexid(64)}",
        )
    st: Obj
    if state == "crashloop" and i == 0:
        st = pods.waiting("CrashLoopBackOff", f"back-off 5m0s restarting failed container={cont['name']}")
    elif state == "creating":
        st = pods.waiting("ContainerCreating")
    elif state == "imagepull" and i == 0:
        st = pods.waiting("ImagePullBackOff", f'Back-off pulling image "{cont["image"]}"')
    elif state == "succeeded":
        st = pods.terminated(
            0,
            "Completed",
            rfc3339(started + 2),
            rfc3339(started + g.rng.uniform(10, 600)),
            container_id=cid,
        )
    elif state == "failed-evicted":
        st = pods.terminated(
            137,
            "ContainerStatusUnknown",
            rfc3339(started + 2),
            rfc3339(g.ago(60, 600)),
            message="The container could not be located when the pod was terminated",
        )
    elif state == "imagepull":
        st = pods.waiting("PodInitializing")
    else:
        st = pods.running(rfc3339(fin + 10 if restarts else started + 3))
    is_running = "running" in st
    return pods.container_status(
        cont["name"],
        cont["image"],
        st,
        ready=bool(is_running and (ready or (state == "not-ready" and i > 0))),
        started=is_running,
        restarts=restarts,
        last=last,
        image_id=f"{cont['image'].rsplit(':', 1)[0]}@sha256:{g.hexid(64)}",
        container_id=cid if "waiting" not in st or state == "crashloop" else "",
    )


def _init_container_status(g: Gen, ic: Obj, started: float, running_like: bool) -> Obj:
    """A finished init container, or a sidecar (``restartPolicy: Always``) running beside the app."""
    sidecar = ic.get("restartPolicy") == "Always"
    if sidecar and running_like:
        st = pods.running(rfc3339(started + 1))
    else:
        st = pods.terminated(
            0,
            "Completed",
            rfc3339(started + 0.5),
            rfc3339(started + 1),
            container_id=f"containerd://{g.hexid(64)}",
        )
    return pods.container_status(
        ic["name"],
        ic["image"],
        st,
        ready=sidecar and running_like,
        started=sidecar and running_like,
        image_id=f"{ic['image'].rsplit(':', 1)[0]}@sha256:{g.hexid(64)}",
    )


def pod_state(g: Gen) -> str:
    return g.rng.choices(
        ("running", "running-restarted", "not-ready", "crashloop", "creating", "imagepull"),
        (86, 6, 3, 2, 2, 1),
    )[0]
