"""remote_capture.py — out-of-process capture of a live interpreter, checked against the target's
own ground truth (tests/targets/remote_zoo.py): the GC-tracked set equals gc.get_objects(), sizes
equal sys.getsizeof, traverse edges equal gc.get_referents, refcounts are exact, dead weak
references are dead, and the GC garbage predicted from the snapshot equals what gc.collect() with
DEBUG_SAVEALL finds.  With --core, the same checks run on a gcore core of the target, taken after
the target is gone.

usage: remote_capture.py HEAPSNAP ZOO.py PYTHON [--core]
Exits 0 on success, 1 with the differences listed, 77 (skip) when PYTHON is missing.
"""
import collections
import csv
import io
import json
import os
import subprocess
import sys
import tempfile

from target_process import wait_blocked

CONSERVATIVE, SIZE_APPROX = 0x04, 0x08  # hsnap.h HS_OBJ_CONSERVATIVE_SCAN, HS_OBJ_SIZE_APPROX
# Objects the recording code itself holds or calls while it measures (its own function object,
# module globals and the builtins it calls): their refcounts differ by the recorder's own
# references.  Any other refcount difference is an error.
# Types whose C state a conservative scan cannot follow (see the edge check below).
C_STATE_TYPES = {"module", "PyCapsule"}
RECORDER_TYPES = {"function", "dict", "builtin_function_or_method", "method_descriptor",
                  "wrapper_descriptor", "method", "tuple"}


def load_jsonl(path):
    objs, edges, weak, meta = {}, collections.defaultdict(list), [], {}
    with open(path) as f:
        for line in f:
            r = json.loads(line)
            t = r["t"]
            if t == "object":
                objs[r["addr"]] = r
            elif t == "edge":
                edges[r["src"]].append((r["dst"], r.get("kind", "traverse")))
            elif t == "weak":
                weak.append(r)
            elif t == "meta":
                meta[r["key"]] = r["value"]
    return objs, edges, weak, meta


def predict_garbage(objs, edges):
    """CPython's move_unreachable over generations 0-2 (capture/CPYTHON.md section 7.1):
    traverse edges only; objects scanned conservatively subtract nothing."""
    cand = {a for a, o in objs.items() if o.get("gc") and o.get("gen", 255) <= 2}
    refs = {a: objs[a]["refcnt"] for a in cand}
    for a in cand:
        if objs[a].get("flags", 0) & CONSERVATIVE:
            continue
        for dst, kind in edges.get(a, ()):
            if kind == "traverse" and dst in refs:
                refs[dst] -= 1
    reach = [a for a in cand if refs[a] > 0]
    seen = set(reach)
    while reach:
        a = reach.pop()
        for dst, kind in edges.get(a, ()):
            if kind != "owned" and dst in cand and dst not in seen:
                seen.add(dst)
                reach.append(dst)
    return cand - seen


