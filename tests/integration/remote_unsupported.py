"""remote_unsupported.py — what heapsnap cannot walk is refused in one line naming what was found
and what is supported (issue 19 item 6), exit 1, no snapshot written:

  * live CPython 2.7, 3.6 and 3.7 processes (pyenv's, each that is installed);
  * a core of a CPython 3.13 process whose _Py_DebugOffsets says 3.14.0 (the version field
    rewritten in the core: no 3.14 can be installed here);
  * the same core saying the build is free-threaded (_Py_DebugOffsets.free_threaded = 1);
  * a core whose libpython (a copy, named by the core's NT_FILE note) is an AArch64 file
    (e_machine rewritten).

usage: remote_unsupported.py HEAPSNAP PYENV_VERSIONS_DIR
"""
import glob
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile

SUPPORTED = "heapsnap supports CPython 3.8-3.13, x86-64, with the GIL"
failures = []


def expect(what, cmd, pattern):
    out = os.path.join(tempfile.mkdtemp(prefix="hs-unsup-"), "x.hsnap")
    r = subprocess.run(cmd + ["-o", out], capture_output=True, text=True)
    msg = r.stderr.strip()
    ok = r.returncode == 1 and re.search(pattern, msg) and SUPPORTED in msg and \
        len(msg.splitlines()) == 1 and not os.path.exists(out)
    print(("ok   " if ok else "FAIL ") + what + ": " + msg)
    if not ok:
        failures.append(what)


def python_of(versions, prefix):
    found = sorted(glob.glob(os.path.join(versions, prefix + "*", "bin", "python" + prefix)))
    return found[0] if found else None


def live(heapsnap, versions, v):
    py = python_of(versions, v)
    if not py:
        print(f"skip {v}: not installed under {versions}")
        return
    p = subprocess.Popen([py, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    try:
        expect(f"live CPython {v}", [heapsnap, "capture", "--pid", str(p.pid)],
               rf"process {p.pid} runs CPython {re.escape(v)}\b")
    finally:
        p.stdin.close()
        p.wait()


def core_of(py, tmp, env=None):
    p = subprocess.Popen([py, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE,
                         env=env)
    try:
        subprocess.run(["gcore", "-o", tmp + "/core", str(p.pid)], capture_output=True,
                       check=True)
    finally:
        p.stdin.close()
        p.wait()
    return f"{tmp}/core.{p.pid}"


def patched(core, old, new, at=0):
    """A copy of core with the 8 bytes `at` bytes after each `old` (in _PyRuntime) set to new."""
    data = bytearray(open(core, "rb").read())
    n = 0
    for m in re.finditer(re.escape(old), data):
        data[m.start() + at:m.start() + at + 8] = struct.pack("<Q", new)
        n += 1
    assert n, "no _Py_DebugOffsets cookie in the core"
    out = core + ".patched-%x-%d" % (new, at)
    open(out, "wb").write(data)
    return out


def main():
    heapsnap, versions = sys.argv[1:3]
    if not shutil.which("gcore"):
        print("skip: needs gdb's gcore")
        return 77
    for v in ("2.7", "3.6", "3.7"):
        live(heapsnap, versions, v)
    tmp = tempfile.mkdtemp(prefix="hs-unsup-")
    py313 = python_of(versions, "3.13")
    if py313:
        core = core_of(py313, tmp)
        expect("3.14 by _Py_DebugOffsets", [heapsnap, "capture", "--core",
                                            patched(core, b"xdebugpy", 0x030E00F0, 8)],
               r"runs CPython 3\.14\.0 .*version from _Py_DebugOffsets")
        expect("free-threaded by _Py_DebugOffsets", [heapsnap, "capture", "--core",
                                                     patched(core, b"xdebugpy", 1, 16)],
               r"runs CPython 3\.13\.\d+ free-threaded")
    else:
        failures.append("no pyenv 3.13 for the _Py_DebugOffsets cases")
    py311 = python_of(versions, "3.11")
    if py311:
        libdir = os.path.join(os.path.dirname(os.path.dirname(py311)), "lib")
        lib = glob.glob(os.path.join(libdir, "libpython3.11.so.1.0"))[0]
        copy = os.path.join(tmp, "lib", os.path.basename(lib))
        os.makedirs(os.path.dirname(copy))
        shutil.copy(lib, copy)
        core = core_of(py311, tmp, dict(os.environ, LD_LIBRARY_PATH=os.path.dirname(copy)))
        with open(copy, "r+b") as f:  # e_machine: EM_AARCH64
            f.seek(18)
            f.write(struct.pack("<H", 183))
        expect("an AArch64 libpython", [heapsnap, "capture", "--core", core],
               r"is an ELF64 file for machine 183, not x86-64")
    else:
        failures.append("no pyenv 3.11 for the architecture case")
    print(f"{len(failures)} failed" if failures else "all refused as expected")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
