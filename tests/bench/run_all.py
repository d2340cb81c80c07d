"""run_all.py -- every benchmark of issue 9 in one table (`./dev bench`, or
`meson test -C BUILD --benchmark --suite all --verbose`).

Columns: synthetic heaps of 1M and 10M objects with 3 edges each (bench_analyze.py's generator
and cache; made with `heapsnap convert`), heap_shapes.py's application-shaped heap of the same
sizes (dumped by heapsnap on 3.11, cached), its points heap (issue 3's flattering shape) and its
field heap (Django/SQLAlchemy/numpy on Debian's python3), a real ~1M-object CPython heap
(bench_remote.py's target, captured out of process and kept), and the same with 2 GiB of
buffers (bench_pause.py: the pause and capture's peak RSS).  Rows: capture (in process vs the
pure-Python dumper and vs gc.collect(): bench_inproc.py on the app, points and field heaps; out
of process: bench_remote.py; real heap only), snapshot bytes per object and
per edge (the OBJECTS and EDGES sections), read + analysis per phase and peak memory
(bench_analyze), the SQLite store per phase, its page writer against SQLite's INSERT path and the
latency of `top --by retained` and `path` (bench_store), `heapsnap load` end to end (wall, CPU, peak RSS per object), and
the first answer of `summary`, `top --by retained`, `path` and `show` on a snapshot with no database yet (wall
time to the first line printed and to the exit, once the database is written; peak RSS).  Every figure is
the median of RUNS runs; times are CPU seconds where the component reports them, since the
machine is shared (wall times are inflated by the neighbours' load).  Never fails a build.

usage: run_all.py BUILD_DIR
env: HS_BENCH_QUICK=1 (100k synthetic and a 100k real heap, one run), HS_BENCH_RUNS=N (default 3),
     HS_BENCH_SIZES=1000000,10000000 (synthetic sizes), HS_BENCH_REAL=1000000 (0: no real heap)
"""
import os
import statistics
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench_analyze  # noqa: E402  (its generator and snapshot cache)

sys.path.insert(0, os.path.join(HERE, "..", "..", "capture", "inproc"))
import find_pythons  # noqa: E402  (pyenv's interpreters, wherever its root is)

PY311 = find_pythons.pythons().get(11, sys.executable)
# Debian's python3 with Django and SQLAlchemy: heap_shapes.py's field heap.
DEBIAN_PY = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else sys.executable
SECTION_OBJECTS, SECTION_EDGES = 5, 6


def run_rusage(cmd, env=None):
    """Runs cmd and returns (stdout, wall s, CPU s, peak RSS bytes) measured by wait4."""
    t = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                         env=env)
    out = p.stdout.read()
    _, status, ru = os.wait4(p.pid, 0)
    p.stdout.close()
    p.returncode = os.waitstatus_to_exitcode(status)
    wall = time.monotonic() - t
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: exit {p.returncode}")
    return out, wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss * 1024


def run_first_answer(cmd):
    """Runs cmd and returns (wall s to its first line of output, wall s to its exit, peak RSS
    bytes, CPU s to its first line): the time to the first answer of a command that writes its database after answering
    (analyzer/cli/first_answer.c)."""
    t = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    p.stdout.readline()
    first = time.monotonic() - t
    with open(f"/proc/{p.pid}/stat") as f:  # utime and stime, after the comm field
        ticks = f.read().rsplit(")", 1)[1].split()[11:13]
    first_cpu = sum(int(x) for x in ticks) / os.sysconf("SC_CLK_TCK")
    p.stdout.read()
    _, status, ru = os.wait4(p.pid, 0)
    p.stdout.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(cmd)}: exit {os.waitstatus_to_exitcode(status)}")
    return first, time.monotonic() - t, ru.ru_maxrss * 1024, first_cpu


def deepest(heapsnap, snap, db):
    """The address of an object with the longest path in snap (from its database, built for
    this and deleted)."""
    try:
        out, _, _, _ = run_rusage([heapsnap, "sql", snap,
                                   "SELECT printf('0x%x', addr) AS addr FROM objects"
                                   " ORDER BY depth DESC, addr LIMIT 1", "--format", "csv"])
    finally:
        if os.path.exists(db):
            os.unlink(db)
    return out.split()[1]


