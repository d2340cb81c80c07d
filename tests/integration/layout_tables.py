"""layout_tables.py — capture/remote/layout_tables.c is what gen_layouts.py makes of the pyenv
interpreters present (issue 19 item 1): regenerated into a temporary file and compared, so that a
change to fields.h without `./dev layouts`, or a generator that no longer reproduces its output,
fails here.  It needs an interpreter of every minor version the file holds (3.8-3.13); meson
registers it as skipped, with the reason, when one is missing.

usage: layout_tables.py GEN_LAYOUTS.py HS_LAYOUT_DUMP COMMITTED.c PYTHON...
"""
import difflib
import os
import subprocess
import sys
import tempfile


def main():
    gen, dump, committed, pythons = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    out = os.path.join(tempfile.mkdtemp(prefix="hs-layouts-"), "layout_tables.c")
    subprocess.run([sys.executable, gen, dump, out] + pythons, check=True)
    want, got = open(committed).read().splitlines(), open(out).read().splitlines()
    if want == got:
        print(f"layout_tables.c regenerated from {len(pythons)} interpreters: identical")
        return 0
    print("layout_tables.c differs from what gen_layouts.py makes now (run ./dev layouts):")
    for line in list(difflib.unified_diff(want, got, "committed", "regenerated", lineterm=""))[:40]:
        print(line)
    return 1


if __name__ == "__main__":
    sys.exit(main())