def main():
    heapsnap, zoo, python = sys.argv[1:4]
    use_core = "--core" in sys.argv[4:]
    if not os.path.exists(python):
        print(f"skip: {python} not installed")
        return 77
    tmp = tempfile.mkdtemp(prefix="hs-remote-")
    truth_p, garb_p = os.path.join(tmp, "truth.json"), os.path.join(tmp, "garbage.json")
    snap, jsonl = os.path.join(tmp, "s.hsnap"), os.path.join(tmp, "s.jsonl")
    target = subprocess.Popen([python, zoo, truth_p, garb_p], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert target.stdout.readline().strip() == "ready", "target did not start"
        wait_blocked(target.pid)
        if use_core:
            core = os.path.join(tmp, "core")
            subprocess.run(["gcore", "-o", core, str(target.pid)], check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            core += f".{target.pid}"
        else:
            r = subprocess.run([heapsnap, "capture", "--pid", str(target.pid), "-o", snap],
                               capture_output=True, text=True)
            print(r.stderr.strip())
            assert r.returncode == 0, r.stderr
        target.stdin.write("collect\n")
        target.stdin.flush()
        assert target.stdout.readline().strip() == "collected"
    finally:
        target.stdin.close()
        target.wait(timeout=60)
    if use_core:  # the process is gone: only the core remains
        r = subprocess.run([heapsnap, "capture", "--core", core, "-o", snap],
                           capture_output=True, text=True)
        print(r.stderr.strip())
        assert r.returncode == 0, r.stderr
    subprocess.run([heapsnap, "export", snap, "-o", jsonl], check=True)
    objs, edges, weak, meta = load_jsonl(jsonl)
    with open(truth_p) as f:
        truth = json.load(f)
    with open(garb_p) as f:
        garbage = set(json.load(f))

    problems = []
    tobjs = {o[0]: o for o in truth["objects"] if o[0] not in truth["self"]}
    tracked = {a for a, o in objs.items() if o.get("gc") and o.get("gen", 255) <= 2}
    missing, extra = set(tobjs) - tracked, tracked - set(tobjs)
    for a in sorted(missing)[:10]:
        problems.append(f"missing tracked object 0x{a:x} {tobjs[a][1]}")
    for a in sorted(extra)[:10]:
        problems.append(f"extra tracked object 0x{a:x} {objs[a]['type']}")
    nsize = nref = nedge = 0
    unseen_c_state = []
    for a, (_, tname, size, refcnt, referents) in tobjs.items():
        o = objs.get(a)
        if o is None:
            continue
        if o["type"] != tname and len(problems) < 30:
            problems.append(f"0x{a:x}: type {o['type']} != {tname}")
        if o["size"] != size and not o.get("flags", 0) & SIZE_APPROX:
            nsize += 1
            if nsize <= 10:
                problems.append(f"0x{a:x} {tname}: size {o['size']} != getsizeof {size}")
        # Refcounts: the target's own frame/record() may hold a few; singletons drift.
        if (o["refcnt"] != refcnt and not o.get("immortal") and refcnt < 10**8
                and (tname not in RECORDER_TYPES or abs(o["refcnt"] - refcnt) > 8)):
            nref += 1
            if nref <= 10:
                problems.append(f"0x{a:x} {tname}: refcnt {o['refcnt']} != {refcnt}")
        got = collections.Counter(d for d, k in edges.get(a, ()) if k == "traverse")
        want = collections.Counter(referents)
        if o.get("flags", 0) & CONSERVATIVE:
            # A scanned object: every referent must be found by scanning it or the untracked
            # scanned objects it points to (lru_cache's list elements, for example).
            near, todo = set(), [a]
            while todo:
                for d, _ in edges.get(todo.pop(), ()):
                    od = objs.get(d, {})
                    if d not in near:
                        near.add(d)
                        if od.get("flags", 0) & CONSERVATIVE and not od.get("gc"):
                            todo.append(d)
            unseen = [d for d in want if d not in near]
            # Modules and capsules hold some references in C structures behind non-object
            # pointers (3.8's atexit callbacks, 3.13's pyexpat capsule): a scan cannot find
            # them, and the snapshot flags the holder as scanned conservatively. They are
            # counted and listed, nothing else may be unseen.
            if unseen and tname in C_STATE_TYPES:
                unseen_c_state.append(f"{tname} 0x{a:x}: {len(unseen)}")
                unseen = []
            ok = not unseen
        else:
            ok = got == want
        if not ok:
            nedge += 1
            if nedge <= 10:
                problems.append(f"0x{a:x} {tname}: traverse edges differ: missing "
                                f"{[hex(x) for x in (want - got)]} extra {[hex(x) for x in (got - want)]}")
    if unseen_c_state:
        print(f"referents held in C state a scan cannot follow: {unseen_c_state}")
    # Types as Python names them (type.__name__, type.__module__): heapsnap types' columns.
    csv_out = subprocess.run([heapsnap, "types", snap, "--format", "csv"], capture_output=True,
                             text=True, check=True).stdout
    named = {tuple(row[:2]) for row in list(csv.reader(io.StringIO(csv_out)))[1:]}
    for name, module in truth["types"]:
        if (name, module) not in named and len(problems) < 40:
            problems.append(f"type {name} of module {module} not in heapsnap types")
    wk = {w["ref"]: w.get("referent") for w in weak}
    for ref, referent in truth["weak"]:
        if wk.get(ref, "absent") != referent:
            problems.append(f"weakref 0x{ref:x}: referent {wk.get(ref, 'absent')} != {referent}")
    # summary and leaks say how many objects were scanned conservatively, of which types.
    scanned = collections.Counter(o["type"] for o in objs.values()
                                  if o.get("flags", 0) & CONSERVATIVE)
    for cmd in ("summary", "leaks"):
        text = subprocess.run([heapsnap, cmd, snap], capture_output=True, text=True,
                              check=True).stdout
        want = (f"conservatively scanned: {sum(scanned.values())} objects of {len(scanned)} "
                f"types")
        top = min(scanned.items(), key=lambda kv: (-kv[1], kv[0])) if scanned else None
        if scanned and (want not in text or f" {top[0]} {top[1]}" not in text):
            problems.append(f"{cmd} does not say '{want}' (top type {top})")
        if not scanned and "conservatively scanned" in text:
            problems.append(f"{cmd} reports conservatively scanned objects; there are none")
    if meta.get("gc.threshold") != "1234,11,12":  # what remote_zoo set
        problems.append(f"meta gc.threshold {meta.get('gc.threshold')!r} != '1234,11,12'")
    if len(meta.get("gc.count", "").split(",")) != 3:
        problems.append(f"meta gc.count {meta.get('gc.count')!r} is not three counts")
    predicted = predict_garbage(objs, edges)
    # gc.collect() finalises generators first; their frame's locals die by refcount and are
    # never in gc.garbage (capture/CPYTHON.md section 7.4): allow those, and only those.
    unexplained = {a for a in predicted - garbage
                   if objs[a]["type"] not in ("list", "frame")}
    if garbage - predicted:
        problems.append(f"collected but not predicted: "
                        f"{[(hex(a), objs.get(a, {}).get('type')) for a in garbage - predicted]}")
    if unexplained or len(predicted - garbage) > 2:
        problems.append(f"predicted but not collected: "
                        f"{[(hex(a), objs[a]['type']) for a in predicted - garbage]}")
    print(f"{python}: {len(tobjs)} tracked objects in truth, {len(objs)} captured, "
          f"{len(garbage)} collected, {len(predicted)} predicted, warnings {meta.get('warnings')}")
    print(f"  size mismatches {nsize}, refcount mismatches {nref}, edge mismatches {nedge}")
    for p in problems:
        print("  " + p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
