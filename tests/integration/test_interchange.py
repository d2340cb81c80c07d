"""test_interchange.py — the CLI's file commands end to end: JSON lines -> .hsnap -> JSON lines
is exact, the golden fixtures decode to their recorded export, damaged fixtures give the exact
error with the offset, bad JSON lines give the exact error with the line, and every subcommand
answers --help and uses the exit codes of DESIGN.md.

usage: test_interchange.py HEAPSNAP FIXTURES_DIR
"""
import json
import os
import random
import subprocess
import sys
import tempfile

HEAPSNAP, FIXTURES = sys.argv[1], sys.argv[2]
failures = 0


def run(*args, ok=True):
    p = subprocess.run([HEAPSNAP, *args], capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


def check(cond, what):
    global failures
    if not cond:
        failures += 1
        print("FAIL:", what)
    else:
        print("ok:", what)


def fixture(name):
    return os.path.join(FIXTURES, name)


tmp = tempfile.mkdtemp(prefix="hs-interchange-")

# Golden: the fixture decodes to its recorded export; converting that export back is exact.
code, out, err = run("export", fixture("small.hsnap"))
check(code == 0 and out == open(fixture("small.export.jsonl")).read(), "small.hsnap exports as recorded")
snap2 = os.path.join(tmp, "again.hsnap")
run("convert", fixture("small.export.jsonl"), "-o", snap2)
code, out2, _ = run("export", snap2)
check(out2 == out, "export -> convert -> export is exact")
check(os.stat(snap2).st_mode & 0o777 == 0o600, "converted snapshot is mode 0600")
old_umask = os.umask(0)
code, _, err = run("load", snap2, "-o", os.path.join(tmp, "again.db"))
os.umask(old_umask)
check(code == 0 and os.stat(os.path.join(tmp, "again.db")).st_mode & 0o777 == 0o600,
      "its database is mode 0600 too, whatever the umask")

# Damaged fixtures: exact errors naming the offset, exit 1.
for name, message in [
    ("truncated.hsnap", "offset 277: OBJECTS section of 48 bytes runs past the end of the file"),
    ("bitflip.hsnap", "offset 338: EDGES section checksum mismatch (stored 52094a13, computed 810a0c66)"),
]:
    code, out, err = run("check", fixture(name))
    first = err.splitlines()[0] if err else ""
    check(code == 1 and first == "heapsnap: %s: %s" % (fixture(name), message), "check %s: %s" % (name, first))
code, out, err = run("check", fixture("small.hsnap"))
check(code == 0 and "ok: 9 objects, 8 edges, 2 weak links, 1 roots" in out, "check small.hsnap is ok")

# Random graphs round-trip exactly, including labels, kinds, values with escapes, dead weakrefs.
rng = random.Random(5)
for trial in range(5):
    n = rng.randint(1, 3000)
    addrs = rng.sample(range(16, 1 << 40, 16), n)
    lines = [json.dumps({"t": "meta", "key": "runtime", "value": "test %d" % trial})]
    for a in addrs:
        o = {"t": "object", "addr": a, "type": rng.choice(["dict", "list", "str", "é型", 'q"t']),
             "size": rng.choice([16, 56, 56, 56, rng.randint(0, 1 << 40)]), "refcnt": rng.randint(0, 1 << 33),
             "gc": rng.random() < 0.5}
        if o["gc"]:
            o["gen"] = rng.randint(0, 3)
        if rng.random() < 0.3:
            o["value"] = rng.choice(["", "plain", "tab\tnl\nq\"\\", "ünïcødé ☃ 🐍", "x" * 100])
        if rng.random() < 0.05:
            o["immortal"] = True
        lines.append(json.dumps(o, ensure_ascii=rng.random() < 0.5))
    for a in addrs:
        for k in range(rng.randint(0, 4)):
            e = {"t": "edge", "src": a, "dst": rng.choice(addrs),
                 "kind": rng.choice(["traverse", "traverse", "owned", "conservative"])}
            lab = rng.choice([None, "[%d]" % k, "[%d]" % (k + 1), ".attr", "['key']", ""])
            if lab is not None:
                e["label"] = lab
            lines.append(json.dumps(e))
    for a in rng.sample(addrs, min(n, 10)):
        lines.append(json.dumps({"t": "weak", "ref": a, "referent": rng.choice([None, rng.choice(addrs)]),
                                 "callback": rng.choice([None, rng.choice(addrs)])}))
    for a in rng.sample(addrs, min(n, 5)):
        lines.append(json.dumps({"t": "root", "addr": a, "kind": "module", "name": "m%d" % a}))
    rng.shuffle(lines)  # any order is allowed
    src = os.path.join(tmp, "g%d.jsonl" % trial)
    open(src, "w").write("\n".join(lines) + "\n")
    snap = os.path.join(tmp, "g%d.hsnap" % trial)
    code, _, err = run("convert", src, "-o", snap)
    code2, exported, _ = run("export", snap)

    def canon(text):
        recs = [json.loads(l) for l in text.splitlines() if l.strip()]
        out = []
        for r in recs:
            r = {k: v for k, v in r.items() if v is not None and not (k == "kind" and v == "traverse")
                 and not (k in ("gc", "immortal") and v is False)}
            out.append(json.dumps(r, sort_keys=True))
        objs = sorted(x for x in out if '"object"' in x)
        edges = [x for x in out if '"edge"' in x]  # per-source order matters
        by_src = {}
        for x in edges:
            by_src.setdefault(json.loads(x)["src"], []).append(x)
        rest = sorted(x for x in out if '"object"' not in x and '"edge"' not in x)
        return objs, by_src, rest

    check(code == 0 and code2 == 0 and canon(exported) == canon(open(src).read()),
          "random graph %d (%d objects) round-trips" % (trial, n))
    snap_b = snap + ".b"
    run("convert", os.path.join(tmp, "x"), "-o", snap_b)
    open(src + ".2", "w").write(exported)
    run("convert", src + ".2", "-o", snap_b)
    check(run("export", snap_b)[1] == exported, "random graph %d: second round trip is byte-exact" % trial)

# Bad JSON lines: exit 1 and the exact line and offset.
bad_cases = [
    ('{"t":"object","addr":1}', "line 1 (offset 0): \"type\" must be a string"),
    ('{"t":"object","type":"x"}', "line 1 (offset 0): \"addr\" must be a whole number"),
    ('{"t":"object","addr":-1,"type":"x"}', "line 1 (offset 21): expected a string, a whole number, true, false or null"),
    ('{"t":"object","addr":1.5,"type":"x"}', "line 1 (offset 22): only whole numbers are allowed"),
    ('{"t":"edge","src":1,"dst":2}', "line 1: edge src 0x1 is not an object"),
    ('{"t":"blob"}', "line 1 (offset 5): \"t\" must be object, edge, weak, root or meta"),
    ('{"t":"object","addr":1,"type":"x"}\n{"t":"object","addr":1,"type":"y"}', "line 2: object 0x1 already defined on line 1"),
    ('{"t":"object","addr":1,"type":"x","gen":5}', "line 1 (offset 40): \"gen\" must be 0, 1, 2, 3 (permanent) or null"),
    ('{"t":"object","addr":1,"type":"x"} trailing', "line 1 (offset 35): text after the object"),
    ('{"t":"object","addr":1,"type":"\\ud800"}', "line 1 (offset 30): unpaired surrogate"),
    ('{"t":"edge","src":1,"dst":1,"kind":"sideways"}\n', "line 1 (offset 35): \"kind\" must be traverse, owned or conservative"),
    ('[1,2]', "line 1 (offset 0): expected '{'"),
    ('{"t":"object","addr":99999999999999999999,"type":"x"}', "line 1 (offset 40): integer out of range"),
    ('{"t":"object","addr":1,"type":"x","site_file":"a.py"}', "line 1 (offset 46): \"site_file\" and \"site_line\" go together"),
    ('{"t":"object","addr":1,"type":"x","site_line":3}', "line 1 (offset 46): \"site_file\" and \"site_line\" go together"),
    ('{"t":"object","addr":1,"type":"x","site_file":5,"site_line":3}', "line 1 (offset 46): \"site_file\" must be a string or null"),
    ('{"t":"object","addr":1,"type":"x","site_file":"a","site_line":4294967296}', "line 1 (offset 62): \"site_line\" must be a whole number below 2^32 or null"),
]
for i, (text, message) in enumerate(bad_cases):
    src = os.path.join(tmp, "bad%d.jsonl" % i)
    open(src, "w").write(text)
    code, out, err = run("convert", src, "-o", os.path.join(tmp, "bad.hsnap"))
    want = "heapsnap: %s: %s\n" % (src, message)
    check(code == 1 and err == want, "bad jsonl %d: %r" % (i, err))
check(not os.path.exists(os.path.join(tmp, "bad.hsnap")), "no snapshot left behind by a failed convert")

# Every subcommand answers --help (exit 0); unknown commands and bad usage exit 2.
code, out, _ = run("--help")
commands = [l.split()[0] for l in out.splitlines() if l.startswith("  ")]
check(code == 0 and len(commands) >= 20, "heapsnap --help lists %d commands" % len(commands))
for c in commands:
    code, out, err = run(c, "--help")
    check(code in (0, 2) and (out or err), "heapsnap %s --help answers" % c)
check(run("no-such-command")[0] == 2, "unknown command exits 2")
check(run("summary")[0] == 2, "summary without a file exits 2")
check(run("summary", fixture("small.hsnap"), "--format", "xml")[0] == 2, "bad --format exits 2")
check(run("summary", os.path.join(tmp, "missing.hsnap"))[0] == 1, "missing file exits 1")

print("%d failed" % failures)
sys.exit(1 if failures else 0)
