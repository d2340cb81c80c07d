"""test_hostile_capture.py — `heapsnap capture` against what a hostile core, a bad pid or an odd
process gives it (issue 17, items 8-11 and 13).  Each case must end within its timeout (no hang)
with the right exit code (0, 1 for bad data, 2 for a malformed argument) and one line on stderr
that names the pid or file and the real cause; under the ASan+UBSan build (the 'asan' suite) no
sanitizer report either.

Cores are a gcore core of a small Python target rewritten in place: NT_FILE paths pointing at a
FIFO or a device, PT_LOAD addresses that lie, PT_LOAD segments removed; plus an ELF core built
from scratch with no segments at all.

usage: test_hostile_capture.py HEAPSNAP PYTHON
"""
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time

failures = []
NT_FILE = 0x46494C45
PT_LOAD, PT_NOTE = 1, 4


def capture(heapsnap, args, timeout=30):
    try:
        return subprocess.run([heapsnap, "capture"] + args, capture_output=True, text=True,
                              errors="replace", timeout=timeout)
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(args, "hang", "", f"(no answer in {timeout} s)")


def expect(name, r, code, pattern):
    """Exit code, message, one line (two for a usage error: the message and the --help hint),
    and no sanitizer report."""
    err = r.stderr
    lines = err.strip().split("\n") if err.strip() else []
    ok = (r.returncode == code and re.search(pattern, err) is not None
          and "runtime error" not in err and "Sanitizer" not in err
          and (code == 0 or len(lines) == (2 if code == 2 else 1)))
    print(f"{'ok  ' if ok else 'FAIL'} {name}: exit {r.returncode}: {err.strip()[:300]!r}")
    if not ok:
        failures.append(name)


def phdrs(data):
    """(index, file offset of the header, type, flags, offset, vaddr, filesz) per program
    header of an ELF64 little-endian file."""
    phoff = struct.unpack_from("<Q", data, 32)[0]
    phentsize, phnum = struct.unpack_from("<HH", data, 54)
    for i in range(phnum):
        at = phoff + i * phentsize
        ptype, flags, off, vaddr, _, filesz = struct.unpack_from("<IIQQQQ", data, at)
        yield i, at, ptype, flags, off, vaddr, filesz


def nt_file_paths(data):
    """(file offset, path) of every path in the core's NT_FILE note."""
    out = []
    for _, _, ptype, _, off, _, filesz in phdrs(data):
        if ptype != PT_NOTE:
            continue
        pos, end = off, off + filesz
        while pos + 12 <= end:
            namesz, descsz, ntype = struct.unpack_from("<III", data, pos)
            desc = pos + 12 + ((namesz + 3) & ~3)
            if ntype == NT_FILE:
                count = struct.unpack_from("<Q", data, desc)[0]
                p = desc + 16 + 24 * count
                for _ in range(count):
                    e = data.index(b"\0", p)
                    out.append((p, data[p:e].decode()))
                    p = e + 1
            pos = desc + ((descsz + 3) & ~3)
    return out


def padded(directory, name, length):
    """directory/name written with as many slashes as make it `length` bytes long (the same
    file: repeated slashes are one), or None when it does not fit."""
    k = length - len(directory) - len(name)
    return directory + "/" * k + name if k >= 1 else None


def rewrite_paths(core, out, pick, replacement):
    """Copies core to out with every NT_FILE path that pick() accepts replaced by
    replacement(path) (same length).  False when no path was picked."""
    data = bytearray(open(core, "rb").read())
    done = False
    for off, path in nt_file_paths(data):
        if pick(path):
            new = replacement(path)
            if new is None or len(new) != len(path):
                return False
            data[off:off + len(path)] = new.encode()
            done = True
    open(out, "wb").write(data)
    return done


