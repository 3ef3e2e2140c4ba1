"""What users do to the cluster: roll a Deployment out (``rollout``), scale one (``scale``), run a
CronJob by hand (``cronjob_run``), edit an application ConfigMap (``configmap``), create and delete
ConfigMaps, Secrets and namespaces (``object_churn``); and the status heartbeats that fill the rest
of the write rate (``hpa_status`` for HPAs no controller manages, ``lease_renew``). Every write goes
through the control plane's counted writes as the ``world`` client."""

from __future__ import annotations

import collections
import itertools
from collections.abc import Callable

from kubescope.sim import defaults
from kubescope.sim.churn.pools import Key, Obj, Pools, key_of
from kubescope.sim.objects.meta import object_meta, rfc3339
from kubescope.sim.objects.workloads import job_from_cronjob

OBJECTS_KEPT = 60
"""Namespaced objects of ``object_churn`` alive at once; beyond, each creation deletes the oldest."""
NAMESPACES_KEPT = 2
CRON_RUNNING = 2
"""Unfinished runs a CronJob may have before another is skipped."""
WORLD = "world"
"""The client name the world's writes are counted under."""


class UserChanges:
    """The user kinds of change and the heartbeats, drawn from :class:`Pools`; each returns whether
    it did something."""

    def __init__(self, pools: Pools) -> None:
        self.w = pools
        self._counter = itertools.count(1)
        self._made_objects: collections.deque[tuple[str, Key]] = collections.deque()
        self._made_namespaces: collections.deque[str] = collections.deque()
        self._scale_net = 0

    def actions(self) -> dict[str, Callable[[], bool]]:
        return {
            "rollout": self._rollout,
            "scale": self._scale,
            "cronjob_run": self._cronjob_run,
            "hpa_status": self._hpa_status,
            "lease_renew": self._lease_renew,
            "configmap": self._configmap,
            "object_churn": self._object_churn,
        }

    def _idle_deployment(self, rolling_ok: bool = False) -> Obj | None:
        """A Deployment that is not rolling out (a few draws, not a scan: most are idle); with
        ``rolling_ok`` any (users scale whenever they like)."""
        keys = self.w.deployments
        for _ in range(8):
            if not keys:
                return None
            i = int(self.w.rng.random() * len(keys))
            try:
                d = self.w.store.get("deployments.apps", *keys[i])
            except Exception:
                keys[i] = keys[-1]
                keys.pop()
                continue
            spec, st = d.get("spec") or {}, d.get("status") or {}
            want = int(spec.get("replicas", 1))
            if rolling_ok or (
                st.get("observedGeneration") == d["metadata"].get("generation")
                and int(st.get("updatedReplicas", 0)) == int(st.get("replicas", 0)) == want
            ):
                return d
        return None

    def _rollout(self) -> bool:
        d = self._idle_deployment()
        if d is None:
            return False
        now = rfc3339(self.w.now())

        def restart(o: Obj) -> None:
            tmeta = o.setdefault("spec", {}).setdefault("template", {}).setdefault("metadata", {})
            tmeta.setdefault("annotations", {})["kubectl.kubernetes.io/restartedAt"] = now

        return self.w.writes.modify("deployments.apps", key_of(d), restart, WORLD) is not None

    def _scale(self) -> bool:
        up = self._scale_net < 0 or (self._scale_net == 0 and self.w.rng.random() < 0.5)
        d = self._idle_deployment(rolling_ok=True)
        if d is None:
            return False
        key = key_of(d)
        if self.w.cluster.autoscaled("deployments.apps", key):
            return False  # its HPA, through the HPA controller, sets its replicas (redrawn)
        hpa = self.w.hpa_of.get(key)
        replicas = int((d.get("spec") or {}).get("replicas", 1))
        low, high = self.w.bounds.get(key, (1, 1 << 30))
        # an autoscaled Deployment stays within its HPA's bounds (redrawn otherwise)
        if (up and replicas >= high) or (not up and replicas <= max(1, low)):
            return False
        delta = 1 if up else -1
        if (
            self.w.writes.modify("deployments.apps", key, lambda o: _set_replicas(o, replicas + delta), WORLD)
            is None
        ):
            return False
        self._scale_net += delta
        if hpa is not None:
            self._hpa_write(hpa, replicas + delta)
        return True

    def _cronjob_run(self) -> bool:
        if not self.w.cronjobs:
            return False
        key = self.w.cronjobs[int(self.w.rng.random() * len(self.w.cronjobs))]
        if self.w.cluster.cronjobs.active_runs(key) >= CRON_RUNNING:
            return False  # the runs outpace the jobs: this one waits
        try:
            cj = self.w.store.get("cronjobs.batch", *key)
        except Exception:
            self.w.cronjobs.remove(key)
            return False
        now_t = self.w.now()
        minute = int(now_t) // 60
        while self.w.store.exists("jobs.batch", key[0], f"{key[1]}-{minute}"):
            minute += 1
        job = job_from_cronjob(
            cj, name=f"{key[1]}-{minute}", uid=self.w.names.uid(), created=rfc3339(now_t), manual=True
        )
        defaults.apply_defaults("jobs.batch", job, lambda: "")
        return self.w.writes.create("jobs.batch", job, WORLD) is not None

    def _lease_renew(self) -> bool:
        if not self.w.node_names:
            return False
        name = self.w.node_names.choice(self.w.rng)
        return name not in self.w.machines.dead and self.w.cluster.kubelets.renew(name)

    def _hpa_status(self) -> bool:
        if not self.w.hpas:
            return False
        key = self.w.hpas[int(self.w.rng.random() * len(self.w.hpas))]
        if self.w.cluster.hpa_managed(key):
            return False  # its controller writes its status (redrawn)
        replicas = None
        target = self.w.hpa_target.get(key)
        if target is not None:
            try:
                replicas = int(
                    (self.w.store.get("deployments.apps", *target).get("spec") or {}).get("replicas", 1)
                )
            except Exception:
                replicas = None
        return self._hpa_write(key, replicas, scaled=False)

    def _hpa_write(self, key: Key, replicas: int | None, scaled: bool = True) -> bool:
        """The simulated HPA status: its current metrics move; its replica counts follow its
        target (``lastScaleTime`` when it scaled)."""
        step = int(self.w.rng.random() * 21) - 10
        mem = 100 + int(self.w.rng.random() * 500)
        now = rfc3339(self.w.now())

        def move(o: Obj) -> None:
            status = o.setdefault("status", {})
            for m in status.get("currentMetrics") or ():
                res = m.get("resource") or {}
                cur = res.get("current")
                if res.get("name") == "cpu" and cur is not None:
                    util = min(300, max(1, int(cur.get("averageUtilization", 50)) + step))
                    cur["averageUtilization"] = util
                    cur["averageValue"] = f"{util * 2}m"
                elif res.get("name") == "memory" and cur is not None:
                    cur["averageValue"] = f"{mem}Mi"
            if replicas is not None:
                if scaled:
                    status["lastScaleTime"] = now
                status["currentReplicas"] = replicas
                status["desiredReplicas"] = replicas

        return self.w.writes.modify("horizontalpodautoscalers.autoscaling", key, move, WORLD) is not None

    def _configmap(self) -> bool:
        if not self.w.configmaps:
            return False
        key = self.w.configmaps[int(self.w.rng.random() * len(self.w.configmaps))]
        n = next(self._counter)
        if (
            self.w.writes.modify(
                "configmaps",
                key,
                lambda o: o.setdefault("data", {}).update({"churn-revision": str(n)}),
                WORLD,
            )
            is None
        ):
            self.w.configmaps.remove(key)
            return False
        return True

    def _object_churn(self) -> bool:
        if self.w.rng.random() < 0.05:
            return self._namespace_churn()
        app_ns = [
            n for n in self.w.namespaces if not n.startswith("kube-") and n != "default"
        ] or self.w.namespaces
        if not app_ns:
            return False
        ns = app_ns[int(self.w.rng.random() * len(app_ns))]
        n = next(self._counter)
        now = rfc3339(self.w.now())
        kind = self.w.rng.choice(("configmaps", "secrets"))
        meta = object_meta(f"churn-{n}", ns, uid=self.w.names.uid(), created=now)
        obj: Obj
        if kind == "configmaps":
            obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": {"n": str(n)}}
        else:
            obj = {
                "apiVersion": "v1",
                "kind": "Secret",
                "type": "Opaque",
                "metadata": meta,
                "data": {"n": "Y2h1cm4="},
            }
        if self.w.writes.create(kind, obj, WORLD) is None:
            return False
        self._made_objects.append((kind, (obj["metadata"]["namespace"], obj["metadata"]["name"])))
        while len(self._made_objects) > OBJECTS_KEPT:
            res, key = self._made_objects.popleft()
            self.w.writes.delete(res, key, WORLD)
        return True

    def _namespace_churn(self) -> bool:
        if len(self._made_namespaces) >= NAMESPACES_KEPT or (
            self._made_namespaces and self.w.rng.random() < 0.5
        ):
            name = self._made_namespaces.popleft()
            self._made_objects = collections.deque(o for o in self._made_objects if o[1][0] != name)
            if name in self.w.namespaces:
                self.w.namespaces.remove(name)
            # the namespace controller empties it first (each deletion is a write of its own)
            self.w.writes.delete("serviceaccounts", (name, "default"), WORLD)
            return self.w.writes.delete("namespaces", ("", name), WORLD)
        name = f"churn-{self.w.names.suffix(8)}"
        now = rfc3339(self.w.now())
        ns: Obj = {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": object_meta(
                name, uid=self.w.names.uid(), created=now, labels={"kubernetes.io/metadata.name": name}
            ),
            "spec": {"finalizers": ["kubernetes"]},
            "status": {"phase": "Active"},
        }
        if self.w.writes.create("namespaces", ns, WORLD) is None:
            return False
        self._made_namespaces.append(name)
        sa = {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": object_meta("default", name, uid=self.w.names.uid(), created=now),
        }
        self.w.writes.create("serviceaccounts", sa, WORLD)
        return True


def _set_replicas(o: Obj, replicas: int) -> None:
    o.setdefault("spec", {})["replicas"] = replicas
