"""test_triggers.py — dumps taken when something happens (issue 21 item 4), on a target that grows
(tests/targets/growing.py):

  * heapsnap.dump_on(rss_bytes=..., every=...): one dump per RSS step crossed, each a snapshot
    that checks, each holding more of the target's 1 MiB bytes objects than the one before;
  * heapsnap.dump_on(memory_error=True): a caught MemoryError dumps on 3.12+ (sys.monitoring)
    and not before (no hook exists there); an uncaught one dumps on every version;
  * `heapsnap watch --pid PID --rss SIZE --every STEP -o DIR` out of process: the same steps,
    ending when the target exits.

usage: test_triggers.py HEAPSNAP GROWING.py PYTHON   (PYTHONPATH: the in-process package)
"""
import os
import subprocess
import sys
import tempfile
import time

MIB = 1 << 20
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def big_bytes(heapsnap, snap):
    """(the snapshot checks, its number of bytes objects of at least 1 MiB)."""
    ok = subprocess.run([heapsnap, "check", snap], capture_output=True).returncode == 0
    r = subprocess.run([heapsnap, "sql", snap, "SELECT count(*) FROM objects o JOIN types t ON "
                        "o.type_id = t.id WHERE t.name = 'bytes' AND o.size >= %d" % MIB,
                        "--format", "csv"], capture_output=True, text=True)
    return ok, int(r.stdout.split()[-1]) if r.returncode == 0 else -1


def steps(heapsnap, what, snaps):
    facts = [big_bytes(heapsnap, s) for s in snaps]
    check(len(snaps) >= 2, "%s: %d dumps for 3 steps crossed" % (what, len(snaps)))
    check(all(ok for ok, _ in facts), "%s: every dump checks" % what)
    counts = [n for _, n in facts]
    check(all(a < b for a, b in zip(counts, counts[1:])) and counts and counts[0] >= 8,
          "%s: 1 MiB objects per dump grow: %s" % (what, counts))


def run_mode(python, growing, mode):
    d = tempfile.mkdtemp(prefix="hs-trig-%s-" % mode)
    r = subprocess.run([python, growing, mode, d], capture_output=True, text=True, timeout=300)
    return r, [p for p in r.stdout.split() if p.endswith(".hsnap")], d


def main():
    heapsnap, growing, python = sys.argv[1:4]
    minor = int(subprocess.run([python, "-c", "import sys; print(sys.version_info[1])"],
                               capture_output=True, text=True, check=True).stdout)
    r, snaps, _ = run_mode(python, growing, "rss")
    check(r.returncode == 0, "rss: target exit %d %s" % (r.returncode, r.stderr[-300:]))
    steps(heapsnap, "dump_on(rss_bytes, every)", snaps)
    r, snaps, _ = run_mode(python, growing, "caught")
    want = 1 if minor >= 12 else 0
    check(len(snaps) == want, "caught MemoryError on 3.%d: %d dumps, expected %d (%s)"
          % (minor, len(snaps), want, r.stderr.strip()[-200:]))
    r, _, d = run_mode(python, growing, "uncaught")
    written = [os.path.join(d, f) for f in os.listdir(d) if f.endswith(".hsnap")]
    check(r.returncode == 1 and "MemoryError" in r.stderr and len(written) == 1 and
          big_bytes(heapsnap, written[0])[0],
          "uncaught MemoryError: exit %d, %d dumps" % (r.returncode, len(written)))
    # Out of process: heapsnap watch.
    d = tempfile.mkdtemp(prefix="hs-trig-watch-")
    t = subprocess.Popen([python, growing, "external", d], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True)
    try:
        assert t.stdout.readline().strip() == "ready"
        with open("/proc/%d/statm" % t.pid) as f:
            rss = int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        w = subprocess.Popen([heapsnap, "watch", "--pid", str(t.pid), "--rss",
                              str(rss + 16 * MIB), "--every", "16M", "--interval", "0.01",
                              "-o", d], stderr=subprocess.PIPE, text=True)
        time.sleep(4)
    finally:
        t.stdin.close()
        t.wait()
    _, err = w.communicate(timeout=60)
    print(err.strip())
    snaps = sorted((os.path.join(d, f) for f in os.listdir(d) if f.endswith(".hsnap")),
                   key=lambda p: int(p.rsplit("-", 1)[1].split(".")[0]))
    check(w.returncode == 0 and "has exited" in err, "watch: exit %d" % w.returncode)
    steps(heapsnap, "heapsnap watch", snaps)
    r = subprocess.run([heapsnap, "watch", "--pid", "1", "--rss", "12Q", "-o", d],
                       capture_output=True, text=True)
    check(r.returncode == 2 and "bad size" in r.stderr, "watch: a bad size is exit 2")
    print("%d failed" % len(failures) if failures else "all passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
