"""inproc_unsupported.py — `import heapsnap` on a Python the in-process module does not support
raises ImportError naming the version found and the versions supported (issue 16 item 7), not
`No module named 'heapsnap._heapsnap_37'`: pyenv's 3.6 and 3.7 when installed, and an install
missing the module of the running interpreter (a copy of the package without it).

usage: inproc_unsupported.py INPROC_PKG_DIR PYENV_VERSIONS_DIR
"""
import glob
import os
import shutil
import subprocess
import sys
import tempfile

failures = []


def expect(what, python, pkg, want):
    r = subprocess.run([python, "-c", "import heapsnap"], capture_output=True, text=True,
                       env=dict(os.environ, PYTHONPATH=pkg))
    last = r.stderr.strip().splitlines()[-1] if r.stderr.strip() else ""
    ok = r.returncode != 0 and last.startswith("ImportError: heapsnap: ") and want in last
    print(("ok   " if ok else "FAIL ") + what + ": " + last)
    if not ok:
        failures.append(what)


def main():
    pkg, versions = sys.argv[1:3]
    tried = 0
    for v in ("3.6", "3.7"):
        for py in sorted(glob.glob(os.path.join(versions, v + ".*", "bin", "python" + v)))[:1]:
            tried += 1
            expect("CPython " + v, py, pkg, "CPython %s." % v)
            expect("CPython " + v + ", supported named", py, pkg,
                   "is not supported: heapsnap supports CPython 3.8-3.13 with the GIL")
    if not tried:
        print("(no pyenv 3.6 or 3.7 installed: only the missing-module case runs)")
    copy = tempfile.mkdtemp(prefix="hs-unsup-pkg-")
    shutil.copytree(os.path.join(pkg, "heapsnap"), os.path.join(copy, "heapsnap"))
    mine = "_heapsnap_%d%d" % sys.version_info[:2]
    for p in glob.glob(os.path.join(copy, "heapsnap", mine + "*")):
        shutil.rmtree(p) if os.path.isdir(p) else os.unlink(p)
    expect("no module for this interpreter", sys.executable, copy,
           "has no module for CPython %d.%d" % sys.version_info[:2])
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
