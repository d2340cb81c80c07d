"""test_graph_networkx.py -- checks the analyzer's graph algorithms (analyzer/graph/) against
networkx and against CPython's collector algorithm written out in Python.

Each case is a graph written as JSON lines (DESIGN.md), turned into a snapshot with
`heapsnap convert`, analyzed by `hs-analyze-dump` (tests/integration/hs_analyze_dump.c), and
compared object by object: immediate dominators (networkx.immediate_dominators from a virtual
root over all roots), retained sizes (sums over the dominator tree), depth (BFS from the virtual
root), strongly connected components, external references and GC garbage.  Cases: random graphs
with every edge kind, unreachable parts, immortals, the permanent generation and opaque objects;
a str-keyed dict (owned edges: dominators count them, the collector does not); a chain of a
million objects and a cycle of a million (no recursion anywhere); labelled paths and deep sizes.

usage: test_graph_networkx.py HEAPSNAP HS_ANALYZE_DUMP   (run by meson; exits non-zero on failure)
"""

import json
import os
import random
import shutil
import subprocess
import sys
import tempfile

import networkx as nx

HEAPSNAP, DUMP = sys.argv[1], sys.argv[2]
TMP = tempfile.mkdtemp(prefix="hs-graph-")
FAILURES = []

GC, IMMORTAL, SCAN = 0x01, 0x02, 0x04
IMMORTAL_REFCNT = 0xFFFFFFFF


class Graph:
    """A heap graph: objects by index (addr = 4096 * (index + 1)), strong edges, named roots."""

    def __init__(self):
        self.objs = []  # dicts: type, size, refcnt (None: computed), flags, gen, extra
        self.edges = []  # (src, dst, kind, label)
        self.roots = []  # (obj, kind, name)

    def add(self, type_="object", size=16, flags=GC, gen=2, extra=0, refcnt=None):
        self.objs.append(dict(type=type_, size=size, flags=flags, gen=gen, extra=extra,
                              refcnt=refcnt))
        return len(self.objs) - 1

    def edge(self, src, dst, kind="traverse", label=None):
        self.edges.append((src, dst, kind, label))

    @staticmethod
    def addr(i):
        return 4096 * (i + 1)

    def refcnt(self, i):
        """The refcount: an explicit one, or the traverse+owned edges into i plus extra."""
        o = self.objs[i]
        if o["refcnt"] is not None:
            return o["refcnt"]
        return max(0, self.indeg[i] + o["extra"])

    def write(self, name):
        self.indeg = [0] * len(self.objs)
        for s, d, k, _ in self.edges:
            if k != "conservative":
                self.indeg[d] += 1
        path = os.path.join(TMP, name + ".jsonl")
        with open(path, "w") as f:
            out = []
            for i, o in enumerate(self.objs):
                rec = {"t": "object", "addr": self.addr(i), "type": o["type"], "size": o["size"],
                       "refcnt": self.refcnt(i), "gc": bool(o["flags"] & GC),
                       "immortal": bool(o["flags"] & IMMORTAL),
                       "flags": o["flags"] & ~(GC | IMMORTAL)}
                if o["gen"] is not None:
                    rec["gen"] = o["gen"]
                out.append(json.dumps(rec))
            for s, d, k, label in self.edges:
                rec = {"t": "edge", "src": self.addr(s), "dst": self.addr(d), "kind": k}
                if label is not None:
                    rec["label"] = label
                out.append(json.dumps(rec))
            for obj, kind, rname in self.roots:
                out.append(json.dumps({"t": "root", "addr": self.addr(obj), "kind": kind,
                                       "name": rname}))
            f.write("\n".join(out) + "\n")
        snap = os.path.join(TMP, name + ".hsnap")
        subprocess.run([HEAPSNAP, "convert", path, "-o", snap], check=True,
                       stderr=subprocess.DEVNULL)
        return snap


def dump(snap):
    """hs-analyze-dump's table, by object index."""
    out = subprocess.run([DUMP, snap], check=True, capture_output=True, text=True).stdout
    rows = []
    for line in out.splitlines():
        addr, idom, depth, retained, scc, scc_size, unreach, ext, is_root = map(int, line.split())
        rows.append(dict(idom=-1 if idom == -1 else idom // 4096 - 1, depth=depth,
                         retained=retained, scc=scc, scc_size=scc_size, unreachable=unreach,
                         ext_refs=ext, is_root=is_root))
    return rows


def check(name, cond, what):
    if not cond:
        FAILURES.append(f"{name}: {what}")
        print(f"FAIL {name}: {what}", file=sys.stderr)


