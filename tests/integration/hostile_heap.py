"""hostile_heap.py — `heapsnap capture --pid` of live targets that corrupted their own heap
(tests/targets/hostile_heap.py: a bogus, garbage or forged ob_type, GC-list cycles and an
unmapped GC link, a list longer than its allocation, an unmapped list item and item array, an
unmapped dict keys table).

Each capture runs under a 60 s timeout (a hang fails) and must end with exit 0 and warnings > 0
in its summary line, or exit 1 with a one-line message naming an address; never a crash.  Then
the target must run on: not stopped, no tracer, and answering on stdin/stdout.  A partial
snapshot must pass `heapsnap check`, carry the summary's warning count (1 to 10: one corruption
is not counted on every lap of a loop) in its meta, and its first warning must name the
corrupted object's address.  An uncorrupted target, captured the
same way, must give 0 warnings (so the warnings above come from the corruption).

usage: hostile_heap.py HEAPSNAP TARGET.py PYTHON...
"""
import json
import os
import re
import select
import shutil
import subprocess
import sys
import tempfile

from target_process import target_state

MODES = ["bad_type", "garbage_type", "forged_type", "gc_cycle", "gc_cycle_bad",
         "gc_next_unmapped", "list_oversize", "list_item", "list_items", "dict_keys"]
failures = []


def fail(name, why):
    print(f"FAIL {name}: {why}")
    failures.append(name)


def read_line(proc, timeout):
    """A line of proc's stdout within timeout seconds, or None."""
    r, _, _ = select.select([proc.stdout], [], [], timeout)
    return proc.stdout.readline().decode() if r else None


def check_running(name, proc):
    """The target is neither stopped nor traced, and answers a ping."""
    state, tracer = target_state(proc.pid)
    if state in "tT" or tracer:
        fail(name, f"target left stopped (state {state}, TracerPid {tracer})")
        return False
    proc.stdin.write(b"ping\n")
    proc.stdin.flush()
    if read_line(proc, 10) != "pong\n":
        fail(name, "target does not answer after the capture")
        return False
    return True


def meta_of(heapsnap, path):
    r = subprocess.run([heapsnap, "export", path], capture_output=True, text=True, timeout=120)
    meta = {}
    for line in r.stdout.splitlines():
        rec = json.loads(line)
        if rec.get("t") == "meta":
            meta[rec["key"]] = rec["value"]
    return meta


def capture_one(heapsnap, target, python, mode, tmp):
    name = f"{os.path.basename(os.path.dirname(os.path.dirname(python)))} {mode}"
    out = os.path.join(tmp, f"{mode}.hsnap")
    proc = subprocess.Popen([python, target, mode], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE)
    try:
        line = read_line(proc, 60)
        m = re.match(r"READY (0x[0-9a-f]+)$", line or "")
        if not m:
            return fail(name, f"target did not get ready: {line!r}")
        addr = m.group(1)
        try:
            r = subprocess.run([heapsnap, "capture", "--pid", str(proc.pid), "-o", out],
                               capture_output=True, text=True, timeout=60)
        except subprocess.TimeoutExpired:
            check_running(name, proc)
            return fail(name, "capture hung (60 s)")
        msg = r.stderr.strip()
        print(f"     {name}: exit {r.returncode}: {msg[:240]}")
        if not check_running(name, proc):
            return None
        if r.returncode == 1:
            if "\n" in msg or not re.search(r"0x[0-9a-f]+", msg):
                fail(name, "error is not one line naming an address")
            elif os.path.exists(out):
                fail(name, "failed capture left a snapshot")
            return None
        s = re.search(r"(\d+) objects, .* (\d+) warnings", msg)
        if r.returncode != 0 or not s:
            return fail(name, f"exit {r.returncode} (a crash or a bad summary)")
        warnings = int(s.group(2))
        c = subprocess.run([heapsnap, "check", out], capture_output=True, text=True, timeout=120)
        if c.returncode != 0:
            fail(name, f"partial snapshot does not check: {c.stdout}{c.stderr}")
        meta = meta_of(heapsnap, out)
        if mode == "clean":
            if warnings or meta.get("warnings") != "0":
                fail(name, f"uncorrupted heap gave warnings: {meta.get('first_warning')}")
            else:
                print(f"ok   {name}: 0 warnings")
        elif not warnings:
            fail(name, "corruption not reported: 0 warnings")
        elif warnings > 10:
            fail(name, f"{warnings} warnings for one corruption (a bad loop counted each lap?)")
        elif meta.get("warnings") != str(warnings):
            fail(name, f"meta warnings {meta.get('warnings')} != summary {warnings}")
        elif addr not in meta.get("first_warning", ""):
            fail(name, f"first warning does not name {addr}: {meta.get('first_warning')}")
        else:
            print(f"ok   {name}: {warnings} warnings, first: {meta['first_warning']}")
        return None
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)


def main():
    heapsnap, target, pythons = sys.argv[1], sys.argv[2], sys.argv[3:]
    tmp = tempfile.mkdtemp(prefix="hs-hostile-")
    try:
        for python in pythons:
            for mode in MODES + ["clean"]:
                capture_one(heapsnap, target, python, mode, tmp)
    finally:
        shutil.rmtree(tmp)
    print("failures:", failures)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
