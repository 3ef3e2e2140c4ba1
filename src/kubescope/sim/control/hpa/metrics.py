"""The HPA controller's metrics client: the resource, custom and external metrics APIs read over
HTTP through the simulator's own API server and its aggregation layer, the requests
kube-controller-manager's REST metrics client makes (``pkg/controller/podautoscaler/metrics``):

=========  ===========================================================================================
Resource   ``GET /apis/metrics.k8s.io/v1beta1/namespaces/NS/pods?labelSelector=S``: per pod, the sum
           of its containers' usage (one container's for ContainerResource); a pod with a container
           lacking the resource has no metric
Pods       ``GET /apis/custom.metrics.k8s.io/v1beta2/namespaces/NS/pods/%2A/M?labelSelector=S&
           metricLabelSelector=L`` (v1beta1 when v1beta2 is not served): per pod, its value
Object     ``.../namespaces/NS/RESOURCE/NAME/M`` (``.../namespaces/NS/metrics/M`` for a Namespace):
           one value
External   ``GET /apis/external.metrics.k8s.io/v1beta1/namespaces/NS/M?labelSelector=L``: the values
=========  ===========================================================================================

Values are milli-units. An empty answer is an error, as in kube ("no metrics returned from ...");
so is an API that is not served, with the API server's message.
"""

from __future__ import annotations

import json
import ssl
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlencode

import aiohttp
from yarl import URL

from kubescope.model.quantity import QuantityError, parse
from kubescope.model.timefmt import parse_time
from kubescope.sim.control.hpa.calc import PodMetric

Obj = dict[str, Any]
TIMEOUT = 10.0


class MetricsError(Exception):
    """A metric could not be read (the message is what the HPA reports)."""


def selector_string(sel: Obj | None) -> str:
    """A LabelSelector as ``labels.Selector.String()`` writes it: requirements by key, values sorted."""
    if not sel:
        return ""
    reqs: list[tuple[str, str]] = [(k, f"{k}={v}") for k, v in (sel.get("matchLabels") or {}).items()]
    for e in sel.get("matchExpressions") or ():
        key, op, values = e.get("key", ""), e.get("operator", ""), sorted(e.get("values") or ())
        text = {
            "In": f"{key} in ({','.join(values)})",
            "NotIn": f"{key} notin ({','.join(values)})",
            "Exists": key,
            "DoesNotExist": f"!{key}",
        }.get(op)
        if text is None:
            raise MetricsError(f"{op!r} is not a valid label selector operator")
        reqs.append((key, text))
    return ",".join(t for _, t in sorted(reqs))


def _milli(q: object) -> int:
    try:
        return parse(str(q)).milli_value()
    except QuantityError as e:
        raise MetricsError(f"invalid quantity {q!r}: {e}") from e


def _time(s: object) -> float:
    try:
        return parse_time(str(s))
    except (TypeError, ValueError):
        return 0.0


