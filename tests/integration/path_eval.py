"""path_eval.py — every path heapsnap prints is Python up to its first step in angle brackets
(README "Paths"): evaluated inside the captured process, each Python step gives the object of the
snapshot (id() equal to its address).

A target process (this file run as `target`, under the interpreter tested) builds a heap with
awkward dict keys (quotes, newlines, backspace, non-ASCII, surrogates, long strs, int, float,
bytes, None, bool, tuple and frozenset keys, a str subclass), instances with odd attribute names,
nested dicts, class attributes, closures, slots, lists; dumps it in process (heapsnap.dump) and
pauses.  The driver then, for the in-process snapshot (and with `remote`, for `heapsnap capture
--pid` of the same paused process too):
  * runs `heapsnap path SNAP ADDR --format json` for each awkward object and sends the rows to the
    target, which evaluates the root and every step up to the first non-Python one;
  * sends the whole breadth-first tree of paths (every object a root reaches, its parent and
    the label between them, from `heapsnap sql`) to the target, which evaluates every path;
  * checks that every step is either Python (`.name`, or `[literal]` whose literal is a
    constant, tuple, frozenset({...}) or float('inf')) or in the non-Python notation (starts with
    `<`, `.<`, `[<` or `->`), and that the awkward keys that have a literal got one;
  * with `remote`: the labels of the edges to the awkward objects are byte-identical in both
    captures.

usage: path_eval.py HEAPSNAP inproc|remote INPROC_PKG_DIR PYTHON
"""
import ast
import builtins
import gc
import json
import os
import subprocess
import sys
import tempfile

NON_PYTHON = ("<", ".<", "[<", "->")


class Label(str):
    """A str subclass: its keys are not spelled as literals."""


class Plain:
    pass


class WithSlots:
    __slots__ = ("a", "__b")


class Klass:
    klass_attr = {"k'": ["class attribute"]}


# name -> (key, expect a literal): the keys of AWKWARD (with unique lists as values).
KEYS = {
    "quote": ("it's", True), "dquote": ('say "hi"', True), "both": ("both '\"", True),
    "newline": ("a\nb", True), "backspace": ("\b", True), "tab": ("tab\t\r", True),
    "nul": ("\x00nul", True), "del": ("\x7f", True), "backslash": ("back\\slash", True),
    "cafe": ("caf\u00e9", True), "cjk": ("\u4e2d\u6587", True), "emoji": ("\U0001f600", True),
    "nbsp": ("\xa0nbsp", True), "zwsp": ("\u200bzw", True), "lsep": ("\u2028ls", True),
    "pua": ("\ue000pua", True), "c1": ("\x85\x9f", True), "surrogate": ("\ud800", False),
    "surrogates": ("a\udfffb", False), "long": ("x" * 150, False),
    "hundred": ("y" * 100, True), "ellipsis": ("\u2026", True), "gt": ("<not a step>", True),
    "users_id": (Label("users_id"), False), "empty": ("", True),
    "zero": (0, True), "neg": (-5, True), "big": (2 ** 62, True), "huge": (2 ** 80, False),
    "half": (1.5, True), "e15": (1e15, True), "e16": (1e16, True), "small": (1e-05, True),
    "inf": (float("inf"), True), "minf": (float("-inf"), True), "nan": (float("nan"), False),
    "none": (None, True), "bytes": (b"k'ey\x00\xff\n", True), "nobytes": (b"", True),
    "tuple": ((1, "a", None), True), "unit": ((), True), "nested": (((1,), ("it's",)), True),
    "tuplebig": ((1, 2 ** 80), False), "frozen": (frozenset({1, "a"}), True),
    "nofrozen": (frozenset(), True), "tfrozen": ((frozenset({(2, b"x")}),), True),
}
ATTRS = {"name": True, "not ok": True, "class": True, "caf\u00e9": True, "_priv": True}


def build():
    """The heap: module globals of __main__ (paths start at sys.modules['__main__'])."""
    g = globals()
    g["AWKWARD"] = {key: ["key " + name] for name, (key, _) in KEYS.items()}
    g["BOOLS"] = {True: ["key True"], False: ["key False"]}
    obj = Plain()
    for a in ATTRS:
        setattr(obj, a, ["attr " + a])
    obj.cfg = {"a\nb": {"deep": ["nested in instance"]}}
    g["OBJ"] = obj
    s = WithSlots()
    s.a = ["slot a"]
    s._WithSlots__b = ["slot b"]
    g["SLOTTED"] = s

    def make(x):
        return lambda: x
    g["CLOSURE"] = make(["closure cell"])
    g["LISTS"] = [["first"], [["second nested"]]]
    g["KLASS"] = Klass()


