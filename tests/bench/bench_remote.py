"""bench_remote.py — the out-of-process capture's throughput and the target's pause.

Starts a target (PYTHON, default pyenv 3.12) holding about N objects (default 1,000,000: lists of
a str and a float), captures it with `heapsnap capture --pid` REPEAT times, and prints a table:
objects, edges, pause (the target stopped), total seconds and objects per second.  Targets from
the issue: at least 1M objects per second, the pause under 1.5 s.  Never fails a build.

usage: bench_remote.py HEAPSNAP [N] [PYTHON] [REPEAT]
With HS_BENCH_KEEP=PATH the last capture is kept there (run_all.py loads it as the real heap).
"""
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "capture", "inproc"))
import find_pythons  # noqa: E402  (pyenv's interpreters, wherever its root is)

TARGET = r"""
import os, sys
n = int(sys.argv[1]) // 3
data = [[str(i), i + 0.5] for i in range(n)]
os.write(1, b"ready\n")
os.read(0, 1)
"""


def main():
    heapsnap = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
    python = sys.argv[3] if len(sys.argv) > 3 else find_pythons.pythons().get(12, sys.executable)
    repeat = int(sys.argv[4]) if len(sys.argv) > 4 else 3
    tmp = tempfile.mkdtemp(prefix="hs-bench-remote-")
    target = subprocess.Popen([python, "-c", TARGET, str(n)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE)
    rows = []
    try:
        target.stdout.readline()
        for _ in range(repeat):
            out = os.path.join(tmp, "b.hsnap")
            ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            r = subprocess.run([heapsnap, "capture", "--pid", str(target.pid), "-o", out],
                               capture_output=True, text=True, check=True)
            ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
            m = re.search(r"(\d+) objects, (\d+) edges.*pause ([\d.]+) s, ([\d.]+) s", r.stderr)
            objs, edges, pause, secs = int(m[1]), int(m[2]), float(m[3]), float(m[4])
            rows.append((objs, edges, pause, secs, objs / secs, os.path.getsize(out), cpu))
        if os.environ.get("HS_BENCH_KEEP"):
            shutil.move(out, os.environ["HS_BENCH_KEEP"])
    finally:
        target.stdin.close()
        target.wait()
    print(f"target: {python}, {n} objects requested")
    # Wall time depends on the machine's load and the final fsync; CPU time is the capture's own.
    print(f"{'objects':>10} {'edges':>10} {'pause s':>8} {'total s':>8} {'objects/s':>12} "
          f"{'cpu s':>7} {'objects/cpu-s':>14} {'file bytes':>11}")
    for r in rows:
        print(f"{r[0]:>10} {r[1]:>10} {r[2]:>8.3f} {r[3]:>8.3f} {r[4]:>12.0f} {r[6]:>7.3f} "
              f"{r[0] / r[6]:>14.0f} {r[5]:>11}")
    best = min(rows, key=lambda r: r[3])
    print(f"best: {best[4]:.0f} objects/s wall, {best[0] / best[6]:.0f} objects per CPU second "
          f"(target >= 1000000), pause {best[2]:.3f} s (target < 1.5)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
