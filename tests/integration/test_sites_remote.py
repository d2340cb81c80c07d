"""test_sites_remote.py — allocation sites out of process (issue 21 item 1): tests/targets/
sites_workload.py runs its workload under tracemalloc, writes its oracle, dumps the heap in process
and pauses (--pause); `heapsnap capture --pid` then reads tracemalloc's traces table from the
paused process's memory (capture/remote/walker_sites.c).  Checks:

* every object of the oracle has, in the out-of-process snapshot, the most recent frame of
  tracemalloc.get_object_traceback(o), or no site when that is None (on 3.11 a managed-dict
  instance may have a site where get_object_traceback has none, as in process: test_sites.py);
* per line, the snapshot's memory against tracemalloc's per-line sums (sites_lines.py), as in
  process;
* every object of both captures of the same paused process has the same site in both, except
  those allocated after the in-process dump, by the lines that pause (their sites name them);
* --layouts table (what a stripped python gives): on 3.12+ the same sites (the table is in
  _PyRuntime, whose layout the tables carry); on 3.8-3.11, where tracemalloc's traces are a static
  only a symbol table names, the capture succeeds, says in one line why sites are unavailable, and
  the snapshot has none;
* `export` gives each object's site as site_file and site_line, and `convert` takes them back;
* with --core: a gcore core of the same paused process gives every object the same site;
* last, gdb makes an entry of the paused target's table its own successor: the capture ends with
  exit 0, its one line and its first warning name the table and the entry, and the sites of
  the other chains are kept, the same as above.

usage: test_sites_remote.py HEAPSNAP TARGETS_DIR PYTHON [--core]   (PYTHONPATH must reach heapsnap)
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import sites_lines
from target_process import wait_blocked

HEAPSNAP, TARGETS, PYTHON = sys.argv[1:4]
CORE = "--core" in sys.argv[4:]
TMP = tempfile.mkdtemp(prefix="hs-rsites-")
WORKLOAD = os.path.join(TARGETS, "sites_workload.py")


def capture(args, out):
    """heapsnap capture ARGS -o OUT: its stderr (printed); fails the test when it fails."""
    r = subprocess.run([HEAPSNAP, "capture"] + args + ["-o", out], capture_output=True, text=True,
                       timeout=900)
    print(r.stderr.strip())
    if r.returncode:
        raise AssertionError("capture %s failed: %s" % (args, r.stderr))
    return r.stderr


def sites(snap):
    """{addr: (type name, (filename, lineno) or None)} of every object of snap."""
    out = subprocess.run(
        [HEAPSNAP, "sql", snap, "SELECT o.addr AS addr, t.name AS type, s.filename AS filename,"
         " s.lineno AS lineno FROM objects o JOIN types t ON t.id = o.type_id"
         " LEFT JOIN sites s ON s.id = o.site", "--format", "json"],
        capture_output=True, text=True, check=True, timeout=900).stdout
    return {r["addr"]: (r["type"], (r["filename"], r["lineno"]) if r["filename"] else None)
            for r in json.loads(out)}


def pause_lines():
    """The workload's lines that run between its second dump and the pause."""
    with open(WORKLOAD) as f:
        src = f.read().splitlines()
    first = next(i for i, l in enumerate(src) if '"--pause"' in l) + 1
    return {(f, n) for f in (WORKLOAD, os.path.realpath(WORKLOAD))
            for n in range(first, first + 3)}


def damage(pid):
    """Makes the first entry of the paused target's traces table its own successor (with gdb and
    the interpreter's DWARF); returns the table's and the entry's addresses."""
    table = "_PyRuntime.tracemalloc.traces" if "3.12" in PYTHON or "3.13" in PYTHON else \
        "tracemalloc_traces"
    script = os.path.join(TMP, "damage.gdb")
    with open(script, "w") as f:
        f.write("set $t = %s\nset $i = 0\nwhile $t->buckets[$i].head == 0\n"
                "  set $i = $i + 1\nend\nset $e = $t->buckets[$i].head\n"
                "set var $e->next = $e\nprintf \"damaged %%lu %%lu\\n\", $t, $e\n" % table)
    out = subprocess.run(["gdb", "-nx", "-batch", "-iex", "set auto-load python-scripts off",
                          "-x", script, "-p", str(pid)], capture_output=True, text=True,
                         timeout=300).stdout
    words = next(l for l in out.splitlines() if l.startswith("damaged ")).split()
    return int(words[1]), int(words[2])


