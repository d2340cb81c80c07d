"""test_no_values.py — `heapsnap capture --no-values` writes no str or bytes contents: a secret
held by the target is in a normal capture's file and nowhere in a --no-values capture's file
(nor in its database), whose meta says values=false.  Format 2.0 packs the object, edge and
value sections with Zstandard (FORMAT.md §2.4), so the files are searched with their packed payloads
unpacked (test_format_spec.unpack, the spec's own reader).

usage: test_no_values.py HEAPSNAP PYTHON
"""
import os
import struct
import subprocess
import sys
import tempfile

import test_format_spec as spec

HEAPSNAP, PYTHON = sys.argv[1], sys.argv[2]
SECRET = "hunter2-correct-horse-battery"
TARGET = """
import sys
TOKEN = "%s"
BLOB = TOKEN.encode() * 2
CONFIG = {"password": TOKEN}
print("READY", flush=True)
sys.stdin.readline()
""" % SECRET

failures = 0
packed_records = 0


def plain(path):
    """The bytes of the .hsnap at path with every packed payload (§2.4) replaced by its contents."""
    global packed_records
    data = open(path, "rb").read()
    out, pos = [data[:16]], 16
    kind = 0
    while pos + 9 <= len(data) and kind & ~spec.PACKED != spec.INDEX:  # the INDEX is the last
        kind = data[pos]
        (length,) = struct.unpack_from("<Q", data, pos + 1)
        end = pos + 9 + length
        if kind & spec.PACKED:
            packed_records += 1
            out.append(spec.unpack(data, pos, end, kind & ~spec.PACKED))
        else:
            out.append(data[pos:end + 4])
        pos = end + 4
    out.append(data[pos:])
    return b"".join(out)


def check(cond, what):
    global failures
    print(("ok: " if cond else "FAIL: ") + what)
    failures += not cond


tmp = tempfile.mkdtemp(prefix="hs-novalues-")
target = subprocess.Popen([PYTHON, "-c", TARGET], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          text=True)
try:
    check(target.stdout.readline().strip() == "READY", "target ready")
    with_values = os.path.join(tmp, "with.hsnap")
    without = os.path.join(tmp, "without.hsnap")
    for path, extra in ((with_values, []), (without, ["--no-values"])):
        p = subprocess.run([HEAPSNAP, "capture", "--pid", str(target.pid), "-o", path] + extra,
                           capture_output=True, text=True)
        check(p.returncode == 0, "capture %s: %s" % (" ".join(extra) or "(values)", p.stderr.strip()))
    normal = plain(with_values)
    check(packed_records > 0, "the normal capture has packed sections (%d)" % packed_records)
    check(SECRET.encode() in normal, "a normal capture holds the secret")
    data = plain(without)
    check(SECRET.encode() not in data and b"hunter2" not in data, "--no-values holds no part of it")
    check(b"password" in normal and b"password" not in data,
          "nor the dict key it is stored under (a str key label is <str at 0xADDR>)")
    exported = subprocess.run([HEAPSNAP, "export", without], capture_output=True, text=True).stdout
    check("password" not in exported, "nor its export")
    objects = [l for l in exported.splitlines() if l.startswith('{"t":"object"')]
    check(objects and not any('"value":' in l for l in objects), "no object has a value preview")
    check('{"t":"meta","key":"values","value":"false"}' in exported, "meta says values=false")
    db = os.path.join(tmp, "without.db")
    p = subprocess.run([HEAPSNAP, "load", without, "-o", db], capture_output=True, text=True)
    check(p.returncode == 0 and SECRET.encode() not in open(db, "rb").read(),
          "nor does its database")
finally:
    target.stdin.close()
    target.wait(timeout=30)
print("%d failed" % failures)
sys.exit(1 if failures else 0)
