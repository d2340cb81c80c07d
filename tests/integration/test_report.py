"""test_report.py — `heapsnap report` on real captures, opened in headless Chromium: the leaky
service (tests/targets/leaky_service.py, two rounds) and a heap of hostile names
(tests/targets/report_names.py).  Chromium takes screenshots (the treemap, an object page opened
by its #o-ADDR link, the search, the hostile heap) and dumps the DOM its script built, which is
checked against the snapshot's own SQL (`heapsnap sql`):

  labels     the big boxes' label text is the full name the SQL gives (module, qualified name);
             in a copy of the page with a measuring script appended, no shown label's glyphs
             leave their box, are cut, or are covered by a box drawn later (an underscore's
             descender under the first child box was the old defect)
  growth     each bar's value is the snapshot's bytes, objects or entries by SQL, the ticks are
             labelled in KiB/MiB (bytes) or plain numbers, and each bar's top lies where the axis
             puts its value
  pages      an object page opened by its link shows its name, value previews, the garbage
             marker for an unreachable object, and "N more" with N = its references by SQL - 20
  search     #q=TEXT lists the objects whose type, name, address or path holds TEXT
  escaping   names with </script>, <img onerror>, <!--, &, quotes and newlines stay text

A machine without chromium fails this test.
usage: test_report.py HEAPSNAP TARGETS_DIR PYTHON   (PYTHONPATH must reach the heapsnap module)
"""
import html.parser
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import ast
import time
import unittest

HEAPSNAP, TARGETS, PYTHON = sys.argv[1:4]
TMP = tempfile.mkdtemp(prefix="hs-report-")
CHROMIUM = shutil.which("chromium")


class report_names:
    """The hostile names, as tests/targets/report_names.py spells them (read, not imported: the
    target imports heapsnap, built for PYTHON)."""
    locals().update({a.targets[0].id: ast.literal_eval(a.value) for a in ast.parse(
        open(os.path.join(TARGETS, "report_names.py")).read()).body
        if isinstance(a, ast.Assign) and isinstance(a.value, ast.Constant)})


def chromium(*args, height=900):
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--no-first-run", "--user-data-dir=" + tempfile.mkdtemp(dir=TMP),
           "--window-size=1280,%d" % height] + list(args)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def screenshot(name, url, height=900):
    shot = os.path.join(TMP, name + ".png")
    out = chromium("--screenshot=" + shot, url, height=height)
    assert os.path.exists(shot), out.stderr
    with open(shot, "rb") as f:
        png = f.read()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    print("screenshot %s: %d bytes" % (shot, len(png)))
    return png


