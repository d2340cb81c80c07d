"""many_classes.py — a heap of N instances spread over K classes (each with the same three
attributes, so every class is a __slots__ candidate), for the leak report's cost (issue 22: a
355k-object heap took 73 s because one query ran once per class over every instance).

usage: python many_classes.py SNAPSHOT CLASSES INSTANCES
Writes SNAPSHOT with heapsnap.dump and prints its path.
"""
import sys

import heapsnap

INSTANCES = []


def main():
    snapshot, nclasses, ninstances = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    classes = [type("Kind%d" % k, (), {}) for k in range(nclasses)]
    for i in range(ninstances):
        o = classes[i % nclasses]()
        o.name, o.size, o.tags = "item", i, None
        INSTANCES.append(o)
    heapsnap.dump(snapshot)
    print(snapshot, flush=True)


if __name__ == "__main__":
    main()
