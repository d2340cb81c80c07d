"""inproc_sizeof.py: how many times heapsnap.dump() walks the heap when it calls __sizeof__
methods that may run code (issue 20 item 2), and that the dump holds that heap either way.

usage: PYTHONPATH=BUILD/capture/inproc pythonX inproc_sizeof.py HEAPSNAP_CLI

A heap whose only such __sizeof__ is an extension's C method that changes nothing
(_struct.Struct's, when _struct is an extension module; else none is called) is walked once:
the returned walks is 1.  One with a __sizeof__ written in Python that appends a new object to
a global list is walked again after the calls (walks 2), and holds the new objects.  Each dump
holds exactly the objects gc.get_referents reaches from gc.get_objects(), with their sizes and
edges, and predicts the garbage gc.collect() finds (inproc_check's oracles).
"""
import _struct
import gc
import os
import struct
import sys
import tempfile

import heapsnap
from inproc_check import Failures, collect_garbage, compare, load, take_truth

LOG = []


class Appends:
    def __sizeof__(self):
        LOG.append(object())
        return object.__sizeof__(self)


def checked_dump(cli, path, fails):
    """A dump checked against CPython's answers; its returned counts and snapshot."""
    counts = heapsnap.dump(path)
    garbage = collect_garbage()
    truth = take_truth(exclude=(garbage, counts) + tuple(counts.values()))
    snap = load(cli, path)
    compare(snap, truth, garbage, fails)
    return counts, snap


def main():
    cli = sys.argv[1]
    fails = Failures()
    gc.disable()
    structs = [struct.Struct("<%dq" % n) for n in range(1, 20)]
    extension = getattr(_struct, "__file__", None) is not None
    path = os.path.join(tempfile.mkdtemp(prefix="inproc-sizeof-"), "s.hsnap")

    counts, snap = checked_dump(cli, path, fails)
    print("_struct %s: walks %d, sizeof_called %d"
          % ("an extension" if extension else "built in", counts["walks"],
             counts["sizeof_called"]))
    fails.check(counts["walks"] == 1, "Struct heap: walked %d times" % counts["walks"])
    fails.check(counts["sizeof_called"] >= (len(structs) if extension else 0),
                "Struct heap: %d sizes called" % counts["sizeof_called"])
    fails.check(all(snap.objects[id(s)]["size"] == sys.getsizeof(s) for s in structs),
                "Struct sizes")
    del snap

    appends = Appends()
    counts, snap = checked_dump(cli, path, fails)
    print("Python __sizeof__ appending: walks %d, %d objects appended"
          % (counts["walks"], len(LOG)))
    fails.check(counts["walks"] == 2 and len(LOG) >= 1,
                "appending heap: walked %d times, %d appended" % (counts["walks"], len(LOG)))
    # The first was appended by the dump's call, the next by take_truth's sys.getsizeof.
    fails.check(id(LOG) in snap.objects and id(LOG[0]) in snap.objects,
                "the object the dump's call appended is in the snapshot")
    del appends, snap
    os.unlink(path)
    os.rmdir(os.path.dirname(path))
    fails.finish("inproc_sizeof")


if __name__ == "__main__":
    main()
