"""field_truth.py: heapsnap's answers on real heaps (tests/targets/field_apps.py: Django ORM,
SQLAlchemy 1.4 sessions, numpy, ABCMeta and Enum classes, bound methods, closures) against the
process's own answers, in process (heapsnap.dump).

usage: PYTHONPATH=BUILD/capture/inproc PYTHON field_truth.py HEAPSNAP_CLI [--stdlib]

  deep sizes: hs_deep_size of every object the workload names equals (APPROXIMATE: is within
    2% of) a walk over
    gc.get_referents (plus dict keys, plus the fields of code objects, which are not GC
    objects) summing sys.getsizeof, that does not enter types (isinstance(o, type): any
    metaclass), modules, or modules' namespace dicts (a module's __dict__, a function's
    __globals__/__builtins__, a frame's f_globals/f_builtins) unless it starts there; the keys
    of an instance's __dict__ are the class's (CPython shares them in the class's cached keys);
  dominators: objects.idom equals networkx.immediate_dominators over the exported graph (every
    strong edge) from a virtual root above the roots (named roots, and objects whose refcount
    exceeds their traverse and owned edges in);
  garbage: objects.unreachable equals what gc.collect() finds under DEBUG_SAVEALL;
  no tp_traverse: the elements of a numpy object array are held from outside the graph, and
    show, path (the root's note) and the leak report name ndarray as a possible holder.
--remote also captures the process from outside (`heapsnap capture --pid`, pyenv's
interpreters) and checks the deep sizes of its data objects and bound methods there.
--stdlib builds the standard-library parts only (pyenv's interpreters); without it a missing
package (Django, SQLAlchemy, numpy, networkx) makes the test SKIP (exit 77) with the reason;
with it, an interpreter without networkx checks deep sizes and garbage only, and says so.
"""
import csv
import gc
import io
import json
import os
import subprocess
import sys
import tempfile
import types

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "targets"))

import field_apps  # noqa: E402
import heapsnap  # noqa: E402
from inproc_check import Failures, collect_garbage, compare_type_names  # noqa: E402

CLI = sys.argv[1]
STDLIB = "--stdlib" in sys.argv[2:]
REMOTE = "--remote" in sys.argv[2:]


def sql(path, query):
    out = subprocess.run([CLI, "sql", path, query, "--format", "csv"], check=True,
                         capture_output=True, text=True).stdout
    return list(csv.reader(io.StringIO(out)))[1:]


def namespaces():
    """The ids of every module's namespace dict, by the definition of SCHEMA.md."""
    ns = set()
    for o in gc.get_objects():
        if isinstance(o, types.ModuleType):
            ns.add(id(o.__dict__))
        elif isinstance(o, types.FunctionType):
            ns.add(id(o.__globals__))
            ns.add(id(getattr(o, "__builtins__", o.__globals__)))
        elif isinstance(o, types.FrameType):
            ns.update((id(o.f_globals), id(o.f_builtins)))
    for m in list(sys.modules.values()):
        ns.add(id(getattr(m, "__dict__", None)))
    return ns


class Synthetic:
    """A field of a code object that Python does not expose (3.11+: co_localsplusnames, a
    tuple, and co_localspluskinds, bytes): its size and referents, from what Python shows."""

    def __init__(self, size, refs):
        self.size, self.refs = size, refs


def code_fields(c, shared):
    """The objects a code object holds (the snapshot's owned edges from it)."""
    names = ["co_consts", "co_names", "co_filename", "co_name"]
    if sys.version_info >= (3, 11):
        names += ["co_qualname", "co_linetable", "co_exceptiontable"]
        local = list(dict.fromkeys(c.co_varnames + c.co_cellvars + c.co_freevars))
        # Empty ones are the interpreter's shared () and b''; the others one per code object.
        refs = [getattr(c, n) for n in names]
        refs.append(() if not local else shared.setdefault(
            ("names", id(c)), Synthetic(sys.getsizeof(tuple(local)), local)))
        refs.append(b"" if not local else shared.setdefault(
            ("kinds", id(c)), Synthetic(sys.getsizeof(bytes(len(local))), [])))
        return refs
    names += ["co_code", "co_varnames", "co_freevars", "co_cellvars"]
    names.append("co_linetable" if sys.version_info >= (3, 10) else "co_lnotab")
    return [getattr(c, n) for n in names]


