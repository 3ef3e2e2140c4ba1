"""Doc command lines that the doc-test does not run, each with the reason it cannot run here.

Keyed by (doc path, command text exactly as written). Keep it small: a command that can run here
belongs in the test, and an entry whose command left the doc fails the test.
"""

from __future__ import annotations

ALLOWED: dict[tuple[str, str], str] = {
    ("docs/events.md", ".venv/bin/python benchmarks/events.py --json out.json"): (
        "minutes of benchmark (ingest runs into SQLite and a PostgreSQL it starts, an archive of 10 million "
        "events generated and queried), beyond the suite's time budget"
    ),
    (
        "README.md",
        "scripts/test     # the whole test suite (also installs Debian's prometheus for the integration tests)",
    ): ("the whole test suite, this test among it; CI runs exactly this command (.ci/run)"),
    ("README.md", "kubectl get hpa -n shop -w"): (
        "watches until interrupted; tests/custom_metrics/test_demo_autoscales_on_requests.py runs the demo "
        "and checks the same scaling (up with the load, back to one replica) with kubectl get hpa"
    ),
    ("README.md", "docker build -t registry.example.com/kubescope:0.1.0 ."): (
        "no Docker engine here; tests/deploy checks the Dockerfile's entrypoint and user and runs each "
        "manifest's args with the same entrypoint"
    ),
    (
        "README.md",
        "docker push registry.example.com/kubescope:0.1.0",
    ): "no Docker engine and no registry here",
    (
        "docs/benchmarks.md",
        ".venv/bin/python benchmarks/all.py --sizes 1000x30,5000x30 --json all.json   # ~20 min",
    ): ("about 20 minutes of benchmarks at 1,000 and 5,000 nodes: longer than the whole suite may take"),
    (
        "docs/benchmarks.md",
        ".venv/bin/python benchmarks/all.py --sizes 1000x30 --only state_metrics       # one of them",
    ): ("minutes of benchmark at 1,000 nodes x 30 pods, beyond the suite's time budget"),
    (
        "docs/simulate.md",
        ".venv/bin/python benchmarks/churn.py --nodes 1000 --pods-per-node 30 --rate 1000,2000,5000 --seconds 10",
    ): "minutes of benchmark at 1,000 nodes x 30 pods and three rates, beyond the suite's time budget",
    (
        "docs/custom-metrics.md",
        ".venv/bin/python benchmarks/custom_metrics.py --json out.json",
    ): (
        "minutes of benchmark (756 application pods scraped until Prometheus holds two samples of 15,876 "
        "series, then a minute at 150 requests/s), beyond the suite's time budget"
    ),
    (
        "docs/resource-metrics.md",
        ".venv/bin/python benchmarks/resource_metrics.py --nodes 1000 --pods-per-node 30 --json out.json",
    ): "minutes of benchmark at 1,000 nodes x 30 pods (four live 15 s cycles), beyond the suite's time budget",
    (
        "docs/resource-metrics.md",
        ".venv/bin/python benchmarks/resource_metrics.py --nodes 1000 --pods-per-node 30 --profile 60",
    ): "a minute of profiling at 1,000 nodes x 30 pods with py-spy, which the test set-up does not install",
    ("deploy/prometheus/README.md", "promtool check config deploy/prometheus/prometheus.yml"): (
        "Debian's promtool is built without Kubernetes service discovery (kubernetes_sd_configs); "
        "tests/integration/test_prometheus_examples.py checks the config with static targets in its place"
    ),
}
