"""test_stream_load.py -- `heapsnap load --stream` (analyzer/OUT-OF-CORE.md) under a memory limit.

Writes a synthetic graph of N objects (default 2,000,000, about 2 edges each: a binary tree of
attribute-labelled edges and one unlabelled random edge, some owned) with `heapsnap convert`,
then:
- the normal load under an address-space limit (RLIMIT_AS, as `ulimit -v`) fails with "out of
  memory" and leaves no database: the heap does not fit;
- the streamed load under the same limit succeeds;
- its objects, edges and referrers equal the normal (unlimited) load's in every column a stream
  computes (the rest is NULL, and meta.analysis says so).

usage: test_stream_load.py HEAPSNAP [N] [LIMIT_MB]
"""
import os
import random
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile


def generate(path, n):
    rnd = random.Random(7)
    with open(path, "w", buffering=1 << 22) as f:
        w = f.write
        for i in range(n):
            kind = "str" if i % 50 == 1 else "dict" if i % 50 == 0 else "Node"
            value = f',"value":"k{i}"' if kind == "str" else ""
            w(f'{{"t":"object","addr":{16 * (i + 1)},"type":"{kind}","size":{48 + i % 7 * 8},'
              f'"refcnt":{3 if i % 97 == 0 else 1},"gc":true{value}}}\n')
        for i in range(n):
            src = 16 * (i + 1)
            for k, d in enumerate((2 * i + 1, 2 * i + 2)):
                if d < n:
                    w(f'{{"t":"edge","src":{src},"dst":{16 * (d + 1)},"label":".c{k}"}}\n')
            kind = ',"kind":"owned"' if i % 100 == 3 else ""
            d = rnd.randrange(n)
            w(f'{{"t":"edge","src":{src},"dst":{16 * (d + 1)}{kind}}}\n')
        w('{"t":"root","addr":16,"kind":"module","name":"sys.modules"}\n')


def limited(limit):
    def set_limit():
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    return set_limit


def main():
    heapsnap = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 2_000_000
    limit = (int(sys.argv[3]) if len(sys.argv) > 3 else 200) << 20
    tmp = tempfile.mkdtemp(prefix="hs-stream-")
    failures = []

    def check(cond, what):
        print(("ok: " if cond else "FAIL: ") + what)
        if not cond:
            failures.append(what)

    try:
        jl, snap = os.path.join(tmp, "g.jsonl"), os.path.join(tmp, "g.hsnap")
        generate(jl, n)
        subprocess.run([heapsnap, "convert", jl, "-o", snap], check=True,
                       stderr=subprocess.DEVNULL)
        os.unlink(jl)
        full, streamed, refused = (os.path.join(tmp, x) for x in ("full.db", "s.db", "no.db"))
        r = subprocess.run([heapsnap, "load", snap, "-o", refused], capture_output=True,
                           text=True, preexec_fn=limited(limit))
        check(r.returncode != 0 and "out of memory" in r.stderr,
              f"the normal load fails under {limit >> 20} MiB: {r.stderr.strip()}")
        check(not any(f.startswith("no.db") for f in os.listdir(tmp)),
              "the failed load leaves no database")
        r = subprocess.run([heapsnap, "load", "--stream", snap, "-o", streamed],
                           capture_output=True, text=True, preexec_fn=limited(limit))
        check(r.returncode == 0, f"the streamed load succeeds under {limit >> 20} MiB: "
              f"{r.stderr.strip()}")
        subprocess.run([heapsnap, "load", snap, "-o", full], check=True, capture_output=True)
        con = sqlite3.connect(streamed)
        con.execute("ATTACH ? AS f", (full,))
        cols = ("id, addr, type_id, size, refcnt, gc, generation, immortal, ext_refs, is_root, "
                "nrefs, nreferrers, flags")
        for table, c in (("objects", cols), ("edges", "id, src, dst, kind"),
                         ("referrers", "dst, edge, src")):
            count = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            diff = con.execute(f"SELECT count(*) FROM (SELECT {c} FROM {table} EXCEPT "
                               f"SELECT {c} FROM f.{table})").fetchone()[0]
            want = con.execute(f"SELECT count(*) FROM f.{table}").fetchone()[0]
            check(count == want and diff == 0 and count > 0,
                  f"{table}: {count} rows ({want} in the normal load), {diff} differ")
        labels, same, lost = con.execute(
            "SELECT count(s.label), sum(s.label = e.label), sum(s.label IS NULL AND e.label IS"
            " NOT NULL) FROM edges s JOIN f.edges e ON e.id = s.id").fetchone()
        check(labels > n // 2 and labels == same and lost == 0,
              f"labels: {same} of {labels} equal, {lost} lost")
        for col in ("retained", "scc", "depth", "idom"):
            check(con.execute(f"SELECT count(*) FROM objects WHERE {col} IS NOT NULL"
                              ).fetchone()[0] == 0, f"{col} is NULL")
        note = con.execute("SELECT value FROM meta WHERE key = 'analysis'").fetchone()[0]
        check(note.startswith("partial"), f"meta.analysis: {note}")
        check(con.execute("SELECT value FROM f.meta WHERE key = 'analysis'").fetchone()[0] ==
              "complete", "the normal load's meta.analysis is 'complete'")
    finally:
        shutil.rmtree(tmp)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
