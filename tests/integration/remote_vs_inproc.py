"""remote_vs_inproc.py — the same paused process captured in process (capture/inproc's
heapsnap.dump) and out of process (heapsnap capture --pid) must give the same graph: objects,
sizes, memory, refcounts, edges, their labels and value previews, and the same GC garbage (what the
analysis finds gc.collect() would free), and the same roots: kinds, names and objects, in the
same order (a frame's names carry the thread's thread_id and the line the frame is executing: the
targets dump and pause on one line).  The differences that remain are listed and each has a
reason:

* objects alive in only one capture: the in-process dump runs Python code (its call's frame,
  arguments and result) while it walks, and those die before the out-of-process capture; only
  objects of the kinds such a call makes are allowed, at most MAX_ONLY of them;
* refcounts: the dump call holds the dump function and the path string while it runs (+1 in
  process) and the target holds os.read while it is paused (+1 out of process); on 3.8-3.11, where
  None, small ints, one-byte bytes and interned strings are not immortal, every line of code that runs between
  the two captures moves their counts (the dump's own attribute lookups, os.write, os.read), so
  the shared singletons of those types may differ there, and nothing else;
* objects alive only out of process: those the out-of-process capture reaches through
  conservative edges only (a type's or module's C state, found by scanning it);
* edges: traverse and owned edges and their labels are compared, not conservative ones (the
  out-of-process capture scans the C state of types it has no layout for, where the in-process
  one calls tp_traverse), and not the edges of an object either capture scanned conservatively.

With --core, a gcore core of the same paused target is captured too and compared the same way;
with --gdb PLUGIN, gdb attached to it captures it with the plugin's `heapsnap capture`;
with --field-apps, the target also builds tests/targets/field_apps.py's heaps (Django, SQLAlchemy,
numpy: Debian's python3); arguments after -- go to `heapsnap capture` (--layouts table: no DWARF,
only the tables compiled in and exported symbols, as on a stripped python).

usage: remote_vs_inproc.py HEAPSNAP TARGET.py INPROC_PKG_DIR PYTHON [--core] [--gdb PLUGIN]
                           [--field-apps] [-- CAPTURE_ARGS...]
"""
import collections
import json
import os
import re
import subprocess
import sys
import tempfile

from target_process import wait_blocked

MAX_ONLY = 40
CALL_TYPES = {"frame", "dict", "str", "int", "float", "tuple", "list", "cell", "function",
              "method", "builtin_function_or_method", "code", "bytes"}
CONSERVATIVE = 0x04


def load(heapsnap, snap):
    out = subprocess.run([heapsnap, "export", snap], capture_output=True, text=True,
                         check=True).stdout
    objs, edges = {}, collections.defaultdict(collections.Counter)
    labels = collections.defaultdict(collections.Counter)
    owned = collections.defaultdict(collections.Counter)  # src -> {(dst, label): n}
    into = collections.defaultdict(list)  # dst -> [(src, kind)]
    roots = []  # [(kind, name, addr)] in the snapshot's order
    for line in out.split("\n"):  # not splitlines(): a str may hold U+2028, escaped as itself
        if not line:
            continue
        r = json.loads(line)
        if r["t"] == "object":
            objs[r["addr"]] = r
        elif r["t"] == "edge":
            into[r["dst"]].append((r["src"], r.get("kind", "traverse")))
        elif r["t"] == "root":
            roots.append((r["kind"], r["name"], r["addr"]))
        if r["t"] == "edge" and r.get("kind", "traverse") == "traverse":
            edges[r["src"]][r["dst"]] += 1
            labels[r["src"]][(r["dst"], r.get("label"))] += 1
        if r["t"] == "edge" and r.get("kind") == "owned":
            owned[r["src"]][(r["dst"], r.get("label"))] += 1
    return objs, edges, labels, owned, into, roots


