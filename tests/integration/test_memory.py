"""test_memory.py — the memory column against tracemalloc (issue 22): tests/targets/memory_shapes.py
builds 10,000 objects of each of a dozen shapes (instances with and without a __dict__, with
__slots__, lists, dicts, sets, str, tuples, bytearrays) while tracemalloc traces, and records the
allocations each shape made that are still alive.  For each shape, the objects' retained_memory
summed must be within 2% of tracemalloc's allocations rounded as pymalloc rounds each (the memory
the allocator really hands out, which is what `memory` counts); the figures print beside the raw
tracemalloc bytes and sys.getsizeof's sum.  The __slots__ saving (Point against Slotted) is
checked the same way, and so is the leak report's __slots__ advice.

usage: test_memory.py HEAPSNAP TARGETS_DIR PYTHON   (PYTHONPATH must reach heapsnap)
"""
import json
import os
import subprocess
import sys
import tempfile
import unittest

HEAPSNAP, TARGETS, PYTHON = sys.argv[1:4]
TMP = tempfile.mkdtemp(prefix="hs-memory-")


def run(args):
    out = subprocess.run(args, capture_output=True, text=True, timeout=600)
    if out.returncode:
        raise AssertionError("%s failed: %s" % (args[:2], out.stderr))
    return out.stdout


class Memory(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.snap = os.path.join(TMP, "shapes.hsnap")
        cls.planted = json.loads(run([PYTHON, os.path.join(TARGETS, "memory_shapes.py"), cls.snap]))
        cls.measured = {}
        for name, f in cls.planted["shapes"].items():
            rows = json.loads(run([
                HEAPSNAP, "sql", cls.snap,
                "SELECT sum(o.retained_memory) AS memory, sum(o.retained) AS retained,"
                " count(*) AS n FROM edges e JOIN objects o ON o.id = e.dst"
                " WHERE e.src = (SELECT id FROM objects WHERE addr = %d)" % f["container"],
                "--format", "json"]))
            cls.measured[name] = rows[0]
        print("python %s" % cls.planted["python"])
        for name, f in cls.planted["shapes"].items():
            m = cls.measured[name]
            print("%-18s memory %9d  tracemalloc rounded %9d (%+.2f%%)  raw %9d  getsizeof %9d"
                  % (name, m["memory"], f["tracemalloc_rounded"],
                     100.0 * (m["memory"] - f["tracemalloc_rounded"]) / f["tracemalloc_rounded"],
                     f["tracemalloc"], f["getsizeof"]))

    def test_every_shape(self):
        for name, f in self.planted["shapes"].items():
            m = self.measured[name]
            with self.subTest(shape=name):
                self.assertEqual(m["n"], 10000)
                self.assertLess(abs(m["memory"] - f["tracemalloc_rounded"]),
                                0.02 * f["tracemalloc_rounded"])

    def test_slots_saving(self):
        shapes, m = self.planted["shapes"], self.measured
        want = shapes["Point"]["tracemalloc_rounded"] - shapes["Slotted"]["tracemalloc_rounded"]
        got = m["Point"]["memory"] - m["Slotted"]["memory"]
        print("__slots__ saving: memory %d, tracemalloc rounded %d, raw %d, getsizeof %d"
              % (got, want, shapes["Point"]["tracemalloc"] - shapes["Slotted"]["tracemalloc"],
                 shapes["Point"]["getsizeof"] - shapes["Slotted"]["getsizeof"]))
        self.assertLess(abs(got - want), 0.02 * want)

    def test_slots_advisor(self):
        """The leak report's __slots__ section for Point (10,000 instances without a dict and
        10,000 with one) saves what tracemalloc measured against Slotted instances."""
        rows = json.loads(run([HEAPSNAP, "leaks", self.snap, "--format", "json", "-n", "50"]))
        point = [r for r in rows if r["section"] == 6 and r["subject"] == "Point"]
        self.assertEqual(len(point), 1, [r["subject"] for r in rows if r["section"] == 6])
        shapes = self.planted["shapes"]
        want = (shapes["Point"]["tracemalloc_rounded"] +
                shapes["Point+__dict__"]["tracemalloc_rounded"] -
                2 * shapes["Slotted"]["tracemalloc_rounded"])
        print("advisor: %s; tracemalloc rounded %d" % (point[0]["detail"], want))
        self.assertEqual(point[0]["objects"], 20000)
        self.assertIn("in memory", point[0]["detail"])
        self.assertLess(abs(point[0]["retained"] - want), 0.02 * want)

    def test_deep_memory(self):
        """hs_deep_memory of a shape's container: its own memory and what its elements retain
        (which they alone hold), plus None, which every element shares."""
        for name in ("dict of 40", "Point+__dict__"):
            f = self.planted["shapes"][name]
            row = json.loads(run([
                HEAPSNAP, "sql", self.snap,
                "SELECT hs_deep_memory(id) AS deep, memory FROM objects WHERE addr = %d"
                % f["container"], "--format", "json"]))[0]
            want = row["memory"] + self.measured[name]["memory"]
            print("%s: deep memory %d, container and retained %d" % (name, row["deep"], want))
            self.assertGreaterEqual(row["deep"], want)
            self.assertLessEqual(row["deep"], want + 64)

    def test_meta(self):
        rows = json.loads(run([HEAPSNAP, "sql", self.snap,
                               "SELECT value FROM meta WHERE key = 'memory.allocator'",
                               "--format", "json"]))
        self.assertEqual(rows, [{"value": "pymalloc"}])


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
