"""test_reliability.py — `heapsnap redact`, and what the writers do when the disk fills up.

Redact: a snapshot with every feature (make_seed) and the small fixture are redacted; the output
is mode 0600, has no VALUES section while the input has one, holds none of the value texts, checks
clean, and exports exactly like the input apart from the "value" keys and the dict-key and
attribute labels that were rendered through a value (they become "[<TYPE at 0xADDR>]" and
".<TYPE at 0xADDR>" for an object that had a value).  A damaged input is refused.

Full disk: converting, redacting and loading (the database) into a 64 KiB tmpfs (mounted in a
private mount namespace, so nothing is left mounted) must fail with exit 1 and "No space left on
device" naming the output's temporary file, and leave the directory empty; the same under a file-size limit
(RLIMIT_FSIZE, "File too large"), which needs no privileges.

usage: test_reliability.py HEAPSNAP MAKE_SEED FIXTURES_DIR
"""
import json
import os
import re
import resource
import shutil
import signal
import struct
import subprocess
import sys
import tempfile

HEAPSNAP, MAKE_SEED, FIXTURES = sys.argv[1:4]
failures = 0


def check(cond, what):
    global failures
    if not cond:
        failures += 1
        print("FAIL:", what)
    else:
        print("ok:", what)


def run(*args, **kw):
    return subprocess.run([HEAPSNAP, *args], capture_output=True, text=True, **kw)


def section_kinds(path):
    """The section kinds of a .hsnap file, walked as FORMAT.md §3 says."""
    data = open(path, "rb").read()
    kinds, p = [], 16
    while p + 13 <= len(data):
        kind, length = data[p], struct.unpack_from("<Q", data, p + 1)[0]
        kinds.append(kind)
        if kind == 10:  # INDEX
            break
        p += 9 + length + 4
    return kinds


def export(path):
    p = run("export", path)
    assert p.returncode == 0, p.stderr
    return [json.loads(line) for line in p.stdout.splitlines()]


tmp = tempfile.mkdtemp(prefix="hs-reliability-")

# ------------------------------------------------------------------------------------------
# redact
features = os.path.join(tmp, "features.hsnap")
subprocess.run([MAKE_SEED, features], check=True)
for name, src in [("features", features), ("small", os.path.join(FIXTURES, "small.hsnap"))]:
    out = os.path.join(tmp, name + ".redacted.hsnap")
    p = run("redact", src, "-o", out)
    check(p.returncode == 0 and "value previews removed" in p.stderr, "%s: redact exits 0: %s" % (name, p.stderr.strip()))
    check(os.stat(out).st_mode & 0o777 == 0o600, "%s: redacted file is mode 0600" % name)
    check(7 in section_kinds(src) and 7 not in section_kinds(out),
          "%s: the input has a VALUES section, the output none (%s)" % (name, section_kinds(out)))
    p = run("check", out)
    check(p.returncode == 0, "%s: redacted file checks clean: %s" % (name, p.stdout.strip()))
    before, after = export(src), export(out)
    valued = {r["addr"]: r for r in before if r["t"] == "object" and "value" in r}
    check(len(valued) >= 2, "%s: the input has values (%d)" % (name, len(valued)))
    data = open(out, "rb").read()
    # A value's text may also be a label string (a converted graph has "['users']"): only the
    # texts found nowhere else count.
    elsewhere = json.dumps([{k: v for k, v in r.items() if not (r["t"] == "object" and k == "value")}
                            for r in before])
    leaked = [r["value"] for r in valued.values()
              if len(r["value"]) >= 4 and r["value"].encode("utf-8", "surrogateescape") in data
              and r["value"] not in elsewhere]  # export: bytes that are not UTF-8 as \udcXX
    check(not leaked, "%s: no value text is left in the file (%s)" % (name, leaked))
    check(len(before) == len(after), "%s: same number of records" % name)
    relabelled = 0
    for a, b in zip(before, after):
        a = dict(a)
        if a["t"] == "object":
            a.pop("value", None)
        if a != b and a["t"] == "edge" and a.get("label") != b.get("label"):
            m = re.fullmatch(r"(\[|\.)<(.*) at 0x([0-9a-f]+)>\]?", b.get("label", ""))
            obj = valued.get(int(m.group(3), 16)) if m else None
            if obj and obj["type"] == m.group(2) and (m.group(1) == "[") == b["label"].endswith("]"):
                relabelled += 1
                a["label"] = b["label"]
        check(a == b, "%s: %s record unchanged but for its value" % (name, a["t"])) if a != b else None
    print("   %s: %d records compared, %d key/attribute labels fell back to <type at addr>"
          % (name, len(before), relabelled))
    if name == "features":
        # The third dict key's preview is not UTF-8: its label is <str at 0x...> before too.
        check(relabelled == 3, "features: 1 dict-key and 2 attribute labels fell back")