def garbage(heapsnap, snap):
    """The addresses of the objects the analysis finds unreachable (GC garbage)."""
    out = subprocess.run([heapsnap, "sql", snap, "SELECT addr FROM objects WHERE unreachable",
                          "--format", "csv"], capture_output=True, text=True, check=True).stdout
    return {int(x) for x in out.split()[1:]}


def qualnames(heapsnap, snap):
    """{(type name, __qualname__)} for the types whose qualified name differs from their name
    (META type.qualname.ID)."""
    # Types with instances only: out of process the types table also has classes met only as
    # bases or attributes, which the in-process capture declares only with an instance.
    out = subprocess.run([heapsnap, "sql", snap, "SELECT t.name, m.value FROM meta m JOIN types t "
                          "ON m.key = 'type.qualname.' || t.id WHERE EXISTS (SELECT 1 FROM "
                          "objects o WHERE o.type_id = t.id)", "--format", "json"],
                         capture_output=True, text=True, check=True).stdout
    return {(r["name"], r["value"]) for r in json.loads(out)}


def reached_by_scans(only, into):
    """The objects of `only` reached from the rest of the snapshot through conservative edges,
    directly or through other such objects."""
    found = {a for a in only if any(k == "conservative" for _, k in into[a])}
    grew = True
    while grew:
        more = {a for a in only - found if any(s in found for s, _ in into[a])}
        found |= more
        grew = bool(more)
    return found


def paused_roots(target_py, roots, minor):
    """remote_paused.py's second thread: its function's frame is named at the line of its
    os.read (the line it executes, from the target's source); from 3.11 its locals are roots of
    their own (up to 3.10 they are the frame object's edges, labelled), and up to 3.12 the
    thread's dict, which holds its threading.local's value, is a root (3.13 keeps that value
    elsewhere and leaves the dict NULL)."""
    with open(target_py) as f:
        line = next(n for n, text in enumerate(f, 1) if text.strip() == "os.read(pipe, 1)")
    names = {name for _, name, _ in roots}
    at = re.compile(r"<thread (\d+): parked \(.*remote_paused\.py:(\d+)\)")
    found = {(m.group(1), int(m.group(2))) for m in map(at.match, names) if m}
    want = [f" local {v}>" for v in ("journal", "entries", "local")] if minor >= 11 else []
    if len(found) != 1 or next(iter(found))[1] != line:
        return [f"roots: parked's frame named at {sorted(found)}, want line {line}"]
    tid = next(iter(found))[0]
    missing = [w for w in want if not any(n.startswith(f"<thread {tid}: parked") and
                                          n.endswith(w) for n in names)]
    if minor <= 12 and f"<thread {tid} dict>" not in names:
        missing.append("the thread's dict")
    print(f"roots: parked's frame at line {line} of thread {tid}, missing {missing}")
    return [f"roots: parked's {missing} missing"] if missing else []


def capture(heapsnap, args, out, extra):
    r = subprocess.run([heapsnap, "capture"] + args + ["-o", out, "--verbose"] + extra,
                       capture_output=True, text=True)
    print(r.stderr.strip())
    return r.returncode == 0


