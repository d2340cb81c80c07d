"""bench_analyze.py -- the analysis benchmark: hs_snapshot_open + hs_analyze time per phase and
peak memory for 1M and 10M objects with 3 strong edges each.

Each graph is written as JSON lines (DESIGN.md), converted with `heapsnap convert`, and kept in
CACHE_DIR (the JSON lines are deleted after converting) so later runs skip the slow part.  Shape:
object i refers to 2i+1 and 2i+2 (a binary tree under object 0, the named root; leaves refer to
objects near them, a tenth anywhere, instead) and to one random object; 1% of the objects hold an
external reference (roots), 1% of the random edges are owned.  Targets (the issue): load + analysis of
10M objects under 30 s on 2 cores, peak memory under 120 bytes per object, dominators at least
5M edges/s.  Prints a table; never fails a build (a failed step prints its error and exits 0).

usage: bench_analyze.py HEAPSNAP BENCH_ANALYZE CACHE_DIR [N ...]
"""

import os
import random
import subprocess
import sys
import time
from array import array


def generate(path, n, seed=42):
    rnd = random.Random(seed)
    rand_dst = array("I", (rnd.randrange(n) for _ in range(n)))
    # The leaves' two tree edges go near their source (a tenth anywhere) instead.
    far = array("I", (rnd.randrange(n) if rnd.random() < 0.1 else (i + rnd.randrange(-64, 64)) % n
                      for i in range(n)))

    def tree_dst(i):
        return [d if d < n else far[(i + k) % n] for k, d in enumerate((2 * i + 1, 2 * i + 2))]

    indeg = array("I", bytes(4 * n))
    for i in range(n):
        for d in tree_dst(i):
            indeg[d] += 1
        indeg[rand_dst[i]] += 1
    types = ["dict", "list", "tuple", "Node"]
    with open(path, "w", buffering=1 << 22) as f:
        w = f.write
        for i in range(n):
            extra = 1 if i == 0 or i % 100 == 7 else 0
            w(f'{{"t":"object","addr":{16 * (i + 1)},"type":"{types[i & 3]}",'
              f'"size":{48 + 8 * (i % 13)},"refcnt":{indeg[i] + extra},"gc":true,"gen":2}}\n')
        for i in range(n):
            src = 16 * (i + 1)
            for d in tree_dst(i):
                w(f'{{"t":"edge","src":{src},"dst":{16 * (d + 1)}}}\n')
            kind = ',"kind":"owned"' if i % 100 == 3 else ""
            w(f'{{"t":"edge","src":{src},"dst":{16 * (rand_dst[i] + 1)}{kind}}}\n')
        w('{"t":"root","addr":16,"kind":"module","name":"sys.modules"}\n')


def snapshot(heapsnap, cache, n):
    snap = os.path.join(cache, f"bench-{n}.hsnap")
    if os.path.exists(snap):
        return snap, None, None
    jsonl = os.path.join(cache, f"bench-{n}.jsonl")
    t = time.monotonic()
    generate(jsonl, n)
    t_gen = time.monotonic() - t
    t = time.monotonic()
    subprocess.run([heapsnap, "convert", jsonl, "-o", snap], check=True,
                   stderr=subprocess.DEVNULL)
    t_conv = time.monotonic() - t
    os.unlink(jsonl)
    return snap, t_gen, t_conv


def main():
    heapsnap, bench, cache = sys.argv[1:4]
    sizes = [int(x) for x in sys.argv[4:]] or [1_000_000, 10_000_000]
    os.makedirs(cache, exist_ok=True)
    cols = []
    for n in sizes:
        try:
            snap, t_gen, t_conv = snapshot(heapsnap, cache, n)
            out = subprocess.run([bench, snap], check=True, capture_output=True,
                                 text=True).stdout
        except (subprocess.CalledProcessError, OSError) as e:
            print(f"bench_analyze: {n} objects: {e}")
            continue
        r = dict(line.split(" ", 1) for line in out.splitlines())
        r["generate_jsonl_s"] = "cached" if t_gen is None else f"{t_gen:.1f}"
        r["convert_s"] = "cached" if t_conv is None else f"{t_conv:.1f}"
        cols.append(r)
    if not cols:
        return
    keys = ["objects", "edges", "generate_jsonl_s", "convert_s", "open_s", "roots_s",
            "garbage_s", "scc_s", "reverse_s", "dominators_s", "retained_s", "depth_s",
            "analyze_s", "total_s", "analyze_cpu_s", "total_cpu_s", "dominator_edges_per_s", "rss_after_open_bytes_per_object",
            "file_pages_after_open_bytes_per_object", "peak_rss_bytes_per_object",
            "peak_rss_mb", "end_anon_bytes_per_object", "end_file_bytes_per_object",
            "roots", "garbage", "sccs", "reached"]
    width = max(len(k) for k in keys)
    print(f"{'':{width}}  " + "  ".join(f"{c['objects']:>12}" for c in cols))
    for k in keys:
        print(f"{k:{width}}  " + "  ".join(f"{c.get(k, '-'):>12}" for c in cols))


if __name__ == "__main__":
    main()
