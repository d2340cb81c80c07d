"""test_devtools.py — `heapsnap export --format devtools` read by a real consumer: memlab
(@memlab/heap-analysis, installed by ./dev into BUILD/node) loads the V8 heap snapshot of a real
Python heap, and its dominators and retained sizes equal heapsnap's (objects.idom, .retained) for
every object a root reaches; every strong edge is there with the V8 type its label calls for,
every live weak reference is a weak edge, names are the types' qualified names and self sizes
the objects' sizes.  Skips, saying why, when node or memlab is missing.

usage: test_devtools.py HEAPSNAP PYTHON INPROC_PKG_DIR NODE_MODULES MEMLAB_SCRIPT
"""
import collections
import csv
import io
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile

HEAPSNAP, PYTHON, INPROC, NODE_MODULES, SCRIPT = sys.argv[1:6]
NODE = shutil.which("node")
if not NODE or not os.path.isdir(os.path.join(NODE_MODULES, "@memlab", "heap-analysis")):
    print("skip: memlab is not installed in %s (./dev installs it: npm ci there)" % NODE_MODULES
          if NODE else "skip: no node (Debian's nodejs package)")
    sys.exit(77)

# A heap with every kind of edge: attributes, str/int/tuple/quoted dict keys, list and tuple
# items, closure cells, live and dead weak references, a diamond (shared by two owners, so its
# dominator is above both), a cycle, __slots__, and garbage (a cycle gc.collect() would free).
TARGET = r'''
import gc, sys, weakref
import heapsnap
class Node:
    def __init__(self, v):
        self.v = v
        self.children = []
class Slotted:
    __slots__ = ("a", "b")
class Outer:
    class Inner:
        pass
def make_closure():
    big = bytearray(70000)
    def f():
        return big
    return f
shared = [bytearray(5000)]
tree = Node(0)
for i in range(50):
    child = Node(i)
    child.children.append(bytearray(100 + i))
    tree.children.append(child)
left, right = Node("left"), Node("right")
left.children.append(shared)
right.children.append(shared)
diamond = (left, right)
cache = {"a key": [1, 2, (3, "x")], 42: Node(9), ("t", 1): "tuple-keyed", "it's": Node(10),
         "two\nlines": bytearray(300)}
cyc = Node("cycle")
cyc.children.append(cyc)
s = Slotted()
s.a = Outer.Inner()
s.b = [s]
closure = make_closure()
alive = weakref.ref(tree)
dead = weakref.ref(Node("gone"))
gc.disable()
garbage = Node("garbage")
garbage.children.append(garbage)
del garbage
print(heapsnap.dump(sys.argv[1]))
'''

failures = 0


def check(cond, what):
    global failures
    print(("ok: " if cond else "FAIL: ") + what)
    failures += not cond
    return cond


def run(args, **kw):
    p = subprocess.run(args, capture_output=True, text=True, **kw)
    if p.returncode != 0:
        print("command failed: %s\n%s%s" % (" ".join(args), p.stdout, p.stderr))
        sys.exit(1)
    return p.stdout


def sql(snap, query):
    return list(csv.reader(io.StringIO(run([HEAPSNAP, "sql", snap, query, "--format", "csv"]))))[1:]


def v8_type_of(label):
    """The V8 edge type and name_or_index heapsnap's label calls for (devtools.c)."""
    if label is None or label == "":
        return "internal", ""
    m = re.fullmatch(r"\[(\d{1,9})\]", label)
    if m:
        return "element", int(m.group(1))
    if label.startswith("."):
        name = label[1:]
        m = re.fullmatch(r"__dict__\[(.+)\]", name, re.S)
        return "property", unrepr(m.group(1)) if m else name
    if label.startswith("[") and label.endswith("]"):
        return "property", unrepr(label[1:-1])
    return "internal", label


def unrepr(text):
    """A str key's text from its repr; any other key as written."""
    if len(text) >= 2 and text[0] in "'\"" and text[-1] == text[0]:
        try:
            import ast
            v = ast.literal_eval(text)
            if isinstance(v, str):
                return v
        except (ValueError, SyntaxError):
            pass
    return text