class SitesRemote(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.addClassCleanup(shutil.rmtree, TMP, True)
        snap, oracle, cls.inproc = (os.path.join(TMP, n) for n in ("a.hsnap", "o.json", "b.hsnap"))
        cls.remote, cls.table = os.path.join(TMP, "pid.hsnap"), os.path.join(TMP, "table.hsnap")
        core = os.path.join(TMP, "core")
        t = subprocess.Popen([PYTHON, WORKLOAD, snap, oracle, cls.inproc, "--pause"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        try:
            if t.stdout.readline().strip() != b"ready":
                raise AssertionError("the workload did not pause (is heapsnap built for it?)")
            wait_blocked(t.pid)
            capture(["--pid", str(t.pid)], cls.remote)
            cls.table_stderr = capture(["--pid", str(t.pid), "--layouts", "table"], cls.table)
            if CORE:
                subprocess.run(["gcore", "-o", core, str(t.pid)], capture_output=True,
                               check=True, timeout=600)
            cls.table_addr, cls.entry = damage(t.pid)  # the last capture: the table loops
            cls.damaged = os.path.join(TMP, "damaged.hsnap")
            cls.damaged_stderr = capture(["--pid", str(t.pid)], cls.damaged)
        finally:
            t.kill()  # its table loops: tracemalloc's own clearing at exit would never end
            t.wait(timeout=120)
            t.stdin.close()
            t.stdout.close()
        if CORE:
            cls.core = core + ".hsnap"
            capture(["--core", "%s.%d" % (core, t.pid)], cls.core)
            os.unlink("%s.%d" % (core, t.pid))
        with open(oracle) as f:
            cls.oracle = json.load(f)
        cls.rows = sites(cls.remote)
        print("python %s: %d objects in the oracle, %d in the out-of-process snapshot, %d with "
              "a site" % (cls.oracle["python"], len(cls.oracle["objects"]), len(cls.rows),
                          sum(s is not None for _, s in cls.rows.values())))

    def test_every_object(self):
        """Each object's site is get_object_traceback's most recent frame."""
        same = none = managed_311 = 0
        wrong = []
        for addr, tname, managed, site in self.oracle["objects"]:
            self.assertIn(addr, self.rows, "0x%x (%s) is not in the snapshot" % (addr, tname))
            tn, got = self.rows[addr]
            self.assertEqual(tn, tname, "0x%x" % addr)
            if got == (tuple(site) if site else None):
                same += 1
                none += site is None
            elif site is None and managed and self.oracle["version"] == [3, 11]:
                managed_311 += 1
            else:
                wrong.append("0x%x %s: tracemalloc %s, snapshot %s" % (addr, tname, site, got))
        print("out of process: %d as get_object_traceback (%d with none both ways); %d 3.11 "
              "managed-dict instances given the site tracemalloc misses"
              % (same, none, managed_311))
        self.assertFalse(wrong, "%d differ, first: %s" % (len(wrong), wrong[:5]))
        self.assertGreater(same - none, 50000)

    def test_same_as_in_process(self):
        """Both captures of the paused process give each object they share the same site."""
        inproc, allowed = sites(self.inproc), pause_lines()
        both = [a for a in inproc if a in self.rows]
        later = []
        differ = []
        for a in both:
            if inproc[a] == self.rows[a]:
                continue
            if self.rows[a][1] in allowed:  # allocated after the dump: its address reused
                later.append(a)
            else:
                differ.append("0x%x: in process %s, out of process %s"
                              % (a, inproc[a], self.rows[a]))
        print("in process and out of process: %d objects in both, %d with a site, %d differ "
              "(allocated after the in-process dump at an address it had)"
              % (len(both), sum(inproc[a][1] is not None for a in both), len(later)))
        self.assertFalse(differ, "%d differ, first: %s" % (len(differ), differ[:5]))
        self.assertGreater(len(both), 100000)

    def test_line_sums(self):
        """Per line, the out-of-process snapshot's memory against tracemalloc's sums (the
        oracle's lines were summed before grow(), whose own line they leave out)."""
        sites_lines.check(self, self.oracle["lines"],
                          sites_lines.memory_by_line(HEAPSNAP, self.remote), WORKLOAD)

    def test_layouts_table(self):
        """Without DWARF or symbol tables: the same sites on 3.12+, a one-line reason before."""
        got = sites(self.table)
        notes = [l for l in self.table_stderr.splitlines() if "allocation sites" in l]
        if self.oracle["version"] >= [3, 12]:
            self.assertEqual(notes, [])
            self.assertEqual(got, self.rows)
            print("--layouts table: the same %d sites" % sum(s is not None for _, s in got.values()))
        else:
            self.assertEqual(len(notes), 1, self.table_stderr)
            self.assertRegex(notes[0], r"^heapsnap: allocation sites unavailable: tracemalloc "
                             r"traces, but no symbol table read names tracemalloc_traces, a static of "
                             r".* \(--layouts table reads exported symbols only\)$")
            self.assertEqual([a for a, (_, s) in got.items() if s is not None], [])
            print("--layouts table: %s" % notes[0])

    def test_damaged_table(self):
        """A traces table whose chain loops: the capture ends (exit 0), one line and a warning
        name the table and the entry, and the other chains' sites are kept."""
        want = "tracemalloc's traces table 0x%x: entry 0x%x is in a loop" % (
            self.table_addr, self.entry)
        notes = [l for l in self.damaged_stderr.splitlines() if "allocation sites" in l]
        self.assertEqual(len(notes), 1, self.damaged_stderr)
        self.assertTrue(notes[0].startswith("heapsnap: allocation sites incomplete: " + want),
                        notes[0])
        meta = json.loads(subprocess.run(
            [HEAPSNAP, "sql", self.damaged, "SELECT value FROM meta WHERE key = 'first_warning'",
             "--format", "json"], capture_output=True, text=True, check=True).stdout)
        self.assertIn(want, meta[0]["value"])
        got = sites(self.damaged)
        kept = [a for a, (_, s) in got.items() if s is not None]
        wrong = [a for a in kept if self.rows.get(a) != got[a]]
        total = sum(s is not None for _, s in self.rows.values())
        print("damaged table: %s; %d of %d sites kept" % (notes[0], len(kept), total))
        self.assertFalse(wrong, wrong[:5])
        self.assertGreater(len(kept), 0.99 * total)  # only the damaged chain is lost

    def test_jsonl(self):
        """export gives every object its site as site_file and site_line; convert takes them
        back: the converted snapshot has the same sites."""
        jl, back = os.path.join(TMP, "pid.jsonl"), os.path.join(TMP, "back.hsnap")
        subprocess.run([HEAPSNAP, "export", self.remote, "-o", jl], check=True, timeout=900)
        got = {}
        with open(jl, "rb") as f:
            for line in f:
                r = json.loads(line)
                if r["t"] == "object":
                    got[r["addr"]] = (r["type"], (r["site_file"], r["site_line"])
                                      if "site_file" in r else None)
        self.assertEqual(got, self.rows)
        subprocess.run([HEAPSNAP, "convert", jl, "-o", back], check=True, timeout=900,
                       capture_output=True)
        os.unlink(jl)
        self.assertEqual(sites(back), self.rows)
        print("jsonl: %d objects, %d with site_file and site_line, the same after convert"
              % (len(got), sum(s is not None for _, s in got.values())))

    @unittest.skipUnless(CORE, "no --core")
    def test_core(self):
        """A gcore core of the paused process: every object with the same site."""
        got = sites(self.core)
        self.assertEqual(got, self.rows)
        print("--core: the same %d objects, %d with a site"
              % (len(got), sum(s is not None for _, s in got.values())))


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
