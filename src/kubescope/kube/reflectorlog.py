"""What a reflector says about itself: its log lines and the failures of single items.

Every line names the reflector's resource and namespace; a bad object or watch line and a sink that
fails on one object are counted in :class:`~kubescope.kube.sink.ReflectorStats` and logged
rate-limited (:func:`~kubescope.kube.events.should_log`), never with the object's content.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import msgspec

from kubescope.kube.events import object_head, should_log
from kubescope.kube.sink import ReflectorStats
from kubescope.log import fields

# one logger for every part of the reflector: operators filter and tune it by this name
logger = logging.getLogger("kubescope.kube.reflector")


class ReflectorLog:
    """One reflector's log fields and its per-item failure reports."""

    def __init__(self, stats: ReflectorStats, name: str, namespace: str) -> None:
        self.stats = stats
        self._fields = fields(resource=name, namespace=namespace or "*")

    def extra(self, **kv: Any) -> dict[str, Any]:
        """The ``extra`` of a log call: the reflector's fields and ``kv``."""
        return {"fields": {**self._fields["fields"], **kv}}

    def skipped_item(self, data: bytes | msgspec.Raw, error: Exception) -> None:
        self.decode_failed("object in list page skipped", data, error)

    def decode_failed(self, what: str, data: bytes | msgspec.Raw, error: Exception | None) -> None:
        self.stats.decode_errors += 1
        n = self.stats.decode_errors
        if not should_log(n):
            return
        head = object_head(data)
        kv: dict[str, Any] = {"decode_errors": n}
        if head is not None and head.metadata.name:
            kv.update(
                name=head.metadata.name, object_namespace=head.metadata.namespace, uid=head.metadata.uid
            )
        if error is not None:
            kv["error"] = str(error)
        # never the content: a Secret's data would end up in the log
        kv["bytes"] = len(data)
        logger.warning(what, extra=self.extra(**kv))

    def oversized(self, size: int, max_line_size: int) -> None:
        self.stats.decode_errors += 1
        if should_log(self.stats.decode_errors):
            logger.warning(
                "watch line longer than max_line_size skipped",
                extra=self.extra(bytes=size, max_line_size=max_line_size),
            )

    def sink_failed(self, op: str, obj: Any, error: Exception) -> None:
        self.stats.sink_errors += 1
        if should_log(self.stats.sink_errors):
            meta = getattr(obj, "metadata", None)
            logger.error(
                "sink failed on an object, skipped",
                exc_info=error,
                extra=self.extra(op=op, name=getattr(meta, "name", ""), uid=getattr(meta, "uid", "")),
            )

    def sink_call(self, fn: Callable[[], None]) -> None:
        try:
            fn()
        except Exception as e:
            self.stats.sink_errors += 1
            logger.error("sink failed", exc_info=e, extra=self.extra(op=getattr(fn, "__name__", "?")))
