"""bench_inproc.py: heapsnap.dump() of a ~1M-object heap against a pure-Python dumper and
against one gc.collect() of the same heap.

usage: PYTHONPATH=BUILD/capture/inproc python bench_inproc.py [OBJECTS [RUNS [SHAPE]]]

SHAPE is one of heap_shapes.py's (default app: an application's records, about 2.1 edges per
object; points: the flattering shape of issue 3; field: Django/SQLAlchemy/numpy on Debian's
python3, whatever size it has).

The pure-Python dumper is what one writes without heapsnap: gc.get_objects, then a worklist
over gc.get_referents with an id -> index dict, sys.getsizeof, into array('Q')s (no file).
Each dumper runs RUNS times (default 5) in this process, alternating; the table gives the median
wall-clock seconds and the median CPU seconds of the process (time.process_time: less disturbed
by other load on the machine), the ratios against the pure-Python dumper, and the .hsnap bytes
per object (edges included).  The last column is the dump's CPU time over one gc.collect()'s
(the collector's one traversal of the same heap, timed in the same runs).  Targets (issue 20, on
the app shape): ratio >= 25 (wall and CPU), CPU <= 0.5 gc.collect(), <= 12 bytes/object with
values.
The row "one walk at C speed" is the floor of any dumper: gc.get_referents(*gc.get_objects()),
CPython's own C loop calling each GC object's tp_traverse once and appending what it visits to a
list, nothing written; a dump, which must also find the objects that are not tracked, size them,
label their edges and write them, cannot cost less than it.
heapsnap.dump runs as a user calls it, which at this size means two threads writing the objects
(the wall clock is the time the program stands still; the CPU time counts both threads), and
with threads=1 (its CPU time is the work).
HEAPSNAP_CLI=BUILD/analyzer/heapsnap adds a check of the heap after the runs (check()): every
object the pure-Python dumper reaches is in a dump, whose GC garbage is what gc.collect() finds.
HEAPSNAP_BENCH_PROGRESS=1 adds heapsnap's progress report on stderr (time per phase; the
writer's closing flush, fsync and rename are "linked" to "finished").
"""
import gc
import os
import shutil
import statistics
import sys
import tempfile
import time
from array import array

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import heap_shapes
import heapsnap


def py_dump():
    addrs, sizes, edges = array("Q"), array("Q"), array("Q")
    index = {}
    work = gc.get_objects()
    while work:
        o = work.pop()
        if id(o) in index:
            continue
        index[id(o)] = len(addrs)
        addrs.append(id(o))
        sizes.append(sys.getsizeof(o))
        refs = gc.get_referents(o)
        edges.extend(id(r) for r in refs)
        work.extend(refs)
    return addrs, edges


def reachable():
    """Every object gc.get_referents reaches from gc.get_objects(), held (so that none dies
    before the dump that is checked against them)."""
    work = gc.get_objects()
    held, seen = [], set()  # made after: not among the objects
    while work:
        o = work.pop()
        if id(o) not in seen:
            seen.add(id(o))
            held.append(o)
            work.extend(gc.get_referents(o))
    return held


def check(cli):
    """The heap as CPython answers for it against a dump of it: every object gc.get_referents
    reaches is in the snapshot, and its GC garbage is what gc.collect() then finds."""
    import subprocess

    def sql(path, query):
        return subprocess.run([cli, "sql", path, query, "--format", "csv"], capture_output=True,
                              text=True, check=True).stdout.split()[1:]
    d = tempfile.mkdtemp(prefix="bench-inproc-check-")
    path = os.path.join(d, "check.hsnap")
    heapsnap.dump(path)
    collected = gc.collect()
    garbage = sql(path, "SELECT count(*) FROM objects WHERE unreachable = 1 AND gc = 1")[0]
    held = reachable()  # after: holding them, it would keep the garbage alive
    heapsnap.dump(path)
    found = {int(a) for a in sql(path, "SELECT addr FROM objects")}
    missing = sum(1 for o in held if id(o) not in found)
    shutil.rmtree(d)
    print("check: %s: %d of the %d objects gc.get_referents reaches missing from the snapshot; "
          "its GC garbage %s objects, gc.collect() found %d"
          % ("OK" if missing == 0 and int(garbage) == collected else "FAILED", missing,
             len(held), garbage, collected))


