#!/usr/bin/env python3
"""test_cli_store.py — the database commands of the heapsnap CLI on small snapshots with known
answers: load, summary, types, top, cycles, garbage, show, path, referrers, deep, diff, query,
sql; every --format (CSV parsed as RFC 4180, JSON parsed), the exit codes, the on-demand .db
cache, refusal of foreign databases, and the loadable extension in the real sqlite3 shell.

The snapshots are made with `heapsnap convert` from the JSON lines below.  The heap:

  sys.modules (dict 0x1000, root) ['app'] -> module 0x2000 .__dict__ -> dict 0x3000
    ['cache'] -> dict 0x4000 ['users'] -> list 0x5000 [0] str 'alice' 0x6000,
                                                       [1] str 'alice' 0x7000 (a duplicate),
                                                       [2] str 0xb000 (refcnt 3: 2 external)
    ['w'] -> weakref 0xa000 (dead)
  Node 0x8000 <-> Node 0x9000: a garbage cycle (refcount 1 each, only from each other)

Usage: test_cli_store.py HEAPSNAP LIBHEAPSNAP_SQLITE
"""
import csv
import io
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import unittest

HEAPSNAP = EXT = None


def obj(addr, type_, size, refcnt=1, gc=True, value=None):
    return {"t": "object", "addr": addr, "type": type_, "size": size, "refcnt": refcnt,
            "gc": gc, "gen": 2 if gc else None, "value": value}


def edge(src, dst, label):
    return {"t": "edge", "src": src, "dst": dst, "label": label}


def heap(grown=False):
    lines = [
        {"t": "meta", "key": "runtime", "value": "cpython 3.11.7"},
        obj(0x1000, "dict", 1000),
        obj(0x2000, "module", 100, value="app"),
        obj(0x3000, "dict", 200),
        obj(0x4000, "dict", 300),
        obj(0x5000, "list", 408 if grown else 400),
        obj(0x6000, "str", 50, gc=False, value="alice"),
        obj(0x7000, "str", 50, gc=False, value="alice"),
        obj(0x8000, "Node", 64),
        obj(0x9000, "Node", 64),
        obj(0xa000, "weakref", 80),
        obj(0xb000, "str", 60, refcnt=3, gc=False, value="held by C"),
        edge(0x1000, 0x2000, "['app']"),
        edge(0x2000, 0x3000, ".__dict__"),
        edge(0x3000, 0x4000, "['cache']"),
        edge(0x3000, 0xa000, "['w']"),
        edge(0x4000, 0x5000, "['users']"),
        edge(0x5000, 0x6000, "[0]"),
        edge(0x5000, 0x7000, "[1]"),
        edge(0x5000, 0xb000, "[2]"),
        edge(0x8000, 0x9000, ".next"),
        edge(0x9000, 0x8000, ".next"),
        {"t": "weak", "ref": 0xa000, "referent": None, "callback": None},
        {"t": "root", "addr": 0x1000, "kind": "module", "name": "sys.modules"},
    ]
    if grown:
        lines.insert(-2, obj(0xc000, "str", 52, gc=False, value="bob"))
        lines.insert(-2, edge(0x5000, 0xc000, "[3]"))
    return "".join(json.dumps(l) + "\n" for l in lines)


TOTAL = 1000 + 100 + 200 + 300 + 400 + 50 + 50 + 64 + 64 + 80 + 60


def run(*args, check=0, stdin=None):
    # Bytes, decoded by hand: text mode would turn CSV's CRLF into LF.
    p = subprocess.run([HEAPSNAP, *map(str, args)], capture_output=True,
                       input=stdin.encode() if stdin else None, timeout=60)
    p.stdout, p.stderr = p.stdout.decode(), p.stderr.decode()
    if check is not None and p.returncode != check:
        raise AssertionError("heapsnap %s: exit %d, wanted %d\nstdout: %s\nstderr: %s"
                             % (" ".join(map(str, args)), p.returncode, check, p.stdout,
                                p.stderr))
    return p


def rows_json(*args):
    out = run(*args, "--format", "json").stdout
    return json.loads(out)


def rows_csv(*args):
    out = run(*args, "--format", "csv").stdout
    assert "\r\n" in out, "CSV rows end with CRLF (RFC 4180)"
    return list(csv.DictReader(io.StringIO(out, newline="")))


