"""How often the world changes what: per-object hazards and recoveries in real time (the
``realistic`` mix), the heartbeats that fill the rest of the write rate, and the fixed shares of the
``lively`` mix. :mod:`.world` draws from them."""

from __future__ import annotations

HOUR = 3600.0
HAZARDS: dict[str, float] = {
    "pod_restart": 1 / (7 * 24 * HOUR),
    "pod_crashloop": 1 / (400 * 24 * HOUR),
    "pod_readiness": 1 / (3 * 24 * HOUR),
    "node_readiness": 1 / (30 * 24 * HOUR),
    "rollout": 1 / (3 * 24 * HOUR),
    "scale": 1 / (2 * 24 * HOUR),
    "job_complete": 1 / 300,
    "cronjob_run": 1 / HOUR,
    "configmap": 1 / (7 * 24 * HOUR),
    "object_churn": 1 / (12 * HOUR),
}
"""Per second, per object a kind can happen to (healthy pods, Ready nodes, Deployments, running
Job pods, CronJobs, application ConfigMaps, namespaces)."""
HEARTBEATS: dict[str, float] = {"hpa_status": 1 / 15, "lease_renew": 1 / 10}
"""The status writes that fill the rest of the rate, in proportion to their real period per HPA
(a sync every 15 s) and per node (a Lease renewed every 10 s)."""
KINDS = (*HAZARDS, *HEARTBEATS)
RECOVERY: dict[str, float] = {
    "pod_crashloop": 1 / (4 * HOUR),
    "pod_readiness": 1 / 120,
    "node_readiness": 1 / 180,
}
"""Per second, per object in the state a kind left it in (crash-looping, failing its probe, down):
the steady shares are hazard / recovery (about 0.4 % of pods crash-looping, 0.05 % not ready)."""

WEIGHTS: dict[str, int] = {
    "node_readiness": 1,
    "pod_readiness": 8,
    "pod_restart": 5,
    "pod_crashloop": 3,
    "rollout": 4,
    "scale": 6,
    "job_complete": 8,
    "cronjob_run": 8,
    "hpa_status": 8,
    "lease_renew": 4,
    "configmap": 5,
    "object_churn": 5,
}
"""Fixed shares for a lively cluster (``--churn-mix lively``, ``weights=WEIGHTS``): every kind
happens often; rollouts and scaling, which move many pods each, a little less."""
REDRAWS = 8
"""Draws of a change before giving up (a drawn kind may find nothing to act on)."""