def oracle_deep(x, ns):
    """Bytes reachable from x: the get_referents walk that skips types, modules, namespaces."""
    seen, stack, total, shared, instance_dicts = {id(x)}, [x], 0, {}, set()
    while stack:
        o = stack.pop()
        if isinstance(o, Synthetic):
            total += o.size
            refs = o.refs
        else:
            total += sys.getsizeof(o)
            refs = gc.get_referents(o)
            if isinstance(o, dict) and id(o) not in instance_dicts:
                refs = refs + list(o.keys())
            elif isinstance(o, types.CodeType):
                refs = refs + code_fields(o, shared)
        for r in refs:
            if id(r) in seen:
                continue
            seen.add(id(r))
            if isinstance(r, (type, types.ModuleType)) or id(r) in ns:
                continue
            if isinstance(r, dict) and getattr(o, "__dict__", None) is r:
                instance_dicts.add(id(r))  # an existing __dict__: reading it makes none
            stack.append(r)
    return total


# Where Python cannot see what the snapshot sees, the walk is only close: SQLAlchemy's
# instances have both split __dict__s (keys in the class) and combined ones (keys their own),
# which Python does not tell apart; code objects of 3.11+ may share their (hidden)
# co_localsplusnames tuple with another merged constant tuple.  Before the fix these came out
# about twice as big.
APPROXIMATE = ("sa_users", "sa_session", "functions")


def check_deep(path, work, fails, only=None, approximate=APPROXIMATE):
    ns = namespaces()
    work = {k: v for k, v in work.items() if only is None or k in only}
    addrs = ",".join(str(id(v)) for v in work.values())
    got = {int(a): int(d) for a, d in
           sql(path, "SELECT addr, hs_deep_size(id) FROM objects WHERE addr IN (%s)" % addrs)}
    for name, v in work.items():
        want, have = oracle_deep(v, ns), got.get(id(v))
        if name in approximate:
            fails.check(have is not None and abs(have - want) <= want // 50,
                        "deep size of %s: heapsnap %s, get_referents walk %d (2%% allowed)"
                        % (name, have, want))
        else:
            fails.check(have == want, "deep size of %s: heapsnap %s, get_referents walk %d"
                        % (name, have, want))
    # The list of 1,200 bound methods holds its methods, their records and the one function.
    fails.check(got.get(id(work["bound_methods"]), 0) < 400000,
                "bound methods' deep size %d wanders into the program"
                % got[id(work["bound_methods"])])


def read_graph(path):
    """Objects {addr: (refcnt, immortal)}, strong edges [(src, dst)], named root addrs."""
    out = subprocess.run([CLI, "export", path], check=True, capture_output=True, text=True)
    objs, edges, named = {}, [], set()
    for line in out.stdout.split("\n"):  # not splitlines: strings may hold U+2028, \x1c
        if not line:
            continue
        r = json.loads(line)
        if r["t"] == "object":
            objs[r["addr"]] = (r["refcnt"], r.get("immortal", False))
        elif r["t"] == "edge":
            edges.append((r["src"], r["dst"], r.get("kind", "traverse")))
        elif r["t"] == "root":
            named.add(r["addr"])
    return objs, edges, named


def check_dominators(path, fails):
    import networkx as nx
    objs, edges, named = read_graph(path)
    indeg = dict.fromkeys(objs, 0)
    g = nx.DiGraph()
    g.add_nodes_from(objs)
    for s, d, k in edges:
        if k != "conservative":
            indeg[d] += 1
        g.add_edge(s, d)
    roots = named | {a for a, (rc, imm) in objs.items() if not imm and rc > indeg[a]}
    g.add_edges_from(("root", r) for r in roots)
    want = nx.immediate_dominators(g, "root")
    rows = sql(path, "SELECT o.addr, d.addr, o.is_root FROM objects o "
                     "LEFT JOIN objects d ON d.id = o.idom")
    wrong = []
    for a, d, is_root in rows:
        a = int(a)
        w = want.get(a)
        w = None if w in (None, "root") else w
        if (int(d) if d else None) != w:
            wrong.append((hex(a), d and hex(int(d)), w and hex(w)))
    fails.check(len(rows) == len(objs) > 10000, "%d rows, %d objects" % (len(rows), len(objs)))
    fails.check(not wrong, "%d immediate dominators differ from networkx (addr, heapsnap, "
                "networkx): %s" % (len(wrong), wrong[:5]))
    db_roots = {int(a) for a, _, r in rows if r == "1"}
    fails.check(db_roots == roots, "roots: %d by heapsnap, %d by refcount - edges in"
                % (len(db_roots), len(roots)))


