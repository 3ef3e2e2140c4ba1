"""Custom Resource State at run time: the configuration file, CRD discovery, the resources to watch.

kube-state-metrics (``internal/discovery``) watches ``apiextensions.k8s.io/v1``
CustomResourceDefinitions, and every ``Interval`` (3 s) that the set of served kinds changed it
resolves the configured group/version/kind (wildcards included) against them and rebuilds its
custom-resource stores. This does the same with our reflector, and hands the resulting
:class:`~kubescope.state.crs.CustomResourceSpec`\\ s to the exporter, which keeps the stores whose
resource and configuration did not change (KSM restarts them all).

The configuration comes from ``--custom-resource-state-config`` (inline, wins) or
``--custom-resource-state-config-file``; the file is polled and applied again when it changes (KSM
restarts the whole process for that). A broken file at start-up stops start-up with the parser's
message; later, it is logged and the running configuration is kept.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kubescope.errors import ConfigError
from kubescope.kube.client import KubeClient
from kubescope.kube.reflector import Reflector
from kubescope.log import fields
from kubescope.state.selfmetrics import ConfigState
from kubescope.state.settings import StateSettings
from kubescope.web.supervisor import Task

if TYPE_CHECKING:
    from kubescope.state.crs import CRSConfig, CustomResourceSpec, Unstructured

# kubescope.state.crs (and PyYAML with it) is imported only once Custom Resource State is
# configured: most exporters run without it, and its modules, YAML's and the family code they pull
# in kept ~2 MiB of RSS for the process's life (measured at 1,000 x 30: docs/benchmarks.md).

logger = logging.getLogger(__name__)

DISCOVERY_INTERVAL = 3.0
"""Seconds between checks for CRD changes (KSM's ``discovery.Interval``)."""
CONFIG_POLL_SECONDS = 2.0
CRD_API_PATH = "/apis/apiextensions.k8s.io/v1"
CRD_RESOURCE = "customresourcedefinitions"


def config_source(s: StateSettings) -> tuple[str, str]:
    """(kind, where): ``("inline", "")``, ``("file", path)`` or ``("", "")`` when none is set."""
    if s.custom_resource_state_config:
        return "inline", ""
    if s.custom_resource_state_config_file:
        return "file", s.custom_resource_state_config_file
    return "", ""


def read_config_file(path: str) -> bytes | None:
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        return None
    except OSError as e:
        raise ConfigError(
            f"--custom-resource-state-config-file={path}: cannot read the file: {e.strerror}"
        ) from e


def load_config(s: StateSettings) -> tuple[CRSConfig | None, bytes | None]:
    """The CRS configuration the settings name, parsed, and the file's bytes (for reload checks).

    Raises :class:`ConfigError` naming the flag or file and the field at fault. A missing file is
    an error unless ``--continue-without-custom-resource-state-config-file`` is set (then: no
    configuration until the file appears).
    """
    kind, path = config_source(s)
    if not kind:
        return None, None
    from kubescope.state.crs import parse_config

    if kind == "inline":
        cfg = parse_config(s.custom_resource_state_config, "--custom-resource-state-config")
        return cfg, None
    if kind == "file":
        data = read_config_file(path)
        if data is None:
            if s.continue_without_custom_resource_state_config_file:
                logger.warning(
                    "custom resource state config file not found; continuing without it until it appears",
                    extra=fields(file=path),
                )
                return None, None
            raise ConfigError(
                f"--custom-resource-state-config-file={path}: file not found; create it or pass "
                "--continue-without-custom-resource-state-config-file to start without it"
            )
        return parse_config(data.decode(errors="replace"), path), data
    return None, None


def log_warnings(cfg: CRSConfig) -> None:
    for w in cfg.warnings:
        logger.warning("custom resource state config", extra=fields(warning=w))


class _CRDs:
    """Reflector sink keeping the CRDs, counting add/update/delete as KSM's informer handlers do."""

    def __init__(self, on_change: Callable[[], None]) -> None:
        self.objects: dict[str, Unstructured] = {}
        self.events = {"add": 0, "update": 0, "delete": 0}
        self._listed: set[str] | None = None
        self._on_change = on_change

    def replace_begin(self) -> None:
        self._listed = set()

    def upsert(self, obj: Unstructured) -> None:
        uid = obj.metadata.uid
        if self._listed is not None:
            self._listed.add(uid)
        old = self.objects.get(uid)
        self.objects[uid] = obj
        if old is None:
            self.events["add"] += 1
        elif old.metadata.resource_version != obj.metadata.resource_version:
            self.events["update"] += 1
        else:
            return
        self._on_change()

    def delete(self, obj: Unstructured) -> None:
        if self.objects.pop(obj.metadata.uid, None) is not None:
            self.events["delete"] += 1
            self._on_change()

    def replace_end(self) -> None:
        listed, self._listed = self._listed, None
        if listed is None:
            return
        for uid in [u for u in self.objects if u not in listed]:
            del self.objects[uid]
            self.events["delete"] += 1
            self._on_change()


class CustomResources:
    """Watches CRDs and keeps the exporter's custom resources in line with them and the config.

    ``apply(specs)`` is the exporter's hook: it receives every resource to watch now, by name.
    """

    def __init__(
        self,
        client: KubeClient,
        settings: StateSettings,
        apply: Callable[[dict[str, CustomResourceSpec]], Any],
        *,
        config: CRSConfig | None = None,
        config_bytes: bytes | None = None,
        on_object_error: Callable[[str, str, int], None] | None = None,
    ) -> None:
        self.client = client
        self.settings = settings
        self.config = config
        self.apply = apply
        self.crds = _CRDs(self._changed)
        self.specs: dict[str, CustomResourceSpec] = {}
        self.state: ConfigState | None = None
        kind, path = config_source(settings)
        if kind == "file":
            self.state = ConfigState("customresourceconfig", path)
            if config_bytes is not None:
                self.state.loaded(config_bytes)
        self._config_bytes = config_bytes
        self._on_object_error = on_object_error
        self._dirty = asyncio.Event()
        self._reflector: Reflector[Any] | None = None

    @property
    def reflector(self) -> Reflector[Any]:
        """The CRD watch, made on first use (its item type is Custom Resource State's)."""
        if self._reflector is None:
            from kubescope.state.crs import Unstructured, unstructured_dec_hook

            self._reflector = Reflector(
                self.client,
                api_path=CRD_API_PATH,
                resource=CRD_RESOURCE,
                item_type=Unstructured,
                dec_hook=unstructured_dec_hook,
                sink=self.crds,
                name=CRD_RESOURCE,
            )
        return self._reflector

    @property
    def enabled(self) -> bool:
        return bool(config_source(self.settings)[0])

    def synced(self) -> bool:
        """CRDs listed (custom resources can only be known after that)."""
        return not self.enabled or self.reflector.synced.is_set()

    def cache_size(self) -> int:
        return len(self.crds.objects)

    def _changed(self) -> None:
        self._dirty.set()

    def tasks(self) -> list[Task]:
        """The background work to supervise: the CRD watch, resolving custom resources from it, and
        following the configuration file (none when Custom Resource State is off)."""
        if not self.enabled:
            return []
        out = [
            Task("reflector/customresourcedefinitions", self.reflector.run),
            Task("crs-discovery", self._discovery_loop),
        ]
        if config_source(self.settings)[0] == "file":
            out.append(Task("crs-config-watch", self._watch_file))
        return out

    async def _discovery_loop(self) -> None:
        await self.reflector.synced.wait()
        self._dirty.set()  # resolve once after the first list, even with no CRDs
        while True:
            await self._dirty.wait()
            self._dirty.clear()
            await self._resolve()
            await asyncio.sleep(DISCOVERY_INTERVAL)

    async def _resolve(self) -> None:
        specs: dict[str, CustomResourceSpec] = {}
        if self.config is not None:
            from kubescope.state.crs import specs_for

            try:
                for spec in specs_for(self.config, self.crds.objects.values(), self._object_error):
                    specs[spec.name] = spec
            except ConfigError as e:
                logger.error("custom resource state: cannot build metrics", extra=fields(error=str(e)))
                return
        if specs.keys() != self.specs.keys():
            logger.info(
                "custom resources resolved",
                extra=fields(resources=",".join(sorted(specs)) or "-", crds=len(self.crds.objects)),
            )
        for cfg in self._unresolved(specs.values()):
            logger.info(
                "configured custom resource not served by any CRD yet; no metrics until one is installed",
                extra=fields(gvk=cfg),
            )
        self.specs = specs
        result = self.apply(specs)
        if asyncio.iscoroutine(result):
            await result

    def _unresolved(self, specs: Iterable[CustomResourceSpec]) -> list[str]:
        if self.config is None:
            return []
        have = {(s.group, s.version, s.kind) for s in specs}
        out = []
        for r in self.config.resources:
            g, v, k = r.gvk.group, r.gvk.version, r.gvk.kind
            if not any(
                hg == g and (v in ("", "*") or hv == v) and (k in ("", "*") or hk == k) for hg, hv, hk in have
            ):
                out.append(str(r.gvk))
        return out

    def _object_error(self, family: str, message: str, verbosity: int) -> None:
        if self._on_object_error is not None:
            self._on_object_error(family, message, verbosity)

    async def _watch_file(self) -> None:
        path = self.settings.custom_resource_state_config_file
        while True:
            await asyncio.sleep(CONFIG_POLL_SECONDS)
            try:
                data = read_config_file(path)
            except ConfigError as e:
                logger.warning("custom resource state config unreadable", extra=fields(error=str(e)))
                continue
            if data is None or data == self._config_bytes:
                continue
            self._config_bytes = data
            from kubescope.state.crs import parse_config

            try:
                cfg = parse_config(data.decode(errors="replace"), path)
            except ConfigError as e:
                logger.error(
                    "custom resource state config rejected, keeping the running one",
                    extra=fields(error=str(e)),
                )
                if self.state is not None:
                    self.state.failed()
                continue
            log_warnings(cfg)
            self.config = cfg
            if self.state is not None:
                self.state.loaded(data)
            logger.warning(
                "custom resource state config applied", extra=fields(file=path, resources=len(cfg.resources))
            )
            await self._resolve()