def one_walk():
    """One tp_traverse of every GC object at C speed (the floor: see the docstring)."""
    objs = gc.get_objects()
    return len(gc.get_referents(*objs))


def timed(fn):
    w, c = time.perf_counter(), time.process_time()
    r = fn()
    return r, time.perf_counter() - w, time.process_time() - c


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000000
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    shape = sys.argv[3] if len(sys.argv) > 3 else "app"
    progress = os.environ.get("HEAPSNAP_BENCH_PROGRESS") == "1"
    gc.disable()
    heap, desc = heap_shapes.build(shape, n)  # noqa: F841  (kept alive while dumped)
    if os.environ.get("HEAPSNAP_CLI"):  # first: the timed gc.collect() frees the garbage
        check(os.environ["HEAPSNAP_CLI"])
    d = tempfile.mkdtemp(prefix="bench-inproc-")
    res = {"py": [], "gc": [], "walk": []}
    kinds = [(False, 0), (False, 1), (True, 0), (True, 1)]  # (values, threads)
    for _ in range(runs):
        res["py"].append(timed(lambda: [len(a) for a in py_dump()]))
        res["gc"].append(timed(gc.collect))
        res["walk"].append(timed(one_walk))
        for values, threads in kinds:
            path = os.path.join(d, "v%d.hsnap" % values)
            res.setdefault((values, threads), []).append(timed(
                lambda: heapsnap.dump(path, values=values, progress=progress, threads=threads)))
            os.unlink(path)
    shutil.rmtree(d)

    def med(rows, i):
        return statistics.median(r[i] for r in rows)

    py_w, py_c = med(res["py"], 1), med(res["py"], 2)
    gc_w, gc_c = med(res["gc"], 1), med(res["gc"], 2)
    print("python %s, heap %s, median of %d runs" % (sys.version.split()[0], desc, runs))
    print("%-37s %9s %9s %8s %8s %7s %7s %9s %6s" % ("dumper", "objects", "edges", "wall s",
                                                       "cpu s", "wall x", "cpu x", "bytes/obj",
                                                       "cpu/gc"))
    nobj, nedge = res["py"][0][0]
    print("%-37s %9d %9d %8.3f %8.3f %7s %7s %9s %6.2f" % ("pure Python (no file)", nobj, nedge,
                                                             py_w, py_c, "1.0", "1.0", "-",
                                                             py_c / gc_c))
    print("%-37s %9s %9s %8.3f %8.3f %7s %7s %9s %6s" % ("gc.collect()", "-", "-", gc_w, gc_c,
                                                           "-", "-", "-", "1.00"))
    walk_w, walk_c = med(res["walk"], 1), med(res["walk"], 2)
    print("%-37s %9s %9d %8.3f %8.3f %6.1fx %6.1fx %9s %6.2f"
          % ("one walk at C speed (the floor)", "-", res["walk"][0][0], walk_w, walk_c,
             py_w / walk_w, py_c / walk_c, "-", walk_c / gc_c))
    for values, threads in kinds:
        rows = res[(values, threads)]
        c = rows[-1][0]
        w, cpu = med(rows, 1), med(rows, 2)
        name = "heapsnap.dump(values=%s%s)" % (values, ", threads=1" if threads else "")
        print("%-37s %9d %9d %8.3f %8.3f %6.1fx %6.1fx %9.2f %6.2f"
              % (name, c["objects"], c["edges"], w, cpu, py_w / w, py_c / cpu,
                 c["bytes"] / c["objects"], cpu / gc_c))


if __name__ == "__main__":
    main()
