"""bench_inproc.py: heapsnap.dump() of a ~1M-object heap against a pure-Python dumper.

usage: PYTHONPATH=BUILD/capture/inproc python bench_inproc.py [OBJECTS]

The pure-Python dumper is what one writes without heapsnap: gc.get_objects, then a worklist
over gc.get_referents with an id -> index dict, sys.getsizeof, into array('Q')s (no file).
Prints a table: seconds for each, the ratio, and the .hsnap bytes per object (edges included),
with and without value previews.  Targets (issue 3): ratio >= 20, bytes/object <= 10.
"""
import gc
import os
import sys
import tempfile
import time
from array import array

import heapsnap


class Point:
    def __init__(self, x, y):
        self.x = x
        self.y = y


def build(n):
    """About n objects: instances with a float and a str each, and lists of big ints."""
    points = [Point(i * 0.5, "p%d" % i) for i in range(n // 12)]  # 3 objects each
    lists = [[j * 1000 + 300 for j in range(i, i + 10)]  # 11 objects each
             for i in range(0, n - 3 * len(points), 11)]
    return points, lists


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
    return len(addrs), len(edges)


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000000
    gc.disable()
    heap = build(n)
    d = tempfile.mkdtemp(prefix="bench-inproc-")
    rows = []
    for values in (False, True):
        path = os.path.join(d, "v%d.hsnap" % values)
        best = None
        for _ in range(3):
            c = heapsnap.dump(path, values=values)
            best = c if best is None or c["seconds"] < best["seconds"] else best
        rows.append(("heapsnap.dump(values=%s)" % values, best["objects"], best["edges"],
                     best["seconds"], best["bytes"]))
    t = time.perf_counter()
    nobj, nedge = py_dump()
    py_s = time.perf_counter() - t
    print("python %s, %d objects built" % (sys.version.split()[0], sum(map(len, heap))))
    print("%-28s %10s %10s %9s %8s %11s" % ("dumper", "objects", "edges", "seconds", "ratio",
                                             "bytes/obj"))
    print("%-28s %10d %10d %9.3f %8s %11s" % ("pure Python (no file)", nobj, nedge, py_s, "1.0",
                                               "-"))
    for name, objs, edges, secs, nbytes in rows:
        print("%-28s %10d %10d %9.3f %7.1fx %11.2f"
              % (name, objs, edges, secs, py_s / secs, nbytes / objs))


if __name__ == "__main__":
    main()