class Store(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="hs-store-")
        cls.snap = os.path.join(cls.tmp, "app.hsnap")
        cls.snap2 = os.path.join(cls.tmp, "app2.hsnap")
        for path, grown in ((cls.snap, False), (cls.snap2, True)):
            jl = path + ".jsonl"
            with open(jl, "w") as f:
                f.write(heap(grown))
            run("convert", jl, "-o", path)
        run("load", cls.snap)
        cls.db = os.path.join(cls.tmp, "app.db")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp)

    def by_addr(self, rows):
        return {r["addr"]: r for r in rows}

    # -- the database itself ------------------------------------------------------------------
    def test_schema_and_columns(self):
        con = sqlite3.connect(self.db)
        self.assertEqual(con.execute("PRAGMA application_id").fetchone()[0], 0x48534442)
        cols = [r[1] for r in con.execute("PRAGMA table_info(objects)")]
        for c in ("id", "addr", "type_id", "size", "refcnt", "gc", "generation", "immortal",
                  "value", "ext_refs", "unreachable", "scc", "idom", "retained", "depth"):
            self.assertIn(c, cols)
        self.assertEqual(con.execute("SELECT count(*) FROM objects").fetchone()[0], 11)
        self.assertEqual(con.execute("SELECT count(*) FROM edges").fetchone()[0], 10)
        row = con.execute("SELECT ext_refs, depth, unreachable, idom FROM objects "
                          "WHERE addr = 0xb000").fetchone()
        # 0xb000 is an unnamed root (two external references), but the module root reaches it:
        # depth and path come from the module-level tier first (graph_depth.c).
        self.assertEqual(row, (2, 5, 0, None))
        got = dict(con.execute("SELECT addr, retained FROM objects"))
        self.assertEqual(got[0x1000], TOTAL - 64 - 64 - 60)
        self.assertEqual(got[0x5000], 500)
        self.assertEqual(got[0x8000], 64)
        self.assertEqual(con.execute("SELECT label FROM edges WHERE src = "
                                     "(SELECT id FROM objects WHERE addr = 0x5000) ORDER BY id")
                         .fetchall(), [("[0]",), ("[1]",), ("[2]",)])
        self.assertEqual(con.execute("SELECT referent FROM weakrefs").fetchall(), [(None,)])
        self.assertEqual(con.execute("SELECT sum(unreachable) FROM objects").fetchone()[0], 2)
        for c in ("ext_refs", "unreachable", "scc", "retained"):
            self.assertEqual(con.execute("SELECT count(*) FROM objects WHERE %s IS NULL"
                                         % c).fetchone()[0], 0, c)
        con.close()

    # -- commands ---------------------------------------------------------------------------
    def test_summary(self):
        out = run("summary", self.snap).stdout
        self.assertIn("objects       11", out)
        self.assertIn("garbage       2", out)
        self.assertIn("bytes         %d" % TOTAL, out)
        rows = rows_json("summary", self.db, "--top", "2")
        self.assertEqual([r["type"] for r in rows], ["dict", "list"])

    def test_first_answer(self):
        # summary and top --by retained on a snapshot with no database answer before writing it
        # (analyzer/cli/first_answer.c): byte for byte what the database then answers, in every
        # format, and the database is there afterwards.
        fresh = os.path.join(self.tmp, "fresh.hsnap")
        for cmd in (["summary"], ["summary", "-n", "2"], ["top", "--by", "retained"],
                    ["top", "--by", "retained", "-n", "2"], ["top", "--by", "retained", "-n", "0"]):
            for fmt in ("table", "csv", "json"):
                shutil.copyfile(self.snap, fresh)
                first = run(cmd[0], fresh, *cmd[1:], "--format", fmt)
                db = os.path.join(self.tmp, "fresh.db")
                self.assertTrue(os.path.exists(db), cmd)
                again = run(cmd[0], fresh, *cmd[1:], "--format", fmt)
                self.assertEqual((first.stdout, first.stderr), (again.stdout, again.stderr),
                                 (cmd, fmt))
                self.assertIn("0x1000" if cmd[0] == "top" and "0" not in cmd else "", first.stdout)
                os.unlink(db)

    def test_first_answer_object(self):
        # path and show on a snapshot with no database answer from a partial database of the
        # object's path (and show's references) before writing it (first_answer.c): byte for
        # byte what the database then answers, in every format (path's digraph too), for a long
        # path, a root, garbage no root reaches, -n, and an unknown address (the same error and
        # exit code), a referrer off the path; an ADDR that is none and an object held from
        # outside the graph (0xd000, 0xb000: the note counts the whole database) go through the
        # database, written first, with the same output.
        held = os.path.join(self.tmp, "held.hsnap")
        with open(held + ".jsonl", "w") as f:
            f.write(heap() + "".join(json.dumps(l) + "\n" for l in (
                obj(0xd000, "list", 72, refcnt=2), obj(0xe000, "str", 55, gc=False, value="x"),
                edge(0xd000, 0xe000, "[0]"),
                # referrers beyond the path and the referents: 0x4000
                obj(0xf000, "str", 40, refcnt=2, gc=False, value="shared"),
                edge(0x3000, 0xf000, "['s']"), edge(0x4000, 0xf000, "['s']"))))
        run("convert", held + ".jsonl", "-o", held)
        fresh, db = os.path.join(self.tmp, "fresh.hsnap"), os.path.join(self.tmp, "fresh.db")
        table, other = ["--format", "table"], (["--format", "csv"], ["--format", "json"])
        cases = [("path", self.snap, "0x6000", [], 0, "['users'][0]"),
                 ("path", self.snap, "0x1000", [], 0, "sys.modules"),
                 ("path", self.snap, "0x8000", [], 1, "no root reaches"),
                 ("path", self.snap, "0x1234", [], 1, "no object at address 0x1234"),
                 ("path", self.snap, "0x12z", [], 2, "not an address"),
                 ("path", held, "0xe000", [], 0, "root: held from outside"),
                 ("show", self.snap, "0x5000", [], 0, "path: sys.modules['app']"),
                 ("show", self.snap, "0x5000", ["-n", "2"], 0, "1 more referents"),
                 ("show", self.snap, "0x1000", [], 0, "'app'"),
                 ("show", self.snap, "0x8000", [], 0, "(no root reaches it)"),
                 ("show", self.snap, "0xb000", [], 0, "references: held from outside"),
                 ("show", self.snap, "0x1234", [], 1, "no object at address 0x1234"),
                 ("show", held, "0xf000", [], 0, "referrer  0x4000"),
                 ("show", held, "0xf000", ["-n", "1"], 0, "1 more referrers")]
        for cmd, snap, addr, args, code, want in cases:
            for fmt in (table, *other, *((["--dot"],) if cmd == "path" else ())):
                shutil.copyfile(snap, fresh)
                first = run(cmd, fresh, addr, *args, *fmt, check=code)
                self.assertTrue(os.path.exists(db), (cmd, addr, fmt))
                again = run(cmd, fresh, addr, *args, *fmt, check=code)
                self.assertEqual((first.stdout, first.stderr), (again.stdout, again.stderr),
                                 (cmd, addr, fmt))
                if code or fmt == table:  # the path, the note or the error
                    self.assertIn(want, first.stdout + first.stderr, (cmd, addr, fmt))
                os.unlink(db)

    def test_types(self):
        rows = rows_json("types", self.snap)
        t = {r["type"]: r for r in rows}
        self.assertEqual((t["dict"]["count"], t["dict"]["bytes"]), (3, 1500))
        self.assertEqual((t["str"]["count"], t["str"]["bytes"]), (3, 160))
        self.assertEqual(sum(r["bytes"] for r in rows), TOTAL)
        self.assertEqual(len(rows_csv("types", self.snap, "-n", "2")), 2)

    def test_numbers_taken_from_csv(self):
        # A field cut from CSV output keeps the CRLF line ending: a script hands it on as is.
        out = run("top", self.snap, "-n", "1", "--format", "csv").stdout
        last = out.split("\n")[-2] + "\n"
        addr = last.split(",")[0] if last.startswith("0x") else None
        self.assertIsNotNone(addr, out)
        field = last.rsplit(",", 1)[0].split(",")[0] + "\r\n"
        run("deep", self.snap, field)
        run("deep", self.snap, " " + addr + " ")
        run("top", self.snap, "-n", " 2\r\n")
        run("leaks", self.snap, "--limit", "3\r\n")
        # Whitespace around a number, nothing else: these stay usage errors.
        for bad in ("0x 1400", "1400x", "-5", "+5", "", "0x"):
            run("deep", self.snap, bad, check=2)
        run("capture", "--pid", "4294999707", check=2)
        run("capture", "--pid", " 0 ", check=2)

    def test_top(self):
        rows = rows_json("top", self.snap, "--by", "retained", "-n", "3")
        self.assertEqual([r["addr"] for r in rows], ["0x1000", "0x2000", "0x3000"])
        self.assertEqual(rows[0]["retained"], TOTAL - 188)
        self.assertEqual(rows[2]["path"], "sys.modules['app'].__dict__")
        rows = rows_json("top", self.snap, "--by", "size", "-n", "2")
        self.assertEqual([r["addr"] for r in rows], ["0x1000", "0x5000"])
        rows = rows_json("top", self.snap, "--by", "count", "-n", "1")
        self.assertEqual((rows[0]["type"], rows[0]["count"]), ("dict", 3))
        run("top", self.snap, "--by", "colour", check=2)

    def test_cycles_and_garbage(self):
        rows = rows_json("cycles", self.snap)
        self.assertEqual(len(rows), 1)
        self.assertEqual((rows[0]["objects"], rows[0]["bytes"], rows[0]["types"]),
                         (2, 128, "Node x2"))
        rows = rows_csv("garbage", self.snap)
        self.assertEqual(sorted(r["addr"] for r in rows), ["0x8000", "0x9000"])
        self.assertEqual({r["type"] for r in rows}, {"Node"})

    def test_show(self):
        rows = rows_json("show", self.snap, "0x5000")
        rel = [(r["relation"], r["addr"], r["label"]) for r in rows]
        self.assertEqual(rel, [("object", "0x5000", None), ("referent", "0x6000", "[0]"),
                               ("referent", "0x7000", "[1]"), ("referent", "0xb000", "[2]"),
                               ("referrer", "0x4000", "['users']")])
        out = run("show", self.snap, str(0x5000)).stdout  # decimal ADDR
        self.assertIn("path: sys.modules['app'].__dict__['cache']['users']", out)
        # -n N lists the first N referents and referrers, then says how many more (issue 22)
        rows = rows_json("show", self.snap, "0x5000", "-n", "2")
        self.assertEqual([r["addr"] for r in rows if r["relation"] == "referent"],
                         ["0x6000", "0x7000"])
        out = run("show", self.snap, "0x5000", "-n", "2").stdout
        self.assertIn("... 1 more referents (3 in all; -n N to list more)", out)

    def test_every_listing_takes_n(self):
        # sql, query and referrers print the first N rows, then how many more: in the table,
        # on stderr beside csv and json (which stay whole documents); -n 0 prints all.
        total = int(rows_csv("sql", self.snap, "SELECT count(*) AS n FROM objects")[0]["n"])
        out = run("sql", self.snap, "SELECT addr FROM objects", "-n", "2").stdout
        self.assertEqual(len(out.splitlines()), 2 + 2 + 1, out)  # header, rule, rows, more
        self.assertIn("... %d more rows (-n N to list more, -n 0 for all)" % (total - 2), out)
        p = run("sql", self.snap, "SELECT addr FROM objects", "-n", "2", "--format", "json")
        self.assertEqual(len(json.loads(p.stdout)), 2)
        self.assertIn("... %d more rows" % (total - 2), p.stderr)
        self.assertEqual(len(rows_csv("sql", self.snap, "SELECT addr FROM objects", "-n", "0")),
                         total)
        self.assertEqual(len(rows_csv("query", self.snap, "type_histogram", "-n", "1")), 1)
        self.assertEqual(len(rows_csv("referrers", self.snap, "0xb000", "-n", "0")), 1)
        out = run("referrers", self.snap, "0x5000", "-n", "1").stdout
        self.assertNotIn("more rows", out)  # one referrer: nothing left out

    def test_path(self):
        out = run("path", self.snap, "0x6000").stdout
        self.assertEqual(out.splitlines()[0],
                         "sys.modules['app'].__dict__['cache']['users'][0]")
        rows = rows_json("path", self.snap, "0x6000")
        self.assertEqual("".join(r["label"] for r in rows),
                         "sys.modules['app'].__dict__['cache']['users'][0]")
        self.assertEqual([r["depth"] for r in rows], [0, 1, 2, 3, 4, 5])
        p = run("path", self.snap, "0x8000", check=1)
        self.assertIn("no root reaches", p.stderr)

    def test_referrers_and_deep(self):
        rows = rows_json("referrers", self.snap, "0xb000")
        self.assertEqual([(r["addr"], r["label"]) for r in rows], [("0x5000", "[2]")])
        rows = rows_json("deep", self.snap, "0x5000")
        self.assertEqual((rows[0]["size"], rows[0]["deep_size"], rows[0]["retained"]),
                         (400, 560, 500))
        rows = rows_json("deep", self.snap, "0x3000")
        self.assertEqual(rows[0]["deep_size"], 200 + 300 + 560 + 80)

    def test_diff(self):
        rows = rows_json("diff", self.snap, self.snap2)
        t = {r["type"]: r for r in rows}
        self.assertEqual((t["str"]["count_delta"], t["str"]["bytes_delta"]), (1, 52))
        self.assertEqual((t["list"]["count_delta"], t["list"]["bytes_delta"]), (0, 8))
        self.assertNotIn("dict", t)
        rows = rows_json("diff", self.snap, self.snap2, "--section", "new")
        self.assertEqual([(r["addr"], r["type"]) for r in rows], [("0xc000", "str")])
        self.assertEqual(rows[0]["path"], "sys.modules['app'].__dict__['cache']['users'][3]")
        rows = rows_csv("diff", self.snap, self.snap2, "--section", "grown")
        self.assertEqual([(r["addr"], r["old_refs"], r["new_refs"]) for r in rows],
                         [("0x5000", "3", "4")])
        out = run("diff", self.snap, self.snap2).stdout
        for title in ("== by type ==", "== new objects ==", "== containers that grew =="):
            self.assertIn(title, out)
        self.assertEqual(rows[0]["path"], "sys.modules['app'].__dict__['cache']['users']")

    def test_queries(self):
        names = [r["name"] for r in rows_json("query", "--list")]
        self.assertGreaterEqual(len(names), 12)
        for name in names:
            if name != "referrers_of":
                run("query", self.snap, name, "--format", "json")
        rows = rows_json("query", self.snap, "duplicate_strings")
        self.assertEqual([(r["value"], r["copies"], r["wasted"]) for r in rows],
                         [("alice", 2, 50)])
        rows = rows_json("query", self.snap, "refcount_surplus")
        self.assertEqual([(r["addr"], r["surplus"]) for r in rows],
                         [("0xb000", 2), ("0x1000", 1)])  # sys.modules: held by C too
        rows = rows_json("query", self.snap, "refcount_surplus", "20", "2")
        self.assertEqual([r["addr"] for r in rows], ["0xb000"])
        rows = rows_json("query", self.snap, "dead_weakrefs")
        self.assertEqual([r["weakref"] for r in rows], ["0xa000"])
        rows = rows_json("query", self.snap, "referrers_of", "0x4000")
        self.assertEqual([r["addr"] for r in rows], ["0x3000"])
        rows = rows_json("query", self.snap, "largest_objects", "1")
        self.assertEqual(len(rows), 1)
        rows = rows_json("query", self.snap, "objects_per_generation")
        g = {r["generation"]: r for r in rows}
        self.assertEqual((g["untracked"]["objects"], g["2"]["objects"], g["2"]["garbage"]),
                         (3, 8, 2))
        run("query", self.snap, "no_such_query", check=2)

    def test_sql(self):
        rows = rows_json("sql", self.snap,
                         "SELECT hs_type(id) AS t, hs_path(id) AS p, hs_deep_size(id) AS d "
                         "FROM objects WHERE addr = ?1", "0x7000")
        self.assertEqual(rows, [{"t": "str", "p": "sys.modules['app'].__dict__['cache']"
                                 "['users'][1]", "d": 50}])
        # Quoting: a value with a comma, a quote and a newline survives CSV and JSON.
        tricky = 'a,b "c"\nd'
        q = "SELECT ? AS v, NULL AS n"
        self.assertEqual(rows_csv("sql", self.snap, q, tricky), [{"v": tricky, "n": ""}])
        self.assertEqual(rows_json("sql", self.snap, q, tricky), [{"v": tricky, "n": None}])
        # Read-only: the cache cannot be damaged through sql.
        p = run("sql", self.snap, "DELETE FROM objects", check=1)
        self.assertIn("readonly", p.stderr.replace("read-only", "readonly"))
        p = run("sql", self.snap, "SELEC 1", check=1)
        self.assertIn("syntax error", p.stderr)

    # -- errors and the cache ----------------------------------------------------------------
    def test_exit_codes(self):
        for cmd in ("load", "summary", "types", "top", "cycles", "garbage", "show", "path",
                    "referrers", "deep", "diff", "query", "sql", "shell"):
            p = run(cmd, "--help")
            self.assertTrue(p.stdout.startswith("usage: heapsnap " + cmd), cmd)
            run(cmd, check=2) if cmd != "query" else None
            run(cmd, self.snap, "--format", "xml", check=2)
        run("show", self.snap, "0xdead", check=1)
        run("show", self.snap, "zzz", check=2)
        p = run("types", os.path.join(self.tmp, "missing.hsnap"), check=1)
        self.assertIn("missing.hsnap", p.stderr)

    def test_foreign_db_refused(self):
        d = tempfile.mkdtemp(dir=self.tmp)
        foreign = os.path.join(d, "other.db")
        con = sqlite3.connect(foreign)
        con.execute("CREATE TABLE objects(x)")
        con.commit()
        con.close()
        p = run("types", foreign, check=1)
        self.assertIn("not a heapsnap database", p.stderr)
        # A snapshot whose cache name is taken by a foreign database: refused, not replaced.
        shutil.copy(self.snap, os.path.join(d, "other.hsnap"))
        p = run("types", os.path.join(d, "other.hsnap"), check=1)
        self.assertIn("refusing", p.stderr)
        with open(foreign, "rb") as f:
            self.assertTrue(f.read(16).startswith(b"SQLite format 3"))

    def test_cache_reused_and_rebuilt(self):
        d = tempfile.mkdtemp(dir=self.tmp)
        snap = os.path.join(d, "c.hsnap")
        shutil.copy(self.snap, snap)
        run("types", snap)
        db = os.path.join(d, "c.db")
        self.assertTrue(os.path.exists(db))
        m1 = os.stat(db).st_mtime_ns
        run("types", snap)
        self.assertEqual(os.stat(db).st_mtime_ns, m1, "a newer cache is reused")
        time.sleep(0.01)
        shutil.copy(self.snap2, snap)  # the snapshot changed: the cache is stale
        rows = rows_json("types", snap)
        self.assertEqual({r["type"]: r["count"] for r in rows}["str"], 4)

    # -- the loadable extension in the real sqlite3 shell -----------------------------------------
    def test_sqlite3_extension(self):
        sqlite3_bin = shutil.which("sqlite3")
        self.assertIsNotNone(sqlite3_bin, "the sqlite3 shell is installed")
        ext = os.path.splitext(EXT)[0]
        p = subprocess.run([sqlite3_bin, self.db, ".load " + ext,
                            "SELECT hs_type(id), hs_path(id), hs_deep_size(id) FROM objects "
                            "WHERE addr = 0x6000"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout.strip(),
                         "str|sys.modules['app'].__dict__['cache']['users'][0]|50")
        # Moved together with its snapshot, the database still finds it for hs_deep_size.
        d = tempfile.mkdtemp(dir=self.tmp)
        shutil.copy(self.snap, d)
        shutil.copy(self.db, d)
        os.utime(os.path.join(d, "app.db"))
        os.rename(self.snap, self.snap + ".away")
        try:
            p = subprocess.run([sqlite3_bin, os.path.join(d, "app.db"), ".load " + ext,
                                "SELECT hs_deep_size(id) FROM objects WHERE addr = 0x5000"],
                               capture_output=True, text=True, timeout=60)
        finally:
            os.rename(self.snap + ".away", self.snap)
        self.assertEqual((p.returncode, p.stdout.strip()), (0, "560"), p.stderr)


if __name__ == "__main__":
    HEAPSNAP, EXT = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    unittest.main(argv=sys.argv[:1], verbosity=2)