def interesting():
    """name -> the object whose path the driver asks for."""
    out = {"key " + n: AWKWARD[k] for n, (k, _) in KEYS.items()}
    out.update({"bool True": BOOLS[True], "bool False": BOOLS[False]})
    out.update({"attr " + a: getattr(OBJ, a) for a in ATTRS})
    out.update({"deep": OBJ.cfg["a\nb"]["deep"], "slot a": SLOTTED.a,
                "slot b": SLOTTED._WithSlots__b, "closure": CLOSURE.__closure__[0].cell_contents,
                "nested list": LISTS[1][0], "class attribute": Klass.klass_attr["k'"]})
    return out


def literal_ok(node):
    """Whether an expression node is what a key label may hold (README "Paths")."""
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.Tuple):
        return all(literal_ok(e) for e in node.elts)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return literal_ok(node.operand)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
        if node.func.id == "frozenset":
            return (not node.args or (len(node.args) == 1 and isinstance(node.args[0], ast.Set)
                                      and all(literal_ok(e) for e in node.args[0].elts)))
        if node.func.id == "float":
            return [ast.literal_eval(a) for a in node.args] == ["inf"]
    return False


def step_kind(label):
    """'python' (.name and [literal] parts), 'other' (the non-Python notation) or 'bad'."""
    if label.startswith(NON_PYTHON):
        return "other"
    try:
        node = ast.parse("_p" + label, mode="eval").body
    except SyntaxError:
        return "bad"
    while True:
        if isinstance(node, ast.Attribute) and node.attr.isascii():
            node = node.value
        elif isinstance(node, ast.Subscript):
            key = node.slice.value if isinstance(node.slice, ast.Index) else node.slice
            if not literal_ok(key):
                return "bad"
            node = node.value
        else:
            return "python" if isinstance(node, ast.Name) and node.id == "_p" else "bad"


def root_kind(name):
    return "python" if name in ("sys.modules", "builtins.__dict__", "sys.__dict__") else (
        "other" if name.startswith("<") else "bad")


class Evaluator:
    """Evaluates steps inside the target and records what disagrees."""

    def __init__(self):
        self.fails, self.python, self.other = [], 0, 0
        self.kinds = {}  # the non-Python steps by their text up to the first space

    def fail(self, msg):
        self.fails.append(msg if len(self.fails) < 30 else None)

    def step(self, parent, label, addr, where):
        """The value of parent + label, checked against addr; None when it cannot be told."""
        kind = step_kind(label)
        if kind == "bad":
            self.fail(f"{where}: step {label!r} is neither Python nor <...>")
        if kind != "python" or parent is None:
            self.other += kind == "other"
            if kind == "other" and parent is not None:
                k = label.split(" ")[0]
                self.kinds[k] = self.kinds.get(k, 0) + 1
            return None
        self.python += 1
        try:
            value = eval("_p" + label, {"_p": parent[0]})
        except Exception as e:  # noqa: BLE001 - any failure is the finding
            self.fail(f"{where}: {label!r} raised {type(e).__name__}: {e}")
            return None
        seen = value
        if label == ".__dict__" and isinstance(parent[0], type):
            # A class's namespace reads through a read-only view of its dict (README "Paths").
            seen = gc.get_referents(value)[0]
        if id(seen) != addr:
            self.fail(f"{where}: {label!r} gives {type(value).__name__} at {id(seen):#x}, "
                      f"the snapshot has {addr:#x}")
            return None
        return (value,)

    def root(self, name, addr, where):
        kind = root_kind(name)
        if kind == "bad":
            self.fail(f"{where}: root {name!r} is neither Python nor <...>")
        if kind != "python":
            self.other += kind == "other"
            return None
        self.python += 1
        value = eval(name, {"sys": sys, "builtins": builtins})
        if id(value) != addr:
            self.fail(f"{where}: root {name} is at {id(value):#x}, the snapshot has {addr:#x}")
            return None
        return (value,)


def evaluate(request):
    """The target's side: request = {"paths": {name: rows}, "tree": [[addr, depth, parent, label
    or root name]...]}; returns the report."""
    ev = Evaluator()
    want = interesting()
    literal_missing = []
    for name, rows in request["paths"].items():
        if not rows:
            ev.fail(f"{name}: no path")
            continue
        value = ev.root(rows[0]["label"], int(rows[0]["addr"], 16), name)
        for r in rows[1:]:
            value = ev.step(value, r["label"], int(r["addr"], 16), name)
        if int(rows[-1]["addr"], 16) != id(want[name]):
            ev.fail(f"{name}: path ends at {rows[-1]['addr']}, not {id(want[name]):#x}")
        elif value is None and name.startswith("key ") and KEYS[name[4:]][1]:
            literal_missing.append((name, rows[-1]["label"]))
        elif value is None and (name in ("deep", "closure", "nested list", "class attribute",
                                         "slot a", "slot b") or name.startswith("attr ")):
            literal_missing.append((name, "".join(r["label"] for r in rows)))
    for name, label in literal_missing:
        ev.fail(f"{name}: path does not evaluate (last step {label!r})")
    paths_checked = ev.python
    values = {}
    for addr, depth, parent, label in request["tree"]:
        if depth == 0:
            values[addr] = ev.root(label, addr, f"root {label}")
        else:
            values[addr] = ev.step(values.get(parent), label, addr, f"tree {addr:#x}")
    evaluated = sum(v is not None for v in values.values())
    return {"fails": ev.fails, "path_steps": paths_checked, "tree": len(request["tree"]),
            "evaluated": evaluated, "python_steps": ev.python, "other_steps": ev.other,
            "first_other": sorted(ev.kinds.items(), key=lambda kv: -kv[1])[:12]}


