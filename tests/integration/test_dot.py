"""test_dot.py — `heapsnap path --dot` and `heapsnap cycles --dot` on a small graph converted
from JSON lines: Graphviz's dot parses the output (labels with quotes, backslashes and newlines
included), the picture holds the expected labels, order and cap, and the exit codes are right.
A machine without Graphviz fails this test (apt-get install graphviz).

usage: test_dot.py HEAPSNAP
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest
import xml.etree.ElementTree as ET

HEAPSNAP = sys.argv[1]
TMP = tempfile.mkdtemp(prefix="hs-dot-")
WEIRD_KEY = "['say \"hi\" \\ back\nslash']"  # quotes, a backslash, a newline
RINGS, RING = 6, 150  # garbage rings of 8-byte objects: 6 x 150 > the 500 drawn at most


def obj(addr, type_, size, refcnt=1, gc=True):
    return {"t": "object", "addr": addr, "type": type_, "size": size, "refcnt": refcnt,
            "gc": gc, "gen": 2 if gc else None}


def edge(src, dst, label):
    return {"t": "edge", "src": src, "dst": dst, "label": label}


def heap():
    lines = [
        obj(0x1000, "dict", 1000), obj(0x2000, "module", 100), obj(0x3000, "dict", 200),
        obj(0x4000, "dict", 300), obj(0x5000, "list", 400), obj(0x6000, 'we"ird\\type', 77),
        edge(0x1000, 0x2000, "['app']"), edge(0x2000, 0x3000, ".__dict__"),
        edge(0x3000, 0x4000, WEIRD_KEY), edge(0x4000, 0x5000, "['users']"),
        edge(0x5000, 0x6000, "[3]"),
        # garbage: a two-object cycle, and a larger three-object one
        obj(0x8000, "Node", 700), obj(0x9000, "Node", 700),
        edge(0x8000, 0x9000, ".next"), edge(0x9000, 0x8000, '.prev "q"'),
        obj(0xa000, "Big", 500), obj(0xb000, "Big", 500), obj(0xc000, "Big", 500),
        edge(0xa000, 0xb000, ".b"), edge(0xb000, 0xc000, ".c"), edge(0xc000, 0xa000, ".a"),
        {"t": "root", "addr": 0x1000, "kind": "module", "name": "sys.modules"},
    ]
    for r in range(RINGS):
        base = 0x100000 * (r + 1)
        for i in range(RING):
            lines.append(obj(base + 16 * i, "Ring", 8))
            lines.append(edge(base + 16 * i, base + 16 * ((i + 1) % RING), ".n"))
    return "".join(json.dumps(l) + "\n" for l in lines)


def run(*args, check=0):
    p = subprocess.run([HEAPSNAP, *map(str, args)], capture_output=True, text=True, timeout=60)
    if p.returncode != check:
        raise AssertionError("heapsnap %s: exit %d, wanted %d\n%s" % (" ".join(map(str, args)),
                                                                       p.returncode, check, p.stderr))
    return p


def svg_texts(dot_src):
    """Lays dot_src out with Graphviz; returns the SVG's text lines, failing on any complaint."""
    p = subprocess.run(["dot", "-Tsvg"], input=dot_src, capture_output=True, text=True, timeout=60)
    if p.returncode != 0 or p.stderr.strip():
        raise AssertionError("dot: exit %d: %s\n%s" % (p.returncode, p.stderr, dot_src))
    root = ET.fromstring(p.stdout)
    return [t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text")]


class Dot(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not shutil.which("dot"):
            raise AssertionError("Graphviz is not installed (apt-get install graphviz)")
        jsonl = os.path.join(TMP, "heap.jsonl")
        with open(jsonl, "w") as f:
            f.write(heap())
        cls.snap = os.path.join(TMP, "heap.hsnap")
        run("convert", jsonl, "-o", cls.snap)

    def test_path(self):
        out = run("path", self.snap, "0x6000", "--dot").stdout
        self.assertTrue(out.startswith("digraph "), out)
        texts = svg_texts(out)
        # each multi-line label is one SVG text per line
        for want in ("root sys.modules", "['app']", ".__dict__", "['users']", "[3]",
                     "['say \"hi\" \\ back", "slash']", 'we"ird\\type at 0x6000',
                     "77 B, 77 B retained", "1000 B, 2077 B retained"):
            self.assertIn(want, texts)
        self.assertEqual(len(re.findall(r"^\s*o\d+ -> o\d+", out, re.M)), 5)
        self.assertEqual(len(re.findall(r"^\s*o\d+ \[", out, re.M)), 6)
        # the title is the printed path
        self.assertIn("sys.modules['app'].__dict__['say \"hi\" \\ back", texts)

    def test_path_options_and_errors(self):
        self.assertEqual(run("path", self.snap, "--dot", "0x4000").stdout.count(" -> "), 3)
        self.assertIn("--dot", run("path", "--help").stdout)
        self.assertIn("--dot", run("cycles", "--help").stdout)
        run("path", self.snap, "0x8000", "--dot", check=1)  # garbage: no root reaches it
        run("path", self.snap, "0x7777", "--dot", check=1)  # no object there
        run("top", self.snap, "--dot", check=2)  # not an option of top
        # without --dot the table is unchanged
        self.assertNotIn("digraph", run("path", self.snap, "0x6000").stdout)

    def test_cycles(self):
        out = run("cycles", self.snap, "--dot").stdout
        texts = svg_texts(out)
        clusters = re.findall(r'label="component \d+: (\d+) objects, (\d+) B( \(\d+ drawn\))?"', out)
        # largest first: the Bigs (1500 B), the Nodes (1400 B), then the rings (1200 B each),
        # 100 objects of each ring at most and 500 in all: 3 + 2 + 4 x 100 + 95
        ring = (str(RING), str(8 * RING))
        self.assertEqual(clusters, [("3", "1500", ""), ("2", "1400", "")]
                         + [ring + (" (100 drawn)",)] * 4 + [ring + (" (95 drawn)",)])
        self.assertEqual(len(re.findall(r"^\s*o\d+ \[", out, re.M)), 500)
        for want in (".next", '.prev "q"', ".a", ".b", ".c", ".n", "Big at 0xa000", "700 B",
                     "Ring at 0x100000", "8 B"):
            self.assertIn(want, texts)
        # each component a cluster of its own: no reference between clusters in this heap
        blocks = re.findall(r"subgraph cluster_\d+ \{(.*?)\n\t\}", out, re.S)
        self.assertEqual(len(blocks), 7)
        self.assertEqual(sum(len(re.findall(r"^\s*o\d+ \[", b, re.M)) for b in blocks), 500)

    def test_cycles_limit(self):
        out = run("cycles", self.snap, "--dot", "-n", "1").stdout
        self.assertEqual(out.count("subgraph cluster_"), 1)
        self.assertIn(".b", svg_texts(out))
        self.assertEqual(out.count(" -> "), 3)
        self.assertIn("--dot", run("cycles", "--help").stdout)


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1])
