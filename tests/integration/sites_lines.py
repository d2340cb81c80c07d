"""sites_lines.py — the per-line oracle of the allocation-site tests (test_sites.py in process,
test_sites_remote.py out of process): the memory of the objects a snapshot says were allocated
at a line, summed, against the live allocations tracemalloc traced at that line, each rounded
as pymalloc rounds it (the sums Snapshot.statistics('lineno') gives, rounded; sites_workload.py
records them).  Within 2% or FREE_LIST_SLACK for each line of the workload's own objects (its
file and json's decoder) of 50,000 bytes or more; the other large lines are printed only (an
object's memory counts blocks allocated at other lines, such as a dict's key table grown later).
"""
import json
import os
import subprocess

# Blocks of dead objects that the interpreter keeps on its free lists (tuples, lists, dicts,
# floats; 3.8-3.10 keep more) are still tracemalloc's traces at the line that allocated them,
# but no object's memory: a line may count that much more than its live objects.
FREE_LIST_SLACK = 2048
MIN_LINE = 50000


def memory_by_line(heapsnap, snap):
    """(filename, lineno) -> the summed memory of the objects the snapshot places there."""
    out = subprocess.run([heapsnap, "sql", snap, "--format", "json",
                          "SELECT s.filename AS filename, s.lineno AS lineno,"
                          " sum(o.memory) AS memory FROM objects o JOIN sites s"
                          " ON s.id = o.site GROUP BY o.site"],
                         capture_output=True, text=True, timeout=900, check=True).stdout
    return {(r["filename"], r["lineno"]): r["memory"] for r in json.loads(out)}


def check(test, oracle_lines, memory, workload):
    """Prints each large line and checks the workload's own (as subtests of test); returns how
    many were checked, at least 3 (json's decoder, the records, the document)."""
    own = [os.path.realpath(workload), os.path.join("json", "decoder.py")]
    checked = 0
    for filename, lineno, raw, rounded, _ in sorted(oracle_lines, key=lambda l: -l[3]):
        if rounded < MIN_LINE:
            break
        m = memory.get((filename, lineno), 0)
        mine = any(os.path.realpath(filename).endswith(o) for o in own)
        print("%s %-64s %5d: memory %9d, tracemalloc rounded %9d (%+.2f%%), raw %9d"
              % ("*" if mine else " ", filename[-64:], lineno, m, rounded,
                 100.0 * (m - rounded) / rounded, raw))
        if mine:
            checked += 1
            with test.subTest(line="%s:%d" % (filename, lineno)):
                test.assertLess(abs(m - rounded), max(0.02 * rounded, FREE_LIST_SLACK))
    test.assertGreaterEqual(checked, 3)
    return checked