def first_answers(heapsnap, snap, runs, col, n):
    """`summary`, `top --by retained`, and `path` and `show` of an object with the longest
    path, on the snapshot with no database yet (a link to it in a directory of its own, whose
    database is deleted after each run): the wall time to the first line printed (and the CPU
    time until then: threads count twice), to the exit (the database written), and the peak
    RSS per object."""
    fresh = os.path.join(os.path.dirname(snap), "first-answer")
    os.makedirs(fresh, exist_ok=True)
    base = os.path.splitext(os.path.basename(snap))[0]
    link, db = os.path.join(fresh, base + ".hsnap"), os.path.join(fresh, base + ".db")
    if not os.path.lexists(link):
        os.symlink(os.path.abspath(snap), link)
    addr = deepest(heapsnap, link, db)
    for name, args in (("summary", ["summary"]), ("top --by retained", ["top", "--by", "retained"]),
                       ("path", ["path", addr]), ("show", ["show", addr])):
        res = []
        for _ in range(runs):
            try:
                res.append(run_first_answer([heapsnap, args[0], link, *args[1:]]))
            finally:
                if os.path.exists(db):
                    os.unlink(db)
        col[f"first answer: {name} wall s"] = f"{statistics.median(r[0] for r in res):.1f}"
        col[f"first answer: {name} cpu s"] = f"{statistics.median(r[3] for r in res):.1f}"
        col[f"first answer: {name} + database wall s"] = \
            f"{statistics.median(r[1] for r in res):.1f}"
        col[f"first answer: {name} peak RSS B/object"] = \
            f"{statistics.median(r[2] for r in res) / n:.0f}"


def section_bytes(path):
    """Bytes of the OBJECTS and EDGES sections (head, payload and CRC) of a snapshot, as
    stored (packed or not)."""
    sizes = {SECTION_OBJECTS: 0, SECTION_EDGES: 0}
    with open(path, "rb") as f:
        end = os.fstat(f.fileno()).st_size
        pos = 16
        while pos + 13 <= end:
            f.seek(pos)
            kind, length = struct.unpack("<BQ", f.read(9))
            kind &= 0x7F  # FORMAT.md §2.4: the packed bit
            if kind in sizes:
                sizes[kind] += 13 + length
            pos += 13 + length
            if kind == 10:  # INDEX: the last section
                break
    return sizes[SECTION_OBJECTS], sizes[SECTION_EDGES]


def table_values(out):
    """The first number of each "label   number [number]" line of bench_store's table and the
    second (CPU) when there is one, as {label: [numbers]}."""
    rows = {}
    for line in out.splitlines():
        label, _, rest = line.partition("  ")
        try:
            rows[label.strip()] = [float(x) for x in rest.split()]
        except ValueError:
            pass
    return rows


def measure_snapshot(build, snap, runs, col):
    heapsnap = os.path.join(build, "analyzer", "heapsnap")
    an, st, ld = [], [], []
    db = snap + ".bench.db"
    for _ in range(runs):
        out, _, _, _ = run_rusage([os.path.join(build, "tests/bench/bench_analyze"), snap])
        an.append({k: float(v) for k, v in (line.split(" ", 1) for line in out.splitlines())})
        out, _, _, _ = run_rusage([os.path.join(build, "tests/bench/bench_store"), snap,
                                   os.path.dirname(snap)])
        st.append(table_values(out))
        _, wall, cpu, rss = run_rusage([heapsnap, "load", snap, "-o", db])
        ld.append((wall, cpu, rss))
        os.unlink(db)
    n, e = an[0]["objects"], an[0]["edges"]
    obj_b, edge_b = section_bytes(snap)

    def med_a(k):
        return statistics.median(r[k] for r in an)

    def med_s(k, i=0):
        vals = [r[k][i] for r in st if k in r and len(r[k]) > i]
        return statistics.median(vals) if vals else float("nan")

    col["objects"] = f"{n:.0f}"
    col["edges"] = f"{e:.0f}"
    col["file bytes/object (all)"] = f"{os.path.getsize(snap) / n:.2f}"
    col["OBJECTS bytes/object"] = f"{obj_b / n:.2f}"
    col["EDGES bytes/edge"] = f"{edge_b / e:.2f}"
    for k in ("open_s", "roots_s", "garbage_s", "scc_s", "reverse_s", "dominators_s",
              "retained_s", "depth_s", "analyze_cpu_s", "total_cpu_s"):
        col["analysis: " + k.replace("_s", " s")] = f"{med_a(k):.2f}"
    col["analysis: peak RSS B/object"] = f"{med_a('peak_rss_bytes_per_object'):.0f}"
    for label, key in (("store: edge trees cpu s", "store: edge trees (s)"),
                       ("store: object trees cpu s", "store: object trees (s)"),
                       ("store: small tables cpu s", "store: small tables + analyze (s)"),
                       ("store: total cpu s", "store total (s)")):
        col[label] = f"{med_s(key, 1):.2f}"
    col["store: SQLite INSERT path cpu s"] = f"{med_s('store: SQLite INSERT path (s)', 1):.2f}"
    col["store: page writer speedup x"] = f"{med_s('page writer speedup (x)', 1):.2f}"
    col["top --by retained ms"] = f"{med_s('top --by retained median (ms)'):.1f}"
    col["path (deepest) ms"] = f"{med_s('path to the deepest median (ms)'):.1f}"
    wall = statistics.median(r[0] for r in ld)
    cpu = statistics.median(r[1] for r in ld)
    rss = statistics.median(r[2] for r in ld)
    col["load: wall s"] = f"{wall:.1f}"
    col["load: cpu s"] = f"{cpu:.1f}"
    col["load: peak RSS B/object"] = f"{rss / n:.0f}"
    first_answers(heapsnap, snap, runs, col, n)


