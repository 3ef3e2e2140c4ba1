"""The HorizontalPodAutoscaler controller (kube-controller-manager's ``horizontal.go``): every sync
period (15 s) each HPA's metrics are read through the metrics APIs, the replica count computed
(:mod:`.calc`), stabilized and limited (:mod:`.behavior`), written to the target (its
``spec.replicas``, what the scale subresource changes) and reported in the HPA's status
(``currentReplicas``, ``desiredReplicas``, ``lastScaleTime``, ``currentMetrics`` and the
``AbleToScale``, ``ScalingActive``, ``ScalingLimited`` conditions), with its events
(``SuccessfulRescale``, ``FailedGet*Metric``, ``FailedComputeMetricsReplicas``).

It manages an HPA when its target exists and every metrics API its metrics need is served (an
APIService for the group, ``Available``); the others keep the status churn simulates for them.
Reading metrics is HTTP (:class:`~.metrics.MetricsClient`), so a sync is two steps: the fetch runs
as a task of the event loop, and when it is done the HPA is queued again and reconciled from what
was read, in the control plane's drain, like every other write.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import msgspec

from kubescope.apiserver.selectors import SelectorError, parse_label_selector
from kubescope.log import fields
from kubescope.sim.control.hpa import behavior
from kubescope.sim.control.hpa.metrics import MetricsClient, MetricsError, selector_string
from kubescope.sim.control.hpa.status import Conditions, MetricResult, compute
from kubescope.sim.control.runtime import LISTED, Controller, ControlPlane, Key
from kubescope.sim.objects.meta import rfc3339

logger = logging.getLogger(__name__)

Obj = dict[str, Any]
HPAS = "horizontalpodautoscalers.autoscaling"
APISERVICES = "apiservices.apiregistration.k8s.io"
SYNC_PERIOD = 15.0
GROUPS = {
    "Resource": ("metrics.k8s.io",),
    "ContainerResource": ("metrics.k8s.io",),
    "Pods": ("custom.metrics.k8s.io",),
    "Object": ("custom.metrics.k8s.io",),
    "External": ("external.metrics.k8s.io",),
}
"""The metrics API each kind of metric is read from."""
_decode = msgspec.json.Decoder().decode
TARGETS = {
    "Deployment": "deployments.apps",
    "ReplicaSet": "replicasets.apps",
    "StatefulSet": "statefulsets.apps",
}


@dataclass(slots=True)
class State:
    history: behavior.History = field(default_factory=behavior.History)
    fetching: bool = False
    fetched: list[MetricResult] | None = None


class HPAController(Controller):
    name = "horizontal-pod-autoscaler"
    watches = (HPAS, APISERVICES)

    def __init__(
        self, plane: ControlPlane, client: MetricsClient | None, *, period: float = SYNC_PERIOD
    ) -> None:
        super().__init__(plane)
        self.client = client
        self.period = period
        self.hpas: dict[Key, State] = {}
        self.managed_keys: set[Key] = set()
        """The HPAs this controller manages (the others keep the status churn simulates)."""
        self.scaled: dict[tuple[str, Key], Key] = {}
        """The targets of the managed HPAs: (resource, target key) -> HPA key."""
        self._serving: dict[str, str] = {}
        """Available APIServices: name -> group."""
        self._tasks: set[asyncio.Task[None]] = set()

    def managed(self, key: Key) -> bool:
        return key in self.managed_keys

    def _manage(self, key: Key, target: tuple[str, Obj] | None) -> None:
        for t, k in list(self.scaled.items()):
            if k == key:
                del self.scaled[t]
        if target is None:
            self.managed_keys.discard(key)
            return
        self.managed_keys.add(key)
        meta = target[1]["metadata"]
        self.scaled[(target[0], (meta.get("namespace", ""), meta["name"]))] = key

    # -- observing ----------------------------------------------------------------------------

    def observe(self, typ: str, res: str, obj: Obj) -> None:
        meta = obj["metadata"]
        if res == APISERVICES:
            group = (obj.get("spec") or {}).get("group", "")
            conds = (obj.get("status") or {}).get("conditions") or ()
            if typ != "DELETED" and any(
                c.get("type") == "Available" and c.get("status") == "True" for c in conds
            ):
                self._serving[meta["name"]] = group
            else:
                self._serving.pop(meta["name"], None)
            return
        key = (meta.get("namespace", ""), meta["name"])
        if typ == "DELETED":
            self.hpas.pop(key, None)
            self._manage(key, None)
            return
        if key not in self.hpas and self.client is not None:
            self.hpas[key] = State()
            if typ == LISTED:  # what exists at start: first syncs spread over a period
                self.queue.add_after(key, self.names.rng.random() * self.period)
            else:
                self.queue.add(key)

    def reachable(self, hpa: Obj) -> bool:
        """Whether every metrics API its metrics need is served (an Available APIService)."""
        metrics = (hpa.get("spec") or {}).get("metrics") or [{"type": "Resource"}]
        served = set(self._serving.values())
        return all(all(g in served for g in GROUPS.get(m.get("type", ""), ("?",))) for m in metrics)

    # -- syncing ------------------------------------------------------------------------------

    def sync(self, key: Key) -> None:
        st = self.hpas.get(key)
        if st is None or st.fetching:
            return
        try:
            hpa = self.store.get(HPAS, *key)
        except Exception:
            return
        target = self._target(hpa)
        if self.client is None or target is None or not self.reachable(hpa):
            self._manage(key, None)
            self.queue.add_after(key, self.period)
            return
        self._manage(key, target)
        if st.fetched is None:
            self._fetch(key, st, hpa, target)
            return
        fetched, st.fetched = st.fetched, None
        self._reconcile(key, st, hpa, target, fetched)
        self.queue.add_after(key, self.period)

    def _target(self, hpa: Obj) -> tuple[str, Obj] | None:
        ref = (hpa.get("spec") or {}).get("scaleTargetRef") or {}
        res = TARGETS.get(ref.get("kind", ""))
        if res is None:
            return None
        try:
            return res, self.store.get(res, hpa["metadata"].get("namespace", ""), ref.get("name", ""))
        except Exception:
            return None

    def _fetch(self, key: Key, st: State, hpa: Obj, target: tuple[str, Obj]) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # stepped without an event loop: nothing can be read
            self.queue.add_after(key, self.period)
            return
        assert self.client is not None
        selector = selector_string((target[1].get("spec") or {}).get("selector"))
        reads = [_read(self.client, key[0], selector, m, self.plane) for m in _metrics(hpa)]
        st.fetching = True

        async def fetch() -> None:
            results: list[MetricResult] = []
            try:
                for read in reads:
                    try:
                        results.append(MetricResult(value=await read()))
                    except MetricsError as e:
                        results.append(MetricResult(error=str(e)))
                    except Exception as e:  # a bug must not leave the HPA waiting forever
                        logger.exception(
                            "reading an HPA's metrics failed", extra=fields(hpa=f"{key[0]}/{key[1]}")
                        )
                        results.append(MetricResult(error=f"{type(e).__name__}: {e}"))
            finally:
                st.fetching = False
                st.fetched = results
                self.queue.add(key)

        task = loop.create_task(fetch(), name=f"hpa-metrics {key[0]}/{key[1]}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        for t in list(self._tasks):
            t.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        if self.client is not None:
            await self.client.close()

    def _reconcile(
        self, key: Key, st: State, hpa: Obj, target: tuple[str, Obj], fetched: list[MetricResult]
    ) -> None:
        """``reconcileAutoscaler``."""
        spec, status = hpa.get("spec") or {}, hpa.get("status") or {}
        now = self.now()
        at = rfc3339(now)
        conds = Conditions(status.get("conditions"), at)
        conds.set(
            "AbleToScale",
            True,
            "SucceededGetScale",
            "the HPA controller was able to get the target's current scale",
        )
        res, obj = target
        current = int((obj.get("spec") or {}).get("replicas", 1))
        if not st.history.recommendations:
            st.history.recommendations.append((current, now))
        low = int(spec.get("minReplicas", 1) if spec.get("minReplicas") is not None else 1)
        high = int(spec.get("maxReplicas", 1))
        statuses: list[Obj] = []
        reason = ""
        rescale = True
        if current == 0 and low != 0:
            desired, rescale = 0, False
            conds.set(
                "ScalingActive",
                False,
                "ScalingDisabled",
                "scaling is disabled since the replica count of the target is zero",
            )
        elif current > high:
            desired, reason = high, "Current number of replicas above Spec.MaxReplicas"
        elif current < low:
            desired, reason = low, "Current number of replicas below Spec.MinReplicas"
        else:
            pods = self._pods(hpa, obj)
            outcome = compute(hpa, obj, pods, fetched, current, now, self.event_for(hpa))
            statuses = outcome.statuses
            if outcome.replicas < 0:
                conds.set(*outcome.condition)
                self._write_status(
                    key, hpa, current, int(status.get("desiredReplicas", 0)), statuses, conds, None
                )
                self.event_for(hpa)("Warning", "FailedComputeMetricsReplicas", outcome.error)
                return
            conds.set(
                "ScalingActive",
                True,
                "ValidMetricFound",
                f"the HPA was able to successfully calculate a replica count from {outcome.metric}",
            )
            desired = outcome.replicas
            if desired > current:
                reason = f"{outcome.metric} above target"
            elif desired < current:
                reason = "All metrics below target"
            decision = behavior.normalize(spec, st.history, current, desired, low, now)
            conds.set("AbleToScale", True, *decision.able)
            limited, why, message = decision.limited
            conds.set("ScalingLimited", limited, why, message)
            desired = decision.replicas
            rescale = desired != current
        last_scale = status.get("lastScaleTime")
        if rescale:
            self.modify(
                res,
                (obj["metadata"].get("namespace", ""), obj["metadata"]["name"]),
                lambda o: o["spec"].update(replicas=desired),
            )
            conds.set(
                "AbleToScale",
                True,
                "SucceededRescale",
                f"the HPA controller was able to update the target scale to {desired}",
            )
            self.event_for(hpa)("Normal", "SuccessfulRescale", f"New size: {desired}; reason: {reason}")
            behavior.scaled(spec, st.history, current, desired, now)
            last_scale = at
        else:
            desired = current
        self._write_status(key, hpa, current, desired, statuses, conds, last_scale)

    def _pods(self, hpa: Obj, target: Obj) -> list[Obj]:
        """The pods the target's selector selects in the HPA's namespace (the pod lister's view)."""
        try:
            sel = parse_label_selector(selector_string((target.get("spec") or {}).get("selector")))
        except (SelectorError, MetricsError):
            return []
        ns = hpa["metadata"].get("namespace", "")
        return [_decode(e.raw) for e in self.store.matching("pods", ns, sel, None)]

    def event_for(self, hpa: Obj) -> Callable[[str, str, str], None]:
        def emit(typ: str, reason: str, note: str) -> None:
            self.event(hpa, typ, reason, note)

        return emit

    def _write_status(
        self,
        key: Key,
        hpa: Obj,
        current: int,
        desired: int,
        statuses: list[Obj],
        conds: Conditions,
        last_scale: str | None,
    ) -> None:
        def status(o: Obj) -> None:
            # setStatus; Go leaves out a zero currentReplicas and empty lists (omitempty)
            st: Obj = {}
            last = last_scale if last_scale is not None else (o.get("status") or {}).get("lastScaleTime")
            if last:
                st["lastScaleTime"] = last
            if current:
                st["currentReplicas"] = current
            st["desiredReplicas"] = desired
            if statuses:
                st["currentMetrics"] = statuses
            st["conditions"] = conds.items
            o["status"] = st

        self.modify(HPAS, key, status)


def _metrics(hpa: Obj) -> list[Obj]:
    return list((hpa.get("spec") or {}).get("metrics") or [])


def _read(
    client: MetricsClient, ns: str, selector: str, m: Obj, plane: ControlPlane
) -> Callable[[], Awaitable[Any]]:
    """The request one metric needs, to be awaited later."""
    typ = m.get("type", "")
    if typ in ("Resource", "ContainerResource"):
        src: Obj = (m.get("resource") if typ == "Resource" else m.get("containerResource")) or {}
        return lambda: client.resource(ns, selector, src.get("name", ""), src.get("container", ""))
    if typ == "Pods":
        pm = (m.get("pods") or {}).get("metric") or {}
        return lambda: client.pods(ns, selector, pm.get("name", ""), selector_string(pm.get("selector")))
    if typ == "Object":
        src = m.get("object") or {}
        om, ref = src.get("metric") or {}, src.get("describedObject") or {}
        resource = _resource_of(plane, ref)
        return lambda: client.object(
            ns, resource, ref.get("name", ""), om.get("name", ""), selector_string(om.get("selector"))
        )
    if typ == "External":
        em = (m.get("external") or {}).get("metric") or {}
        return lambda: client.external(ns, em.get("name", ""), selector_string(em.get("selector")))

    async def unknown() -> Any:
        raise MetricsError(f'unknown metric source type "{typ}"')

    return unknown


def _resource_of(plane: ControlPlane, ref: Obj) -> str:
    """The resource path segment of a described object (``deployments.apps``, ``services``, the
    pseudo-resource ``namespaces`` for a Namespace), from the served types."""
    kind = str(ref.get("kind", ""))
    group = str(ref.get("apiVersion", "")).rpartition("/")[0]
    registry = getattr(plane.store, "registry", None)
    for t in getattr(registry, "by_key", {}).values():
        if t.kind == kind and t.group == group:
            return f"{t.plural}.{t.group}" if t.group else t.plural
    return kind.lower() + "s"
