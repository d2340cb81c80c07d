"""inproc_check.py: the oracles shared by the in-process capture tests (inproc_heap.py,
inproc_thirdparty.py).

The order matters and is the same in every test, because the test process is the heap:
    counts = heapsnap.dump(path)      # gc disabled since before the heap was built
    garbage = collect_garbage()       # gc.collect() with DEBUG_SAVEALL: what CPython frees
    truth = take_truth()              # gc.get_objects / getsizeof / get_referents, now
    snap = load(cli, path)            # `heapsnap export` of the snapshot
and then the comparisons.  Nothing runs between the dump and take_truth that could change an
object that existed at the dump, except the frames of this very code (skipped by the edge
comparison).  take_truth holds every object it saw, so no address is reused while checking.
"""
import gc
import json
import subprocess
import sys
import types


class Failures:
    """Collects failures; a test exits 1 if there is any."""

    def __init__(self):
        self.items = []
        self.checks = 0

    def check(self, ok, what):
        self.checks += 1
        if not ok:
            self.items.append(what)

    def finish(self, name):
        for f in self.items[:40]:
            print("FAIL:", f)
        if len(self.items) > 40:
            print("FAIL: ... and %d more" % (len(self.items) - 40))
        print("%s: python %s: %d checks, %d failures"
              % (name, sys.version.split()[0], self.checks, len(self.items)))
        sys.exit(1 if self.items else 0)


class Snapshot:
    def __init__(self, lines):
        self.objects = {}  # addr -> object record
        self.edges = {}  # src addr -> [(dst, label, kind)]
        self.weak = {}  # ref addr -> (referent, callback)
        self.roots = []
        for line in lines:
            r = json.loads(line)
            t = r["t"]
            if t == "object":
                self.objects[r["addr"]] = r
            elif t == "edge":
                self.edges.setdefault(r["src"], []).append(
                    (r["dst"], r.get("label"), r.get("kind", "traverse")))
            elif t == "weak":
                self.weak[r["ref"]] = (r["referent"], r["callback"])
            elif t == "root":
                self.roots.append(r)

    def traverse(self, addr):
        return [d for d, _, k in self.edges.get(addr, ()) if k == "traverse"]

    def labels(self, src, dst):
        return [l for d, l, _ in self.edges.get(src, ()) if d == dst]

    def indegree(self, addr):
        return sum(1 for es in self.edges.values() for d, _, k in es
                   if d == addr and k in ("traverse", "owned"))

    def predicted_garbage(self):
        """CPython's unreachable set, computed from the snapshot (DESIGN.md semantics)."""
        cand = {a for a, o in self.objects.items() if o.get("gen") in (0, 1, 2)}
        refs = {a: self.objects[a]["refcnt"] for a in cand}
        for a in cand:
            for d in self.traverse(a):
                if d in refs:
                    refs[d] -= 1
        reach = [a for a in cand if refs[a] > 0]
        seen = set(reach)
        while reach:
            a = reach.pop()
            for d in self.traverse(a):
                if d in cand and d not in seen:
                    seen.add(d)
                    reach.append(d)
        return cand - seen


def load(cli, path):
    out = subprocess.run([cli, "export", path], check=True, capture_output=True, text=True)
    return Snapshot(out.stdout.splitlines())


def collect_garbage():
    """Runs a full collection that keeps what it finds; returns the garbage (kept alive)."""
    gc.set_debug(gc.DEBUG_SAVEALL)
    gc.collect()
    gc.set_debug(0)
    garbage = list(gc.garbage)
    gc.garbage.clear()
    return garbage


