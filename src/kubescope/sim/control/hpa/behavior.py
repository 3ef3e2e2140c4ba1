"""How far an HPA may move at once (kube-controller-manager's ``horizontal.go`` normalization):
the recommendation is stabilized over recent ones, then limited by the scaling rules, and the
``AbleToScale``/``ScalingLimited`` conditions say which applied.

* Without ``spec.behavior`` (the legacy rules): scaling down takes the highest recommendation of
  the last 5 minutes (``--horizontal-pod-autoscaler-downscale-stabilization``), scaling up is
  capped at ``max(2 * current, 4)``, both within min and max replicas.
* With it: ``scaleUp``/``scaleDown`` stabilization windows (the lowest recent recommendation
  when going up, the highest when going down), and their policies (``Pods`` or ``Percent`` per
  ``periodSeconds``, ``selectPolicy`` Max, Min or Disabled) counted over the scale events of the
  policies' longest period.

The history of recommendations and scale events is kept per HPA, in memory, as the controller
keeps it (a restart forgets it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

Obj = dict[str, Any]
DOWNSCALE_STABILIZATION = 300

SCALE_UP_DEFAULT: Obj = {
    "stabilizationWindowSeconds": 0,
    "selectPolicy": "Max",
    "policies": [
        {"type": "Pods", "value": 4, "periodSeconds": 15},
        {"type": "Percent", "value": 100, "periodSeconds": 15},
    ],
}
SCALE_DOWN_DEFAULT: Obj = {
    "selectPolicy": "Max",
    "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}],
}
"""autoscaling/v2's defaults for a ``behavior`` that leaves a direction or a field out (the
scale-down window comes from the controller: 300 s)."""


@dataclass(slots=True)
class History:
    """One HPA's recent recommendations and scale events."""

    recommendations: list[tuple[int, float]] = field(default_factory=list)
    ups: list[tuple[int, float]] = field(default_factory=list)
    downs: list[tuple[int, float]] = field(default_factory=list)


@dataclass(slots=True)
class Decision:
    replicas: int
    able: tuple[str, str]
    """``AbleToScale`` (reason, message)."""
    limited: tuple[bool, str, str]
    """``ScalingLimited`` (status, reason, message)."""


def rules(behavior: Obj | None, direction: str) -> Obj:
    """A direction's scaling rules with autoscaling/v2's defaults filled in."""
    given = (behavior or {}).get(direction) or {}
    base = SCALE_UP_DEFAULT if direction == "scaleUp" else SCALE_DOWN_DEFAULT
    out = {k: given.get(k, v) for k, v in base.items()}
    out["policies"] = given.get("policies") or base["policies"]
    window = given.get("stabilizationWindowSeconds")
    if direction == "scaleDown":
        out["stabilizationWindowSeconds"] = DOWNSCALE_STABILIZATION if window is None else int(window)
    else:
        out["stabilizationWindowSeconds"] = 0 if window is None else int(window)
    return out


def normalize(
    hpa_spec: Obj, h: History, current: int, desired: int, min_replicas: int, now: float
) -> Decision:
    if hpa_spec.get("behavior") is None:
        return _legacy(hpa_spec, h, current, desired, min_replicas, now)
    return _with_behavior(hpa_spec, h, current, desired, min_replicas, now)


def _legacy(spec: Obj, h: History, current: int, desired: int, min_replicas: int, now: float) -> Decision:
    cutoff = now - DOWNSCALE_STABILIZATION
    stabilized = desired
    old = None
    for i, (rec, at) in enumerate(h.recommendations):
        if at < cutoff:
            old = i
        elif rec > stabilized:
            stabilized = rec
    _record(h.recommendations, old, (desired, now))
    able = (
        (
            "ScaleDownStabilized",
            "recent recommendations were higher than current one, applying the highest recent recommendation",
        )
        if stabilized != desired
        else ("ReadyForNewScale", "recommended size matches current size")
    )
    max_replicas = int(spec.get("maxReplicas", 1))
    up_limit = max(2 * current, 4)
    if max_replicas > up_limit:
        ceiling, why = (
            up_limit,
            ("ScaleUpLimit", "the desired replica count is increasing faster than the maximum scale rate"),
        )
    else:
        ceiling, why = (
            max_replicas,
            ("TooManyReplicas", "the desired replica count is more than the maximum replica count"),
        )
    if stabilized < min_replicas:
        final, why = (
            min_replicas,
            ("TooFewReplicas", "the desired replica count is less than the minimum replica count"),
        )
    elif stabilized > ceiling:
        final = ceiling
    else:
        final, why = stabilized, ("DesiredWithinRange", "the desired count is within the acceptable range")
    return Decision(final, able, (final != stabilized, *why))


