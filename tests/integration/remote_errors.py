"""remote_errors.py — `heapsnap capture` on bad inputs: each case must end with exit code 1 and
a one-line message naming what was wrong (or, for a damaged core, succeed with the damage
counted as warnings), never a crash or a hang.

usage: remote_errors.py HEAPSNAP ZOO.py PYTHON
"""
import os
import random
import re
import shutil
import struct
import subprocess
import sys
import tempfile

from target_process import wait_blocked

failures = []


def capture(heapsnap, args, timeout=120):
    return subprocess.run([heapsnap, "capture"] + args, capture_output=True, text=True,
                          timeout=timeout)


def expect(name, r, code, pattern):
    ok = r.returncode == code and re.search(pattern, r.stderr)
    print(f"{'ok  ' if ok else 'FAIL'} {name}: exit {r.returncode}: {r.stderr.strip()[:200]}")
    if not ok:
        failures.append(name)


def main():
    heapsnap, zoo, python = sys.argv[1:4]
    tmp = tempfile.mkdtemp(prefix="hs-remote-err-")
    out = os.path.join(tmp, "x.hsnap")
    # A pid that does not exist (pid_max is at most 2^22).
    expect("no such pid", capture(heapsnap, ["--pid", "4999999", "-o", out]), 1,
           r"process 4999999 does not exist")
    expect("usage", capture(heapsnap, ["--pid", "1", "--core", "x"]), 2, r"exactly one")
    # A process with no Python in it.
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        expect("not python", capture(heapsnap, ["--pid", str(sleeper.pid), "-o", out]), 1,
               r"no libpython or python executable defining _PyRuntime")
    finally:
        sleeper.kill()
        sleeper.wait()
    # Debian's python3 has no DWARF unless its -dbg package is installed, and no .symtab: it is
    # captured all the same (issue 19), with its debug files or with the tables alone, and the
    # two captures of the paused zoo (deque, OrderedDict, lru_cache, contextvars, ...) are equal
    # (its LTO build names statics NAME.lto_priv.0 and their cold parts NAME.lto_priv.0.cold:
    # taking the cold part left the stdlib kinds scanned conservatively with the debug files).
    if os.path.exists("/usr/bin/python3"):
        p = subprocess.Popen(["/usr/bin/python3", zoo, os.path.join(tmp, "dt.json"),
                              os.path.join(tmp, "dg.json")],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        try:
            p.stdout.readline()  # initialised: not a process still starting up
            wait_blocked(p.pid)
            rows = []
            for extra in ([], ["--layouts", "table"]):
                r = capture(heapsnap, ["--pid", str(p.pid), "-o", out] + extra)
                expect("Debian's python3 " + " ".join(extra), r, 0, r"\d+ objects")
                rows.append(sorted(x for x in subprocess.run(
                    [heapsnap, "export", out], capture_output=True, text=True).stdout.split("\n")
                    if '"t":"meta"' not in x))
            same = rows[0] == rows[1]
            print(f"{'ok  ' if same else 'FAIL'} Debian's python3: the debug-file and table "
                  f"captures of the paused zoo are equal ({len(rows[0])} rows)")
            if not same:
                failures.append("Debian's python3 debug files vs tables")
        finally:
            p.stdin.close()
            p.wait()
    # A core of the zoo, then damaged copies of it.
    truth, garb = os.path.join(tmp, "t.json"), os.path.join(tmp, "g.json")
    target = subprocess.Popen([python, zoo, truth, garb], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE)
    try:
        target.stdout.readline()
        subprocess.run(["gcore", "-o", os.path.join(tmp, "core"), str(target.pid)], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    finally:
        target.stdin.close()
        target.wait()
    core = os.path.join(tmp, f"core.{target.pid}")
    size = os.path.getsize(core)
    truncated = os.path.join(tmp, "truncated")
    with open(core, "rb") as f, open(truncated, "wb") as g:
        g.write(f.read(size // 2))
    expect("truncated core", capture(heapsnap, ["--core", truncated, "-o", out]), 1,
           r"truncated:? offset \d+: segment \d+ runs past the end")
    notcore = os.path.join(tmp, "notcore")
    shutil.copy(python if os.path.isfile(python) else "/bin/sh", notcore)
    expect("not a core", capture(heapsnap, ["--core", notcore, "-o", out]), 1,
           r"offset 0: not an ELF core file")
    # Scribble over the heap: random words in the second half of the core.  The capture must
    # finish (bounded loops, validated pointers) and report what it skipped.
    with open(core, "rb") as f:
        data = f.read(65536)
    phoff, phentsize, phnum = (struct.unpack_from("<Q", data, 32)[0],
                               *struct.unpack_from("<HH", data, 54))
    loads = []  # file ranges of writable PT_LOAD segments (the heap, not the notes)
    for i in range(phnum):
        ptype, flags, off, _, _, filesz = struct.unpack_from("<IIQQQQ", data, phoff + i * phentsize)
        if ptype == 1 and flags & 2 and filesz >= 4096:
            loads.append((off, filesz))
    rng = random.Random(5)
    for trial in range(3):
        damaged = os.path.join(tmp, f"damaged{trial}")
        shutil.copy(core, damaged)
        with open(damaged, "r+b") as f:
            for _ in range(20000):
                off, filesz = rng.choice(loads)
                f.seek((off + rng.randrange(filesz - 8)) & ~7)
                f.write(rng.randbytes(8) if rng.random() < 0.5 else b"\0" * 8)
        r = capture(heapsnap, ["--core", damaged, "-o", out])
        ok = r.returncode in (0, 1) and "Traceback" not in r.stderr
        ok = ok and (r.returncode == 1 or re.search(r"\d+ objects", r.stderr))
        print(f"{'ok  ' if ok else 'FAIL'} damaged core {trial}: exit {r.returncode}: "
              f"{r.stderr.strip()[:200]}")
        if not ok:
            failures.append(f"damaged core {trial}")
        if r.returncode == 0:
            c = subprocess.run([heapsnap, "check", out], capture_output=True, text=True)
            if c.returncode != 0:
                failures.append(f"damaged core {trial}: snapshot does not check")
    print("failures:", failures)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