def take_truth(exclude=()):
    """Every object reachable by gc.get_referents from gc.get_objects(), as
    {addr: (object, type qualname, getsizeof, [referent addrs])}; holds the objects.
    Frames are recorded but not followed: their locals are what the test made after the
    dump.  exclude: more objects made after the dump (not recorded, but followed)."""
    truth = {}
    work = gc.get_objects()
    skip = {id(x) for x in exclude}  # made after get_objects, so not in it
    skip.add(id(exclude))
    while work:
        o = work.pop()
        if id(o) in truth:
            continue
        refs = gc.get_referents(o)
        if id(o) not in skip:
            truth[id(o)] = (o, None, None, [id(r) for r in refs])
        if type(o) is not types.FrameType:
            work.extend(refs)  # no generator: its closure cell would reach truth itself
    # Names and sizes last: type.__name__ and sys.getsizeof ready a C type that nothing
    # has readied yet (3.9's _lru_list_elem), which adds a weak reference to its base's
    # __subclasses__ dict.
    for a, (o, _, _, refs) in truth.items():
        truth[a] = (o, type(o).__name__, sys.getsizeof(o), refs)
    return truth


def compare_type_names(cli, path, truth, fails):
    """Every type record whose type object is in truth against what Python says of that type
    now (FORMAT.md §4.3, §4.4): name is type.__name__, module type.__module__ ("" when it is
    not a str), and the qualified name (META type.qualname.ID, else the name) type.__qualname__.
    Returns the addresses of the types compared."""
    out = subprocess.run(
        [cli, "sql", path, "SELECT o.addr AS addr, t.name AS name, t.module AS module, "
         "coalesce((SELECT value FROM meta WHERE key = 'type.qualname.' || t.id), t.name) "
         "AS qualname FROM types t JOIN objects o ON o.id = t.type_object", "--format", "json"],
        check=True, capture_output=True, text=True).stdout
    seen = set()
    for r in json.loads(out):
        o = truth.get(r["addr"], (None,))[0]
        if not isinstance(o, type):
            continue
        seen.add(r["addr"])
        mod = getattr(o, "__module__", None)
        want = (o.__name__, mod if isinstance(mod, str) else "", o.__qualname__)
        got = (r["name"], r["module"], r["qualname"])
        fails.check(got == want, "type at 0x%x: (name, module, qualname) %r, Python says %r"
                    % (r["addr"], got, want))
    return seen


def compare(snap, truth, garbage, fails, skip_types=("frame",)):
    """The exactness oracles of issue 3 over every object of truth."""
    missing = [(a, t[1]) for a, t in truth.items()
               if a not in snap.objects and t[1] not in skip_types]
    fails.check(not missing, "%d live objects not in the snapshot, e.g. %s"
                % (len(missing), missing[:5]))
    nsize = nedge = 0
    for a, (o, tname, size, refs) in truth.items():
        rec = snap.objects.get(a)
        if rec is None:
            continue
        fails.check(rec["type"] == tname, "0x%x: type %s, expected %s" % (a, rec["type"], tname))
        if rec["type"] != tname:
            continue
        nsize += 1
        fails.check(rec["size"] == size, "0x%x %s: size %d, getsizeof %d"
                    % (a, tname, rec["size"], size))
        # gc.collect() untracks the dicts and tuples that hold no tracked object.
        fails.check(bool(rec.get("gc")) == gc.is_tracked(o) or
                    (rec.get("gc") and type(o) in (dict, tuple)),
                    "0x%x %s: gc flag %s" % (a, tname, rec.get("gc")))
        if tname in skip_types:
            continue
        nedge += 1
        got = snap.traverse(a)
        # The same multiset (lists and tuples are written first item first).
        fails.check(sorted(got) == sorted(refs), "0x%x %s: traverse edges %s, get_referents %s"
                    % (a, tname, [hex(x) for x in got][:8], [hex(x) for x in refs][:8]))
    fails.check(nsize > 1000 and nedge > 1000,
                "too few objects compared (%d sizes, %d edge lists)" % (nsize, nedge))
    # What gc.collect() found unreachable is what the snapshot predicts.
    found = {id(g) for g in garbage}
    predicted = snap.predicted_garbage()
    fails.check(found == predicted, "gc.collect found %d objects, snapshot predicts %d: "
                "only found %s, only predicted %s"
                % (len(found), len(predicted), sorted(found - predicted)[:5],
                   sorted(predicted - found)[:5]))
    return nsize, nedge