def real_heap(build, n, runs, col):
    snap = os.path.join(build, "tests/bench", f"real-{n}.hsnap")
    env = dict(os.environ, HS_BENCH_KEEP=snap)
    out, _, _, _ = run_rusage([sys.executable, os.path.join(HERE, "bench_remote.py"),
                               os.path.join(build, "analyzer", "heapsnap"), str(n), PY311,
                               str(runs)], env=env)
    best = [line for line in out.splitlines() if line.startswith("best:")]
    rows = [line.split() for line in out.splitlines() if line[:1] == " " or line[:1].isdigit()]
    per_cpu = [float(r[0]) / float(r[5]) for r in rows if len(r) == 8 and r[0].isdigit()]
    if per_cpu:
        col["out-of-process objects/CPU-s"] = f"{statistics.median(per_cpu):.0f}"
    if best:
        col["out-of-process pause s (best)"] = best[0].split("pause ")[1].split()[0]
    measure_snapshot(build, snap, runs, col)


def inproc(build, shape, n, py, runs, col):
    """bench_inproc.py on heap_shapes.py's shape: heapsnap.dump() against the pure-Python
    dumper and against one gc.collect() of the same heap, in the same process."""
    pkg = os.path.join(build, "capture", "inproc")
    out, _, _, _ = run_rusage([py, os.path.join(HERE, "bench_inproc.py"), str(n),
                               str(max(runs, 3)), shape],
                              env=dict(os.environ, PYTHONPATH=pkg,
                                       HEAPSNAP_CLI=os.path.join(build, "analyzer", "heapsnap")))
    rows = (("heapsnap.dump(values=True)", "dump()"),
            ("heapsnap.dump(values=False, threads=1)", "dump(values=False, threads=1)"))
    for line in out.splitlines():
        f = line.split()  # NAME... objects edges wall cpu wall-x cpu-x bytes/obj cpu/gc
        if line.startswith("python "):
            col["in-process: python"] = f[1].rstrip(",")
        if line.startswith("one walk at C speed"):  # the floor of any dumper
            col["in-process: one walk at C speed, CPU / gc.collect() CPU"] = f[-1]
        if line.startswith("check: "):  # the dump against gc.get_referents and gc.collect()
            col["in-process: objects and garbage as CPython says"] = f[1].rstrip(":")
        for name, row in rows:
            if not line.startswith(name + " "):
                continue
            if row == "dump()":
                col["in-process: objects, edges"] = \
                    f"{int(f[-8]) / 1e6:.2f}M, {int(f[-7]) / 1e6:.2f}M"
            col[f"in-process {row} vs pure Python, wall x / cpu x"] = f"{f[-4]} / {f[-3]}"
            col[f"in-process {row} CPU / gc.collect() CPU"] = f[-1]
            col[f"in-process {row} bytes/object"] = f[-2]


def app_snapshot(build, cache, n):
    """heap_shapes.py's app heap of n objects dumped by heapsnap on pyenv's 3.11 (kept in the
    cache like bench_analyze's snapshots)."""
    snap = os.path.join(cache, f"app-{n}.hsnap")
    if not os.path.exists(snap):
        run_rusage([PY311, os.path.join(HERE, "heap_shapes.py"), "app", str(n), snap],
                   env=dict(os.environ, PYTHONPATH=os.path.join(build, "capture", "inproc")))
    return snap


