#!/usr/bin/env python3
"""The state store's compressed text under each deflate codec and level, on the store's own text.

    .venv/bin/python benchmarks/state_codecs.py --nodes 1000 --pods-per-node 30 --json out.json

Builds every default resource's store in-process from the generated cluster (list pages through
``upsert_page`` and flushes, as an initial sync does), takes the text of each (block, family)
member, and compresses every member again with each codec: total compressed MiB, the CPU seconds
to compress them all and to inflate them all with ISA-L (what a plain scrape does). For block
sizes 128 (the default) and 256. Then what the store holds: with members written at ISA-L level 1
(a flush's), and once the flusher has made them dense (``Flusher`` idle after the sync).

Floors: the compressed size of the same members with every ``uid="..."`` value replaced by
``x`` (what no codec can remove: a uid's 16 random bytes, once per member it appears in), and
the count of (uid, member) pairs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import time
import zlib
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import deflate  # noqa: E402
from isal import isal_zlib  # noqa: E402

Codec = Callable[[bytes], bytes]


def zlib_gzip(level: int) -> Codec:
    def c(t: bytes) -> bytes:
        z = zlib.compressobj(level, zlib.DEFLATED, 31, 9)
        return z.compress(t) + z.flush()

    return c


CODECS: dict[str, Codec] = {
    "ISA-L 1 (a flush's)": lambda t: isal_zlib.compress(t, 1, wbits=31),
    "ISA-L 2": lambda t: isal_zlib.compress(t, 2, wbits=31),
    "ISA-L 3": lambda t: isal_zlib.compress(t, 3, wbits=31),
    "zlib 6": zlib_gzip(6),
    "zlib 9": zlib_gzip(9),
    "libdeflate 6": lambda t: bytes(deflate.gzip_compress(t, 6)),
    "libdeflate 8 (dense)": lambda t: bytes(deflate.gzip_compress(t, 8)),
    "libdeflate 9": lambda t: bytes(deflate.gzip_compress(t, 9)),
}
SLOW = {"libdeflate 12": lambda t: bytes(deflate.gzip_compress(t, 12))}
UID = re.compile(rb'uid="[0-9a-f-]{36}"')


def cluster(nodes: int, ppn: int) -> dict[str, list[dict[str, Any]]]:
    from kubescope.sim.scenario import ScenarioConfig, generate
    from kubescope.state.registry import default_resource_names

    names = set(default_resource_names())
    objs: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r, o in generate(ScenarioConfig(seed=1, nodes=nodes, pods_per_node=ppn, start=1.7e9)):
        if r in names:
            objs[r].append(o)
    return objs


async def stores(objs: dict[str, list[dict[str, Any]]], block_size: int, dense: bool) -> dict[str, Any]:
    from kubescope.state.family import FamilyOptions
    from kubescope.state.flusher import Flusher
    from kubescope.state.registry import all_resources
    from kubescope.state.render import decode_object
    from kubescope.state.store import ResourceStore

    specs = all_resources()
    held: list[ResourceStore] = []
    flusher = Flusher(lambda: held)
    for r, items in objs.items():
        spec = specs[r]
        s = ResourceStore(spec, spec.families(FamilyOptions()), block_size=block_size, on_dirty=flusher.poke)
        held.append(s)
        for i in range(0, len(items), 256):
            s.upsert_page([decode_object(spec, o) for o in items[i : i + 256]])
            s.flush_sync()
    out: dict[str, Any] = {"fast_mib": sum(s.compressed_bytes() for s in held) / 2**20}
    out["texts"] = [m for s in held for b in s.blocks for m in b.members if m]
    if dense:
        flusher.start()
        t0 = time.perf_counter()
        cpu0 = time.process_time()
        # polls the stores' state: the flusher signals nothing when it is done
        while any(b.loose for s in held for b in s.blocks) and time.perf_counter() - t0 < 300:  # noqa: ASYNC110
            await asyncio.sleep(0.1)
        out["dense_after_s"] = time.perf_counter() - t0
        out["dense_cpu_s"] = time.process_time() - cpu0
        out["dense_mib"] = sum(s.compressed_bytes() for s in held) / 2**20
        await flusher.stop()
    return out


def table(texts: list[bytes], codecs: dict[str, Codec]) -> dict[str, dict[str, float]]:
    rows = {}
    for name, c in codecs.items():
        t0 = time.process_time()
        ms = [c(t) for t in texts]
        tc = time.process_time() - t0
        t0 = time.process_time()
        for m in ms:
            isal_zlib.decompress(m, 31)
        td = time.process_time() - t0
        rows[name] = {"mib": sum(map(len, ms)) / 2**20, "compress_s": tc, "inflate_s": td}
        print(
            f"  {name:22s} {rows[name]['mib']:8.2f} MiB  compress {tc:6.2f} s  inflate {td:5.2f} s",
            flush=True,
        )
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--nodes", type=int, default=1000)
    ap.add_argument("--pods-per-node", type=int, default=30)
    ap.add_argument("--slow", action="store_true", help="also libdeflate 12 (~60 s at 1,000 x 30)")
    ap.add_argument("--json", help="write the figures here")
    args = ap.parse_args()
    objs = cluster(args.nodes, args.pods_per_node)
    codecs = CODECS | (SLOW if args.slow else {})
    out: dict[str, Any] = {}
    for bs in (128, 256):
        got = asyncio.run(stores(objs, bs, dense=bs == 128))
        members = got.pop("texts")
        texts = [isal_zlib.decompress(m, 31) for m in members]
        print(f"block size {bs}: {len(texts):,} members, {sum(map(len, texts)) / 2**20:.1f} MiB of text")
        got["codecs"] = table(texts, codecs)
        if bs == 128:
            pairs = sum(len(set(UID.findall(t))) for t in texts)
            no_uid = sum(len(isal_zlib.compress(UID.sub(b'uid="x"', t), 1, wbits=31)) for t in texts)
            got["uid_member_pairs"] = pairs
            got["isal1_without_uids_mib"] = no_uid / 2**20
            uid_b = (got["codecs"]["ISA-L 1 (a flush's)"]["mib"] * 2**20 - no_uid) / pairs
            print(
                f"  the store after the sync {got['fast_mib']:.2f} MiB; made dense by the flusher: "
                f"{got['dense_mib']:.2f} MiB after {got['dense_after_s']:.1f} s ({got['dense_cpu_s']:.2f} s CPU)"
            )
            print(
                f"  floor: without the uids' values {no_uid / 2**20:.2f} MiB at ISA-L 1; {pairs:,} (uid, member) "
                f"pairs at {uid_b:.1f} bytes each (their entropy: 16)"
            )
        out[f"block_size_{bs}"] = got
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
