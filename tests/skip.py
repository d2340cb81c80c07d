"""skip.py — a registered test that cannot run here: prints why and exits 77, which meson
reports as SKIP (so a missing interpreter or tool shows in the test counts instead of the test
silently not existing).

usage: skip.py REASON...
"""
import sys

print("skip: " + " ".join(sys.argv[1:]))
sys.exit(77)
