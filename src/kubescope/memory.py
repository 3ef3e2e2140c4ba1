"""Give freed heap memory back to the operating system.

A long-running server that renders and compresses hundreds of MB of text keeps, after the work is
done, free memory inside glibc's heap: freed chunks below the top of the heap are not returned by
``free``. ``malloc_trim(0)`` releases every free page of every arena (``MADV_DONTNEED``), which at
1,000 nodes x 30 pods brings the state-metrics exporter from ~180 to ~155 MiB RSS after its initial
sync. It walks the heap, so it costs milliseconds: :class:`Trimmer` calls it only after enough
churn and not more often than ``min_interval``. Outside glibc (musl, macOS) it does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import time
from collections.abc import Callable

logger = logging.getLogger(__name__)


def _load_libc_fn(name: str, *argtypes: type) -> Callable[..., int] | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        fn = getattr(libc, name)
    except (OSError, AttributeError):
        return None
    fn.argtypes = list(argtypes)
    fn.restype = ctypes.c_int
    return fn  # type: ignore[no-any-return]


_malloc_trim = _load_libc_fn("malloc_trim", ctypes.c_size_t)
_mallopt = _load_libc_fn("mallopt", ctypes.c_int, ctypes.c_int)
_M_MMAP_THRESHOLD = -3

MMAP_THRESHOLD = 256 << 10


def fix_mmap_threshold(nbytes: int = MMAP_THRESHOLD) -> bool:
    """Serve every allocation of ``nbytes`` or more by its own ``mmap`` (given back on ``free``).

    glibc starts at 128 KiB but raises the threshold to the size of each large block freed (up to
    32 MiB), after which multi-MB buffers (list pages, inflated scrape batches) come from the heaps,
    thread arenas included, where the small objects allocated between them pin their pages. A
    fixed threshold keeps large buffers out of the heaps: at 1,000 nodes x 30 pods the
    state-metrics exporter stays at ~138 MiB after plain scrapes instead of 150-158 MiB, for
    about 0.1 ms of page faults per MiB allocated. True if the C library took it (glibc).
    """
    if _mallopt is None:
        return False
    return bool(_mallopt(_M_MMAP_THRESHOLD, nbytes))


def release_free_memory() -> bool:
    """Return free heap pages to the OS; True if the C library could (glibc)."""
    if _malloc_trim is None:
        return False
    _malloc_trim(0)
    return True


class Trimmer:
    """Calls :func:`release_free_memory` once ``threshold`` bytes were churned, at most every
    ``min_interval`` seconds (``note`` is cheap; call it with the bytes a piece of work freed),
    and when the work stops (``idle``) with anything churned since the last trim."""

    def __init__(self, threshold: int = 64 << 20, min_interval: float = 10.0) -> None:
        self.threshold = threshold
        self.min_interval = min_interval
        self.churned = 0
        self.trims = 0
        self._last = float("-inf")  # the first trim is never rate-limited (monotonic may start near 0)

    def note(self, nbytes: int) -> None:
        self.churned += nbytes
        if self.churned >= self.threshold and time.monotonic() - self._last >= self.min_interval:
            self._trim()

    def idle(self) -> None:
        if self.churned:
            self._trim()

    def _trim(self) -> None:
        self._last = time.monotonic()
        self.churned = 0
        if release_free_memory():
            self.trims += 1
