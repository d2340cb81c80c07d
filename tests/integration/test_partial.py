"""test_partial.py — damaged snapshots, salvage and partial results (issue 16, items 5 and 7).

usage: test_partial.py HEAPSNAP PYTHON   (PYTHONPATH must reach the heapsnap module for PYTHON)

  - one flipped bit in META of a real 5-object-heap snapshot: every analysis command exits 1 with
    the offset; with --salvage every object survives and every table says it is partial (table,
    CSV, JSON); a .hsnap whose cached database was salvaged is refused again without --salvage;
  - a snapshot of three runs with its first EDGES run damaged: the salvage keeps the other two;
  - `check` on a truncated file prints the salvage summary its help promises;
  - `load --stream`: summary, path and leaks say which analyses were skipped and how to get them;
  - export -> convert -> export holds every string a heap can contain (NUL, lone surrogates,
    every code point class, from a real dump) and bytes that are not UTF-8;
  - refcount_surplus does not count references found by a conservative scan as C-held.
"""
import json
import os
import struct
import subprocess
import sys
import tempfile
import unittest

HEAPSNAP, PYTHON = sys.argv[1:3]
TMP = tempfile.mkdtemp(prefix="hs-partial-")


def run(*args, ok=True):
    r = subprocess.run([HEAPSNAP] + list(args), capture_output=True, text=True)
    if ok and r.returncode:
        raise AssertionError("%s: exit %d: %s" % (args, r.returncode, r.stderr))
    return r


def sections(data):
    """(kind, offset, whole record length) of every section record (FORMAT.md §2); the kind
    without the packed bit (§2.4)."""
    out, off = [], 16
    while True:
        kind, n = data[off] & 0x7F, struct.unpack_from("<Q", data, off + 1)[0]
        out.append((kind, off, 13 + n))
        if kind == 10:
            return out
        off += 13 + n