def target(snap):
    import heapsnap  # the build tree's, on PYTHONPATH
    gc.disable()
    build()
    local_only = ["held by a frame only"]  # noqa: F841 - a root of the frame notation
    heapsnap.dump(snap)
    ids = {n: id(o) for n, o in interesting().items()}
    os.write(1, (json.dumps(ids) + "\n").encode())
    for line in sys.stdin:
        os.write(1, (json.dumps(evaluate(json.loads(line))) + "\n").encode())
    return 0


# ---- the driver ------------------------------------------------------------------------------

def run(heapsnap, *args):
    r = subprocess.run([heapsnap, *args], capture_output=True, text=True)
    if r.returncode:
        raise RuntimeError(f"heapsnap {' '.join(args[:2])}...: {r.stderr.strip()}")
    return r.stdout


TREE_SQL = ("SELECT o.addr, o.depth, p.addr AS parent,"
            " CASE WHEN o.depth = 0 THEN (SELECT name FROM roots WHERE obj = o.id AND name != ''"
            "  ORDER BY rowid LIMIT 1) ELSE coalesce(nullif(e.label, ''), '->?') END AS label"
            " FROM objects o LEFT JOIN edges e ON e.id = o.parent_edge"
            " LEFT JOIN objects p ON p.id = e.src WHERE o.depth IS NOT NULL ORDER BY o.depth")


def ask(heapsnap, snap, ids, target_in, target_out):
    """Sends snap's paths to the target; returns (report, {name: last label})."""
    paths = {}
    for name, addr in ids.items():
        try:
            paths[name] = json.loads(run(heapsnap, "path", snap, hex(addr), "--format", "json"))
        except RuntimeError as e:
            print(f"  {name}: {e}")
            paths[name] = []
    tree = [[r["addr"], r["depth"], r["parent"], r["label"] or "<unnamed root>"]
            for r in json.loads(run(heapsnap, "sql", snap, TREE_SQL, "--format", "json"))]
    target_in.write((json.dumps({"paths": paths, "tree": tree}) + "\n").encode())
    target_in.flush()
    report = json.loads(target_out.readline())
    last = {n: rows[-1]["label"] for n, rows in paths.items() if rows}
    return report, last


def main():
    if sys.argv[1] == "target":
        return target(sys.argv[2])
    heapsnap, mode, pkg, python = sys.argv[1:5]
    if not os.path.exists(python):
        print(f"skip: {python} not installed")
        return 77
    tmp = tempfile.mkdtemp(prefix="hs-path-eval-")
    inproc, remote = os.path.join(tmp, "in.hsnap"), os.path.join(tmp, "out.hsnap")
    t = subprocess.Popen([python, os.path.abspath(__file__), "target", inproc],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         env=dict(os.environ, PYTHONPATH=pkg))
    problems = []
    try:
        line = t.stdout.readline()
        if not line:
            print("target failed (is the in-process module built for this Python?)")
            return 1
        ids = json.loads(line)
        snaps = [("in-process", inproc)]
        if mode == "remote":
            sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
            from target_process import wait_blocked
            wait_blocked(t.pid)
            run(heapsnap, "capture", "--pid", str(t.pid), "-o", remote)
            snaps.append(("out-of-process", remote))
        lasts = {}
        for side, snap in snaps:
            report, lasts[side] = ask(heapsnap, snap, ids, t.stdin, t.stdout)
            print(f"{side}: {len(ids)} paths ({report['path_steps']} Python steps), tree of "
                  f"{report['tree']} objects: {report['evaluated']} evaluated to their object, "
                  f"{report['other_steps']} steps in <...>")
            print(f"  first non-Python steps: {report['first_other']}")
            for k in ("key users_id", "key surrogate", "key tuple", "key quote", "attr class"):
                print(f"  {k}: {lasts[side].get(k)!r}")
            problems += [f"{side}: {f}" for f in report["fails"] if f]
            more = sum(f is None for f in report["fails"])
            if more:
                problems.append(f"{side}: {more} more failures")
            if report["evaluated"] < report["tree"] // 2:
                problems.append(f"{side}: only {report['evaluated']} of {report['tree']} paths "
                                "evaluated")
        if mode == "remote":
            for name in ids:
                a, b = lasts["in-process"].get(name), lasts["out-of-process"].get(name)
                if a != b:
                    problems.append(f"{name}: label {a!r} in process, {b!r} out of process")
    finally:
        t.stdin.close()
        t.wait()
    for p in problems[:40]:
        print("FAIL: " + p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