# --- oracles -----------------------------------------------------------------------------------

def expected_ext_refs(g):
    return [0 if o["flags"] & IMMORTAL else g.refcnt(i) - g.indeg[i]
            for i, o in enumerate(g.objs)]


def expected_garbage(g):
    """capture/CPYTHON.md §7.1, written plainly with sets."""
    n = len(g.objs)
    cand = {i for i, o in enumerate(g.objs) if o["flags"] & GC and o["gen"] != 3}
    gc_refs = {i: g.refcnt(i) for i in cand}
    for s, d, k, _ in g.edges:
        if s in cand and d in cand and k == "traverse" and not g.objs[s]["flags"] & SCAN:
            gc_refs[d] -= 1
    alive = {i for i in cand if gc_refs[i] > 0 or g.objs[i]["flags"] & IMMORTAL}
    out = [[] for _ in range(n)]
    for s, d, k, _ in g.edges:
        if k == "traverse" or (k == "conservative" and g.objs[s]["flags"] & SCAN):
            out[s].append(d)
    todo = list(alive)
    while todo:
        v = todo.pop()
        for w in out[v]:
            if w in cand and w not in alive:
                alive.add(w)
                todo.append(w)
    return [int(i in cand and i not in alive) for i in range(n)]


def compare(name, g, rows):
    n = len(g.objs)
    ext = expected_ext_refs(g)
    roots = {i for i in range(n) if ext[i] > 0} | {r[0] for r in g.roots}
    G = nx.DiGraph()
    G.add_nodes_from(range(n))
    G.add_node("V")
    G.add_edges_from((s, d) for s, d, _, _ in g.edges)
    G.add_edges_from(("V", r) for r in roots)
    idom = nx.immediate_dominators(G, "V")
    # Depth: breadth-first from the roots in tiers (graph_depth.c): module-level named roots,
    # then the other named roots, then the unnamed (external-reference) roots, each tier
    # searched to exhaustion before the next; distances counted from the virtual root.
    tiers = [[r for r, kind, _ in g.roots if kind in ("module", "builtins", "sys")],
             [r for r, kind, _ in g.roots if kind not in ("module", "builtins", "sys")],
             sorted(roots)]
    depth = {"V": 0}
    for seeds in tiers:
        frontier = [r for r in seeds if r not in depth]
        for r in frontier:
            depth[r] = 1
        while frontier:
            nxt = []
            for v in frontier:
                for w in G.successors(v):
                    if w not in depth:
                        depth[w] = depth[v] + 1
                        nxt.append(w)
            frontier = nxt
    # Retained sizes: a preorder of the dominator tree, summed in reverse (children first).
    retained = {i: g.objs[i]["size"] for i in range(n)}
    children = {}
    for v, d in idom.items():
        if v != "V":
            children.setdefault(d, []).append(v)
    stack, post = ["V"], []
    while stack:
        v = stack.pop()
        post.append(v)
        stack.extend(children.get(v, []))
    for v in reversed(post):
        if v != "V" and idom[v] != "V":
            retained[idom[v]] += retained[v]
    comp = {}
    for k, c in enumerate(nx.strongly_connected_components(G.subgraph(range(n)))):
        for v in c:
            comp[v] = (k, len(c))
    garbage = expected_garbage(g)
    bad = 0
    for i, r in enumerate(rows):
        want_idom = -1 if i not in idom or idom[i] == "V" else idom[i]
        want_depth = depth[i] - 1 if i in depth else -1
        errs = []
        if r["idom"] != want_idom:
            errs.append(f"idom {r['idom']} != {want_idom}")
        if r["depth"] != want_depth:
            errs.append(f"depth {r['depth']} != {want_depth}")
        if r["retained"] != retained[i]:
            errs.append(f"retained {r['retained']} != {retained[i]}")
        if r["scc_size"] != comp[i][1]:
            errs.append(f"scc_size {r['scc_size']} != {comp[i][1]}")
        if r["ext_refs"] != ext[i]:
            errs.append(f"ext_refs {r['ext_refs']} != {ext[i]}")
        if r["is_root"] != int(i in roots):
            errs.append(f"is_root {r['is_root']}")
        if r["unreachable"] != garbage[i]:
            errs.append(f"unreachable {r['unreachable']} != {garbage[i]}")
        if errs:
            bad += 1
            if bad <= 5:
                check(name, False, f"object {i}: " + ", ".join(errs))
    # Same component <=> same scc id.
    by_nx = {}
    for i, r in enumerate(rows):
        by_nx.setdefault(comp[i][0], set()).add(r["scc"])
    check(name, all(len(s) == 1 for s in by_nx.values()), "a networkx component split")
    check(name, len({next(iter(s)) for s in by_nx.values()}) == len(by_nx),
          "two networkx components share an scc id")
    check(name, bad == 0, f"{bad} objects differ")
    print(f"ok {name}: {n} objects, {len(g.edges)} edges, {len(roots)} roots, "
          f"{sum(garbage)} garbage, {len(by_nx)} components")