def damage(src, dst, kind, which=0):
    """Copies src to dst with one bit flipped in the payload of its which-th section of kind;
    returns that section's offset."""
    data = bytearray(open(src, "rb").read())
    _, off, length = [s for s in sections(data) if s[0] == kind][which]
    data[off + 9 + (length - 13) // 2] ^= 0x10
    open(dst, "wb").write(data)
    return off


def dump(script, path):
    subprocess.run([PYTHON, "-c", script, path], check=True)


SMALL_HEAP = """
import gc, sys, heapsnap
gc.disable()
heapsnap.dump(sys.argv[1])
"""

STRINGS_HEAP = """
import gc, sys, heapsnap
gc.disable()
# One of each class of code point (ASCII, Latin-1, BMP, astral, controls, line separators),
# NUL, lone surrogates of each half, and keys that hold them.
held = ["a\\x00b", "\\x00", "\\ud800", "x\\udfffy", "\\udcff", "caf\\xe9", "\\u65e5\\u672c",
        "\\U0001f600", "\\x01\\x1f\\x7f\\x85", "\\u2028\\u2029", "\\ufeff\\uffff", "\\U0010ffff",
        b"\\x00\\xff bytes", {"k\\x00ey": 1, "\\ud83d": 2}]
heapsnap.dump(sys.argv[1])
"""


def objects_jsonl(n, first_addr=4096):
    lines = []
    for i in range(n):
        lines.append(json.dumps({"t": "object", "addr": first_addr + 16 * i, "type": "list",
                                 "size": 56, "refcnt": 1}))
        if i:
            lines.append(json.dumps({"t": "edge", "src": first_addr + 16 * (i - 1),
                                     "dst": first_addr + 16 * i, "label": "[0]"}))
    lines.append(json.dumps({"t": "root", "addr": first_addr, "kind": "external", "name": "x"}))
    return "\n".join(lines) + "\n"


class Damaged(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.good = os.path.join(TMP, "small.hsnap")
        dump(SMALL_HEAP, cls.good)
        cls.bad = os.path.join(TMP, "meta.hsnap")
        cls.meta_offset = damage(cls.good, cls.bad, 4)
        cls.objects = int(run("sql", cls.good, "SELECT count(*) FROM objects", "--format",
                              "csv").stdout.split()[-1])

    def test_refused_without_salvage(self):
        for args in (["summary"], ["top"], ["types", "--format", "json"], ["leaks"],
                     ["load", "-o", os.path.join(TMP, "refused.db")]):
            r = run(args[0], self.bad, *args[1:], ok=False)
            self.assertEqual(r.returncode, 1, args)
            self.assertIn("offset %d: META section checksum mismatch" % self.meta_offset,
                          r.stderr)
            self.assertIn("--salvage", r.stderr)
            self.assertEqual(r.stdout, "", args)

    def test_salvage_keeps_every_object_and_says_partial(self):
        db = os.path.join(TMP, "meta-salvaged.db")
        r = run("load", "--salvage", self.bad, "-o", db)
        n = run("sql", db, "SELECT count(*) FROM objects", "--format", "json")
        self.assertEqual(json.loads(n.stdout), [{"count(*)": self.objects, "partial": True}])
        self.assertIn("partial results: salvaged", n.stderr)
        table = run("types", db, "-n", "3").stdout
        self.assertRegex(table.splitlines()[-1], r"^\(partial: salvaged .*offset %d"
                         % self.meta_offset)
        lines = run("top", db, "--format", "csv").stdout.splitlines()
        self.assertTrue(lines[0].startswith("# partial: salvaged"), lines[0])
        self.assertTrue(lines[1].startswith("addr,"), lines[1])
        rows = json.loads(run("top", db, "--format", "json").stdout)
        self.assertTrue(rows and all(row["partial"] is True for row in rows))
        # On the .hsnap: --salvage builds SNAP.db; without it the cached salvage is refused.
        self.assertIn("(partial: ", run("summary", self.bad, "--salvage").stdout)
        self.assertEqual(run("summary", self.bad, ok=False).returncode, 1)
        # A whole snapshot says nothing of the kind.
        whole = run("top", self.good, "--format", "json")
        self.assertNotIn("partial", whole.stdout + whole.stderr)

    def test_salvage_keeps_the_other_runs(self):
        jl = os.path.join(TMP, "runs.jsonl")
        with open(jl, "w") as f:
            f.write(objects_jsonl(150000))  # three runs of at most 65,536 objects
        snap, bad = os.path.join(TMP, "runs.hsnap"), os.path.join(TMP, "runs-bad.hsnap")
        run("convert", jl, "-o", snap)
        data = open(snap, "rb").read()
        self.assertEqual(sum(1 for s in sections(data) if s[0] == 6), 3)
        damage(snap, bad, 6, 0)
        r = run("check", bad, ok=False)
        self.assertIn("salvaged 84464 of 150000 objects", r.stderr)
        db = os.path.join(TMP, "runs.db")
        run("load", bad, "--salvage", "-o", db)
        rows = json.loads(run("sql", db, "SELECT count(*) AS n, min(addr) AS lo FROM objects",
                              "--format", "json").stdout)
        self.assertEqual((rows[0]["n"], rows[0]["lo"]), (84464, 4096 + 16 * 65536))

    def test_check_truncated_prints_salvage(self):
        data = open(self.good, "rb").read()
        cut = os.path.join(TMP, "cut.hsnap")
        open(cut, "wb").write(data[:len(data) // 2])
        r = run("check", cut, ok=False)
        self.assertEqual(r.returncode, 1)
        self.assertRegex(r.stderr, r"heapsnap: .*cut.hsnap: offset \d+: ")
        self.assertRegex(r.stderr, r"heapsnap: salvage: .*salvaged \d+ of \d+ objects")


class Streamed(unittest.TestCase):
    def test_notices(self):
        snap, db = os.path.join(TMP, "stream.hsnap"), os.path.join(TMP, "stream.db")
        dump(SMALL_HEAP, snap)
        run("load", "--stream", snap, "-o", db)
        addr = run("sql", db, "SELECT printf('0x%x', addr) FROM objects LIMIT 1", "--format",
                   "csv").stdout.split()[-1]
        for args in (["summary", db], ["top", db], ["leaks", db], ["path", db, addr]):
            r = run(*args, ok=False)
            self.assertIn("partial results: streamed load", r.stderr, args)
            self.assertIn("GC garbage", r.stderr)
            self.assertIn("plain `heapsnap load SNAP`", r.stderr)
        summary = run("summary", db).stdout
        self.assertIn("(partial: streamed load", summary)
        self.assertRegex(summary, r"\ngarbage +not computed\n")
        self.assertRegex(summary, r"\nunrooted +not computed\n")
        self.assertIn("not computed: `heapsnap load --stream` skipped", run("leaks", db).stdout)
        self.assertNotIn("\nno finding", run("leaks", db).stdout)
        self.assertIn("paths were not computed", run("path", db, addr, ok=False).stderr)


class Strings(unittest.TestCase):
    def roundtrip(self, snap):
        first = run("export", snap).stdout.encode("utf-8", "surrogateescape")
        jl, again = os.path.join(TMP, "rt.jsonl"), os.path.join(TMP, "rt.hsnap")
        open(jl, "wb").write(first)
        run("convert", jl, "-o", again)
        second = run("export", again).stdout.encode("utf-8", "surrogateescape")
        self.assertEqual(first, second)
        return first

    def test_real_heap_strings(self):
        snap = os.path.join(TMP, "strings.hsnap")
        dump(STRINGS_HEAP, snap)
        out = self.roundtrip(snap)
        self.assertIn(b'"value":"a\\u0000b"', out)
        # A key's label is its Python repr (README 'Paths'): the NUL is spelled \x00.
        self.assertIn(b'"label":"[\'k\\\\x00ey\']"', out)

    def test_bytes_that_are_not_utf8(self):
        jl, snap = os.path.join(TMP, "raw.jsonl"), os.path.join(TMP, "raw.hsnap")
        with open(jl, "w") as f:
            f.write('{"t":"object","addr":4096,"type":"str","size":50,"refcnt":0,'
                    '"value":"\\u0000\\udcff\\udc80x\\ud83d\\ude00"}\n')
        run("convert", jl, "-o", snap)
        out = self.roundtrip(snap)
        value = json.loads(out.decode("utf-8"))["value"]
        self.assertEqual(value.encode("utf-8", "surrogateescape"),
                         b"\x00\xff\x80x\xf0\x9f\x98\x80")
        with open(jl, "w") as f:
            f.write('{"t":"object","addr":4096,"type":"s\\u0000tr","size":50,"refcnt":0}\n')
        r = run("convert", jl, "-o", snap, ok=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("NUL character in \"type\"", r.stderr)


class Surplus(unittest.TestCase):
    def test_conservative_edges_are_not_c_held(self):
        jl, snap = os.path.join(TMP, "cons.jsonl"), os.path.join(TMP, "cons.hsnap")
        with open(jl, "w") as f:
            f.write('{"t":"object","addr":4096,"type":"Opaque","size":50,"refcnt":1,"flags":4}\n'
                    '{"t":"object","addr":8192,"type":"list","size":64,"refcnt":1}\n'
                    '{"t":"object","addr":12288,"type":"list","size":64,"refcnt":3}\n'
                    '{"t":"edge","src":4096,"dst":8192,"kind":"conservative"}\n'
                    '{"t":"edge","src":4096,"dst":12288,"kind":"conservative"}\n')
        run("convert", jl, "-o", snap)
        rows = json.loads(run("query", snap, "refcount_surplus", "--format", "json").stdout)
        got = {r["addr"]: (r["surplus"], r["conservative"]) for r in rows}
        # 0x2000: its one reference is the scanned one; 0x3000: two held by C besides.
        self.assertNotIn("0x2000", got)
        self.assertEqual(got["0x3000"], (2, 1))


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"])
