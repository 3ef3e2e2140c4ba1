"""The Deployment controller: a ReplicaSet per template, rolled out under ``maxSurge`` and
``maxUnavailable``, old ones scaled down as new pods become available, history kept to
``revisionHistoryLimit``, and the Deployment's status summed from its ReplicaSets'.

The ReplicaSet of the current template is the one whose template equals the Deployment's but for
the ``pod-template-hash`` label (``EqualIgnoreHash``; the newest revision when several do); a
template change gets a new one named after the template's hash, at the next revision, which is
also written on the Deployment. Scaling follows the rolling-update arithmetic (kube's
``NewRSNewReplicas`` and ``reconcileOldReplicaSets``); the proportional scaling of several
active ReplicaSets during a rollout is left out: the rollout's own steps bring them in line.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from kubescope.sim.control.cache import PodCache
from kubescope.sim.control.events import ref
from kubescope.sim.control.runtime import LISTED, Controller, ControlPlane, Key
from kubescope.sim.objects.meta import controller_of, rfc3339
from kubescope.sim.objects.workloads import REVISION, equal_ignoring_hash, new_replica_set

Obj = dict[str, Any]
DEPLOYMENTS, REPLICASETS = "deployments.apps", "replicasets.apps"


@dataclass(slots=True)
class DeploymentRecord:
    ns: str
    name: str
    uid: str
    replicas: int
    generation: int
    paused: bool
    deleting: bool
    max_surge: int | str
    max_unavailable: int | str
    history: int
    template: Obj
    collisions: int = 0


@dataclass(slots=True)
class SetRecord:
    """A ReplicaSet as its Deployment sees it."""

    name: str
    uid: str
    deployment: str
    revision: int
    replicas: int
    template: Obj
    status: tuple[int, int, int] = (0, 0, 0)
    """(replicas, readyReplicas, availableReplicas)."""
    created: str = ""
    generation: int = 1
    matched: tuple[int, bool] = (0, False)
    """(Deployment generation, whether the template matched it then): compared once per change."""


@dataclass(slots=True)
class _Plan:
    scale: dict[str, int] = field(default_factory=dict)
    """ReplicaSet name -> new spec.replicas."""


class DeploymentController(Controller):
    reporting = "deployment-controller"
    name = "deployment"
    watches = (DEPLOYMENTS, REPLICASETS)

    def __init__(self, plane: ControlPlane, pods: PodCache) -> None:
        super().__init__(plane)
        self.pods = pods
        self.deployments: dict[Key, DeploymentRecord] = {}
        self.sets: dict[Key, dict[str, SetRecord]] = {}
        """(namespace, deployment) -> its ReplicaSets by name."""
        self._set_owner: dict[Key, str] = {}

    # -- observing ----------------------------------------------------------------------------

    def observe(self, typ: str, res: str, obj: Obj) -> None:
        meta = obj["metadata"]
        key = (meta.get("namespace", ""), meta["name"])
        if res == DEPLOYMENTS:
            self._observe_deployment(typ, key, obj)
        else:
            self._observe_set(typ, key, obj)

    def _observe_deployment(self, typ: str, key: Key, obj: Obj) -> None:
        if typ == "DELETED":
            self.deployments.pop(key, None)
            return
        meta, spec = obj["metadata"], obj.get("spec") or {}
        rolling = (spec.get("strategy") or {}).get("rollingUpdate") or {}
        rec = DeploymentRecord(
            key[0],
            key[1],
            meta.get("uid", ""),
            int(spec.get("replicas", 1)),
            int(meta.get("generation") or 1),
            bool(spec.get("paused")),
            bool(meta.get("deletionTimestamp")),
            rolling.get("maxSurge", "25%"),
            rolling.get("maxUnavailable", "25%"),
            int(spec.get("revisionHistoryLimit", 10)),
            spec.get("template") or {},
        )
        old = self.deployments.get(key)
        if old is not None:
            rec.collisions = old.collisions
        self.deployments[key] = rec
        if typ != LISTED and (old is None or old.generation != rec.generation or old.uid != rec.uid):
            self.queue.add(key)

    def _observe_set(self, typ: str, key: Key, obj: Obj) -> None:
        meta = obj["metadata"]
        owner = controller_of(meta)
        if owner is None or owner.get("kind") != "Deployment":
            return
        dkey = (key[0], owner["name"])
        sets = self.sets.setdefault(dkey, {})
        if typ == "DELETED":
            sets.pop(key[1], None)
        else:
            spec, status = obj.get("spec") or {}, obj.get("status") or {}
            ann = meta.get("annotations") or {}
            before = sets.get(key[1])
            rec = sets[key[1]] = SetRecord(
                key[1],
                meta.get("uid", ""),
                owner["name"],
                int(ann.get(REVISION, "0") or 0),
                int(spec.get("replicas", 0)),
                spec.get("template") or {},
                (
                    int(status.get("replicas", 0)),
                    int(status.get("readyReplicas", 0)),
                    int(status.get("availableReplicas", 0)),
                ),
                meta.get("creationTimestamp", ""),
                int(meta.get("generation") or 1),
            )
            if before is not None and (before.uid, before.generation) == (rec.uid, rec.generation):
                rec.matched = before.matched  # the template is the same: so is the comparison
        if typ != LISTED and dkey in self.deployments:
            self.queue.add(dkey)

    # -- syncing ------------------------------------------------------------------------------

    def sync(self, key: Key) -> None:
        d = self.deployments.get(key)
        if d is None or d.deleting:
            return
        sets = list(self.sets.get(key, {}).values())
        new = self._current(d, sets)
        if new is None and not d.paused:
            new = self._create_set(d, sets)
            if new is None:
                return
            sets.append(new)
        if not d.paused and new is not None:
            plan = self._roll(d, new, [s for s in sets if s is not new])
            for name, replicas in plan.scale.items():
                self._scale(d, name, replicas)
        self._clean_history(d, new)
        self._status(d, new)

    def _current(self, d: DeploymentRecord, sets: list[SetRecord]) -> SetRecord | None:
        same = []
        for s in sets:
            if s.matched[0] != d.generation:
                s.matched = (d.generation, equal_ignoring_hash(s.template, d.template))
            if s.matched[1]:
                same.append(s)
        return max(same, key=lambda s: (s.revision, s.created, s.name)) if same else None

    def _create_set(self, d: DeploymentRecord, sets: list[SetRecord]) -> SetRecord | None:
        try:
            obj = self.store.get(DEPLOYMENTS, d.ns, d.name)
        except Exception:
            return None
        surge = _resolve(d.max_surge, d.replicas, up=True)
        current = sum(s.replicas for s in sets)
        replicas = max(0, min(d.replicas, d.replicas + surge - current))
        revision = max((s.revision for s in sets), default=0) + 1
        rs = new_replica_set(
            obj,
            uid=self.names.uid(),
            created=rfc3339(self.now()),
            revision=revision,
            replicas=replicas,
            max_replicas=d.replicas + surge,
            collisions=d.collisions,
        )
        if self.create(REPLICASETS, rs) is None:
            d.collisions += 1  # a ReplicaSet of another template has the name: the next try hashes again
            self.queue.add_after((d.ns, d.name), 0.5)
            return None
        if replicas:
            self._scaled(d, rs["metadata"]["name"], 0, replicas)
        return self.sets.get((d.ns, d.name), {}).get(rs["metadata"]["name"])

    def _roll(self, d: DeploymentRecord, new: SetRecord, old: list[SetRecord]) -> _Plan:
        """One step of a rolling update: the new ReplicaSet up to what ``maxSurge`` allows, the
        old ones down to what ``maxUnavailable`` allows (unhealthy replicas first)."""
        plan = _Plan()
        surge = _resolve(d.max_surge, d.replicas, up=True)
        unavailable = _resolve(d.max_unavailable, d.replicas, up=False)
        if surge == 0 and unavailable == 0:
            unavailable = 1
        total = new.replicas + sum(s.replicas for s in old)
        want_new = min(d.replicas, max(new.replicas, new.replicas + d.replicas + surge - total))
        if not any(s.replicas for s in old):
            want_new = d.replicas  # nothing to roll: a plain scale
        if want_new != new.replicas:
            plan.scale[new.name] = want_new
        all_pods = want_new + sum(s.replicas for s in old)
        min_available = d.replicas - unavailable
        new_unavailable = want_new - new.status[2]
        budget = all_pods - min_available - new_unavailable
        if budget <= 0:
            return plan
        for s in sorted(old, key=lambda s: s.revision):
            unhealthy = s.replicas - s.status[2]
            cut = min(max(0, unhealthy), budget)
            if cut:
                plan.scale[s.name] = s.replicas - cut
                budget -= cut
        available = new.status[2] + sum(s.status[2] for s in old)
        budget = min(budget, available - min_available)
        for s in sorted(old, key=lambda s: s.revision):
            have = plan.scale.get(s.name, s.replicas)
            cut = min(have, max(0, budget))
            if cut:
                plan.scale[s.name] = have - cut
                budget -= cut
        return plan

    def _scale(self, d: DeploymentRecord, name: str, replicas: int) -> None:
        surge = _resolve(d.max_surge, d.replicas, up=True)
        known = self.sets.get((d.ns, d.name), {}).get(name)
        before = known.replicas if known is not None else 0

        def scale(o: Obj) -> None:
            o.setdefault("spec", {})["replicas"] = replicas
            ann = o["metadata"].setdefault("annotations", {})
            ann["deployment.kubernetes.io/desired-replicas"] = str(d.replicas)
            ann["deployment.kubernetes.io/max-replicas"] = str(d.replicas + surge)

        if self.modify(REPLICASETS, (d.ns, name), scale) is not None and replicas != before:
            self._scaled(d, name, before, replicas)

    def _scaled(self, d: DeploymentRecord, name: str, before: int, after: int) -> None:
        how = "up" if after > before else "down"
        self.event(
            ref("Deployment", "apps/v1", d.ns, d.name, d.uid),
            "Normal",
            "ScalingReplicaSet",
            f"Scaled {how} replica set {name} from {before} to {after}",
        )

    def _clean_history(self, d: DeploymentRecord, new: SetRecord | None) -> None:
        """Old ReplicaSets beyond ``revisionHistoryLimit`` go, oldest first, those that have no
        replicas left (``cleanupDeployment``)."""
        old = sorted(
            (s for s in self.sets.get((d.ns, d.name), {}).values() if s is not new), key=lambda s: s.revision
        )
        excess = len(old) - d.history
        for s in old:
            if excess <= 0:
                break
            if not s.replicas and not s.status[0]:
                self.delete(REPLICASETS, (d.ns, s.name))
                excess -= 1

    def _status(self, d: DeploymentRecord, new: SetRecord | None) -> None:
        sets = list(self.sets.get((d.ns, d.name), {}).values())
        total = sum(s.status[0] for s in sets)
        ready = sum(s.status[1] for s in sets)
        available = sum(s.status[2] for s in sets)
        updated = new.status[0] if new is not None else 0
        terminating = sum(1 for s in sets for p in self.pods.owned("ReplicaSet", d.ns, s.name) if p.deleting)
        unavailable = _resolve(d.max_unavailable, d.replicas, up=False)
        is_available = available >= d.replicas - unavailable
        done = new is not None and updated == d.replicas == total and available == d.replicas
        now = rfc3339(self.now())
        revision = new.revision if new is not None else 0

        def status(o: Obj) -> None:
            if revision:
                o["metadata"].setdefault("annotations", {})[REVISION] = str(revision)
            st = o.setdefault("status", {})
            st["observedGeneration"] = o["metadata"].get("generation", 1)
            for k, v in (
                ("replicas", total),
                ("updatedReplicas", updated),
                ("readyReplicas", ready),
                ("availableReplicas", available),
                ("unavailableReplicas", max(0, d.replicas - available)),
            ):
                if v:
                    st[k] = v
                else:
                    st.pop(k, None)
            if "terminatingReplicas" in st or terminating:
                st["terminatingReplicas"] = terminating
            conds = st.setdefault("conditions", [])
            _condition(
                conds,
                "Available",
                is_available,
                "MinimumReplicasAvailable" if is_available else "MinimumReplicasUnavailable",
                "Deployment has minimum availability."
                if is_available
                else "Deployment does not have minimum availability.",
                now,
            )
            if new is not None and not d.paused:
                _condition(
                    conds,
                    "Progressing",
                    True,
                    "NewReplicaSetAvailable" if done else "ReplicaSetUpdated",
                    f'ReplicaSet "{new.name}" has successfully progressed.'
                    if done
                    else f'ReplicaSet "{new.name}" is progressing.',
                    now,
                )

        if self.modify(DEPLOYMENTS, (d.ns, d.name), status) is None:
            self.deployments.pop((d.ns, d.name), None)


def _condition(conds: list[Obj], typ: str, ok: bool, reason: str, message: str, now: str) -> None:
    """Set a Deployment condition: ``lastUpdateTime`` moves when its reason or message does,
    ``lastTransitionTime`` when its status does."""
    flag = "True" if ok else "False"
    for c in conds:
        if c.get("type") == typ:
            if c.get("status") != flag:
                c["lastTransitionTime"] = now
            if (c.get("status"), c.get("reason"), c.get("message")) != (flag, reason, message):
                c.update(status=flag, reason=reason, message=message, lastUpdateTime=now)
            return
    conds.append(
        {
            "type": typ,
            "status": flag,
            "lastUpdateTime": now,
            "lastTransitionTime": now,
            "reason": reason,
            "message": message,
        }
    )


def _resolve(value: int | str, replicas: int, *, up: bool) -> int:
    """``maxSurge`` (rounded up) or ``maxUnavailable`` (rounded down) against ``replicas``."""
    if isinstance(value, str) and value.endswith("%"):
        share = replicas * int(value[:-1] or 0) / 100
        return math.ceil(share) if up else math.floor(share)
    return int(value)