def main():
    heapsnap, target_py, pkg, python = sys.argv[1:5]
    opts = sys.argv[5:]
    extra = opts[opts.index("--") + 1:] if "--" in opts else []
    opts = opts[:opts.index("--")] if "--" in opts else opts
    if not os.path.exists(python):
        print(f"skip: {python} not installed")
        return 77
    tmp = tempfile.mkdtemp(prefix="hs-vs-")
    print(f"snapshots in {tmp}")
    inproc, remote = os.path.join(tmp, "in.hsnap"), os.path.join(tmp, "out.hsnap")
    core = os.path.join(tmp, "core")
    env = dict(os.environ, PYTHONPATH=pkg)
    if "--field-apps" in opts:
        env["HS_FIELD_APPS"] = "1"
    t = subprocess.Popen([python, target_py, inproc], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, env=env)
    try:
        line = t.stdout.readline()
        if line.strip() != b"ready":
            print("target failed (is the in-process module built for this Python?)")
            return 1
        wait_blocked(t.pid)
        if not capture(heapsnap, ["--pid", str(t.pid)], remote, extra):
            return 1
        if "--core" in opts:
            subprocess.run(["gcore", "-o", core, str(t.pid)], capture_output=True, check=True)
            if not capture(heapsnap, ["--core", f"{core}.{t.pid}"], remote + ".core", extra):
                return 1
        if "--gdb" in opts:
            g = subprocess.run(["gdb", "-nx", "-batch", "-iex", "set auto-load python-scripts off",
                                "-ex", "source " + opts[opts.index("--gdb") + 1],
                                "-ex", "heapsnap capture " + remote + ".gdb", "-p", str(t.pid)],
                               capture_output=True, text=True, timeout=600)
            print("\n".join(x for x in g.stdout.splitlines() if "heapsnap" in x or "layouts" in x))
            if not os.path.exists(remote + ".gdb"):
                print("gdb capture failed: " + g.stderr[-500:])
                return 1
    finally:
        t.stdin.close()
        t.wait()
    bad = compare(heapsnap, python, inproc, remote)
    if "--core" in opts:
        print("--- the core of the same paused process:")
        bad |= compare(heapsnap, python, inproc, remote + ".core")
    if "--gdb" in opts:
        print("--- gdb's capture of the same paused process:")
        bad |= compare(heapsnap, python, inproc, remote + ".gdb")
    return 1 if bad else 0


