"""Run every benchmark at every size, one after the other, and print one summary.

    .venv/bin/python benchmarks/all.py                                  # 1000x30 and 5000x30
    .venv/bin/python benchmarks/all.py --sizes 100x30 --only state_metrics --json out.json
    .venv/bin/python benchmarks/all.py --summary out.json                # its summary again

Each benchmark runs in its own process (``benchmarks/<name>.py --nodes N --pods-per-node M
--json FILE``), prints its own progress and table, and leaves its figures in a JSON file; this
script collects them into one JSON object ``{"machine": ..., "runs": {"<name> <size>": figures}}``
and prints the headline figures of each run beside the targets of the issues. Benchmarks share
the machine's cores with the simulator they start: run them on a quiet machine (nothing else
busy), one at a time, as this script does.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
BENCHMARKS = ("reflector", "state_metrics", "resource_metrics", "churn")

# (benchmark, figure path, label, unit, target: (op, value) for 1000x30, or None); the targets are
# issue 14's (performance ahead of the Go originals) where it sets one, the earlier issues' elsewhere
HEADLINES: list[tuple[str, str, str, str, tuple[str, float] | None]] = [
    ("reflector", "sim_start_s", "simulator start-up", "s", None),
    ("reflector", "list_paginated_s", "pod LIST (paginated)", "s", None),
    ("reflector", "list_paginated_floor_s", "  floor: reading the same pages", "s", None),
    ("reflector", "list_paginated_bytes", "pod LIST bytes", "B", None),
    ("reflector", "sync_s", "reflector initial sync", "s", None),
    ("reflector", "hwm_mib", "watching process peak RSS", "MiB", None),
    ("reflector", "watch_events_per_s", "watch events/s applied (wall)", "/s", None),
    ("reflector", "watch_cpu_us_per_event", "watch CPU per event", "us", None),
    ("reflector", "raw_cpu_us_per_event", "  floor: reading and splitting lines", "us", None),
    ("state_metrics", "calibration_loop_s", "state-metrics run: calibration loop at start", "s", None),
    ("state_metrics", "calibration_loop_end_s", "  and at the end", "s", None),
    ("state_metrics", "initial_sync_s", "state-metrics initial sync", "s", ("<=", 7.0)),
    ("state_metrics", "steady_rss_mib", "state-metrics steady RSS", "MiB", ("<=", 120.0)),
    ("state_metrics", "peak_over_steady", "state-metrics peak / steady RSS", "x", ("<=", 1.5)),
    ("state_metrics", "scrape_gzip_p50_s", "scrape p50, gzip", "s", ("<=", 0.3)),
    ("state_metrics", "scrape_plain_p50_s", "scrape p50, plain", "s", ("<=", 0.4)),
    ("state_metrics", "floor_send_plain_s", "  floor: sending the same bytes", "s", None),
    ("state_metrics", "updates_per_s", "updates/s with scrapes running", "/s", (">=", 20_000.0)),
    ("state_metrics", "body_bytes", "scrape body", "B", None),
    ("resource_metrics", "calibration_loop_s", "resource-metrics run: calibration loop at start", "s", None),
    ("resource_metrics", "calibration_loop_end_s", "  and at the end", "s", None),
    ("resource_metrics", "live.cycle_p50_s", "resource-metrics cycle p50", "s", ("<=", 5.0)),
    ("resource_metrics", "live.nodes_scraped_min", "nodes scraped per cycle (min)", "", None),
    ("resource_metrics", "live.cpu_cores_avg", "resource-metrics CPU", "cores", ("<=", 0.09)),
    ("resource_metrics", "live.cpu_s_per_cycle", "resource-metrics CPU per cycle", "s", None),
    ("resource_metrics", "live.rss_per_node_mib", "resource-metrics RSS per node", "MiB", ("<=", 0.25)),
    (
        "resource_metrics",
        "live.live_list_first_p50_s",
        "list all pods' metrics p50, first after a cycle",
        "s",
        ("<=", 0.2),
    ),
    (
        "resource_metrics",
        "live.live_list_cached_p50_s",
        "list all pods' metrics p50, cached",
        "s",
        ("<=", 0.2),
    ),
    ("resource_metrics", "offline.parse_lines_per_s", "kubelet parse lines/s", "/s", None),
    ("churn", "engine_ceiling_writes_per_s", "churn engine ceiling, in-process", "/s", None),
    ("churn", "sim_events_per_s", "churn at 1,000/s, events watched", "/s", (">=", 950.0)),
    ("churn", "sim_cpu_share", "  simulator CPU meanwhile", "cores", None),
]


def log(msg: str) -> None:
    print(f"[all] {msg}", file=sys.stderr, flush=True)


def machine() -> dict[str, Any]:
    mem = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem = int(line.split()[1]) * 1024
    cpu = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "mem_gib": round(mem / 2**30, 1),
        "python": platform.python_version(),
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "loadavg_at_start": os.getloadavg(),
    }


def lookup(figures: dict[str, Any], path: str) -> Any:
    v: Any = figures
    for part in path.split("."):
        if not isinstance(v, dict) or part not in v:
            return None
        v = v[part]
    return v


def fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:,.3f}"
    if isinstance(v, int):
        return f"{v:,}"
    return "-" if v is None else str(v)


def verdict(v: Any, target: tuple[str, float] | None, size: str) -> str:
    if target is None or not isinstance(v, int | float) or size != "1000x30":
        return ""
    op, t = target
    ok = v <= t if op == "<=" else v >= t
    return f"{'met' if ok else 'MISSED'} ({op} {t:g})"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1000x30,5000x30", help="NODESxPODS_PER_NODE, comma-separated")
    ap.add_argument("--only", default=",".join(BENCHMARKS), help="benchmarks to run, comma-separated")
    ap.add_argument("--json", help="write every figure to this file")
    ap.add_argument(
        "--summary", metavar="JSON", help="print the summary of an earlier --json file, run nothing"
    )
    args = ap.parse_args()
    if args.summary:
        try:
            earlier = json.loads(Path(args.summary).read_text())
            keys = [k.split(" ", 1) for k in earlier["runs"]]
            # sizes in the order they ran, benchmarks in this script's order
            sizes_run = list(dict.fromkeys(size for _, size in keys))
            ran = [n for n in BENCHMARKS if any(n == b for b, _ in keys)]
            summarize(earlier, sizes_run, ran)
        except (OSError, ValueError, LookupError, TypeError, AttributeError) as e:
            ap.error(f"--summary {args.summary}: not a file that all.py --json wrote ({e!r})")
        return 0
    sizes = [tuple(int(x) for x in s.lower().split("x")) for s in args.sizes.split(",") if s]
    names = [n for n in args.only.split(",") if n]
    for n in names:
        if n not in BENCHMARKS:
            ap.error(f"--only: unknown benchmark {n!r}; choose from {', '.join(BENCHMARKS)}")
    result: dict[str, Any] = {"machine": machine(), "runs": {}}
    log(f"machine: {result['machine']}")
    with tempfile.TemporaryDirectory(prefix="kubescope-bench-") as tmp:
        for nodes, ppn in sizes:
            for name in names:
                key = f"{name} {nodes}x{ppn}"
                out = Path(tmp) / f"{name}-{nodes}x{ppn}.json"
                cmd = [
                    sys.executable,
                    str(HERE / f"{name}.py"),
                    f"--nodes={nodes}",
                    f"--pods-per-node={ppn}",
                    f"--json={out}",
                ]
                log(f"running {' '.join(cmd[1:])}")
                t0 = time.monotonic()
                rc = subprocess.run(cmd).returncode
                took = time.monotonic() - t0
                figures = json.loads(out.read_text()) if out.exists() else {}
                if name == "reflector" and figures.get("watch_events"):
                    n = figures["watch_events"]
                    figures["watch_events_per_s"] = n / figures["watch_wall_s"]
                    figures["watch_cpu_us_per_event"] = 1e6 * figures["watch_cpu_s"] / n
                    figures["raw_cpu_us_per_event"] = (
                        1e6 * figures["raw_cpu_s"] / max(1, figures["raw_lines"])
                    )
                result["runs"][key] = {"rc": rc, "seconds": round(took, 1), "figures": figures}
                log(f"{key}: exit {rc} after {took:.0f}s")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    summarize(result, [f"{n}x{p}" for n, p in sizes], names)
    failed = [k for k, r in result["runs"].items() if r["rc"] != 0]
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


def summarize(result: dict[str, Any], size_keys: list[str], names: list[str]) -> None:
    """The headline figures of each run beside the targets."""
    print()
    print(
        f"summary ({result['machine']['cpus']} cpu, {result['machine']['mem_gib']} GiB, python {result['machine']['python']})"
    )
    print(f"{'figure':40} " + " ".join(f"{k:>16}" for k in size_keys) + "  target at 1000x30")
    for bench, path, label, unit, target in HEADLINES:
        if bench not in names:
            continue
        vals = [lookup(result["runs"].get(f"{bench} {k}", {}).get("figures", {}), path) for k in size_keys]
        verdicts = [verdict(v, target, k) for v, k in zip(vals, size_keys, strict=True)]
        print(
            f"{label + (f' ({unit})' if unit else ''):40} "
            + " ".join(f"{fmt(v):>16}" for v in vals)
            + "  "
            + " ".join(x for x in verdicts if x)
        )


if __name__ == "__main__":
    raise SystemExit(main())