def rewrite_loads(core, out, change):
    """Copies core to out with change(vaddr) -> (type, vaddr) applied to every PT_LOAD header."""
    data = bytearray(open(core, "rb").read())
    for _, at, ptype, _, _, vaddr, _ in phdrs(data):
        if ptype == PT_LOAD:
            t, v = change(vaddr)
            struct.pack_into("<I", data, at, t)
            struct.pack_into("<Q", data, at + 16, v)
    open(out, "wb").write(data)


def empty_core(path):
    """An ELF64 x86-64 ET_CORE header and nothing else: no program headers at all."""
    ident = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)
    hdr = ident + struct.pack("<HHIQQQIHHHHHH", 4, 62, 1, 0, 0, 0, 0, 64, 56, 0, 64, 0, 0)
    open(path, "wb").write(hdr)


def take_core(python, tmp, script):
    target = subprocess.Popen([python, "-c", script], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert target.stdout.readline().strip() == "ready"
        subprocess.run(["gcore", "-o", os.path.join(tmp, "core"), str(target.pid)], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)
    finally:
        target.stdin.close()
        target.wait()
    return os.path.join(tmp, f"core.{target.pid}")


def pid_cases(heapsnap, out):
    for bad in ["4294999707", "-5", "0", "12abc", "7 7", "0x10", "99999999999999999999"]:
        expect(f"--pid {bad!r}", capture(heapsnap, ["--pid", bad, "-o", out]), 2,
               r"bad pid '" + re.escape(bad) + "'")
    # A zombie: a child that has exited and that nobody has reaped yet.
    child = os.fork()
    if child == 0:
        os._exit(0)
    try:
        for _ in range(500):
            with open(f"/proc/{child}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                    break
            time.sleep(0.01)
        expect("zombie", capture(heapsnap, ["--pid", str(child), "-o", out]), 1,
               rf"process {child} \(.*\) is a zombie.*parent \(process {os.getpid()}\)")
    finally:
        os.waitpid(child, 0)
    # A kernel thread: kthreadd is pid 2 on Linux (not in a pid namespace of its own).
    try:
        with open("/proc/2/stat") as f:
            kthread = "(kthreadd)" in f.read()
    except OSError:
        kthread = False
    if kthread:
        expect("kernel thread", capture(heapsnap, ["--pid", "2", "-o", out]), 1,
               r"process 2 \(kthreadd\) is a kernel thread")
    else:
        print("skip kernel thread: no kthreadd at pid 2 here")
    traced_by_another(heapsnap, out)
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        expect("not python (pid)", capture(heapsnap, ["--pid", str(sleeper.pid), "-o", out]), 1,
               rf"process {sleeper.pid}: no libpython .*not a Python process")
    finally:
        sleeper.kill()
        sleeper.wait()


def traced_by_another(heapsnap, out):
    """A process gdb is attached to: the message names gdb's pid, not ptrace_scope."""
    if not shutil.which("gdb"):
        print("skip traced by another: no gdb")
        return
    sleeper = subprocess.Popen(["sleep", "60"])
    gdb = subprocess.Popen(["gdb", "-q", "-nx", "-batch", "-p", str(sleeper.pid),
                            "-ex", "shell sleep 60"], stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        tracer = "0"
        for _ in range(1000):
            with open(f"/proc/{sleeper.pid}/status") as f:
                tracer = re.search(r"TracerPid:\s*(\d+)", f.read()).group(1)
            if tracer != "0":
                break
            time.sleep(0.02)
        expect("traced by another", capture(heapsnap, ["--pid", str(sleeper.pid), "-o", out]),
               1, rf"process {sleeper.pid}: .*already traced by process {tracer}\b")
    finally:
        gdb.kill()
        gdb.wait()
        sleeper.kill()
        sleeper.wait()


def core_cases(heapsnap, python, tmp, out):
    # A non-Python core, under a name with a newline in it.
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        subprocess.run(["gcore", "-o", os.path.join(tmp, "sleep"), str(sleeper.pid)],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    finally:
        sleeper.kill()
        sleeper.wait()
    nl = os.path.join(tmp, "sleep\ncore")
    os.rename(os.path.join(tmp, f"sleep.{sleeper.pid}"), nl)
    expect("not python (core), newline in its name", capture(heapsnap, ["--core", nl, "-o", out]),
           1, re.escape(nl.replace("\n", "\\x0a")) + r": no libpython .*not a Python process")
    fifo_core = os.path.join(tmp, "fifo-core")
    os.mkfifo(fifo_core)
    expect("--core FIFO", capture(heapsnap, ["--core", fifo_core, "-o", out]), 1,
           re.escape(fifo_core) + r": a FIFO, not a regular file")
    empty = os.path.join(tmp, "empty-core")
    empty_core(empty)
    expect("core with no program headers", capture(heapsnap, ["--core", empty, "-o", out]), 1,
           re.escape(empty) + r": no libpython .* 0 mappings")

    core = take_core(python, tmp, "import sys; x = [[i] for i in range(1000)]; "
                                  "print('ready', flush=True); sys.stdin.read()")
    expect("the untouched core", capture(heapsnap, ["--core", core, "-o", out]), 0, r"objects")
    short = tempfile.mkdtemp(prefix="hsh", dir="/tmp")  # short: the new paths must fit
    fifo_lib = lambda p: padded(short, "/" + os.path.basename(p), len(p))
    is_python = lambda p: re.match(r"(lib)?python", os.path.basename(p)) is not None
    is_libc = lambda p: re.match(r"libc[.-]", os.path.basename(p)) is not None
    cases = [  # name, pick, replacement, exit code, message
        ("NT_FILE: python is a FIFO", is_python, fifo_lib, 1,
         r"{core}: the python it maps cannot be read: .*: a FIFO, not a regular file"),
        ("NT_FILE: libc is a FIFO", is_libc, fifo_lib, 0, r"\d+ objects"),
        ("NT_FILE: libc is /dev/zero", is_libc, lambda p: padded("/dev", "/zero", len(p)), 0,
         r"\d+ objects"),
    ]
    for name, pick, replacement, code, pattern in cases:
        bad = os.path.join(tmp, "rewritten")
        if not rewrite_paths(core, bad, pick, replacement):
            print(f"skip {name}: no such NT_FILE path, or it is too short to rewrite")
            continue
        for _, path in nt_file_paths(open(bad, "rb").read()):
            if path.startswith(short + "/") and not os.path.exists(path):
                os.mkfifo(path)
        expect(name, capture(heapsnap, ["--core", bad, "-o", out]), code,
               pattern.format(core=re.escape(bad)))
    shutil.rmtree(short)
    lying = os.path.join(tmp, "lying")
    rewrite_loads(core, lying, lambda v: (PT_LOAD, (v + (1 << 44)) % (1 << 64)))
    expect("PT_LOAD addresses that lie", capture(heapsnap, ["--core", lying, "-o", out]), 1,
           re.escape(lying) + r": (no (interpreter state|objects)|PyType_Type .* does not read as)")
    noload = os.path.join(tmp, "noload")
    rewrite_loads(core, noload, lambda v: (0, v))  # PT_NULL
    expect("no PT_LOAD segments", capture(heapsnap, ["--core", noload, "-o", out]), 1,
           re.escape(noload) + r": (no (interpreter state|objects)|PyType_Type .* does not read as)")


def main():
    heapsnap, python = sys.argv[1:3]
    if not shutil.which("gcore") or not os.path.exists(python):
        print(f"skip: needs gdb's gcore and {python}")
        return 77
    tmp = tempfile.mkdtemp(prefix="hs-hostile-capture-")
    out = os.path.join(tmp, "x.hsnap")
    pid_cases(heapsnap, out)
    core_cases(heapsnap, python, tmp, out)
    shutil.rmtree(tmp)
    print("failures:", failures)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