def compare(heapsnap, python, inproc, remote):
    minor = int(subprocess.run([python, "-c", "import sys; print(sys.version_info[1])"],
                               capture_output=True, text=True, check=True).stdout)
    io, ie, il, iown, _, iroots = load(heapsnap, inproc)
    ro, re_, rl, rown, rinto, rroots = load(heapsnap, remote)
    problems = []
    print(f"roots: {len(iroots)} in process, {len(rroots)} out of process")
    if iroots != rroots:
        n = next((i for i, (x, y) in enumerate(zip(iroots, rroots)) if x != y),
                 min(len(iroots), len(rroots)))
        problems.append(f"roots differ from #{n}: in process {iroots[n:n + 3]}, "
                        f"out of process {rroots[n:n + 3]}")
    only_in = [a for a in io if a not in ro]
    only_out = [a for a in ro if a not in io]
    scanned = reached_by_scans(set(only_out), rinto)
    print(f"only out of process, reached through conservative scans: {len(scanned)}")
    only_out = [a for a in only_out if a not in scanned]
    both = [a for a in io if a in ro]
    for side, only, objs in (("in-process", only_in, io), ("out-of-process", only_out, ro)):
        kinds = collections.Counter(objs[a]["type"] for a in only)
        print(f"only {side}: {len(only)} {dict(kinds)}")
        bad = {k for k in kinds if k not in CALL_TYPES}
        if bad or len(only) > MAX_ONLY:
            problems.append(f"only {side}: unexplained {dict(kinds)}")
    nsize = nmem = nref = nedge = ntype = nvalue = nlabel = nowned = 0
    for a in both:
        x, y = io[a], ro[a]
        if x["type"] != y["type"]:
            ntype += 1
            problems.append(f"0x{a:x}: type {x['type']} in process, {y['type']} out")
            continue
        if x["size"] != y["size"] and not (y.get("flags", 0) & 0x08):
            nsize += 1
            if nsize <= 10:
                problems.append(f"0x{a:x} {x['type']}: size {x['size']} vs {y['size']}")
        if x.get("memory") != y.get("memory") and not (y.get("flags", 0) & 0x08):
            nmem += 1
            if nmem <= 10:
                problems.append(f"0x{a:x} {x['type']}: memory {x.get('memory')} vs "
                                f"{y.get('memory')}")
        if x["refcnt"] != y["refcnt"] and not y.get("immortal"):
            nref += 1
            print(f"  refcount 0x{a:x} {x['type']} {x.get('value', '')!r:.40}: "
                  f"{x['refcnt']} in process, {y['refcnt']} out")
            call_ref = (abs(x["refcnt"] - y["refcnt"]) == 1
                        and x["type"] in ("str", "builtin_function_or_method"))
            shared = minor <= 11 and x["type"] in ("str", "bytes", "int", "NoneType", "bool")
            if not (call_ref or shared):
                problems.append(f"0x{a:x} {x['type']}: refcnt {x['refcnt']} vs {y['refcnt']}")
        if x.get("value") != y.get("value"):
            nvalue += 1
            problems.append(f"0x{a:x} {x['type']}: value {x.get('value')!r:.60} vs "
                            f"{y.get('value')!r:.60}")
        if (x.get("flags", 0) | y.get("flags", 0)) & CONSERVATIVE:
            continue
        if ie[a] == re_[a] and il[a] != rl[a]:
            nlabel += 1
            if nlabel <= 10:
                problems.append(f"0x{a:x} {x['type']}: labels {sorted(il[a] - rl[a], key=str)[:3]} "
                                f"in process, {sorted(rl[a] - il[a], key=str)[:3]} out")
        gi = collections.Counter({d: n for d, n in ie[a].items() if d in ro})
        go = collections.Counter({d: n for d, n in re_[a].items() if d in io})
        if gi != go:
            nedge += 1
            if nedge <= 10:
                problems.append(f"0x{a:x} {x['type']}: traverse edges in-only "
                                f"{[hex(d) for d in gi - go]} out-only {[hex(d) for d in go - gi]}")
        oi = collections.Counter({k: n for k, n in iown[a].items() if k[0] in ro})
        oo = collections.Counter({k: n for k, n in rown[a].items() if k[0] in io})
        if oi != oo:
            nowned += 1
            if nowned <= 10:
                problems.append(f"0x{a:x} {x['type']}: owned edges in-only "
                                f"{sorted(oi - oo, key=str)[:3]} out-only "
                                f"{sorted(oo - oi, key=str)[:3]}")
    if "remote_paused" in sys.argv[2]:
        problems += paused_roots(sys.argv[2], rroots, minor)
    qi, qo = qualnames(heapsnap, inproc), qualnames(heapsnap, remote)
    print(f"qualified names: {len(qi)} in process, {len(qo)} out of process")
    if qi != qo:
        problems.append(f"qualnames: in process only {sorted(qi - qo)[:5]}, "
                        f"out of process only {sorted(qo - qi)[:5]}")
    want = {("Inner", "Outer.Inner"), ("Local", "local_class.<locals>.Local"),
            ("Shown", "Renamed")}
    if "remote_paused" in sys.argv[2] and not want <= qi:
        problems.append(f"qualnames: {sorted(want - qi)} missing in process")
    common = set(both)
    gi, go = garbage(heapsnap, inproc) & common, garbage(heapsnap, remote) & common
    print(f"garbage: {len(gi)} objects in process, {len(go)} out of process")
    if gi != go:
        problems.append(f"garbage: in process only {sorted(hex(a) for a in gi - go)[:5]}, "
                        f"out of process only {sorted(hex(a) for a in go - gi)[:5]}")
    print(f"coverage: {len(both)} of the {len(io)} objects in process seen out of process "
          f"({100.0 * len(both) / max(len(io), 1):.2f}%)")
    print(f"{len(both)} objects in both; differences: type {ntype}, size {nsize}, memory {nmem}, "
          f"refcount {nref} (dump-call references), traverse edges {nedge}, owned edges {nowned}, "
          f"values {nvalue}, labels {nlabel}")
    for p in problems[:40]:
        print("  " + p)
    return bool(problems)


if __name__ == "__main__":
    sys.exit(main())
