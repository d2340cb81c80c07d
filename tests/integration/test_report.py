"""test_report.py — `heapsnap report` on a real capture of the leaky service, opened in headless
Chromium: the page renders (screenshot), the treemap has boxes, an object link opens its page,
it names the leaks, and it fetches nothing.  A machine without chromium fails this test.

usage: test_report.py HEAPSNAP TARGETS_DIR PYTHON   (PYTHONPATH must reach the heapsnap module)
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

HEAPSNAP, TARGETS, PYTHON = sys.argv[1:4]
TMP = tempfile.mkdtemp(prefix="hs-report-")
CHROMIUM = shutil.which("chromium")


def chromium(*args):
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--no-first-run", "--user-data-dir=" + tempfile.mkdtemp(dir=TMP),
           "--window-size=1280,900"] + list(args)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


class Report(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not CHROMIUM:
            raise AssertionError("chromium is not installed (apt-get install chromium)")
        prefix = os.path.join(TMP, "leaky-")
        out = subprocess.run([PYTHON, os.path.join(TARGETS, "leaky_service.py"), prefix, "2"],
                             capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, out.stderr
        cls.snaps = out.stdout.split()
        cls.html = os.path.join(TMP, "report.html")
        out = subprocess.run([HEAPSNAP, "report", cls.snaps[1], "--baseline", cls.snaps[0],
                              "-o", cls.html], capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, out.stderr
        cls.text = open(cls.html, encoding="utf-8").read()

    def test_self_contained_and_small(self):
        self.assertLess(os.path.getsize(self.html), 5 << 20)
        self.assertIsNone(re.search(r'(src|href)="(https?:)?//', self.text))
        for name in ("LeakySession", "RESPONSE_CACHE", "on_tick", "LeakedByExtension",
                     "RequestRecord", "<svg id=\"growth\""):
            self.assertIn(name, self.text)

    def test_renders_with_boxes(self):
        shot = os.path.join(TMP, "shot.png")
        t0 = time.monotonic()
        out = chromium("--screenshot=" + shot, "file://" + self.html)
        print("chromium screenshot: %.2f s" % (time.monotonic() - t0))
        self.assertTrue(os.path.exists(shot), out.stderr)
        png = open(shot, "rb").read()
        self.assertEqual(png[:8], b"\x89PNG\r\n\x1a\n")
        self.assertGreater(len(png), 20000)  # a blank page compresses to a few KB
        dom = chromium("--dump-dom", "file://" + self.html).stdout
        boxes = int(re.search(r'data-boxes="(\d+)"', dom).group(1))
        self.assertGreater(boxes, 50)
        self.assertEqual(dom.count('class="tm-box"'), boxes)
        ms = int(re.search(r'data-render-ms="(\d+)"', dom).group(1))
        print("boxes %d, rendered at %d ms" % (boxes, ms))
        self.assertLess(ms, 3000)

    def test_links_open_object_pages(self):
        links = re.findall(r'href="#(o-0x[0-9a-f]+)"', self.text)
        self.assertTrue(links)
        for target in set(links):
            self.assertIn('id="%s"' % target, self.text)
        dom = chromium("--dump-dom", "file://%s#%s" % (self.html, links[0])).stdout
        self.assertIn('data-page="%s"' % links[0], dom)
        self.assertRegex(dom, r'class="obj current" id="%s"' % links[0])


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
