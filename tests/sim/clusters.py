"""Generated clusters in a store on a test clock, for the control plane's in-process tests."""

from __future__ import annotations

from typing import Any

from kubescope.sim.scenario import ScenarioConfig, generate
from kubescope.sim.store import ObjectStore

Obj = dict[str, Any]
START = 1_800_000_000.0


class Clock:
    """A clock that moves ``step`` seconds at every reading: timestamps stay distinct and time
    passes as the simulation works, the same way in every run."""

    def __init__(self, step: float = 0.25) -> None:
        self.t = START
        self.step = step

    def __call__(self) -> float:
        self.t += self.step
        return self.t


def generated(
    seed: int = 3, nodes: int = 12, pods_per_node: int = 15, *, clock: Clock | None = None, history: int = 500
) -> ObjectStore:
    """The scenario's cluster for ``seed`` in a store stamping times by ``clock`` (wall time if None)."""
    store = ObjectStore(history=history, clock=clock) if clock is not None else ObjectStore(history=history)
    store.bulk_create(
        generate(ScenarioConfig(seed=seed, nodes=nodes, pods_per_node=pods_per_node, start=START))
    )
    return store


def objs(store: ObjectStore, res: str) -> list[Obj]:
    return [store.get(res, *k) for k in store.keys(res)]
