"""test_leaks_callbacks.py — `heapsnap leaks` judges closures and bound methods by group (issue
22): tests/targets/callback_leaks.py plants 240 closures holding 256 KiB each and 1,200 bound
methods holding 20 KB each, none above the report's floor alone (1% of the ~90 MB heap); each
group must be one finding of section 4 naming the function, with the group's count, and the
bytes it holds within 3% of what tracemalloc measured while the target built it.

usage: test_leaks_callbacks.py HEAPSNAP TARGETS_DIR PYTHON   (PYTHONPATH must reach heapsnap)
"""
import json
import os
import subprocess
import sys
import tempfile
import unittest

HEAPSNAP, TARGETS, PYTHON = sys.argv[1:4]
TMP = tempfile.mkdtemp(prefix="hs-leaks-cb-")


def run(args):
    out = subprocess.run(args, capture_output=True, text=True, timeout=600)
    if out.returncode:
        raise AssertionError("%s failed: %s" % (args[:2], out.stderr))
    return out.stdout


class Callbacks(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        snap = os.path.join(TMP, "callbacks.hsnap")
        cls.planted = json.loads(run([PYTHON, os.path.join(TARGETS, "callback_leaks.py"), snap]))
        cls.rows = json.loads(run([HEAPSNAP, "leaks", snap, "--format", "json", "-n", "50"]))
        cls.heap = json.loads(run([HEAPSNAP, "sql", snap, "SELECT sum(size) AS b FROM objects",
                                   "--format", "json"]))[0]["b"]
        print("python %s, heap %d bytes" % (cls.planted["python"], cls.heap))

    def group(self, key, noun):
        want = self.planted[key]
        rows = [r for r in self.rows if r["section"] == 4 and r["subject"] == want["name"]]
        self.assertEqual(len(rows), 1, [r["subject"] for r in self.rows if r["section"] == 4])
        row = rows[0]
        print("%s: %s; tracemalloc %d bytes, off by %+.2f%%"
              % (key, row["detail"], want["tracemalloc"],
                 100.0 * (row["retained"] - want["tracemalloc"]) / want["tracemalloc"]))
        self.assertEqual(row["objects"], want["count"])
        self.assertIn("%d %s of %s" % (want["count"], noun, want["name"]), row["detail"])
        self.assertIn("callback_leaks.py", row["detail"])
        self.assertLess(abs(row["retained"] - want["tracemalloc"]), 0.03 * want["tracemalloc"])
        # No member is large alone: the group is what crosses the floor.
        self.assertLess(want["tracemalloc"] // want["count"], self.heap // 100)
        return row

    def test_closures(self):
        row = self.group("closures", "closures")
        self.assertIn("closure cell payload holds a bytearray", row["detail"])
        self.assertIn("all held by sys.modules['__main__'].__dict__['HANDLERS']", row["detail"])
        self.assertRegex(row["path"], r"^sys\.modules\['__main__'\]\.__dict__\['HANDLERS'\]\[\d+\]$")

    def test_bound_methods(self):
        row = self.group("methods", "bound methods")
        self.assertIn("__self__ (a Subscriber)", row["detail"])
        self.assertIn("all held by sys.modules['__main__'].__dict__['SUBSCRIPTIONS']",
                      row["detail"])

    def test_default_floor_is_one_percent(self):
        # A 90 MB heap: without --min-bytes the floor is 1% of it, above 256 KiB.
        self.assertGreater(self.heap // 100, 256 * 1024)
        for r in self.rows:
            if r["section"] in (2, 4):
                self.assertGreaterEqual(r["retained"], self.heap // 100, r["subject"])


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
