"""memory_shapes.py — builds N objects of each of a dozen shapes while tracemalloc traces, and
prints, for each shape, what tracemalloc measured: the allocations made while the shape was built
and still alive (raw bytes, and each allocation rounded as pymalloc rounds it), then dumps the
heap with heapsnap.  test_memory.py compares heapsnap's memory column with these figures.

usage: memory_shapes.py SNAPSHOT   (prints one JSON object: shape -> figures)
"""
import collections
import json
import os
import sys
import tracemalloc

import heapsnap

N = int(os.environ.get("HS_SHAPES_N", 10000))


class Point:
    def __init__(self, x, y):
        self.x = x
        self.y = y


class Record:
    def __init__(self):
        self.a = None
        self.b = None
        self.c = None
        self.d = None
        self.e = None
        self.f = None


class Slotted:
    __slots__ = ("x", "y")

    def __init__(self, x, y):
        self.x = x
        self.y = y


def with_dict(x, y):
    p = Point(x, y)
    p.__dict__  # materialised
    return p


SHAPES = {
    "Point": lambda i: Point(None, None),
    "Record": lambda i: Record(),
    "Point+__dict__": lambda i: with_dict(None, None),
    "Slotted": lambda i: Slotted(None, None),
    "list of 3": lambda i: [None, None, None],
    "list grown to 10": lambda i: [None for _ in range(10)],
    "dict of 2": lambda i: {"a": None, "b": None},
    "dict of 40": lambda i: dict.fromkeys(range(1000, 1040)),
    "set of 20": lambda i: set(range(1000, 1020)),
    "str": lambda i: "name-%d" % i,
    "tuple of 25": lambda i: (i,) + (None,) * 24,  # past the free lists (< 20)
    "bytearray": lambda i: bytearray(100),
}


def rounded(n):
    """What pymalloc (up to 512 bytes) or glibc's malloc takes for a request of n bytes."""
    if n <= 512:
        return max(16, (n + 15) // 16 * 16)
    return (n + 8 + 15) // 16 * 16


def traces():
    """The live allocations made by this file's lines: (size, frames) -> count.  tracemalloc's
    raw traces (the list take_snapshot wraps), read without a Traceback object per trace."""
    here = __file__
    return collections.Counter((t[1], t[2]) for t in tracemalloc._get_traces()
                               if t[2] and t[2][0][0] == here)


def main():
    tracemalloc.start(1)
    kept, figures = {}, {}
    for name, make in SHAPES.items():
        make(0)  # warm up: a class's first instances differ (3.13 sizes inline values late)
        keep = [None] * N
        before = traces()
        for i in range(N):
            keep[i] = make(i)
        new = traces() - before
        kept[name] = keep
        figures[name] = {
            "container": id(keep),
            "tracemalloc": sum(s * c for (s, _), c in new.items()),
            "tracemalloc_rounded": sum(rounded(s) * c for (s, _), c in new.items()),
            "getsizeof": sum(sys.getsizeof(o) for o in keep),
        }
    tracemalloc.stop()
    heapsnap.dump(sys.argv[1])
    print(json.dumps({"python": sys.version.split()[0], "shapes": figures}))


main()
