"""bench_report.py — `heapsnap report` on an N-object synthetic snapshot (default 1M): the HTML
file's size, the time to write it, and headless Chromium's time to open it (wall clock and the
page's own body[data-render-ms]), against the targets of issue 7 (< 5 MB, < 3 s).  Prints a
table; never fails (a missing chromium prints "n/a").

The heap: a module root whose __dict__ holds a tree (each object the child of object i // 3),
with two more edges per object to earlier objects, so 3 edges per object; a dozen types;
refcounts equal to the edges in, so the module is the only root.

usage: bench_report.py HEAPSNAP [N] [WORKDIR]
"""
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time

HEAPSNAP = sys.argv[1]
N = int(sys.argv[2]) if len(sys.argv) > 2 else 1000000
WORK = sys.argv[3] if len(sys.argv) > 3 else tempfile.mkdtemp(prefix="hs-bench-report-")
TYPES = ["dict", "list", "str", "tuple", "int", "Node", "Session", "Record", "bytes", "set",
         "float", "Cache"]


def make_jsonl(path):
    rnd = random.Random(7)
    # targets of the two extra edges of object i (i >= 1), drawn first to count the referrers:
    # the refcount is the number of edges in, so no object but the module is a root
    extra = [rnd.randrange(i) for i in range(1, N - 1) for _ in range(2)]
    refcnt = [1] * (N - 1)
    for j in extra:
        refcnt[j] += 1
    with open(path, "w") as f:
        w = f.write
        w(json.dumps({"t": "object", "addr": 0x10, "type": "module", "size": 72, "refcnt": 1,
                      "gc": True, "value": "app"}) + "\n")
        w(json.dumps({"t": "root", "addr": 0x10, "kind": "module", "name": "app"}) + "\n")
        for i in range(N - 1):
            addr = 0x1000 + 16 * i
            t = TYPES[rnd.randrange(len(TYPES))]
            w('{"t":"object","addr":%d,"type":"%s","size":%d,"refcnt":%d,"gc":true}\n'
              % (addr, t, rnd.randrange(32, 600), refcnt[i]))
            src = 0x10 if i == 0 else 0x1000 + 16 * ((i - 1) // 3)
            w('{"t":"edge","src":%d,"dst":%d,"label":"[%d]"}\n' % (src, addr, i))
            if i > 0:
                for k in range(2):
                    w('{"t":"edge","src":%d,"dst":%d,"label":".x%d"}\n'
                      % (addr, 0x1000 + 16 * extra[2 * (i - 1) + k], k))


def chromium(html, *args):
    exe = shutil.which("chromium")
    if not exe:
        return None, None
    cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run",
           "--user-data-dir=" + tempfile.mkdtemp(dir=WORK), "--window-size=1280,900",
           "--virtual-time-budget=60000"] + list(args) + ["file://" + html]
    t0 = time.monotonic()
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    return time.monotonic() - t0, out.stdout


def main():
    os.makedirs(WORK, exist_ok=True)
    snap = os.path.join(WORK, "heap-%d.hsnap" % N)
    if not os.path.exists(snap):
        jsonl = os.path.join(WORK, "heap-%d.jsonl" % N)
        make_jsonl(jsonl)
        subprocess.run([HEAPSNAP, "convert", jsonl, "-o", snap], check=True,
                       capture_output=True)
        os.unlink(jsonl)
    html = os.path.join(WORK, "report.html")
    t0 = time.monotonic()
    out = subprocess.run([HEAPSNAP, "report", snap, "-o", html], capture_output=True, text=True)
    t_write = time.monotonic() - t0
    rows = [("objects", "%d" % N, ""), ("report exit code", "%d" % out.returncode, "0")]
    if out.returncode == 0:
        size = os.path.getsize(html)
        rows.append(("report write time (s, incl. load)", "%.2f" % t_write, ""))
        rows.append(("HTML size (MB)", "%.2f" % (size / 1e6), "< 5"))
        wall, dom = chromium(html, "--dump-dom")
        ms = re.search(r'data-render-ms="(\d+)"', dom or "")
        boxes = re.search(r'data-boxes="(\d+)"', dom or "")
        empty = os.path.join(WORK, "empty.html")
        with open(empty, "w") as f:
            f.write("<!DOCTYPE html><title>empty</title>")
        base, _ = chromium(empty, "--dump-dom")
        rows.append(("chromium --dump-dom wall (s)", "%.2f" % wall if wall else "n/a", ""))
        rows.append(("  the same, an empty page (s)", "%.2f" % base if base else "n/a", ""))
        rows.append(("page render (s, data-render-ms)",
                     "%.2f" % (int(ms.group(1)) / 1000) if ms else "n/a", "< 3"))
        rows.append(("treemap boxes", boxes.group(1) if boxes else "n/a", ""))
    else:
        rows.append(("report stderr", out.stderr.strip()[:200], ""))
    w = max(len(r[0]) for r in rows)
    print("%-*s  %12s  %s" % (w, "heapsnap report", "value", "target"))
    for r in rows:
        print("%-*s  %12s  %s" % (w, r[0], r[1], r[2]))


main()
