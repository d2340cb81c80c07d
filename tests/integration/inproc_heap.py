"""inproc_heap.py: heapsnap.dump() of a heap built with known structure, checked exactly.

usage: PYTHONPATH=BUILD/capture/inproc pythonX inproc_heap.py HEAPSNAP_CLI

Checks (issue 3): every size equals sys.getsizeof and every traverse edge list equals
gc.get_referents, for every object reachable from gc.get_objects(); refcounts equal what the
construction below implies and equal the object's incoming edges; instance counts per class equal
a count over gc.get_objects(); every type's name, module and qualified name equal type.__name__,
__module__ and __qualname__ (nested, local, renamed, long and non-ASCII names, a None
__module__); live, dead and callback weak references; labels; the
unreachable set predicted from the snapshot equals what gc.collect() finds; values, immortality,
roots, the returned counts and the dump's own invisibility.
HEAPSNAP_TEST_THREADS=N dumps with heapsnap.dump(..., threads=N) (meson runs it with 2 too).
"""
import functools
import gc
import os
import sys
import tempfile
import threading
import weakref

import heapsnap
from inproc_check import (Failures, collect_garbage, compare, compare_type_names, load,
                          take_truth)

THREADS = int(os.environ.get("HEAPSNAP_TEST_THREADS", "0"))
with open(__file__) as _f:  # the line of main's checked dump, which main's frame root names
    DUMP_LINE = next(n for n, line in enumerate(_f, 1) if line.rstrip().endswith("# DUMP_LINE"))


class Point:
    def __init__(self, x, y):
        self.x = x
        self.y = y


class Slotted:
    __slots__ = ("a", "b")


class Leaf:
    pass


class WithDel:
    def __del__(self):
        pass


class Outer:  # type names as Python reports them (FORMAT.md §4.3, §4.4): a nested class,
    class Inner:
        pass


def a_function_whose_name_alone_is_longer_than_the_sixty_four_characters_once_kept():
    class Local:  # a local class whose qualified name is 100+ characters,
        pass
    return Local


class NoModule:  # a __module__ that is not a str (type.__module__ is None: written ""),
    __module__ = None


class Renamed:  # a class whose __name__ was reassigned (SQLAlchemy's symbol),
    pass


Renamed.__name__ = "Shown"
LongName = type("L" * 150, (), {})  # a 150-character name,
Unicode = type("Größe_Ж_名前", (), {})  # and one that is not ASCII.
NAMED = (Outer.Inner, a_function_whose_name_alone_is_longer_than_the_sixty_four_characters_once_kept(),
         NoModule, Renamed, LongName, Unicode)
HEAP = {"named": [cls() for cls in NAMED]}


def build():
    """The known heap: every refcount below follows from these lines."""
    shared = Leaf()
    pts = [Point(i, shared) for i in range(100)]  # each Point: 1 reference (the list)
    HEAP["points"] = pts
    HEAP["shared"] = shared  # shared: 100 Point.y + this + the tuple's two = 103
    s = Slotted()
    s.a = pts  # pts: HEAP["points"] + s.a = 2
    s.b = "slot-b-value-%d" % os.getpid()
    HEAP["slotted"] = s
    HEAP["by_int"] = {1: "one", 2: "two", (3, 4): "tuple-key"}
    HEAP["tuple"] = (shared, shared)

    def outer():
        captured = ["captured list"]

        def inner(a=HEAP):  # HEAP: the module dict + this default = 2
            return captured

        return inner

    HEAP["closure"] = outer()
    target = Leaf()
    HEAP["weak_target"] = target
    HEAP["wr_live"] = weakref.ref(target)
    HEAP["callback"] = lambda r: None
    HEAP["wr_cb"] = weakref.ref(target, HEAP["callback"])
    dead = Leaf()
    HEAP["wr_dead"] = weakref.ref(dead)
    del dead
    # A C cache whose entries' type (3.9's _lru_list_elem) nothing has readied: the dump must
    # not ready it (that adds a weakref to object's subclasses in the middle of the walk).
    cached = functools.lru_cache(maxsize=8)(lambda n: [n])
    for n in range(12):
        cached(n)
    HEAP["lru"] = cached
    HEAP["big"] = 2 ** 100
    HEAP["float"] = 2.5
    HEAP["bytes"] = b"raw\x00bytes"
    # Values of every kind of preview (all of them are checked against preview() below).
    HEAP["values"] = [
        [0, 1, -1, 7, 42, -99, 100, 12345, -2 ** 30, 2 ** 30, 2 ** 60 - 1, -(2 ** 60) + 1,
         2 ** 60, 2 ** 62, 2 ** 63 - 1, -(2 ** 63), 2 ** 63, 10 ** 19, -(10 ** 30), True, False],
        [0.5, -2.25, 0.1, 0.2 + 0.1, 1 / 3, 1e-4, 1.5e-4, 9.5e-5, 1e-5, 123456.789, 1e14 + 0.5,
         999999999999999.9, 1e15, 1e16, 1e22, -0.0, 0.0, 3.0, -7.0, float("nan"),
         float("inf"), -float("inf"), 2.0 ** -1074, 1.7976931348623157e308, 12.3456789012345],
        ["", "ascii", "caf\xe9 cr\xe8me", "\u65e5\u672c\u8a9e", "\U0001f600 emoji",
         "lone \ud800 surrogate", "\xe9" * 150, "\u65e5" * 101, "a" * 100, "b" * 101],
        [bytes(range(256)), b"", b"quote ' and \\ backslash", b"x" * 101],
    ]
    # Cyclic garbage (the collector is off): lists, instances with and without a
    # materialised dict, a dict, a slotted instance, a finalizer.
    a = []
    a.append(a)
    p = Point(1, 2)
    p.me = p
    m = Point(3, 4)
    m.__dict__["me"] = m
    d = {}
    d["me"] = d
    s2 = Slotted()
    s2.a = s2
    w = WithDel()
    w.me = w


