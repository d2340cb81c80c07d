"""layout_tables.py — capture/remote/layout_tables.c is what gen_layouts.py makes of the pyenv
interpreters present (issue 19 item 1): regenerated into a temporary file and compared, so that a
change to fields.h without `./dev layouts`, or a generator that no longer reproduces its output,
fails here.  It needs an interpreter of every minor version the file holds (3.8-3.13); meson
registers it as skipped, with the reason, when one is missing.

Patch levels: with --same FILE, the walker's table resolved from FILE's DWARF (another patch
release of a minor version the tables hold: Debian's python3.11, 3.11.2 with python3.11-dbg's
debug file, against pyenv's 3.11.7) must equal the committed table of its minor version.

usage: layout_tables.py GEN_LAYOUTS.py HS_LAYOUT_DUMP COMMITTED.c [--same FILE] PYTHON...
"""
import re
import difflib
import os
import subprocess
import sys
import tempfile


def main():
    gen, dump, committed, pythons = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    same = None
    if pythons[:1] == ["--same"]:
        same, pythons = pythons[1], pythons[2:]
    bad = check_same(dump, committed, same) if same else 0
    out = os.path.join(tempfile.mkdtemp(prefix="hs-layouts-"), "layout_tables.c")
    subprocess.run([sys.executable, gen, dump, out] + pythons, check=True)
    want, got = open(committed).read().splitlines(), open(out).read().splitlines()
    if want == got:
        print(f"layout_tables.c regenerated from {len(pythons)} interpreters: identical")
        return bad
    print("layout_tables.c differs from what gen_layouts.py makes now (run ./dev layouts):")
    for line in list(difflib.unified_diff(want, got, "committed", "regenerated", lineterm=""))[:40]:
        print(line)
    return 1


def check_same(dump, committed, elf):
    """1 when the walker table of elf's DWARF differs from the committed one of its minor."""
    if not os.path.exists(elf):
        print(f"--same {elf}: not installed, not compared")
        return 0
    r = subprocess.run([dump, "walker", elf], capture_output=True, text=True)
    if r.returncode:
        print(f"--same {elf}: no DWARF ({r.stderr.strip()}): install its debug symbols")
        return 1
    got = dict(line.split() for line in r.stdout.splitlines())
    minor = re.search(r"python3\.(\d+)", os.path.basename(os.path.realpath(elf))).group(1)
    text = open(committed).read()
    body = text[text.index(f"walker_3_{minor}["):]
    body = body[:body.index("};")]
    want = dict(re.findall(r"\[HS_L_(\w+)\] = (-?\d+)", body))
    diff = {k: (want.get(k), got[k]) for k in got if want.get(k) != got[k]}
    print(f"--same {elf}: 3.{minor} walker table, {len(got)} entries, "
          f"{len(diff)} differ from the committed one {dict(list(diff.items())[:5])}")
    return 1 if diff else 0


if __name__ == "__main__":
    sys.exit(main())
