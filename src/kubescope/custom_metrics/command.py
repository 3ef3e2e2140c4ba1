"""``kubescope custom-metrics``: flags -> settings -> a running :class:`CustomMetricsServer`.

Exit codes: 0 after a signal; 1 when the Kubernetes API, Prometheus' credentials or the serving
set-up fail at start-up; 2 for invalid flags or configuration (one line naming the flag, or the file,
line, rule and field, and the fix).
"""

from __future__ import annotations

import argparse
import sys

from kubescope.apiserver import options as apiserver_options
from kubescope.custom_metrics import settings as adapter_settings
from kubescope.custom_metrics.app import CustomMetricsServer, Rules, Settings, compile_rules
from kubescope.custom_metrics.config import load_config
from kubescope.custom_metrics.defaults import default_config, default_config_yaml
from kubescope.errors import BindError, ConfigError, KubeError
from kubescope.kube.client import KubeClient
from kubescope.kube.config import KubeSettings, add_kube_flags
from kubescope.web import run as run_loop

NAME = "kubescope custom-metrics"


def configure(p: argparse.ArgumentParser) -> None:
    p.description = (
        "Serve custom.metrics.k8s.io (v1beta1, v1beta2) and external.metrics.k8s.io (v1beta1), and with "
        "--resource-metrics metrics.k8s.io, from Prometheus, as an aggregated API server: a drop-in for "
        "prometheus-adapter (its configuration file and flags are accepted unchanged)."
    )
    adapter_settings.configure(p)
    k = p.add_argument_group("kubernetes")
    add_kube_flags(k)
    apiserver_options.add_flags(p, secure_port=443, cert_dir="apiserver.local.config/certificates")


def from_args(args: argparse.Namespace) -> Settings:
    return Settings(
        adapter=adapter_settings.from_args(args),
        apiserver=apiserver_options.from_args(args),
        kube=KubeSettings.from_args(args),
    )


def run(args: argparse.Namespace) -> int:
    if args.print_default_config:
        sys.stdout.write(default_config_yaml())
        return 0
    try:
        settings = from_args(args)
        cfg = load_config(settings.adapter.config_file) if settings.adapter.config_file else default_config()
        rules = compile_rules(cfg)
    except ConfigError as e:
        print(f"{NAME}: {e}", file=sys.stderr)
        return 2
    return run_loop(_main(settings, rules))


async def _main(settings: Settings, rules: Rules) -> int:
    try:
        client = await KubeClient.connect(settings.kube)
    except (ConfigError, KubeError) as e:
        print(f"{NAME}: cannot reach the Kubernetes API: {e}", file=sys.stderr)
        return 1
    app = CustomMetricsServer(settings, rules, client)
    try:
        try:
            server = await app.start()
        except BindError as e:
            print(f"{NAME}: {e}", file=sys.stderr)
            await app.close()
            return 2
        except (ConfigError, KubeError, OSError) as e:
            print(f"{NAME}: {e}", file=sys.stderr)
            await app.close()
            return 1
        return await server.serve()
    finally:
        await client.close()