def check_garbage(path, garbage, fails):
    got = {int(a) for (a,) in sql(path, "SELECT addr FROM objects WHERE unreachable")}
    found = {id(g) for g in garbage}
    fails.check(got == found and len(found) >= 5, "garbage: heapsnap %d, gc.collect() %d; "
                "only heapsnap %s, only gc %s" % (len(got), len(found), sorted(got - found)[:5],
                                                   sorted(found - got)[:5]))


def check_untraversed(path, work, fails):
    """numpy's ndarray has no tp_traverse: what an object array holds shows as held from
    outside, and show, path and the leak report say that it may be the array."""
    def run(*args):
        return subprocess.run([CLI] + list(args), capture_output=True, text=True).stdout
    shown = run("show", path, hex(id(work["np_element"])))
    fails.check("no tp_traverse" in shown and "numpy.ndarray" in shown,
                "show of an ndarray's element does not name ndarray: %s" % shown[:300])
    only_in_array = work["np_array"][0]  # held by nothing but the array
    rooted = run("path", path, hex(id(only_in_array)))
    fails.check(rooted.startswith("<list at") and "root: held from outside" in rooted
                and "numpy.ndarray" in rooted, "path's root note: %s" % rooted[:300])
    # The leak report takes minutes on this heap: it reads a small one with an object array.
    small = os.path.join(os.path.dirname(path), "numpy.hsnap")
    subprocess.run([sys.executable, "-c", NUMPY_HEAP, small], check=True)
    report = run("leaks", small)
    fails.check("no tp_traverse: " in report and "numpy.ndarray" in report,
                "the leak report does not name ndarray: %s" % report[:300])


NUMPY_HEAP = """
import sys, heapsnap, numpy
held = numpy.empty(200, dtype=object)
for i in range(200):
    held[i] = ["held by the array only", i]
heapsnap.dump(sys.argv[1])
"""


def check_type_names(path, fails):
    """Every type's name, module and qualified name as Python reports them (issue 16 item 4),
    SQLAlchemy's _symbol among them, whose __name__ is "symbol"."""
    live = {id(o): (o,) for o in gc.get_objects() if isinstance(o, type)}
    seen = compare_type_names(CLI, path, live, fails)
    renamed = [t for t, in live.values() if t.__name__ != t.__qualname__.rsplit(".", 1)[-1]]
    print("type names: %d types compared, %d of them renamed (%s)"
          % (len(seen), sum(1 for t in renamed if id(t) in seen),
             ", ".join(sorted("%s.%s as %s" % (t.__module__, t.__qualname__, t.__name__)
                              for t in renamed if id(t) in seen)[:3])))
    if not STDLIB:
        from sqlalchemy.util import langhelpers
        fails.check(id(langhelpers._symbol) in seen, "SQLAlchemy's _symbol not compared")


def main():
    gc.disable()
    work = {}
    missing = field_apps.build(work, third_party=not STDLIB)
    try:
        import networkx  # noqa: F401
        have_networkx = True
    except ImportError as e:
        have_networkx = False
        if not STDLIB:
            missing.append(("networkx", str(e)))
    if missing:
        print("SKIP: missing %s" % "; ".join("%s (%s)" % m for m in missing))
        sys.exit(77)
    path = os.path.join(tempfile.mkdtemp(prefix="field-truth-"), "field.hsnap")
    heapsnap.dump(path)
    garbage = collect_garbage()
    fails = Failures()
    check_deep(path, work, fails)
    check_garbage(path, garbage, fails)
    if not STDLIB:
        check_untraversed(path, work, fails)
    check_type_names(path, fails)
    if REMOTE:
        # The same heap captured from outside (heapsnap capture --pid of this very process,
        # paused while this one waits for it): the data objects' deep sizes exactly.
        remote = os.path.join(os.path.dirname(path), "remote.hsnap")
        subprocess.run([CLI, "capture", "--pid", str(os.getpid()), "-o", remote], check=True,
                       capture_output=True)
        # Code objects are read field by field there (2% allowed where they are reached).
        check_deep(remote, work, fails, only=("abc_classes", "enum_members", "records",
                                              "chainmap", "bound_methods", "closures"),
                   approximate=("bound_methods", "closures"))
    if have_networkx:
        check_dominators(path, fails)
    else:
        print("field_truth: dominators not checked: this interpreter has no networkx")
    fails.finish("field_truth")


if __name__ == "__main__":
    main()