def real_pause(build, n, gb, runs, col):
    """bench_pause.py: the pause and peak RSS of `capture --pid` on n objects plus gb GiB of
    buffers (best of runs)."""
    out, _, _, _ = run_rusage([sys.executable, os.path.join(HERE, "bench_pause.py"),
                               os.path.join(build, "analyzer", "heapsnap"), str(n), str(gb),
                               PY311, str(runs)])
    for line in out.splitlines():
        if line.startswith("target:"):
            col["heap"] = f"real 3.11 ~{n // 1000}k + " + line.split(" objects requested, ")[1] \
                .split(" in ")[0].replace(" GiB", "G")
        if line.startswith("best:"):
            f = line.split()
            col["out-of-process pause s (best)"] = f[2]
            if "of CPU)" in line:
                col["out-of-process pause CPU s"] = f[4].lstrip("(")
            rss = line.split("peak RSS ")[1].split()
            col["capture peak RSS MB"] = rss[0]
            if "beyond" in line:
                col["capture peak RSS B/object beyond pages read"] = rss[2]


def size_name(n):
    return f"{n // 1000}k" if n < 1_000_000 else f"{n // 10**6}M"


def main():
    build = os.path.abspath(sys.argv[1])
    quick = os.environ.get("HS_BENCH_QUICK") == "1"
    runs = int(os.environ.get("HS_BENCH_RUNS", "1" if quick else "3"))
    sizes = [int(x) for x in os.environ.get(
        "HS_BENCH_SIZES", "100000" if quick else "1000000,10000000").split(",") if x]
    real = int(os.environ.get("HS_BENCH_REAL", "100000" if quick else "1000000"))
    cache = os.path.join(build, "tests/bench/analyze-cache")
    os.makedirs(cache, exist_ok=True)
    heapsnap = os.path.join(build, "analyzer", "heapsnap")
    cols = []
    for n in sizes:
        col = {"heap": "synthetic " + size_name(n)}
        try:
            snap, _, _ = bench_analyze.snapshot(heapsnap, cache, n)
            measure_snapshot(build, snap, runs, col)
        except (RuntimeError, OSError, subprocess.CalledProcessError) as e:
            print(f"run_all: {n} objects: {e}")
        cols.append(col)
    for n in sizes:
        col = {"heap": "app " + size_name(n)}
        try:
            if n <= 1_000_000:
                inproc(build, "app", n, PY311, runs, col)
            measure_snapshot(build, app_snapshot(build, cache, n), runs, col)
        except (RuntimeError, OSError) as e:
            print(f"run_all: app {n} objects: {e}")
        cols.append(col)
    for shape, py in (("points", PY311), ("field", DEBIAN_PY)):
        col = {"heap": f"points {size_name(sizes[0])}" if shape == "points" else
               "field (Debian's 3.11)"}
        try:
            inproc(build, shape, sizes[0], py, runs, col)
        except (RuntimeError, OSError) as e:
            print(f"run_all: {shape}: {e}")
        cols.append(col)
    if real:
        col = {"heap": f"real 3.11 ~{real // 1000}k"}
        try:
            real_heap(build, real, runs, col)
        except (RuntimeError, OSError) as e:
            print(f"run_all: real heap: {e}")
        cols.append(col)
        col = {"heap": f"real 3.11 ~{real // 1000}k + buffers"}
        try:
            real_pause(build, real, 0.25 if quick else 2, runs, col)
        except (RuntimeError, OSError) as e:
            print(f"run_all: real heap with buffers: {e}")
        cols.append(col)
    keys = []
    for c in cols:
        keys += [k for k in c if k not in keys]
    width = max(len(k) for k in keys)
    print(f"heapsnap benchmarks, median of {runs} run(s); load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    for k in keys:
        print(f"{k:{width}}  " + "  ".join(f"{c.get(k, '-'):>18}" for c in cols))
    print("targets: in-process on app >= 25x (wall and cpu), CPU <= 0.5 gc.collect(), <= 12"
          " B/object with values; out-of-process >= 1M objects/s; 10M load < 30 s, < 120"
          " B/object; top --by retained < 100 ms; first answer at 10M <= 5 s")


if __name__ == "__main__":
    main()
