"""remote_paused.py — a target that snapshots itself in process, then pauses, so that the test
(tests/integration/remote_vs_inproc.py) captures the same heap out of process.

It builds a small object zoo with the collector off, starts a second thread that blocks in
read(2) inside a function (its frames, locals and thread dict are named roots), calls
heapsnap.dump(INPROC) (the build tree's capture/inproc package on PYTHONPATH), writes "ready" on
fd 1 and blocks on fd 0.

With HS_FIELD_APPS=1 it also builds tests/targets/field_apps.py's heaps (Django, SQLAlchemy,
numpy), and exits when one of them cannot be built.

usage: PYTHONPATH=BUILD/capture/inproc python remote_paused.py INPROC.hsnap
"""
import array
import gc
import os
import sys
import threading
import time
import weakref

import heapsnap

gc.disable()


class Node:
    def __init__(self, name):
        self.name = name
        self.children = []


class Slotted:
    __slots__ = ("a", "b")


class Outer:  # type names as Python shows them: __name__, and __qualname__ where it differs
    class Inner:
        pass


def local_class():
    class Local:
        pass
    return Local


class Renamed:
    pass


Renamed.__name__ = "Shown"
named = [Outer.Inner(), local_class()(), Renamed()]


root = Node("root")
for i in range(50):
    n = Node("n%d" % i)
    n.children.append({"i": i, "f": i / 3, "t": (i, str(i))})
    root.children.append(n)
s = Slotted()
s.a = [1, 2]
s.b = root
cyc = []
cyc.append(cyc)
del cyc
wr = weakref.ref(root)
cells = (lambda x: (lambda: x))([3])


def gen():
    local = [1, 2]
    yield local


class WithProps:
    p = property(lambda self: 1)
    sm = staticmethod(len)
    cm = classmethod(len)


try:
    raise ValueError("boom")
except ValueError as e:
    caught = e  # with its traceback and the frames it holds
more = {
    "gen": gen(), "started": gen(), "set": {1, "a", (2,)}, "frozen": frozenset({3}),
    "bytes": b"x\x00y", "bytearray": bytearray(b"abc"), "big": 2 ** 80, "neg": -7,
    "float": 1 / 3, "bound": root.__init__, "props": WithProps, "none": None,
    "text": "h\u00e9llo " * 20,
}
next(more["started"])


def inner():
    f = sys._getframe()
    f.f_back  # gives the caller a frame object, which f keeps as f_back once both return
    return f


def outer():
    return inner()


# What the two captures must label and preview alike: a frame object that outlived its call
# (f_back), a builtin method of a METH_METHOD function (its defining class, 3.10+), and the
# values whose previews have edge cases (floats repr writes positionally up to 1e16, huge ints,
# surrogates, every byte value).
edges = {"frame": outer(), "cmethod": array.array("i").__reduce_ex__}
values = [1e15, 1e16, -0.0, float("nan"), float("inf"), 1e-5, 0.1, 2 ** 200, -(2 ** 63),
          2 ** 63, "a\udfffb", "\u65e5\u672c" * 60, "\U0001f600" * 3, bytes(range(256))]
if os.environ.get("HS_FIELD_APPS"):  # Django, SQLAlchemy, numpy heaps (Debian's python3)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import field_apps
    field_work = {}
    field_missing = field_apps.build(field_work)
    if field_missing:
        sys.exit("remote_paused.py: cannot build %s" % field_missing)

def parked(journal, pipe, local):
    """The second thread's function: blocked in read(2), its frame holds locals, a cell and an
    argument; its thread dict holds the threading.local's value."""
    entries = [journal, "entry"]
    local.value = ["per-thread"]

    def closure():
        return entries

    os.read(pipe, 1)
    return closure


def blocked_in_read(tid):
    try:
        with open(f"/proc/self/task/{tid}/syscall") as f:
            return f.read().split()[0] == "0"
    except (OSError, IndexError):
        return False


park_r, park_w = os.pipe()
worker = threading.Thread(target=parked, args=({"journal": 1}, park_r, threading.local()),
                          daemon=True)
worker.start()
while not blocked_in_read(worker.native_id):  # not between two lines: both captures agree
    time.sleep(0.005)

# One line: the module frame is at the same line in both captures (its root names the line).
heapsnap.dump(sys.argv[1]); os.write(1, b"ready\n"); os.read(0, 1)  # noqa: E702
