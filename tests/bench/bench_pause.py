"""bench_pause.py — the out-of-process capture's pause and memory on a heap of many objects plus
big buffers (issue 20 item 3: the pause bounded by objects, not bytes).

Starts a target (PYTHON, default pyenv 3.12) holding about N objects (default 1,000,000: lists of
a str and a float) plus GB gigabytes (default 2) in bytes, bytearray and array.array buffers of
256 KiB, 1 MiB and 4 MiB, captures it with `heapsnap capture --pid --verbose` REPEAT times and
prints, per capture: objects, the pause (the target stopped; wall and heapsnap's CPU seconds, which
a loaded machine does not inflate), total seconds, heapsnap's peak RSS (wait4), the bytes of the
target read while it was stopped (both from the verbose line, when heapsnap says) and the peak RSS
beyond those bytes per object.  Targets from the issue: the pause <= 1.5 s and
peak RSS <= 200 B/object plus the pages read.  When the machine has too little memory for the
target and a capture that copies it, GB is scaled down, and the table says so.  Never fails a
build.

usage: bench_pause.py HEAPSNAP [N] [GB] [PYTHON] [REPEAT]
"""
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "capture", "inproc"))
import find_pythons  # noqa: E402  (pyenv's interpreters, wherever its root is)

TARGET = r"""
import array, os, sys
n, total = int(sys.argv[1]) // 3, int(float(sys.argv[2]) * 2**30)
data = [[str(i), i + 0.5] for i in range(n)]
bufs, size, k = [], 0, 0
while size < total:
    b = (256 << 10, 1 << 20, 4 << 20)[k % 3]
    fill = bytes([k % 251 + 1]) * b  # touched pages: resident, as real buffers are
    bufs.append(fill if k % 3 == 0 else bytearray(fill) if k % 3 == 1
                else array.array("B", fill))
    del fill
    size += b
    k += 1
os.write(1, b"ready %d\n" % len(bufs))
os.read(0, 1)
"""


def mem_available():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    return 0


def capture(heapsnap, pid, out):
    """One capture: (objects, pause s, total s, peak RSS bytes, bytes read or None)."""
    p = subprocess.Popen([heapsnap, "capture", "--pid", str(pid), "-o", out, "--verbose"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    err = p.stderr.read()
    _, status, ru = os.wait4(p.pid, 0)
    p.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"heapsnap capture: {err.strip()}")
    m = re.search(r"(\d+) objects, (\d+) edges.*pause ([\d.]+) s, ([\d.]+) s", err)
    r = re.search(r"read (\d+) bytes of the target while stopped, ([\d.]+) s of CPU", err)
    return (int(m[1]), float(m[3]), float(m[4]), ru.ru_maxrss * 1024,
            int(r[1]) if r else None, float(r[2]) if r else None)


def main():
    heapsnap = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
    gb = float(sys.argv[3]) if len(sys.argv) > 3 else 2.0
    python = sys.argv[4] if len(sys.argv) > 4 and sys.argv[4] else find_pythons.pythons().get(12, sys.executable)
    repeat = int(sys.argv[5]) if len(sys.argv) > 5 else 3
    # The target (objects ~150 B each, plus the buffers) and, for a capture that copies the
    # whole heap, as much again, with 1 GiB to spare.
    avail, want = mem_available(), gb
    while gb > 0.125 and 2 * (gb * 2**30 + n * 150) + 2**30 > avail:
        gb /= 2
    if gb != want:
        print(f"bench_pause: {avail / 2**30:.1f} GiB available: {gb:g} GiB of buffers, "
              f"not {want:g}")
    target = subprocess.Popen([python, "-c", TARGET, str(n), str(gb)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE)
    rows = []
    out = f"/tmp/hs-bench-pause-{os.getpid()}.hsnap"
    try:
        nbufs = int(target.stdout.readline().split()[1])
        time.sleep(0.5)
        for _ in range(repeat):
            rows.append(capture(heapsnap, target.pid, out))
    finally:
        target.stdin.close()
        target.wait()
        if os.path.exists(out):
            os.unlink(out)
    print(f"target: {python}, {n} objects requested, {gb:g} GiB in {nbufs} bytes/bytearray/"
          f"array buffers")
    print(f"{'objects':>10} {'pause s':>8} {'pause cpu s':>12} {'total s':>8} "
          f"{'peak RSS MB':>12} {'read MB':>9} {'(RSS - read) B/object':>22}")
    for objs, pause, secs, rss, read, cpu in rows:
        beyond = f"{(rss - read) / objs:.0f}" if read is not None else "-"
        readmb = f"{read / 2**20:.1f}" if read is not None else "-"
        cpus = f"{cpu:.3f}" if cpu is not None else "-"
        print(f"{objs:>10} {pause:>8.3f} {cpus:>12} {secs:>8.3f} {rss / 2**20:>12.1f} "
              f"{readmb:>9} {beyond:>22}")
    # The pause is wall time: on a loaded machine the capture waits for a CPU while the target
    # is stopped; its CPU time during the pause is what the machine's load does not inflate.
    best = min(rows, key=lambda r: r[1])
    cpu = f" ({best[5]:.3f} s of CPU)" if best[5] is not None else ""
    beyond = f", {(best[3] - best[4]) / best[0]:.0f} B/object beyond the {best[4] / 2**20:.1f} MB " \
             f"read" if best[4] is not None else ""
    print(f"best: pause {best[1]:.3f} s{cpu} (target <= 1.5), peak RSS {best[3] / 2**20:.1f} MB"
          f"{beyond} (target <= 200); load average {os.getloadavg()[0]:.1f} on "
          f"{os.cpu_count()} CPUs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