def memlab_view(path):
    """memlab's nodes {id: (dominator id, retained, self size, name)} and edges {from id:
    Counter((type, name_or_index, to id))}, from memlab_dominators.js."""
    mem = run([NODE, SCRIPT, path], env=dict(os.environ, NODE_PATH=NODE_MODULES))
    nodes, edges = {}, collections.defaultdict(collections.Counter)
    for line in mem.splitlines():
        if line.startswith('["node",'):
            _, nid, dom, retained, size, name = json.loads(line)
            nodes[nid] = (dom, retained, size, name)
        elif line.startswith('["edge",'):
            _, src, kind, name, dst = json.loads(line)
            edges[src][(kind, name, dst)] += 1
    return nodes, edges


def node_id(obj):  # devtools.c: object i is node 2 + i, whose id is 2 * node + 1
    return 2 * (int(obj) + 2) + 1


# A graph made by hand (JSON lines, README): what a real heap rarely has.  Objects by address:
# 0 holder (a root), 1 a 5 GiB blob (self_size is clamped to 2^32 - 1), 2 found by a
# conservative scan (a strong, internal edge), 3 reached by an index label and by a live weak
# reference 5; 4 a dead weak reference.
GRAPH = [
    {"t": "object", "addr": 16, "type": "Holder", "size": 48, "refcnt": 1},
    {"t": "object", "addr": 32, "type": "bytes", "size": 5 << 30, "refcnt": 1},
    {"t": "object", "addr": 48, "type": "Opaque", "size": 24, "refcnt": 0},
    {"t": "object", "addr": 64, "type": "Target", "size": 24, "refcnt": 1},
    {"t": "object", "addr": 80, "type": "weakref", "size": 64, "refcnt": 1},
    {"t": "object", "addr": 96, "type": "weakref", "size": 64, "refcnt": 1},
    {"t": "edge", "src": 16, "dst": 32, "label": ".blob"},
    {"t": "edge", "src": 16, "dst": 48, "kind": "conservative"},
    {"t": "edge", "src": 16, "dst": 64, "label": "[7]"},
    {"t": "edge", "src": 16, "dst": 80, "label": "<cell w>"},
    {"t": "edge", "src": 16, "dst": 96, "label": "['w2']"},
    {"t": "weak", "ref": 80, "referent": None},
    {"t": "weak", "ref": 96, "referent": 64},
    {"t": "root", "addr": 16, "kind": "module", "name": "sys.modules['m']"},
]
HAND_EDGES = {("property", "blob", node_id(1)), ("internal", "", node_id(2)),
              ("element", 7, node_id(3)), ("internal", "<cell w>", node_id(4)),
              ("property", "w2", node_id(5))}


def check_hand_made(tmp):
    jsonl, snap, out = (os.path.join(tmp, "hand" + ext)
                        for ext in (".jsonl", ".hsnap", ".heapsnapshot"))
    with open(jsonl, "w") as f:
        f.writelines(json.dumps(r) + "\n" for r in GRAPH)
    run([HEAPSNAP, "convert", jsonl, "-o", snap])
    run([HEAPSNAP, "export", snap, "--format", "devtools", "-o", out])
    nodes, edges = memlab_view(out)
    check(set(edges[node_id(0)]) == HAND_EDGES,
          "hand-made: an attribute, a conservative edge, an index, a <label>, a key: %s"
          % sorted(edges[node_id(0)], key=str))
    check(dict(edges[node_id(5)]) == {("weak", "<referent>", node_id(3)): 1}
          and not edges[node_id(4)], "hand-made: a live weak reference, and a dead one's none")
    check(nodes[node_id(1)][2] == 2**32 - 1, "hand-made: a 5 GiB self size is 2^32 - 1")
    idom = dict(sql(snap, "SELECT id, coalesce(idom, -1) FROM objects"))
    check(all(nodes[node_id(o)][0] == (node_id(d) if d != "-1" else 1) for o, d in idom.items()),
          "hand-made: the dominators are heapsnap's (%s)" % idom)


