"""A seed names one cluster: the same scenario and churn give the same objects, byte for byte, in
every process, whatever ``PYTHONHASHSEED`` orders sets and string hashes by.

The simulator is the benchmark rig and the test bed: a run that cannot be repeated cannot be
compared. Python salts string hashes per process, so anything that iterates a set of strings (or
pops "any" element of one) makes different writes in different processes; a second run in the
same process would not show it, hence two subprocesses with two fixed hash seeds.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Churn with every kind of change (rollouts, scaling, restarts, crash loops, node outages) and the
# events they record: aggregation of similar events is where a set of messages lives.
SCRIPT = """
import hashlib, json
from kubescope.sim.churn.rates import WEIGHTS
from kubescope.sim.live import LiveCluster
from tests.sim.clusters import Clock, generated

store = generated(7, 4, 8, clock=Clock(0.05))
cluster = LiveCluster(store, seed=7, rate=100, weights=WEIGHTS)
cluster.start_up()
cluster.step(3000)
digest = {}
for res in sorted(store.objects):
    h = hashlib.sha256()
    for key in sorted(store.objects[res]):
        h.update(repr(key).encode())
        h.update(bytes(store.objects[res][key].raw))
    digest[res] = [len(store.objects[res]), h.hexdigest()]
counts = {k: v for k, v in cluster.counts.items() if v}
print(json.dumps({"rv": store.resource_version, "objects": digest, "counts": counts}, sort_keys=True))
"""


def _run(hash_seed: str) -> str:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    p = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900
    )
    assert p.returncode == 0, f"PYTHONHASHSEED={hash_seed}: exit {p.returncode}\n{p.stderr[-3000:]}"
    return p.stdout


def test_the_same_seed_makes_the_same_cluster_whatever_the_hash_seed() -> None:
    one, two = _run("1"), _run("2")
    assert '"events"' in one, one[:2000]
    if one != two:
        a, b = json.loads(one), json.loads(two)
        names = sorted(set(a["objects"]) | set(b["objects"]))
        differ = [r for r in names if a["objects"].get(r) != b["objects"].get(r)]
        raise AssertionError(
            f"PYTHONHASHSEED 1 and 2 made different clusters from seed 7: resources {differ}; "
            f"rv {a['rv']} vs {b['rv']}; counts equal: {a['counts'] == b['counts']}"
        )