p = run("redact", os.path.join(FIXTURES, "bitflip.hsnap"), "-o", os.path.join(tmp, "x.hsnap"))
check(p.returncode == 1 and "bitflip.hsnap: offset 338" in p.stderr and not os.path.exists(os.path.join(tmp, "x.hsnap")),
      "redact refuses a damaged snapshot: " + p.stderr.strip())
p = run("redact", features)
check(p.returncode == 2, "redact without -o is a usage error")

# ------------------------------------------------------------------------------------------
# full disk
big_jsonl = os.path.join(tmp, "big.jsonl")
with open(big_jsonl, "w") as f:
    for i in range(6000):
        f.write(json.dumps({"t": "object", "addr": 4096 + 64 * i, "type": "str", "size": 60 + i % 7,
                            "refcnt": 1, "value": "value %d %s" % (i, "x" * (i % 40))}) + "\n")
    for i in range(1, 6000):
        f.write(json.dumps({"t": "edge", "src": 4096 + 64 * (i - 1), "dst": 4096 + 64 * i,
                            "label": ".attribute_%06d_of_a_long_name" % i}) + "\n")
big = os.path.join(tmp, "big.hsnap")
p = run("convert", big_jsonl, "-o", big)
check(p.returncode == 0 and os.path.getsize(big) > 3 * 65536, "a snapshot of %d bytes to fill the disk with"
      % os.path.getsize(big))
# Its labels are strings, not values: its redacted copy needs more than 64 KiB too.
p = run("redact", big, "-o", os.path.join(tmp, "big.redacted.hsnap"))
check(p.returncode == 0 and os.path.getsize(os.path.join(tmp, "big.redacted.hsnap")) > 2 * 65536,
      "its redacted copy is %d bytes" % os.path.getsize(os.path.join(tmp, "big.redacted.hsnap")))


def check_full(how, cases, expect):
    for (label, code, out, err, left) in cases:
        check(code == 1, "%s: %s fails with exit 1 (got %d)" % (how, label, code))
        # The snapshot writer names its temporary file, the database writer also the offset.
        named = (r"out\.db\.tmp-\w{6}: offset \d+: write: " if label == "load"
                 else r"out\.hsnap\.tmp-\w{6}: write: ")
        check(re.search(r"heapsnap: \S*/" + named + expect, err),
              "%s: %s names the file and the cause: %s" % (how, label, err.strip()))
        check(left == [], "%s: %s leaves no file behind (%s)" % (how, label, left))


# A 64 KiB tmpfs, in a private mount namespace so that it never outlives the test.
script = r'''
set -u
mnt=$1; shift
mount -t tmpfs -o size=64k hs-full "$mnt" || exit 99
for cmd in convert redact load; do
    case $cmd in
    convert) "$HEAPSNAP" convert "$1" -o "$mnt/out.hsnap" 2>"$mnt/../$cmd.err" ;;
    redact) "$HEAPSNAP" redact "$2" -o "$mnt/out.hsnap" 2>"$mnt/../$cmd.err" ;;
    load) "$HEAPSNAP" load "$2" -o "$mnt/out.db" 2>"$mnt/../$cmd.err" ;;
    esac
    echo "$cmd $? $(ls -A "$mnt" | tr '\n' ' ')"
done
'''
mnt = os.path.join(tmp, "mnt")
os.mkdir(mnt)
env = dict(os.environ, HEAPSNAP=HEAPSNAP)
p = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh", mnt, big_jsonl, big],
                   capture_output=True, text=True, env=env)
if p.returncode != 0 or not p.stdout.strip():
    print("skip: cannot mount a tmpfs here (needs root and mount namespaces): %s" % p.stderr.strip())
else:
    cases = []
    for line in p.stdout.splitlines():
        cmd, code, *left = line.split()
        cases.append((cmd, int(code), "", open(os.path.join(tmp, cmd + ".err")).read(), left))
    check_full("64 KiB tmpfs", cases, "No space left on device")


# A file-size limit: writes past 64 KiB fail with EFBIG (SIGXFSZ ignored), no privileges needed.
def limit():
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (65536, 65536))


lim = os.path.join(tmp, "limited")
os.mkdir(lim)
cases = []
for label, args, out in [("convert", ["convert", big_jsonl], "out.hsnap"),
                         ("redact", ["redact", big], "out.hsnap"), ("load", ["load", big], "out.db")]:
    p = run(*args, "-o", os.path.join(lim, out), preexec_fn=limit)
    cases.append((label, p.returncode, p.stdout, p.stderr, os.listdir(lim)))
check_full("RLIMIT_FSIZE 64 KiB", cases, "File too large")

shutil.rmtree(tmp)
print("%d failures" % failures)
sys.exit(1 if failures else 0)