class MetricsClient:
    def __init__(self, url: str, token: str, ca_pem: bytes | None = None, timeout: float = TIMEOUT) -> None:
        self.url = url.rstrip("/")
        self.headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        self.ssl: ssl.SSLContext | bool = False
        if ca_pem and self.url.startswith("https"):
            self.ssl = ssl.create_default_context(cadata=ca_pem.decode())
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None
        self._custom_version: str | None = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _get(self, path: str, params: Mapping[str, str] | None = None) -> Obj:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self.timeout)
        # the path as client-go escapes it (``*`` as ``%2A``), the query as Go's url.Values encodes it
        query = urlencode({k: v for k, v in (params or {}).items() if v})
        url = URL(self.url + path + (f"?{query}" if query else ""), encoded=True)
        try:
            async with self._session.get(url, headers=self.headers, ssl=self.ssl) as r:
                body = await r.read()
                status = r.status
        except (aiohttp.ClientError, TimeoutError) as e:
            raise MetricsError(f"the request to the API server failed: {type(e).__name__}: {e}") from e
        try:
            doc = json.loads(body) if body else {}
        except ValueError:
            doc = {}
        if status >= 400:
            message = doc.get("message") if isinstance(doc, dict) else None
            raise MetricsError(str(message or f"the server answered {status}"))
        if not isinstance(doc, dict):
            raise MetricsError("the server's answer is not a JSON object")
        return doc

    async def resource(
        self, ns: str, selector: str, resource: str, container: str = ""
    ) -> tuple[dict[str, PodMetric], float]:
        try:
            doc = await self._get(
                f"/apis/metrics.k8s.io/v1beta1/namespaces/{ns}/pods", {"labelSelector": selector}
            )
        except MetricsError as e:
            raise MetricsError(f"unable to fetch metrics from resource metrics API: {e}") from e
        items = doc.get("items") or []
        if not items:
            raise MetricsError("no metrics returned from resource metrics API")
        out: dict[str, PodMetric] = {}
        for m in items:
            meta = m.get("metadata") or {}
            containers = m.get("containers") or []
            if container:
                # getContainerMetrics: the one container's usage; a pod without it is an error
                c = next((c for c in containers if c.get("name") == container), None)
                if c is None:
                    raise MetricsError(
                        f"failed to get container metrics: container {container} not present in "
                        f"metrics for pod {meta.get('namespace', '')}/{meta.get('name', '')}"
                    )
                usage = (c.get("usage") or {}).get(resource)
                if usage is not None:
                    out[meta["name"]] = PodMetric(
                        _milli(usage), _time(m.get("timestamp")), _window(m.get("window"))
                    )
                continue
            # getPodMetrics: the sum over containers; a container without the resource: no metric
            total, missing = 0, not containers
            for c in containers:
                usage = (c.get("usage") or {}).get(resource)
                if usage is None:
                    missing = True
                    break
                total += _milli(usage)
            if not missing:
                out[meta["name"]] = PodMetric(total, _time(m.get("timestamp")), _window(m.get("window")))
        return out, _time(items[0].get("timestamp"))

    async def _custom(self, path: str, params: Mapping[str, str]) -> list[Obj]:
        versions = [self._custom_version] if self._custom_version else ["v1beta2", "v1beta1"]
        last: MetricsError | None = None
        for version in versions:
            try:
                doc = await self._get(f"/apis/custom.metrics.k8s.io/{version}{path}", params)
            except MetricsError as e:
                last = e
                continue
            self._custom_version = version
            return list(doc.get("items") or [])
        assert last is not None
        raise MetricsError(f"unable to fetch metrics from custom metrics API: {last}")

    async def pods(
        self, ns: str, selector: str, metric: str, metric_selector: str
    ) -> tuple[dict[str, PodMetric], float]:
        items = await self._custom(
            f"/namespaces/{ns}/pods/%2A/{quote(metric, safe='')}",
            {"labelSelector": selector, "metricLabelSelector": metric_selector},
        )
        if not items:
            raise MetricsError("no metrics returned from custom metrics API")
        out = {
            m["describedObject"]["name"]: PodMetric(
                _milli(m.get("value")), _time(m.get("timestamp")), _custom_window(m)
            )
            for m in items
        }
        return out, _time(items[0].get("timestamp"))

    async def object(
        self, ns: str, resource: str, name: str, metric: str, metric_selector: str
    ) -> tuple[int, float]:
        where = (
            f"/namespaces/{ns}/metrics" if resource == "namespaces" else f"/namespaces/{ns}/{resource}/{name}"
        )
        items = await self._custom(
            f"{where}/{quote(metric, safe='')}", {"metricLabelSelector": metric_selector}
        )
        if len(items) != 1:
            raise MetricsError(f"expected exactly one metric value, got {len(items)}")
        return _milli(items[0].get("value")), _time(items[0].get("timestamp"))

    async def external(self, ns: str, metric: str, selector: str) -> tuple[list[int], float]:
        try:
            doc = await self._get(
                f"/apis/external.metrics.k8s.io/v1beta1/namespaces/{ns}/{quote(metric, safe='')}",
                {"labelSelector": selector},
            )
        except MetricsError as e:
            raise MetricsError(f"unable to fetch metrics from external metrics API: {e}") from e
        items = doc.get("items") or []
        if not items:
            raise MetricsError("no metrics returned from external metrics API")
        return [_milli(m.get("value")) for m in items], _time(items[0].get("timestamp"))


def _window(w: object) -> float:
    """A metrics.k8s.io window (a Go duration such as ``15s`` or ``1m0s``) in seconds."""
    text, total, number = str(w or ""), 0.0, ""
    units = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
    i = 0
    while i < len(text):
        ch = text[i]
        if ch.isdigit() or ch == ".":
            number += ch
            i += 1
            continue
        unit = "ms" if text.startswith("ms", i) else ch
        total += float(number or 0) * units.get(unit, 0.0)
        number = ""
        i += len(unit)
    return total or 60.0


def _custom_window(m: Obj) -> float:
    w = m.get("windowSeconds", m.get("window"))
    return float(w) if isinstance(w, int | float) else 60.0
