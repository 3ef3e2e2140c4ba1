"""Seeded names and identities for objects made at run time (by the control plane and churn).

One :class:`Names` per component, each from its own seed, so that a component's draws do not
shift another's: the same seed and the same sequence of events make the same names. Faster than
the scenario generator's draws (``getrandbits`` instead of a ``choice`` per character), which
matters at thousands of writes per second; the generator keeps its own, since they define what a
seed generates.
"""

from __future__ import annotations

import random

SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
"""The alphabet of generated name suffixes (apimachinery's ``utilrand``: no vowels, no look-alikes)."""


class Names:
    """Suffixes, hex ids, version-4 uids, pod IPs and container IDs from one seeded stream."""

    def __init__(self, seed: object) -> None:
        self.rng = random.Random(str(seed))
        self._ip = 0

    def suffix(self, n: int = 5) -> str:
        r = self.rng.random
        return "".join(SUFFIX_ALPHABET[int(r() * len(SUFFIX_ALPHABET))] for _ in range(n))

    def hex(self, n: int) -> str:
        return f"{self.rng.getrandbits(4 * n):0{n}x}"

    def uid(self) -> str:
        h = self.hex(32)
        # a version-4 UUID, as kube-apiserver's: the version and variant nibbles fixed
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:32]}"

    def container_id(self) -> str:
        return f"containerd://{self.hex(64)}"

    def image_id(self, image: str) -> str:
        return f"{image.rsplit(':', 1)[0]}@sha256:{self.hex(64)}"

    def pod_ip(self) -> str:
        """The next pod IP of 10.128.0.0/10, a range the scenario's pods (10.64.0.0/10) do not use."""
        self._ip += 1
        s = self._ip
        return f"10.{128 + (s >> 16) % 64}.{(s >> 8) & 255}.{s & 255}"
