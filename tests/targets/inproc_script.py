"""inproc_script.py: the script inproc_main.py runs under `python -m heapsnap dump PATH`.

It builds 37 Marker instances, each with a distinctive str, checks that it got its arguments,
and ends through sys.exit(3) (or an exception with "raise" as its argument), so that the dump
must happen on the way out while its globals are still alive.
"""
import sys


class Marker:
    def __init__(self, i):
        self.text = "marker-text-%04d" % i


KEEP = [Marker(i) for i in range(37)]

if sys.argv[1:2] == ["raise"]:
    raise RuntimeError("inproc_script: raised on purpose")
if sys.argv[1:] != ["--flag", "arg"]:
    print("inproc_script: unexpected argv %r" % (sys.argv,), file=sys.stderr)
    sys.exit(9)
sys.exit(3)