# --- cases -------------------------------------------------------------------------------------

def random_graph(seed, n, avg_deg):
    rnd = random.Random(seed)
    g = Graph()
    for i in range(n):
        flags = GC if rnd.random() < 0.8 else 0
        if rnd.random() < 0.03:
            flags |= IMMORTAL
        if rnd.random() < 0.03:
            flags |= SCAN
        gen = rnd.choice([0, 1, 2, 2, 2, 3]) if flags & GC else None
        extra = 1 if rnd.random() < 0.02 else 0
        refcnt = IMMORTAL_REFCNT if flags & IMMORTAL else None
        g.add(rnd.choice(["list", "dict", "tuple", "str", "Node"]), rnd.randint(16, 400), flags,
              gen, extra, refcnt)
    # Clusters: edges mostly stay inside blocks of 50, so some blocks are never reached.
    for _ in range(int(n * avg_deg)):
        s = rnd.randrange(n)
        d = rnd.randrange(n) if rnd.random() < 0.1 else min(n - 1, (s // 50) * 50 +
                                                             rnd.randrange(50))
        kind = rnd.choices(["traverse", "owned", "conservative"], [0.8, 0.12, 0.08])[0]
        g.edge(s, d, kind)
    for k in range(3):
        g.roots.append((rnd.randrange(n), "module", f"root{k}"))
    # Some objects lose references (refcount drift): negative external references.
    for i in rnd.sample(range(n), n // 100):
        if not g.objs[i]["flags"] & IMMORTAL:
            g.objs[i]["extra"] = -1
    return g


def owned_edges_case():
    """A str-keyed dict: the str keys are owned edges (3.11+ does not traverse them).
    Dominators and ext_refs count owned edges; the collector does not."""
    g = Graph()
    mod = g.add("module", 100, extra=1)
    d = g.add("dict", 232)
    k1 = g.add("str", 55, flags=0, gen=None)
    k2 = g.add("str", 57, flags=0, gen=None)
    v = g.add("list", 72)
    g.edge(mod, d, label=".__dict__")
    g.edge(d, k1, "owned")
    g.edge(d, k2, "owned")
    g.edge(d, v, label="['users']")
    g.roots.append((mod, "module", "sys.modules['app']"))
    # A garbage cycle a <-> b whose b holds an owned reference to a tracked object t.
    a = g.add("list", 88)
    b = g.add("dict", 232)
    t = g.add("list", 64)
    g.edge(a, b)
    g.edge(b, a)
    g.edge(b, t, "owned")
    snap = g.write("owned")
    rows = dump(snap)
    compare("owned-edges", g, rows)
    check("owned-edges", rows[k1]["idom"] == d and rows[k2]["idom"] == d,
          "the dict does not dominate its str keys")
    check("owned-edges", rows[d]["retained"] == 232 + 55 + 57 + 72, "dict retained size")
    check("owned-edges", rows[k1]["ext_refs"] == 0 and not rows[k1]["is_root"],
          "owned edge not subtracted from the key's refcount")
    check("owned-edges", rows[a]["unreachable"] and rows[b]["unreachable"], "cycle not garbage")
    check("owned-edges", not rows[t]["unreachable"],
          "the collector does not see owned edges: t must look externally referenced")
    check("owned-edges", rows[t]["ext_refs"] == 0 and rows[t]["idom"] == -1,
          "t: no external reference and no root")
    return g, rows


def structured_case():
    """Paths and deep sizes on a small program-like heap."""
    g = Graph()
    modules = g.add("dict", 1000, extra=1)  # sys.modules
    app = g.add("module", 72)
    appdict = g.add("dict", 640)
    cache = g.add("dict", 232)
    users = g.add("list", 120)
    items = [g.add("User", 48) for _ in range(5)]
    cls = g.add("type", 1064)
    udicts = [g.add("dict", 104) for _ in range(5)]
    name = g.add("str", 60, flags=0, gen=None)  # shared key str
    orphan = g.add("list", 56, extra=1)  # an unnamed external root
    leaf = g.add("str", 50, flags=0, gen=None)
    g.edge(modules, app, label="['app']")
    g.edge(app, appdict, label=".__dict__")
    g.edge(appdict, cache, label="['cache']")
    g.edge(cache, users, label="['users']")
    for k, (it, ud) in enumerate(zip(items, udicts)):
        g.edge(users, it, label=f"[{k}]")
        g.edge(it, cls, label=".__class__")
        g.edge(it, ud, label=".__dict__")
        g.edge(ud, name, "owned")
    g.edge(orphan, leaf)
    g.roots.append((modules, "module", "sys.modules"))
    g.objs[cls]["extra"] = 1
    snap = g.write("structured")
    rows = dump(snap)
    compare("structured", g, rows)

    def run(*args):
        return subprocess.run([DUMP, snap, *args], check=True, capture_output=True,
                              text=True).stdout.strip()

    want = "sys.modules['app'].__dict__['cache']['users'][3]"
    check("path", run("path", str(g.addr(items[3]))) == want, f"path of users[3]: want {want}")
    check("path", run("path", str(g.addr(leaf))) == f"<list at {hex(g.addr(orphan))}>[0]"
          or run("path", str(g.addr(leaf))) == f"<list at {hex(g.addr(orphan))}>-><str at "
          f"{hex(g.addr(leaf))}>", "path through an unnamed root: " + run("path", str(g.addr(leaf))))
    # Deep size of users: the list, 5 instances, their dicts, the shared key once; not the class.
    want_deep = 120 + 5 * 48 + 5 * 104 + 60
    got = int(run("deep", str(g.addr(users))))
    check("deep", got == want_deep, f"deep size of users {got} != {want_deep}")
    got = int(run("deep", str(g.addr(cls))))
    check("deep", got == 1064, f"deep size of a class is itself: {got}")


def chain_case(n, cycle):
    """root -> 1 -> 2 -> ... -> n-1, closed into one cycle of n objects when cycle is set."""
    g = Graph()
    for i in range(n):
        g.add("Node", 32 + i % 7, extra=int(i == 0))
    for i in range(n - 1):
        g.edge(i, i + 1, label=".next")
    if cycle:
        g.edge(n - 1, 0, label=".next")
    g.roots.append((0, "frame", "<frame main>"))
    name = f"chain-{n}-{'cycle' if cycle else 'line'}"
    rows = dump(g.write(name))
    sizes = [o["size"] for o in g.objs]
    suffix, total = [0] * n, 0
    for i in reversed(range(n)):
        total += sizes[i]
        suffix[i] = total
    bad = [i for i, r in enumerate(rows)
           if r["depth"] != i or r["idom"] != (i - 1 if i else -1) or r["retained"] != suffix[i]
           or r["scc_size"] != (n if cycle else 1) or r["unreachable"]]
    check(name, len(rows) == n and not bad, f"{len(bad)} objects wrong, first {bad[:3]}")
    check(name, len({r["scc"] for r in rows}) == (1 if cycle else n), "scc ids")
    if not bad:
        print(f"ok {name}")


def garbage_chain_case(n):
    """A cycle of n tracked objects with no external reference: all garbage, none reached."""
    g = Graph()
    for i in range(n):
        g.add("list", 56)
    for i in range(n):
        g.edge(i, (i + 1) % n)
    rows = dump(g.write(f"garbage-{n}"))
    check("garbage-cycle", all(r["unreachable"] and r["depth"] == -1 and r["idom"] == -1
                               and r["retained"] == 56 for r in rows), "a garbage cycle")
    print(f"ok garbage-cycle {n}")


def main():
    for seed, n, deg in [(1, 30, 1.5), (2, 200, 2.0), (3, 2000, 1.2), (4, 5000, 3.0),
                         (5, 3000, 0.7)]:
        g = random_graph(seed, n, deg)
        compare(f"random-{seed}-{n}", g, dump(g.write(f"random-{seed}")))
    owned_edges_case()
    structured_case()
    garbage_chain_case(1000)
    chain_case(1000, False)
    chain_case(1_000_000, False)
    chain_case(1_000_000, True)
    if FAILURES:
        print(f"{len(FAILURES)} failures", file=sys.stderr)
        sys.exit(1)
    print("all graph checks passed")


if __name__ == "__main__":
    try:
        main()
    finally:
        shutil.rmtree(TMP, ignore_errors=True)
