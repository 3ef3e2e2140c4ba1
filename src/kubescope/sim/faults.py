"""Faults on demand: what the simulator breaks, set at start (flags) or live (``POST /_sim/faults``).

``POST /_sim/faults`` (admin token) takes a JSON object with any of these fields and answers the
current settings; one-shot actions (``drop_watches``, ``malformed_event``) happen at once::

    {"error_fraction": 0.1, "error_code": 500}     fail 10% of API requests with 500 (or 429 + Retry-After)
    {"delay_fraction": 0.2, "delay_seconds": 0.5}  delay 20% of API requests
    {"gone_next_watches": 3}                       the next 3 watches get an in-stream 410 Expired ERROR
    {"drop_watches": true}                         close every open watch now
    {"malformed_event": true}                      write one undecodable line on every open watch
    {"kubelet_slow_fraction": 0.1, "kubelet_slow_seconds": 20}   10% of the kubelets answer after 20 s
    {"kubelet_error_fraction": 1, "kubelet_nodes": "node-0001"}   node-0001's kubelet answers 500
    {"reset": true}                                clear every fault

The kubelet faults (read by :mod:`kubescope.sim.kubelet`) pick a stable share of the nodes (the
same nodes on every request; the ``seed`` changes the choice), among ``kubelet_nodes`` (names,
comma-separated) when set: ``kubelet_down_fraction`` (connection reset), ``kubelet_slow_fraction``
(+ ``kubelet_slow_seconds``), ``kubelet_error_fraction`` (500), ``kubelet_garbage_fraction`` (200,
not the text format), ``kubelet_truncate_fraction`` (the body is cut halfway),
``kubelet_scrape_error_fraction`` (200 with ``resource_scrape_error 1`` only) and
``kubelet_stale_fraction`` (the stats stop updating: same samples, same timestamps).
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, fields
from typing import Any

from kubescope.errors import ConfigError

_TEXT = frozenset({"kubelet_nodes"})


@dataclass
class Faults:
    error_fraction: float = 0.0
    error_code: int = 500
    retry_after: int = 1
    delay_fraction: float = 0.0
    delay_seconds: float = 0.0
    gone_next_watches: int = 0
    kubelet_slow_fraction: float = 0.0
    kubelet_slow_seconds: float = 0.0
    kubelet_garbage_fraction: float = 0.0
    kubelet_truncate_fraction: float = 0.0
    kubelet_error_fraction: float = 0.0
    kubelet_down_fraction: float = 0.0
    kubelet_scrape_error_fraction: float = 0.0
    kubelet_stale_fraction: float = 0.0
    kubelet_nodes: str = ""
    seed: int = 0

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if not k.startswith("_")}

    def update(self, changes: dict[str, Any]) -> None:
        """Apply a JSON object of settings; unknown keys and bad values are rejected whole."""
        known = {f.name: f.type for f in fields(self)}
        parsed: dict[str, Any] = {}
        for k, v in changes.items():
            if k in ("drop_watches", "malformed_event", "reset"):
                continue
            if k not in known:
                raise ConfigError(f"unknown fault {k!r}; known: {', '.join(sorted(known))}")
            if k in _TEXT:
                if isinstance(v, list):
                    v = ",".join(str(x) for x in v)
                if not isinstance(v, str):
                    raise ConfigError(f"fault {k}={v!r}: expected node names, comma-separated")
                parsed[k] = v
                continue
            try:
                parsed[k] = (
                    int(v) if k in ("error_code", "retry_after", "gone_next_watches", "seed") else float(v)
                )
            except (TypeError, ValueError):
                raise ConfigError(f"fault {k}={v!r}: expected a number") from None
            if k.endswith("_fraction") and not 0 <= parsed[k] <= 1:
                raise ConfigError(f"fault {k}={v!r}: expected a fraction between 0 and 1")
        if parsed.get("error_code", 500) not in (429, 500, 502, 503, 504):
            raise ConfigError("error_code must be one of 429, 500, 502, 503, 504")
        if changes.get("reset"):
            for f in fields(self):
                setattr(self, f.name, f.default)
        for k, v in parsed.items():
            setattr(self, k, v)

    def roll(self, fraction: float) -> bool:
        return fraction > 0 and self._rng.random() < fraction

    def take_gone(self) -> bool:
        if self.gone_next_watches > 0:
            self.gone_next_watches -= 1
            return True
        return False
