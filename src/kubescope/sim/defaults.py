"""Defaulting of the built-in types, as kube-apiserver fills in what a client left out.

Only the defaults a client can see in ``kubectl get``/``describe`` and that exporters read: pod and
pod-template specs (restart and DNS policies, scheduler, grace period, container pull policy and
termination message fields, port protocols; a pod's priority and preemption policy, from the
Priority admission plugin), workload strategies and history limits, Service
types, ports and a cluster IP from the service CIDR, Job and CronJob policies, and the namespace
name label and finalizer. Applied to what clients create or replace through the API, and by the
object builders (:mod:`kubescope.sim.objects`) to what the scenario and the controllers make.
"""

from __future__ import annotations

import ipaddress
import uuid
from collections.abc import Callable, Iterator
from typing import Any

Obj = dict[str, Any]

SERVICE_CIDR = ipaddress.ip_network("10.96.0.0/12")


def _fill(d: Obj, key: str, value: Any) -> None:
    """``setdefault`` that also fills empty values: protobuf clients send empty messages as {}."""
    if not d.get(key):
        d[key] = value


def _container(c: Obj) -> None:
    c.setdefault("terminationMessagePath", "/dev/termination-log")
    c.setdefault("terminationMessagePolicy", "File")
    image = str(c.get("image", ""))
    tag = image.rsplit("/", 1)[-1]
    latest = "@" not in tag and (":" not in tag or tag.endswith(":latest"))
    c.setdefault("imagePullPolicy", "Always" if latest else "IfNotPresent")
    for p in c.get("ports") or []:
        if isinstance(p, dict):
            p.setdefault("protocol", "TCP")
    c.setdefault("resources", {})


def pod_spec(spec: Obj) -> None:
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("securityContext", {})
    _fill(spec, "restartPolicy", "Always")
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("enableServiceLinks", True)
    if spec.get("serviceAccountName") or "serviceAccount" not in spec:
        spec.setdefault("serviceAccountName", "default")
        spec.setdefault("serviceAccount", spec["serviceAccountName"])
    for key in ("containers", "initContainers"):
        for c in spec.get(key) or []:
            if isinstance(c, dict):
                _container(c)
    for v in spec.get("volumes") or []:
        if isinstance(v, dict):
            _volume(v)


SYSTEM_PRIORITIES = {"system-node-critical": 2000001000, "system-cluster-critical": 2000000000}
"""The built-in PriorityClasses' values (scheduling.k8s.io ``SystemPriorityClasses``)."""


def pod_admission(spec: Obj) -> None:
    """What the Priority admission plugin (on by default) sets on a pod, not on templates: the
    ``priority`` of its ``priorityClassName`` (the built-in classes; 0 for others and for none, as
    without a global default class) and the ``preemptionPolicy``."""
    spec.setdefault("priority", SYSTEM_PRIORITIES.get(str(spec.get("priorityClassName") or ""), 0))
    spec.setdefault("preemptionPolicy", "PreemptLowerPriority")


def _volume(v: Obj) -> None:
    # kubectl describe dereferences these pointers: an apiserver always fills them
    for kind in ("configMap", "secret", "downwardAPI", "projected"):
        src = v.get(kind)
        if isinstance(src, dict):
            src.setdefault("defaultMode", 420)
    projected = v.get("projected")
    if isinstance(projected, dict):
        for source in projected.get("sources") or []:
            sat = source.get("serviceAccountToken") if isinstance(source, dict) else None
            if isinstance(sat, dict):
                sat.setdefault("expirationSeconds", 3607)


def _template(obj: Obj) -> None:
    tmpl = (obj.get("spec") or {}).get("template")
    if isinstance(tmpl, dict):
        tmpl.setdefault("metadata", {})
        if isinstance(tmpl.get("spec"), dict):
            pod_spec(tmpl["spec"])


def qos_class(spec: Obj) -> str:
    """The pod's QoS class (kubelet's ``GetPodQOS``) from its containers' CPU and memory requests
    and limits, init containers included; other resources do not count; limits default requests."""
    containers = [
        c for k in ("containers", "initContainers") for c in spec.get(k) or [] if isinstance(c, dict)
    ]
    any_set = False
    guaranteed = bool(containers)
    for c in containers:
        res = c.get("resources") or {}
        limits, requests = res.get("limits") or {}, res.get("requests") or {}
        if any(r in d for d in (limits, requests) for r in ("cpu", "memory")):
            any_set = True
        for r in ("cpu", "memory"):
            if r not in limits or str(requests.get(r, limits[r])) != str(limits[r]):
                guaranteed = False
    if guaranteed:
        return "Guaranteed"
    return "Burstable" if any_set else "BestEffort"


def _pod(obj: Obj, _: Callable[[], str]) -> None:
    spec = obj.get("spec")
    if isinstance(spec, dict):
        pod_spec(spec)
        pod_admission(spec)
    st = obj.setdefault("status", {})
    st.setdefault("phase", "Pending")
    st.setdefault("qosClass", qos_class(spec if isinstance(spec, dict) else {}))


def _deployment(obj: Obj, _: Callable[[], str]) -> None:
    spec = obj.setdefault("spec", {})
    spec.setdefault("replicas", 1)
    _fill(spec, "strategy", {"type": "RollingUpdate"})
    if spec["strategy"].get("type", "RollingUpdate") == "RollingUpdate":
        spec["strategy"]["type"] = "RollingUpdate"
        _fill(spec["strategy"], "rollingUpdate", {"maxUnavailable": "25%", "maxSurge": "25%"})
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("progressDeadlineSeconds", 600)
    _template(obj)


def _replicaset(obj: Obj, _: Callable[[], str]) -> None:
    obj.setdefault("spec", {}).setdefault("replicas", 1)
    _template(obj)


