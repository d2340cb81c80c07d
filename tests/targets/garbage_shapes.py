"""garbage_shapes.py — GC garbage with finalizers in three shapes, for the leak report's first
section (issue 22): identical cycles must be one finding with their count, and an unreachable
object that is in no cycle of several objects must be described as what it is.

  Connection  600 pairs that refer to each other (a.peer = b, b.peer = a): 600 identical cycles
  Handle      40 objects that refer to themselves (h.me = h): self-references, no cycle
  Socket      25 objects with no reference to themselves, each held by a cycle of two Node
              objects (which have no finalizer): held only by garbage, in no cycle
All three classes define __del__.  The collector is disabled so the garbage stays.

usage: python garbage_shapes.py SNAPSHOT
Writes SNAPSHOT with heapsnap.dump and prints what gc.collect() then finds (the oracle), as
JSON: {"snapshot": ..., "collected": N}.
"""
import gc
import json
import sys

import heapsnap


class Connection:
    def __del__(self):
        pass


class Handle:
    def __del__(self):
        pass


class Socket:
    def __del__(self):
        pass


class Node:
    pass


def plant():
    for _ in range(600):
        a, b = Connection(), Connection()
        a.peer, b.peer = b, a
    for _ in range(40):
        h = Handle()
        h.me = h
    for _ in range(25):
        x, y = Node(), Node()
        x.other, y.other = y, x
        x.sock = Socket()


def main():
    gc.collect()
    gc.disable()
    plant()
    heapsnap.dump(sys.argv[1])
    print(json.dumps({"snapshot": sys.argv[1], "collected": gc.collect()}), flush=True)


if __name__ == "__main__":
    main()
