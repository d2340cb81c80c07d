"""inproc_file.py: the snapshot file heapsnap.dump() leaves behind, and its failures.

usage: PYTHONPATH=BUILD/capture/inproc pythonX inproc_file.py HEAPSNAP_CLI

With umask 0 the snapshot is still mode 0600, also when it replaces a 0644 file.  A dump into a
directory that does not exist raises OSError naming the path, creates nothing; a dump onto an
existing directory fails at the rename and leaves no PATH.tmp-*; after each failure the cyclic
GC is on again and the next dump works.  Wrong arguments raise TypeError (ValueError for a
threads= other than 0, 1, 2).  The progress report shows two threads writing the objects when
threads=2, or by default for a heap of 300k objects when the process may use two CPUs and one
of them is idle (the load average at least one below them), and one thread otherwise (threads=1,
a small heap, sched_setaffinity to one CPU, a busy machine).  A 2**62 __sizeof__
gives a small size; a __sizeof__ past its time limit (spinning, swallowing Exception, in a dump
from another thread, blocked in time.sleep) is interrupted and recorded as timed out.
"""
import gc
import os
import re
import stat
import subprocess
import sys
import tempfile
import threading
import time

import heapsnap
from inproc_check import Failures


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def main():
    cli = sys.argv[1]
    fails = Failures()
    os.umask(0)
    d = tempfile.mkdtemp(prefix="inproc-file-")
    path = os.path.join(d, "a.hsnap")
    heapsnap.dump(path)
    fails.check(mode(path) == 0o600, "new snapshot: mode %o" % mode(path))
    old = os.path.join(d, "old.hsnap")
    with open(old, "w") as f:
        f.write("not a snapshot")
    os.chmod(old, 0o644)
    heapsnap.dump(old)
    fails.check(mode(old) == 0o600, "replaced 0644 file: mode %o" % mode(old))
    fails.check(subprocess.run([cli, "check", old], capture_output=True).returncode == 0,
                "the replaced file is not a whole snapshot")
    fails.check(sorted(os.listdir(d)) == ["a.hsnap", "old.hsnap"], "files: %s" % os.listdir(d))

    # A directory that does not exist.
    missing = os.path.join(d, "no-such-dir", "x.hsnap")
    try:
        heapsnap.dump(missing)
        fails.check(False, "dump into a missing directory did not raise")
    except OSError as e:
        fails.check(missing in str(e) and "No such file or directory" in str(e),
                    "unclear error: %s" % e)
    fails.check(gc.isenabled(), "gc left off after a failed dump")
    fails.check(sorted(os.listdir(d)) == ["a.hsnap", "old.hsnap"],
                "after the failed dump: %s" % os.listdir(d))

    # PATH is a directory: the temporary file is written, the rename fails, nothing is left.
    adir = os.path.join(d, "adir")
    os.mkdir(adir)
    try:
        heapsnap.dump(adir)
        fails.check(False, "dump onto a directory did not raise")
    except OSError as e:
        fails.check(adir in str(e), "error does not name the path: %s" % e)
    fails.check(gc.isenabled(), "gc left off after a failed rename")
    left = sorted(n for n in os.listdir(d) if ".tmp-" in n)
    fails.check(not left and os.listdir(adir) == [], "left behind: %s %s"
                % (left, os.listdir(adir)))

    # Arguments.
    for args, kw in (((), {}), ((path, path), {}), ((path,), {"colour": True})):
        try:
            heapsnap.dump(*args, **kw)
            fails.check(False, "dump(*%r, **%r) did not raise" % (args, kw))
        except TypeError:
            pass
    # Progress on stderr only when asked.
    for progress in (False, True):
        r = subprocess.run([sys.executable, "-c", "import heapsnap, sys; "
                            "heapsnap.dump(sys.argv[1], progress=%s)" % progress, path],
                           capture_output=True, text=True)
        said = "finished" in r.stderr and "objects" in r.stderr
        fails.check(r.returncode == 0 and (said if progress else r.stderr == ""),
                    "progress=%s: stderr %r" % (progress, r.stderr[-300:]))
    for threads, error in ((3, ValueError), (-1, ValueError), ("2", TypeError)):
        try:
            heapsnap.dump(path, threads=threads)
            fails.check(False, "dump(threads=%r) did not raise" % (threads,))
        except error:
            pass
    # Who writes the objects, as the progress report tells: two threads when asked, one when
    # asked, one by default for a small heap, and one for a big heap on one CPU (taskset).
    big = "x = [[j for j in range(i, i + 9)] for i in range(0, 300000, 9)]; "
    two_cpus = len(os.sched_getaffinity(0)) >= 2
    runs = [("threads=2", "", True), ("threads=1", big, False), ("threads=0", "", False),
            ("threads=0", big, two_cpus)]
    if two_cpus:
        runs.append(("threads=0", big + "os.sched_setaffinity(0, {min(os.sched_getaffinity(0))}); ",
                     False))
    for arg, setup, two in runs:
        # The default takes two threads only while a CPU is idle: the load average of the last
        # minute, read before and after the dump, at least one below the CPUs both times.
        r = subprocess.run([sys.executable, "-c", "import heapsnap, os, sys; " + setup +
                            "a = os.getloadavg()[0]; "
                            "heapsnap.dump(sys.argv[1], progress=True, %s); " % arg +
                            "print(a, os.getloadavg()[0], len(os.sched_getaffinity(0)))", path],
                           capture_output=True, text=True)
        load = [float(x) for x in r.stdout.split()] if r.returncode == 0 else [0, 0, 1]
        idle = [x + 1 <= load[2] for x in load[:2]]
        if arg == "threads=0" and two and idle[0] != idle[1]:
            print("skip: %s %s: the load average crossed %d during the dump (%s)"
                  % (arg, setup[:20], load[2] - 1, r.stdout.strip()))
            continue
        two = two and (arg != "threads=0" or idle[0])
        fails.check(r.returncode == 0 and ("second thread" in r.stderr) == two,
                    "%s %s: two threads expected %s (load, CPUs: %s), stderr %r"
                    % (arg, setup[:20], two, r.stdout.strip(), r.stderr[-300:]))
    counts = heapsnap.dump(path, values=False, progress=False)
    fails.check(counts["objects"] > 1000 and gc.isenabled(), "dump after failures: %s" % counts)

    # A __sizeof__ may return any int; one past the address space would make the snapshot one
    # that the reader refuses (sizes adding up past 2^56): a basic size is written instead.
    class Huge:
        def __sizeof__(self):
            return 2 ** 62
    huge = [Huge() for _ in range(3)]
    heapsnap.dump(path)
    r = subprocess.run([cli, "check", path], capture_output=True, text=True)
    fails.check(r.returncode == 0, "a 2**62 __sizeof__: check says %s" % r.stderr.strip())
    r = subprocess.run([cli, "sql", path, "SELECT size FROM objects WHERE addr = ?",
                        str(id(huge[0])), "--format", "csv"], capture_output=True, text=True)
    sizes = r.stdout.split()[1:]
    fails.check(len(sizes) == 1 and int(sizes[0]) < 4096,
                "a 2**62 __sizeof__: size %s %s" % (sizes, r.stderr))
    del huge

    # A __sizeof__ that never returns is interrupted after its time limit (1 s), on every
    # version (3.11 and 3.12 hung before), by heapsnap.SizeofTimeout, a BaseException (a loop
    # that catches Exception hung every version before), again each second while it runs on,
    # and from a dump in any thread: the dump goes on, records the call as timed out, and no
    # SizeofTimeout escapes into the code after it.  A call blocked in C (time.sleep) is
    # interrupted only when it is back in Python code: the dump waits for it.
    class Spins:
        def __sizeof__(self):
            while True:
                pass

    class Swallows:
        def __sizeof__(self):
            while True:
                try:
                    for _ in range(10 ** 12):
                        pass
                except Exception:
                    pass

    class Sleeps:
        def __sizeof__(self):
            time.sleep(2)
            return 100

    for cls, where in ((Spins, "main"), (Swallows, "main"), (Spins, "another"), (Sleeps, "main")):
        obj, out = cls(), {}

        def run():
            t0 = time.monotonic()
            out["r"] = heapsnap.dump(path)
            out["took"] = time.monotonic() - t0
        if where == "another":
            t = threading.Thread(target=run)
            t.start()
            t.join()
        else:
            run()
        reason = str(out.get("r", {}).get("sizeof_failed", {}).get(id(obj)))
        m = re.fullmatch(r"timed out: interrupted after (\d+\.\d) s", reason)
        secs = float(m.group(1)) if m else 0
        print("%s.__sizeof__ (dump in the %s thread): dump took %.1f s, the call: %s"
              % (cls.__name__, where, out.get("took", -1), reason))
        fails.check(m and out["took"] < 20 and (secs >= 1.9 if cls is Sleeps else secs < 3),
                    "%s.__sizeof__ in the %s thread: dump %r, reason %r"
                    % (cls.__name__, where, out, reason))
        for _ in range(200000):  # bytecodes run: a late SizeofTimeout would be raised here
            pass
        del obj
    os.unlink(os.path.join(d, "a.db"))
    for n in ("a.hsnap", "old.hsnap"):
        os.unlink(os.path.join(d, n))
    os.rmdir(adir)
    os.rmdir(d)
    fails.finish("inproc_file")


if __name__ == "__main__":
    main()