def _statefulset(obj: Obj, _: Callable[[], str]) -> None:
    spec = obj.setdefault("spec", {})
    spec.setdefault("replicas", 1)
    spec.setdefault("podManagementPolicy", "OrderedReady")
    _fill(spec, "updateStrategy", {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}})
    spec.setdefault("revisionHistoryLimit", 10)
    _template(obj)


def _daemonset(obj: Obj, _: Callable[[], str]) -> None:
    spec = obj.setdefault("spec", {})
    _fill(
        spec,
        "updateStrategy",
        {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}},
    )
    spec.setdefault("revisionHistoryLimit", 10)
    _template(obj)


def _job(obj: Obj, _: Callable[[], str]) -> None:
    spec = obj.setdefault("spec", {})
    if not spec.get("selector") and not spec.get("manualSelector"):
        _job_selector(obj)
    _job_spec(obj)


def _job_spec(obj: Obj) -> None:
    """A Job's or a CronJob's job template's spec defaults."""
    spec = obj.setdefault("spec", {})
    spec.setdefault("parallelism", 1)
    spec.setdefault("completions", 1)
    spec.setdefault("backoffLimit", 6)
    spec.setdefault("completionMode", "NonIndexed")
    spec.setdefault("suspend", False)
    _template(obj)
    tmpl_spec = ((spec.get("template") or {}).get("spec")) or {}
    if tmpl_spec.get("restartPolicy") == "Always":
        tmpl_spec["restartPolicy"] = "Never"


def _job_selector(job: Obj) -> None:
    """The job registry's ``generateSelector``: a selector on the Job's uid, and the labels that
    make its pods match it (the uid is taken now, as the store keeps a given one). Only for Jobs
    created without a selector, so objects that carry theirs are left as they are."""
    meta = job["metadata"]
    uid = meta.setdefault("uid", str(uuid.uuid4()))
    template = job["spec"].setdefault("template", {})
    labels = template.setdefault("metadata", {}).setdefault("labels", {})
    for key, value in (
        ("job-name", meta.get("name", "")),
        ("batch.kubernetes.io/job-name", meta.get("name", "")),
        ("controller-uid", uid),
        ("batch.kubernetes.io/controller-uid", uid),
    ):
        labels.setdefault(key, value)
    job["spec"]["selector"] = {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}


def _cronjob(obj: Obj, _: Callable[[], str]) -> None:
    spec = obj.setdefault("spec", {})
    spec.setdefault("concurrencyPolicy", "Allow")
    spec.setdefault("suspend", False)
    spec.setdefault("successfulJobsHistoryLimit", 3)
    spec.setdefault("failedJobsHistoryLimit", 1)
    jt = spec.get("jobTemplate")
    if isinstance(jt, dict):
        _job_spec(jt)


def _service(obj: Obj, next_ip: Callable[[], str]) -> None:
    spec = obj.setdefault("spec", {})
    spec.setdefault("type", "ClusterIP")
    spec.setdefault("sessionAffinity", "None")
    for p in spec.get("ports") or []:
        if isinstance(p, dict):
            p.setdefault("protocol", "TCP")
            p.setdefault("targetPort", p.get("port"))
    if spec["type"] != "ExternalName":
        if not spec.get("clusterIP"):
            spec["clusterIP"] = next_ip()
        if spec["clusterIP"] != "None":
            spec.setdefault("clusterIPs", [spec["clusterIP"]])
        spec.setdefault("ipFamilies", ["IPv4"])
        spec.setdefault("ipFamilyPolicy", "SingleStack")
        spec.setdefault("internalTrafficPolicy", "Cluster")
    if spec["type"] in ("NodePort", "LoadBalancer"):
        spec.setdefault("externalTrafficPolicy", "Cluster")
    obj.setdefault("status", {}).setdefault("loadBalancer", {})


def _namespace(obj: Obj, _: Callable[[], str]) -> None:
    name = obj["metadata"].get("name", "")
    obj["metadata"].setdefault("labels", {})["kubernetes.io/metadata.name"] = name
    obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
    obj.setdefault("status", {}).setdefault("phase", "Active")


DEFAULTERS: dict[str, Callable[[Obj, Callable[[], str]], None]] = {
    "pods": _pod,
    "deployments.apps": _deployment,
    "replicasets.apps": _replicaset,
    "replicationcontrollers": _replicaset,
    "statefulsets.apps": _statefulset,
    "daemonsets.apps": _daemonset,
    "jobs.batch": _job,
    "cronjobs.batch": _cronjob,
    "services": _service,
    "namespaces": _namespace,
}


class ClusterIPs:
    """Hands out service cluster IPs from 10.96.0.0/12 that no Service held when first asked.

    The existing Services are read once (``taken``), then addresses are handed out in order; freed
    addresses are not reused, which a 1M-address range makes harmless for a simulator."""

    def __init__(self, taken: Callable[[], Iterator[str]]) -> None:
        self._taken = taken
        self._used: set[str] | None = None
        self._hosts = SERVICE_CIDR.hosts()
        next(self._hosts)  # 10.96.0.1 is the kubernetes Service's

    def next(self) -> str:
        if self._used is None:
            self._used = set(self._taken())
        for ip in self._hosts:
            if str(ip) not in self._used:
                self._used.add(str(ip))
                return str(ip)
        raise RuntimeError("the service CIDR 10.96.0.0/12 is exhausted")


def apply_defaults(res: str, obj: Obj, next_ip: Callable[[], str]) -> None:
    """Fill in what kube-apiserver would for ``res`` (a store key), in place."""
    fn = DEFAULTERS.get(res)
    if fn is not None and isinstance(obj.get("metadata"), dict):
        fn(obj, next_ip)
