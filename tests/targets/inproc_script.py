"""inproc_script.py: the script inproc_main.py runs under `python -m heapsnap dump PATH`.

It builds 37 Marker instances, each with a distinctive str, checks that it got its arguments,
and ends through sys.exit(3) (or an exception with "raise" as its argument) inside finish(),
whose local list holds 5 Ending instances, so that the dump must happen on the way out while
its globals and that frame are still alive.
"""
import sys


class Marker:
    def __init__(self, i):
        self.text = "marker-text-%04d" % i


class Ending:
    """Held only by a local of finish(), the frame the script ends in."""


def finish(status):
    ending = [Ending() for _ in range(5)]  # noqa: F841 (the dump must find it in this frame)
    if status is None:
        raise RuntimeError("inproc_script: raised on purpose")
    sys.exit(status)


KEEP = [Marker(i) for i in range(37)]

if sys.argv[1:2] == ["raise"]:
    finish(None)
if sys.argv[1:] != ["--flag", "arg"]:
    print("inproc_script: unexpected argv %r" % (sys.argv,), file=sys.stderr)
    finish(9)
finish(3)
