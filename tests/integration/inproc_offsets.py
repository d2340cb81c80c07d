"""inproc_offsets.py — the in-process capture reads the kinds' fields (capture/cpython/kinds.h) at
offsets it takes from its interpreter's headers (offsetof, capture/inproc/walk_offsets.c); the
out-of-process capture, for a target without DWARF, at those of the compiled-in layout of the
target's minor version (capture/remote/layout_tables.c, generated from reference builds' DWARF).
Both must be where the field is: every offset the running interpreter's extension reports
(heapsnap's _field_offsets()) must equal that version's layout table entry of the same id.

usage: PYTHONPATH=BUILD/capture/inproc PYTHON inproc_offsets.py LAYOUT_TABLES.c
"""
import importlib
import re
import sys


def table(path, minor):
    """{field id: offset} of layout_tables.c's walker table of 3.minor."""
    text = open(path).read()
    m = re.search(r"walker_3_%d\[HS_L_COUNT\] = \{(.*?)\};" % minor, text, re.S)
    if not m:
        sys.exit(f"{path}: no walker table for 3.{minor}")
    return {k: int(v) for k, v in re.findall(r"\[HS_L_(\w+)\] = (-?\d+)", m.group(1))}


def main():
    minor = sys.version_info[1]
    want = table(sys.argv[1], minor)
    ext = importlib.import_module("heapsnap._heapsnap_%d%d" % sys.version_info[:2])
    got = ext._field_offsets()
    bad = [f"{k}: offsetof {v}, layout table {want.get(k)}" for k, v in sorted(got.items())
           if want.get(k) != v]
    print(f"3.{minor}: {len(got)} in-process offsets against layout_tables.c, "
          f"{len(bad)} different")
    for line in bad:
        print("  " + line)
    # The functions' and code objects' fields at least: a table emptied by mistake fails.
    return 1 if bad or len(got) < 40 else 0


if __name__ == "__main__":
    sys.exit(main())