def preview(o):
    """The value preview heapsnap writes for o (FORMAT.md), or None for an object without."""
    if o is None:
        return "None"
    if isinstance(o, bool):
        return repr(o)
    if isinstance(o, str):
        text = "".join("\ufffd" if 0xD800 <= ord(c) < 0xE000 else c for c in o[:100])
        return text + ("\u2026" if len(o) > 100 else "")
    if isinstance(o, int):
        v = int(o)
        return str(v) if -(2 ** 63) <= v < 2 ** 63 else "<int of %d bits>" % v.bit_length()
    if isinstance(o, float):
        return repr(float(o))
    if isinstance(o, bytes):
        return repr(bytes(o[:100])) + ("\u2026" if len(o) > 100 else "")
    return None


def main():
    cli = sys.argv[1]
    fails = Failures()
    gc.disable()
    build()
    path = os.path.join(tempfile.mkdtemp(prefix="inproc-heap-"), "heap.hsnap")
    heapsnap.dump(path, threads=THREADS)  # the checked dump reuses the work arrays that this one keeps
    counts = heapsnap.dump(path, threads=THREADS)  # DUMP_LINE
    garbage = collect_garbage()
    truth = take_truth(exclude=(garbage, counts) + tuple(counts.values()))  # made after it
    snap = load(cli, path)

    compare(snap, truth, garbage, fails)
    O = snap.objects
    named = compare_type_names(cli, path, truth, fails)
    print("type names: %d types compared with type.__name__, __module__, __qualname__"
          % len(named))
    fails.check(len(named) > 100 and {id(c) for c in NAMED} <= named,
                "type names compared for %d types, of the awkward ones %s"
                % (len(named), [c.__qualname__ for c in NAMED if id(c) not in named]))

    # Returned counts.
    fails.check(counts["objects"] == len(O), "counts %s vs %d objects" % (counts, len(O)))
    fails.check(counts["bytes"] == os.path.getsize(path), "counts bytes %s" % counts)
    fails.check(counts["edges"] == sum(len(e) for e in snap.edges.values()), "edge count")
    fails.check(counts["weak"] == len(snap.weak) and counts["roots"] == len(snap.roots),
                "weak/roots count")
    fails.check(counts["heap_bytes"] == sum(o["size"] for o in O.values()), "heap_bytes")

    # Refcounts by construction, and equal to the incoming traverse + owned edges.
    pts, shared = HEAP["points"], HEAP["shared"]
    expect = [(id(p), 1, "Point") for p in pts] + [
        (id(shared), 103, "shared Leaf"), (id(pts), 2, "points list"), (id(HEAP), 2, "HEAP")]
    for addr, n, what in expect:
        rec = O.get(addr)
        fails.check(rec is not None and rec["refcnt"] == n,
                    "%s: refcnt %s, construction says %d" % (what, rec and rec["refcnt"], n))
        fails.check(snap.indegree(addr) == n, "%s: %d incoming edges, refcnt %d"
                    % (what, snap.indegree(addr), n))

    # Instance counts per class against a count over gc.get_objects().
    objs = gc.get_objects()
    for cls in (Point, Slotted, Leaf, WithDel):
        live = sum(1 for o in objs if type(o) is cls)
        snapped = sum(1 for o in O.values() if o["type"] == cls.__name__)
        fails.check(live == snapped and live > 0, "%s: %d in snapshot, %d by gc.get_objects()"
                    % (cls.__name__, snapped, live))
    del objs

    # Weak links: live, with a callback, dead.
    target = HEAP["weak_target"]
    fails.check(snap.weak.get(id(HEAP["wr_live"])) == (id(target), None), "live weakref")
    fails.check(snap.weak.get(id(HEAP["wr_cb"])) == (id(target), id(HEAP["callback"])),
                "weakref with callback: %s" % (snap.weak.get(id(HEAP["wr_cb"])),))
    fails.check(snap.weak.get(id(HEAP["wr_dead"])) == (None, None), "dead weakref: %s"
                % (snap.weak.get(id(HEAP["wr_dead"])),))

    # Labels where the container says what the reference is.
    main_dict = sys.modules[__name__].__dict__
    fails.check(snap.labels(id(HEAP), id(pts)) == ["['points']"], "dict key label")
    fails.check(snap.labels(id(main_dict), id(HEAP)) == ["['HEAP']"], "module dict label")
    fails.check(snap.labels(id(HEAP["by_int"]), id(HEAP["by_int"][1])) == ["[1]"],
                "int key label: %s" % snap.labels(id(HEAP["by_int"]), id(HEAP["by_int"][1])))
    fails.check(snap.labels(id(HEAP["tuple"]), id(shared)) == ["[0]", "[1]"], "tuple labels")
    fails.check(snap.labels(id(pts), id(pts[7])) == ["[7]"], "list label")
    fails.check(snap.labels(id(HEAP["slotted"]), id(pts)) == [".a"], "slot label")
    p = pts[5]
    direct = snap.labels(id(p), id(shared))
    if sys.version_info >= (3, 11) and direct:
        fails.check(direct == [".y"], "inline attribute label: %s" % direct)
    else:
        fails.check(snap.labels(id(p), id(p.__dict__)) == [".__dict__"], "__dict__ label")
        fails.check(snap.labels(id(p.__dict__), id(shared)) == ["['y']"], "attr key label")
    fails.check(snap.labels(id(p), id(Point)) == [".__class__"], "class label")
    f = HEAP["closure"]
    fails.check(snap.labels(id(f), id(f.__globals__)) == [".__globals__"], "globals label")
    fails.check(snap.labels(id(f), id(f.__code__)) == [".__code__"], "code label")
    fails.check(snap.labels(id(f), id(f.__defaults__)) == [".__defaults__"], "defaults label")
    cell = f.__closure__[0]
    fails.check(snap.labels(id(f.__closure__), id(cell)) == ["[0]"], "closure label")
    fails.check(snap.labels(id(cell), id(cell.cell_contents)) == [".cell_contents"], "cell")
    fails.check(snap.labels(id(Point), id(Point.__mro__)) == [".__mro__"], "mro label")
    fails.check(snap.labels(id(Point), id(Point.__dict__)) in ([".__dict__"], []),
                "type dict label")
    code = f.__code__
    fails.check(snap.labels(id(code), id(code.co_consts)) == [".co_consts"] and
                O[id(code)]["type"] == "code", "code constants (owned)")
    key_edges = [e for e in snap.edges[id(HEAP)] if e[0] == id("points")]
    fails.check(key_edges == [(id("points"), "<key>", "owned")], "str key owned: %s" % key_edges)

    # Values, flags.
    fails.check(O[id(HEAP["slotted"].b)].get("value") == HEAP["slotted"].b, "str value")
    fails.check(O[id(HEAP["big"])].get("value") == "<int of 101 bits>", "big int value")
    fails.check(O[id(HEAP["float"])].get("value") == "2.5", "float value")
    fails.check(O[id(HEAP["bytes"])].get("value") == "b'raw\\x00bytes'", "bytes value")
    fails.check(O[id(None)].get("value") == "None", "None value")
    wrong = [(truth[a][1], truth[a][0], O[a].get("value")) for a in truth
             if a in O and preview(truth[a][0]) != O[a].get("value")]
    fails.check(not wrong, "%d values differ from their preview, e.g. %s"
                % (len(wrong), wrong[:5]))
    fails.check(bool(O[id(None)].get("immortal")) == (sys.version_info >= (3, 12)),
                "None immortal flag")
    fails.check(O[id(pts)].get("gen") in (0, 1, 2) and O[id(pts)]["gc"], "list generation")
    fails.check("gen" not in O[id(HEAP["float"])] and not O[id(HEAP["float"])]["gc"],
                "untracked float")

    # Roots.
    names = {(r["kind"], r["name"]) for r in snap.roots}
    fails.check(("module", "sys.modules") in names and ("module", "builtins.__dict__") in names,
                "named roots: %s" % sorted(names)[:5])
    fails.check(any(r["addr"] == id(sys.modules) for r in snap.roots), "sys.modules root")
    fails.check(any(k == "frame" and "main" in n for k, n in names), "frame roots")
    # main's frame is named by the thread's id and the line it is executing, the dump's call.
    want = "<thread %d: main (%s:%d)" % (threading.get_ident(), __file__, DUMP_LINE)
    fails.check(any(k == "frame" and n.startswith(want) for k, n in names),
                "main's frame root %s: %s" % (want, sorted(n for _, n in names if "main" in n)))

    # The dump does not count itself: no object of the heapsnap module's making.
    own = [o for o in O.values() if o["type"] in ("dict",) and o.get("value")]
    fails.check(not own, "values on dicts?")

    fails.finish("inproc_heap")


if __name__ == "__main__":
    main()
