"""``kubescope resource-metrics`` settings: metrics-server's flags, parsed and validated once.

Flag names, defaults and validation are metrics-server's (``cmd/metrics-server/app/options``) and
k8s.io/apiserver's generic serving/authentication/authorization options, with these choices:

* ``--metric-resolution`` defaults to 15s, the value metrics-server's manifests and Helm chart pass
  (its code default is 60s). Below 10s is refused, as metrics-server refuses it, unless
  ``--testing-allow-short-metric-resolution`` is set: tests and demos may then use e.g. 2s (a warning
  is logged; kubelet stats only change every 10-15 s, so a shorter period adds load, not freshness).
* ours: ``--kubelet-request-via-apiserver`` (scrape through the API server's node proxy),
  ``--kubelet-max-concurrent-requests`` (metrics-server opens one goroutine per node at once),
  ``--kubelet-max-response-bytes`` (cap per response), ``--anonymous-auth`` (k8s.io/apiserver's
  delegated authentication admits anonymous requests; set false to answer 401 instead).

Every invalid value raises :class:`~kubescope.errors.ConfigError` naming the flag and the fix.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from kubescope.apiserver import options as apiserver_options
from kubescope.apiserver.options import APIServerOptions, AuthOptions, ServingOptions
from kubescope.errors import ConfigError
from kubescope.kube.config import KubeSettings, add_kube_flags
from kubescope.kubelet import settings as kubelet_settings
from kubescope.kubelet.settings import KubeletSettings, parse_duration

__all__ = ["KubeletSettings", "Settings", "configure", "from_args", "parse_duration"]


@dataclass(frozen=True)
class Settings:
    """Everything ``kubescope resource-metrics`` runs with, built once from flags."""

    kube: KubeSettings
    """The connection to the API server (``--kubeconfig``, ``--apiserver``, ...)."""
    kubelet: KubeletSettings
    serving: ServingOptions
    """The generic apiserver's secure-serving flags (:mod:`kubescope.apiserver.options`)."""
    auth: AuthOptions
    """Delegated authentication and authorization flags (:mod:`kubescope.apiserver.options`)."""
    metric_resolution: float = 15.0
    """``--metric-resolution``: seconds between scrapes of every node; default 15, metrics-server's
    (at least 10 unless ``--testing-allow-short-metric-resolution``: kubelets compute CPU rates
    over their own 10 s windows)."""

    @property
    def resolution_ns(self) -> int:
        return round(self.metric_resolution * 1e9)


def configure(parser: argparse.ArgumentParser) -> None:
    """Add every flag (metrics-server's spelling) to ``parser``."""
    ms = parser.add_argument_group("metrics server")
    ms.add_argument(
        "--metric-resolution",
        default="15s",
        help="The resolution at which metrics are scraped and retained; at least 10s (default: %(default)s)",
    )
    ms.add_argument(
        "--testing-allow-short-metric-resolution",
        action="store_true",
        help="accept --metric-resolution below 10s (tests and demos; logs a warning)",
    )
    add_kube_flags(ms)

    kubelet_settings.add_flags(parser)

    apiserver_options.add_flags(parser, secure_port=443, cert_dir="apiserver.local.config/certificates")


def from_args(args: argparse.Namespace) -> Settings:
    """Build and validate the settings (metrics-server's ``Options.Validate``)."""
    errors: list[str] = []
    resolution = parse_duration(args.metric_resolution, "--metric-resolution")
    timeout = parse_duration(args.kubelet_request_timeout, "--kubelet-request-timeout")
    if resolution <= 0:
        errors.append(f"--metric-resolution={args.metric_resolution}: must be positive")
    elif resolution < 10 and not args.testing_allow_short_metric_resolution:
        errors.append(
            f"metric-resolution should be a time duration at least 10s, but value {args.metric_resolution} "
            "provided (tests may pass --testing-allow-short-metric-resolution)"
        )
    if resolution * 9 / 10 < timeout:
        errors.append(
            f"metric-resolution should be larger than kubelet-request-timeout, but metric-resolution value "
            f"{args.metric_resolution} kubelet-request-timeout value {args.kubelet_request_timeout} provided "
            "(the timeout must be at most 90% of the resolution)"
        )
    kubelet = kubelet_settings.from_args(args, errors)
    api: APIServerOptions | None = None
    try:
        api = apiserver_options.from_args(args)
    except ConfigError as e:
        errors.append(str(e))
    if errors or api is None:
        raise ConfigError("; ".join(errors))
    kube = KubeSettings.from_args(args)
    return Settings(
        kube=kube,
        kubelet=kubelet,
        serving=api.serving,
        auth=api.auth,
        metric_resolution=resolution,
    )