def _with_behavior(
    spec: Obj, h: History, current: int, desired: int, min_replicas: int, now: float
) -> Decision:
    up, down = rules(spec.get("behavior"), "scaleUp"), rules(spec.get("behavior"), "scaleDown")
    up_cut = now - up["stabilizationWindowSeconds"]
    down_cut = now - down["stabilizationWindowSeconds"]
    up_rec = down_rec = desired
    old = None
    for i, (rec, at) in enumerate(h.recommendations):
        if at > up_cut:
            up_rec = min(rec, up_rec)
        if at > down_cut:
            down_rec = max(rec, down_rec)
        if at < up_cut and at < down_cut:
            old = i
    stabilized = min(max(current, up_rec), down_rec)
    _record(h.recommendations, old, (desired, now))
    if stabilized != desired:
        able = (
            (
                "ScaleUpStabilized",
                "recent recommendations were lower than current one, applying the lowest recent recommendation",
            )
            if desired >= current
            else (
                "ScaleDownStabilized",
                "recent recommendations were higher than current one, applying the highest recent recommendation",
            )
        )
    else:
        able = ("ReadyForNewScale", "recommended size matches current size")
    max_replicas = int(spec.get("maxReplicas", 1))
    why = ("DesiredWithinRange", "the desired count is within the acceptable range")
    final = stabilized
    if stabilized > current:
        limit = max(_up_limit(current, h, up, now), current)
        if max_replicas > limit:
            bound, reason = (
                limit,
                (
                    "ScaleUpLimit",
                    "the desired replica count is increasing faster than the maximum scale rate",
                ),
            )
        else:
            bound, reason = (
                max_replicas,
                ("TooManyReplicas", "the desired replica count is more than the maximum replica count"),
            )
        if stabilized > bound:
            final, why = bound, reason
    elif stabilized < current:
        limit = min(_down_limit(current, h, down, now), current)
        if min_replicas < limit:
            bound, reason = (
                limit,
                (
                    "ScaleDownLimit",
                    "the desired replica count is decreasing faster than the maximum scale rate",
                ),
            )
        else:
            bound, reason = (
                min_replicas,
                ("TooFewReplicas", "the desired replica count is less than the minimum replica count"),
            )
        if stabilized < bound:
            final, why = bound, reason
    return Decision(final, able, (final != stabilized, *why))


def _changed_within(events: list[tuple[int, float]], period: int, now: float) -> int:
    return sum(change for change, at in events if at > now - period)


def _up_limit(current: int, h: History, r: Obj, now: float) -> int:
    """``calculateScaleUpLimitWithScalingRules``: the most the policies allow (``Min``: the least)."""
    return _limit(current, h, r, now, up=True)


def _down_limit(current: int, h: History, r: Obj, now: float) -> int:
    """``calculateScaleDownLimitWithBehaviors``: the fewest the policies allow (``Min``: the most)."""
    return _limit(current, h, r, now, up=False)


def _limit(current: int, h: History, r: Obj, now: float, *, up: bool) -> int:
    if r["selectPolicy"] == "Disabled":
        return current
    widest = max if up else min
    pick = (min if up else max) if r["selectPolicy"] == "Min" else widest
    best: int | None = None
    for p in r["policies"]:
        period = int(p["periodSeconds"])
        # the replicas at the period's start: the changes made within it undone
        start = current - _changed_within(h.ups, period, now) + _changed_within(h.downs, period, now)
        value = int(p["value"])
        if p["type"] == "Pods":
            proposed = start + value if up else start - value
        elif up:
            proposed = math.ceil(start * (1 + value / 100))
        else:
            proposed = int(start * (1 - value / 100))
        best = proposed if best is None else pick(best, proposed)
    return current if best is None else best


def scaled(spec: Obj, h: History, before: int, after: int, now: float) -> None:
    """Remember a scale event (only with ``behavior``: the legacy rules do not use them), reusing
    the slot of one older than the direction's longest policy period."""
    if spec.get("behavior") is None:
        return
    direction = "scaleUp" if after > before else "scaleDown"
    events = h.ups if after > before else h.downs
    longest = max(
        (int(p["periodSeconds"]) for p in rules(spec["behavior"], direction)["policies"]), default=0
    )
    old = next((i for i, (_, at) in enumerate(events) if at < now - longest), None)
    _record(events, old, (abs(after - before), now))


def _record(items: list[tuple[int, float]], old: int | None, item: tuple[int, float]) -> None:
    if old is not None:
        items[old] = item
    else:
        items.append(item)
