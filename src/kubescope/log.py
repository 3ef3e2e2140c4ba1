"""Structured, quiet-by-default logging for every kubescope command.

Quiet means warnings and errors only, plus start-up progress on the ``kubescope.progress``
logger (initial sync, simulator loading), which ``--log-level error`` silences too.

One line per record, ``logfmt`` (default) or JSON: ``ts=... level=warning logger=kubescope.kube
msg="watch restarted" resource=pods rv=123``. Extra key/values come from ``extra={"fields": {...}}``
or :func:`fields`. Secrets never belong in fields; :func:`redact` masks bearer tokens in
free text that might contain them (such as a kubeconfig error).
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from typing import Any

_TOKEN = re.compile(r"(?i)(bearer\s+|token[\"'=: ]+)([A-Za-z0-9._\-]{6})[A-Za-z0-9._\-]*")


def redact(text: str) -> str:
    """Keep only the first characters of anything that looks like a bearer token."""
    return _TOKEN.sub(lambda m: m.group(1) + m.group(2) + "...", text)


def fields(**kv: Any) -> dict[str, Any]:
    """``logger.info("msg", extra=fields(resource="pods"))``."""
    return {"fields": kv}


def _quote(v: Any) -> str:
    s = str(v)
    if s == "" or any(c in s for c in ' "=\n\t'):
        return json.dumps(s)
    return s


class LogfmtFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        t = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        parts = [
            f"ts={t}.{int(record.msecs):03d}Z",
            f"level={record.levelname.lower()}",
            f"logger={record.name}",
            f"msg={_quote(redact(record.getMessage()))}",
        ]
        for k, v in getattr(record, "fields", {}).items():
            parts.append(f"{k}={_quote(v)}")
        if record.exc_info:
            parts.append(f"error={_quote(redact(self.formatException(record.exc_info)))}")
        return " ".join(parts)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        d: dict[str, Any] = {
            "ts": record.created,
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": redact(record.getMessage()),
        }
        d.update(getattr(record, "fields", {}))
        if record.exc_info:
            d["error"] = redact(self.formatException(record.exc_info))
        return json.dumps(d, default=str)


def setup(level: str = "warning", fmt: str = "logfmt") -> None:
    """Configure the root ``kubescope`` logger; idempotent."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else LogfmtFormatter())
    root = logging.getLogger("kubescope")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False
    # start-up progress (initial sync, simulator loading, benchmarks) shows unless asked for errors only
    progress = logging.getLogger("kubescope.progress")
    progress.setLevel(logging.ERROR if level.lower() == "error" else min(logging.INFO, root.level))
