#!/usr/bin/env python3
"""test_shell.py — `heapsnap shell` driven two ways: statements on stdin (no terminal: no prompt,
dot-commands, multi-line SQL, .mode, .timer, .query, errors that do not end the shell), and
through a pseudo-terminal (readline: tab completion of dot-commands, query names, tables and
columns, and history written to ~/.heapsnap_history).

Usage: test_shell.py HEAPSNAP
"""
import csv
import io
import json
import os
import pty
import select
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

HEAPSNAP = None

GRAPH = "".join(json.dumps(l) + "\n" for l in [
    {"t": "object", "addr": 0x1000, "type": "dict", "size": 100, "refcnt": 1, "gc": True},
    {"t": "object", "addr": 0x2000, "type": "list", "size": 60, "refcnt": 1, "gc": True},
    {"t": "object", "addr": 0x3000, "type": "str", "size": 50, "refcnt": 1, "value": "x,y"},
    {"t": "edge", "src": 0x1000, "dst": 0x2000, "label": "['items']"},
    {"t": "edge", "src": 0x2000, "dst": 0x3000, "label": "[0]"},
    {"t": "root", "addr": 0x1000, "kind": "module", "name": "globals"},
])


class Shell(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="hs-shell-")
        jl = os.path.join(cls.tmp, "g.jsonl")
        with open(jl, "w") as f:
            f.write(GRAPH)
        cls.snap = os.path.join(cls.tmp, "g.hsnap")
        subprocess.run([HEAPSNAP, "convert", jl, "-o", cls.snap], check=True,
                       capture_output=True)
        subprocess.run([HEAPSNAP, "load", cls.snap], check=True, capture_output=True)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp)

    def stdin_shell(self, script):
        p = subprocess.run([HEAPSNAP, "shell", self.snap], input=script.encode(),
                           capture_output=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        return p.stdout.decode(), p.stderr.decode()

    def test_stdin_statements(self):
        out, err = self.stdin_shell(
            ".mode csv\n"
            "SELECT printf('0x%x', addr) AS addr,\n"
            "       hs_path(id) AS path\n"
            "FROM objects ORDER BY addr;\n"
            "SELEC oops;\n"
            ".mode json\n"
            "SELECT value FROM objects WHERE value IS NOT NULL;\n")
        self.assertNotIn("heapsnap>", out)
        first, second = out.split("\r\n[\n", 1)  # the CSV rows, then the JSON array
        rows = list(csv.DictReader(io.StringIO(first, newline="")))
        self.assertEqual([(r["addr"], r["path"]) for r in rows],
                         [("0x1000", "globals"), ("0x2000", "globals['items']"),
                          ("0x3000", "globals['items'][0]")])
        self.assertEqual(json.loads("[" + second), [{"value": "x,y"}])
        self.assertIn("syntax error", err)

    def test_dot_commands(self):
        out, err = self.stdin_shell(".tables\n.schema roots\n.timer on\nSELECT 1 AS one;\n"
                                    ".timer off\n.queries\n.query largest_objects 1\n"
                                    ".bogus\n.help\n.quit\nSELECT 'after quit';\n")
        for table in ("objects", "edges", "weakrefs", "roots", "meta", "types"):
            self.assertIn(table, out)
        self.assertIn("CREATE TABLE roots", out)
        self.assertIn("Run Time: real", out)
        self.assertIn("type_histogram", out)
        self.assertIn("0x1000", out)  # largest_objects 1: the dict
        self.assertIn("unknown command .bogus", err)
        self.assertIn(".mode table|csv|json", out)
        self.assertNotIn("after quit", out)

    def test_last_statement_without_semicolon(self):
        out, _ = self.stdin_shell("SELECT count(*) AS n FROM objects")
        self.assertIn("3", out.split("\n", 2)[2])

    def test_pty_completion_and_history(self):
        home = tempfile.mkdtemp(dir=self.tmp)
        env = dict(os.environ, HOME=home, TERM="dumb", INPUTRC="/dev/null")
        pid, fd = pty.fork()
        if pid == 0:
            os.execve(HEAPSNAP, [HEAPSNAP, "shell", self.snap], env)
        out = b""

        def read_until(token, timeout=20):
            nonlocal out
            end = time.time() + timeout
            while token not in out and time.time() < end:
                r, _, _ = select.select([fd], [], [], 0.2)
                if r:
                    try:
                        out += os.read(fd, 4096)
                    except OSError:
                        break
            return token in out

        self.assertTrue(read_until(b"heapsnap> "), out)
        # ".tab<TAB>" -> ".tables"; ".query largest_o<TAB>" -> largest_objects;
        # "count(nrefe<TAB>) FROM obje<TAB>" -> column and table names.
        os.write(fd, b".tab\t\n")
        self.assertTrue(read_until(b"roots"), out)
        os.write(fd, b".query largest_o\t1\n")  # readline appends the space
        self.assertTrue(read_until(b"largest_objects 1"), out)
        self.assertTrue(read_until(b"0x1000"), out)
        os.write(fd, b"SELECT sum(retained) AS total, count(nrefe\t) AS n FROM obje\t;\n")
        self.assertTrue(read_until(b"count(nreferrers) AS n FROM objects;"), out)
        self.assertTrue(read_until(b"210"), out)
        os.write(fd, b".quit\n")
        _, status = os.waitpid(pid, 0)
        os.close(fd)
        self.assertEqual(os.waitstatus_to_exitcode(status), 0)
        with open(os.path.join(home, ".heapsnap_history")) as f:
            history = f.read()
        self.assertIn(".tables", history)
        self.assertIn("SELECT sum(retained) AS total, count(nreferrers) AS n FROM objects;", history)


if __name__ == "__main__":
    HEAPSNAP = os.path.abspath(sys.argv[1])
    unittest.main(argv=sys.argv[:1], verbosity=2)