tmp = tempfile.mkdtemp(prefix="hs-devtools-")
try:
    snap = os.path.join(tmp, "heap.hsnap")
    out = os.path.join(tmp, "heap.heapsnapshot")
    env = dict(os.environ, PYTHONPATH=INPROC)
    run([PYTHON, "-c", TARGET, snap], env=env)
    run([HEAPSNAP, "export", snap, "--format", "devtools", "-o", out])
    check(stat.S_IMODE(os.stat(out).st_mode) == 0o600, "the export is created with mode 0600")
    check(sorted(os.listdir(tmp)) == ["heap.heapsnapshot", "heap.hsnap"],
          "no temporary left behind: %s" % sorted(os.listdir(tmp)))
    p = subprocess.run([HEAPSNAP, "export", snap, "--format", "v8", "-o", out],
                       capture_output=True, text=True)
    check(p.returncode == 2 and "jsonl or devtools" in p.stderr, "an unknown format is refused")
    with open(out) as f:
        doc = json.load(f)
    check(doc["snapshot"]["meta"]["node_fields"][:5] ==
          ["type", "name", "id", "self_size", "edge_count"], "V8's node fields")

    nodes, edges = memlab_view(out)
    objs = sql(snap, "SELECT o.id, o.idom, o.retained, o.size, o.depth, "
                     "coalesce((SELECT value FROM meta WHERE key = 'type.qualname.' || t.id), "
                     "t.name) FROM objects o JOIN types t ON t.id = o.type_id")
    check(len(nodes) == len(objs) + 2,
          "memlab read %d nodes: the %d objects, the root and (GC roots)" % (len(nodes), len(objs)))
    total = sum(int(o[3]) for o in objs)
    check(nodes.get(1, (0, 0))[1] == total, "the root retains every byte (%d)" % total)
    reached = [o for o in objs if o[4] != ""]
    bad_dom = [o for o in reached
               if nodes[node_id(o[0])][0] != (node_id(o[1]) if o[1] != "" else 1)]
    bad_ret = [o for o in reached if nodes[node_id(o[0])][1] != int(o[2])]
    check(len(reached) > 1000 and not bad_dom,
          "memlab's dominator equals heapsnap's idom for all %d reached objects (%d differ%s)"
          % (len(reached), len(bad_dom), ": %s" % bad_dom[:3] if bad_dom else ""))
    check(not bad_ret, "memlab's retained size equals heapsnap's for all %d (%d differ%s)"
          % (len(reached), len(bad_ret), ": %s" % bad_ret[:3] if bad_ret else ""))
    nontrivial = sum(1 for o in reached if o[1] != "")
    check(nontrivial > 1000, "%d of them have an object as dominator" % nontrivial)
    check(all(nodes[node_id(o[0])][2] == int(o[3]) and nodes[node_id(o[0])][3] == o[5]
              for o in objs), "every node's self size and name are the object's size and type")

    # Every strong edge, with the type its label calls for; every live weak link a weak edge.
    want = collections.defaultdict(collections.Counter)
    for src, dst, label, null in sql(snap, "SELECT src, dst, label, label IS NULL FROM edges"):
        kind, name = v8_type_of(None if null == "1" else label)
        want[node_id(src)][(kind, name, node_id(dst))] += 1
    for ref, referent in sql(snap, "SELECT ref, referent FROM weakrefs WHERE referent NOT NULL"):
        want[node_id(ref)][("weak", "<referent>", node_id(referent))] += 1
    got = {k: v for k, v in edges.items() if k > 3}
    diff = [k for k in set(want) | set(got) if want.get(k) != got.get(k)]
    kinds = collections.Counter(k for c in want.values() for (k, _, _) in c.elements())
    check(not diff, "every object's edges as memlab reads them: %s (%d objects differ%s)"
          % (dict(kinds), len(diff),
             ": %s" % [(k, want.get(k), got.get(k)) for k in diff[:2]] if diff else ""))
    props = {name for c in want.values() for (k, name, _) in c if k == "property"}
    check({"children", "a key", "it's", "two\nlines", "('t', 1)", "a"} <= props,
          "attribute names and dict keys are property names (str keys by their text)")
    check(any(("element", 42) == (k, name) for c in got.values() for (k, name, _) in c),
          "an int key is an element edge (cache[42]), as V8 has array indexes")
    roots = sql(snap, "SELECT count(*) FROM objects WHERE is_root")[0][0]
    shortcuts = sum(1 for (k, _, _) in edges[1] if k == "shortcut")
    check(shortcuts == int(roots), "the root has a shortcut to each of the %s roots" % roots)
    garbage = sql(snap, "SELECT count(*) FROM objects WHERE unreachable")[0][0]
    check(int(garbage) > 0, "the heap holds %s objects of garbage (not compared)" % garbage)
    check_hand_made(tmp)
finally:
    shutil.rmtree(tmp)
print("%d failed" % failures)
sys.exit(1 if failures else 0)