def sql(snap, query, *args):
    out = subprocess.run([HEAPSNAP, "sql", snap, query] + [str(a) for a in args]
                         + ["--format", "json"], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return [list(row.values()) for row in json.loads(out.stdout)]


def visible(s):
    """The report script's rendering of control characters in a label."""
    return re.sub(r"[\x00-\x1f\x7f]", lambda m: {"\n": "\\n", "\t": "\\t", "\r": "\\r"}.get(
        m.group(), "\\x%02x" % ord(m.group())), s)


class Node:
    def __init__(self, tag, attrs, parent):
        self.tag, self.attrs, self.parent, self.kids, self.text = tag, dict(attrs), parent, [], ""

    def all_text(self):
        return self.text + "".join(k.all_text() + k.tail for k in self.kids)

    def find(self, pred):
        if pred(self):
            yield self
        for k in self.kids:
            yield from k.find(pred)


class Dom(html.parser.HTMLParser):
    """The dumped DOM as a tree of Nodes (text unescaped, as the page shows it)."""
    VOID = {"meta", "br", "input", "img", "link", "hr", "line", "rect"}

    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.root = self.cur = Node("#root", {}, None)
        self.root.tail = ""
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        node = Node(tag, attrs, self.cur)
        node.tail = ""
        self.cur.kids.append(node)
        if tag not in self.VOID:
            self.cur = node

    def handle_startendtag(self, tag, attrs):
        node = Node(tag, attrs, self.cur)
        node.tail = ""
        self.cur.kids.append(node)

    def handle_endtag(self, tag):
        n = self.cur
        while n is not self.root and n.tag != tag:
            n = n.parent
        if n is not self.root:
            self.cur = n.parent

    def handle_data(self, data):
        if self.cur.kids:
            self.cur.kids[-1].tail += data
        else:
            self.cur.text += data

    def by_id(self, ident):
        return next(self.root.find(lambda n: n.attrs.get("id") == ident), None)

    def by_class(self, cls, under=None):
        return list((under or self.root).find(
            lambda n: cls in (n.attrs.get("class") or "").split()))


# Appended to a copy of the page: for every shown label, whether its glyphs (the text's range,
# descenders included) stay inside its box and above every box drawn after it, and whether
# its text is whole (not cut by overflow).  Writes body[data-label-check] as JSON.
MEASURE = """<script>
(function(){var boxes=[].slice.call(document.querySelectorAll('.tm-box'));
var rects=boxes.map(function(b){return b.getBoundingClientRect();}),shown=0,bad=[];
boxes.forEach(function(b,i){var s=b.querySelector('.tm-label');if(!s||!s.textContent)return;shown++;
 var r=document.createRange();r.selectNodeContents(s);var t=r.getBoundingClientRect(),o=rects[i];
 var why='';
 if(t.left<o.left-0.5||t.right>o.right+0.5||t.top<o.top-0.5||t.bottom>o.bottom+0.5)why='outside';
 if(s.scrollWidth>s.clientWidth)why='cut';
 for(var j=i+1;!why&&j<boxes.length;j++){var c=rects[j];
  if(c.left<t.right-0.5&&c.right>t.left+0.5&&c.top<t.bottom-0.5&&c.bottom>t.top+0.5)
   why='covered by '+boxes[j].textContent.slice(0,40);}
 if(why)bad.push([s.textContent,why]);});
document.body.setAttribute('data-label-check',JSON.stringify({shown:shown,bad:bad.slice(0,20),nbad:bad.length}));
})();
</script>"""


class Leaky(unittest.TestCase):
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
        cls.dom_text = chromium("--dump-dom", "file://" + cls.html).stdout
        cls.dom = Dom(cls.dom_text)
        # The largest objects a root reaches, by path.
        cls.by_path = {p: (a, t) for a, t, p in sql(
            cls.snaps[1], "SELECT printf('0x%x', addr), hs_type(id), hs_path(id) FROM objects"
            " WHERE depth IS NOT NULL AND retained > 50000")}

    def addr(self, path):
        self.assertIn(path, self.by_path)
        return self.by_path[path][0]

    def test_self_contained_and_small(self):
        self.assertLess(os.path.getsize(self.html), 5 << 20)
        self.assertIsNone(re.search(r'(src|href)="(https?:)?//', self.text))
        self.assertNotIn("<link", self.text)
        for name in ("LeakySession", "RESPONSE_CACHE", "on_tick", "LeakedByExtension",
                     "RequestRecord", "<svg class=\"chart\" id=\"growth\""):
            self.assertIn(name, self.text)

    def test_summary_gives_bytes_and_memory(self):
        # sys.getsizeof's sum and what the objects occupy (objects.memory), both from SQL.
        size, memory = sql(self.snaps[1], "SELECT sum(size), sum(memory) FROM objects")[0]
        self.assertGreater(int(memory), int(size))
        self.assertIn("<th>bytes (sys.getsizeof)</th><td>%s" % size, self.text)
        self.assertIn("<th>memory</th><td>%s" % memory, self.text)

    def test_renders_with_boxes(self):
        t0 = time.monotonic()
        png = screenshot("treemap", "file://" + self.html)
        print("chromium screenshot: %.2f s" % (time.monotonic() - t0))
        self.assertGreater(len(png), 20000)  # a blank page compresses to a few KB
        screenshot("whole-report", "file://" + self.html, height=5000)
        boxes = int(re.search(r'data-boxes="(\d+)"', self.dom_text).group(1))
        self.assertGreater(boxes, 50)
        self.assertEqual(len(self.dom.by_class("tm-box")), boxes)
        ms = int(re.search(r'data-render-ms="(\d+)"', self.dom_text).group(1))
        print("boxes %d, rendered at %d ms" % (boxes, ms))
        self.assertLess(ms, 3000)

    def test_labels_name_the_module_whole(self):
        main = "sys.modules['__main__'].__dict__"
        handler = main + "['EVENT_HANDLERS'][1]"
        (qual,), = sql(self.snaps[1], "SELECT v.value FROM objects o JOIN edges e ON"
                       " e.src = o.id AND e.label = '.__qualname__' JOIN objects v"
                       " ON v.id = e.dst WHERE o.addr = ?1", int(self.addr(handler), 16))
        (mod,), = sql(self.snaps[1], "SELECT v.value FROM objects o JOIN edges e ON"
                      " e.src = o.id AND e.label = '.__module__' JOIN objects v"
                      " ON v.id = e.dst WHERE o.addr = ?1", int(self.addr(handler), 16))
        expected = {
            main: "dict __main__.__dict__",
            main + "['EVENT_HANDLERS']": "list __main__.EVENT_HANDLERS",
            main + "['RESPONSE_CACHE']": "dict __main__.RESPONSE_CACHE",
            main + "['ARCHIVE']": "list __main__.ARCHIVE",
            handler: "function %s.%s" % (mod, qual),
            handler + ".__closure__": "tuple .__closure__ in __main__",
            handler + ".__closure__[0]": "cell [0] in __main__",
        }
        for path, label in expected.items():
            box = self.dom.by_id("tm-" + self.addr(path))
            self.assertIsNotNone(box, path)
            span = self.dom.by_class("tm-label", box)[0]
            print("label %-30s %s" % (span.all_text(), path))
            self.assertEqual(span.attrs["data-full"], label)
            self.assertEqual(span.all_text(), label)  # shown whole, not shortened

    def test_labels_not_clipped(self):
        page = os.path.join(TMP, "measure.html")
        with open(page, "w", encoding="utf-8") as f:
            f.write(self.text.replace("</body>", MEASURE + "</body>"))
        dom = chromium("--dump-dom", "file://" + page).stdout
        check = json.loads(Dom(dom).root.find(lambda n: "data-label-check" in n.attrs)
                           .__next__().attrs["data-label-check"])
        print("labels shown %d, clipped or covered %d %s" % (check["shown"], check["nbad"],
                                                             check["bad"][:3]))
        self.assertGreater(check["shown"], 20)
        self.assertEqual(check["bad"], [])

    def chart(self, ident):
        svg = self.dom.by_id(ident)
        self.assertIsNotNone(svg, ident)
        ticks = [(float(t.attrs["data-value"]), float(t.attrs["data-y"]), t.all_text())
                 for t in svg.find(lambda n: n.tag == "text" and n.attrs.get("class") == "tick")]
        bars = [(int(b.attrs["data-value"]), float(b.attrs["y"]), float(b.attrs["height"]))
                for b in svg.find(lambda n: n.tag == "rect")]
        title = next(svg.find(lambda n: n.attrs.get("class") == "axis-title")).all_text()
        (v0, y0, _), (v1, y1, _) = ticks[0], ticks[-1]
        self.assertEqual(v0, 0)
        for value, y, height in bars:  # the bar's top is where the axis puts its value
            self.assertLessEqual(value, v1)
            self.assertAlmostEqual(y, y0 - (y0 - y1) * value / v1, delta=0.6)
            self.assertAlmostEqual(y + height, y0, delta=0.6)
        return ticks, [b[0] for b in bars], title

    def test_growth_axes(self):
        ticks, values, title = self.chart("growth")
        expect = [sql(s, "SELECT sum(size) FROM objects")[0][0] for s in self.snaps]
        print("growth bytes %s, axis %r, ticks %s" % (values, title, [t[2] for t in ticks]))
        self.assertEqual(values, expect)
        self.assertEqual(title, "heap bytes (MiB)")  # 11 MB heaps
        for value, _, label in ticks:
            m = re.fullmatch(r"(\d+(?:\.\d+)?) (B|KiB|MiB|GiB)", label)
            self.assertTrue(m, label)
            unit = {"B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30}[m.group(2)]
            self.assertAlmostEqual(float(m.group(1)) * unit, value, delta=1)
        ticks, values, title = self.chart("growth-objects")
        self.assertEqual(values, [sql(s, "SELECT count(*) FROM objects")[0][0]
                                  for s in self.snaps])
        self.assertEqual(title, "objects")
        for value, _, label in ticks:
            self.assertEqual(label, "%d" % value)
        # The fastest-growing container's entries: its labelled edges in each snapshot.
        caption = next(self.dom.by_id("growth-entries-0").parent.find(
            lambda n: n.tag == "figcaption")).all_text()
        name = re.fullmatch(r"Entries of __main__\.(\w+) per snapshot", caption).group(1)
        ticks, values, title = self.chart("growth-entries-0")
        entries = [sql(s, "SELECT count(*) FROM edges e JOIN edges g ON g.dst = e.src"
                       " AND g.label = ?1 WHERE substr(e.label, 1, 1) = '['",
                       "['%s']" % name)[0][0] for s in self.snaps]
        print("entries of %s: %s" % (name, values))
        self.assertEqual(title, "entries")
        self.assertEqual(values, entries)
        self.assertLess(values[0], values[1])

    def page(self, addr, png_name):
        screenshot(png_name, "file://%s#o-%s" % (self.html, addr))
        text = chromium("--dump-dom", "file://%s#o-%s" % (self.html, addr)).stdout
        self.assertIn('data-page="o-%s"' % addr, text)
        self.assertRegex(text, r'<body class="page-open"')
        dom = Dom(text)
        section = dom.by_id("o-" + addr)
        self.assertIn("current", section.attrs["class"])
        return section

    def test_links_open_object_pages(self):
        links = re.findall(r'href="#(o-0x[0-9a-f]+)"', self.text)
        self.assertTrue(links)
        for target in set(links):
            self.assertIn('id="%s"' % target, self.text)
        # The cache's page, opened from the link on its treemap box.
        addr = self.addr("sys.modules['__main__'].__dict__['RESPONSE_CACHE']")
        self.assertIn('href="#o-%s"' % addr, self.text)
        section = self.page(addr, "page-cache")
        heading = next(section.find(lambda n: n.tag == "h3")).all_text()
        self.assertEqual(heading, "dict __main__.RESPONSE_CACHE at " + addr)
        (nrefs,), = sql(self.snaps[1], "SELECT count(*) FROM edges WHERE src ="
                        " (SELECT id FROM objects WHERE addr = ?1)", int(addr, 16))
        (nreferrers,), = sql(self.snaps[1], "SELECT count(*) FROM referrers WHERE dst ="
                             " (SELECT id FROM objects WHERE addr = ?1)", int(addr, 16))
        tables = self.dom.by_class("rel", section)
        more = [self.dom.by_class("n-more", t) for t in tables]
        print("RESPONSE_CACHE: %d references, page says %s more" % (
            nrefs, more[0][0].all_text() if more[0] else "no"))
        self.assertGreater(nrefs, 20)
        self.assertEqual(int(more[0][0].all_text()), nrefs - 20)
        rows = [r for r in tables[0].find(lambda n: n.tag == "tr")][1:]
        self.assertEqual(len(rows), 21)  # 20 referents and the "more" row
        self.assertEqual(bool(more[1]), nreferrers > 20)
        # Value previews: each str referent's first 80 characters, as SQL has them.
        cells = [[c.all_text() for c in r.find(lambda n: n.tag == "td")] for r in rows[:20]]
        values = dict(sql(self.snaps[1], "SELECT printf('0x%x', d.addr), d.value FROM edges e"
                          " JOIN objects d ON d.id = e.dst WHERE e.src = (SELECT id FROM"
                          " objects WHERE addr = ?1)", int(addr, 16)))
        shown = 0
        for label, obj, preview, retained in cells:
            value = values[obj.split(" at ")[1]]
            if value is not None:
                shown += 1
                self.assertEqual(preview, value if len(value) <= 80 else value[:80] + "…")
        self.assertGreater(shown, 0)

    def test_function_and_garbage_pages(self):
        handler = "sys.modules['__main__'].__dict__['EVENT_HANDLERS']"
        addr = self.addr(handler)
        section = self.dom.by_id("o-" + addr)
        cells = [[c.all_text() for c in r.find(lambda n: n.tag == "td")]
                 for r in self.dom.by_class("rel", section)[0].find(lambda n: n.tag == "tr")][1:]
        names = {row[2] for row in cells}
        print("EVENT_HANDLERS refers to: %s" % sorted(names))
        self.assertIn("__main__.ReportBuilder.on_event", names)
        self.assertTrue(any(n.endswith(".on_tick") and n.startswith("__main__.") for n in names))
        # A finding's garbage object (section 1): its page says garbage, by SQL's unreachable.
        garbage = sql(self.snaps[1], "SELECT printf('0x%x', addr) FROM objects WHERE"
                      " unreachable AND hs_type(id) = 'LeakySession'")
        marked = [a for (a,) in garbage if 'id="o-%s"' % a in self.text]
        self.assertTrue(marked)
        section = self.dom.by_id("o-" + marked[0])
        heading = next(section.find(lambda n: n.tag == "h3"))
        self.assertEqual(heading.all_text(), "LeakySession at %sgarbage" % marked[0])
        self.assertTrue(self.dom.by_class("garbage", heading))
        reachable = sql(self.snaps[1], "SELECT printf('0x%x', addr) FROM objects WHERE"
                        " NOT unreachable AND depth IS NOT NULL ORDER BY retained DESC LIMIT 1")
        section = self.dom.by_id("o-" + reachable[0][0])
        self.assertFalse(self.dom.by_class("garbage", next(section.find(lambda n: n.tag == "h3"))))

    def test_search(self):
        addr = self.addr("sys.modules['__main__'].__dict__['RESPONSE_CACHE']")
        for query, expect in (("RESPONSE_CACHE", addr), (addr, addr),
                              ("['EVENT_HANDLERS'][1].__closure__",
                               self.addr("sys.modules['__main__'].__dict__['EVENT_HANDLERS'][1]"
                                         ".__closure__"))):
            url = "file://%s#q=%s" % (self.html, query.replace("[", "%5B").replace("]", "%5D")
                                      .replace("'", "%27"))
            dom = Dom(chromium("--dump-dom", url).stdout)
            res = dom.by_id("search-results")
            self.assertNotIn("hidden", res.attrs)
            links = [a.attrs["href"] for a in res.find(lambda n: n.tag == "a")]
            print("search %r: %s results, first %s" % (query, res.attrs.get("data-count"),
                                                       links[:2]))
            self.assertTrue(links, query)
            if expect:
                self.assertIn(expect, links[0])
            for li in res.find(lambda n: n.tag == "li"):
                self.assertIn(query.lower(), li.all_text().lower())
        png = screenshot("search", "file://%s#q=cache" % self.html)
        self.assertGreater(len(png), 20000)


class HostileNames(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not CHROMIUM:
            raise AssertionError("chromium is not installed (apt-get install chromium)")
        cls.snap = os.path.join(TMP, "names.hsnap")
        out = subprocess.run([PYTHON, os.path.join(TARGETS, "report_names.py"), cls.snap],
                             capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, out.stderr
        cls.html = os.path.join(TMP, "names.html")
        out = subprocess.run([HEAPSNAP, "report", cls.snap, "-o", cls.html],
                             capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, out.stderr
        cls.text = open(cls.html, encoding="utf-8").read()
        cls.dom_text = chromium("--dump-dom", "file://" + cls.html).stdout
        cls.dom = Dom(cls.dom_text)

    def addr_of(self, path):
        rows = sql(self.snap, "SELECT printf('0x%x', addr) FROM objects WHERE depth IS NOT NULL"
                   " AND retained > 10000 AND hs_path(id) = ?1", path)
        self.assertEqual(len(rows), 1, path)
        return rows[0][0]

    def test_no_markup_from_the_heap(self):
        screenshot("hostile", "file://" + self.html)
        self.assertIn('data-boxes="', self.dom_text)  # the script parsed its JSON and ran
        self.assertEqual(next(self.dom.root.find(lambda n: n.tag == "title")).all_text(),
                         "heapsnap report")
        for tag in ("img", "b", "i", "mod"):
            self.assertEqual(list(self.dom.root.find(lambda n, t=tag: n.tag == t)), [], tag)
        self.assertEqual(len(list(self.dom.root.find(lambda n: n.tag == "script"))), 2)
        self.assertNotIn("pwned", self.dom.root.find(lambda n: n.tag == "title").__next__()
                         .all_text())

    def test_names_are_text(self):
        nasty = report_names.NASTY
        addr = self.addr_of("sys.modules['__main__'].__dict__[%r]" % nasty)
        box = self.dom.by_id("tm-" + addr)
        self.assertEqual(self.dom.by_class("tm-label", box)[0].attrs["data-full"],
                         visible("list __main__." + nasty))
        self.assertTrue(box.attrs["title"].startswith(visible("list __main__." + nasty)))
        mod = report_names.MODULE_NAME
        addr = self.addr_of("sys.modules[%r].__dict__['BIG']" % mod)
        span = self.dom.by_class("tm-label", self.dom.by_id("tm-" + addr))[0]
        self.assertEqual(span.attrs["data-full"], visible("list %s.BIG" % mod))
        print("hostile labels: %r" % span.all_text())
        # The closure's page names it by its __qualname__, newline and all.
        addr = self.addr_of("sys.modules['__main__'].__dict__['HANDLER']")
        section = self.dom.by_id("o-" + addr)
        self.assertEqual(next(section.find(lambda n: n.tag == "h3")).all_text(),
                         "function __main__.%s at %s" % (report_names.FUNC_NAME, addr))
        # The str values' previews on the list's page, as text.
        addr = self.addr_of("sys.modules['__main__'].__dict__['VALUES']")
        rel = self.dom.by_class("rel", self.dom.by_id("o-" + addr))[0]
        rows = list(rel.find(lambda n: n.tag == "tr"))[1:]
        previews = [list(r.find(lambda n: n.tag == "td"))[2].all_text() for r in rows[:20]]
        self.assertEqual(len(previews), 20)
        for p in previews:
            self.assertEqual(p, (report_names.VALUE * 50)[:80] + "…")
        self.assertEqual(int(self.dom.by_class("n-more", rel)[0].all_text()), 10)
        # The class, found by the search box by its hostile name.
        dom = Dom(chromium("--dump-dom", "file://%s#q=Bold%%26" % self.html).stdout)
        items = [li.all_text() for li in dom.by_id("search-results").find(
            lambda n: n.tag == "li")]
        print("search 'Bold&': %d results" % len(items))
        self.assertTrue(any(i.startswith("type __main__." + visible(report_names.CLASS_NAME))
                            for i in items), items)


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
