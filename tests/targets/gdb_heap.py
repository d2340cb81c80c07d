"""gdb_heap.py — the target of tests/gdb/test_gdb.py: a heap with known answers, then it blocks.

A module global `items` holds N (argv[1], default 1234) instances of GdbItem; a cycle of two
GdbNode objects is left as garbage with the collector off.  It prints one line,
"ready ADDR" with the address (id) of items[7], then blocks reading fd 0 until EOF.

usage: python gdb_heap.py [N]
"""
import gc
import sys

gc.disable()


class GdbItem:
    def __init__(self, i):
        self.i = i


class GdbNode:
    def __init__(self):
        self.other = None


items = [GdbItem(i) for i in range(int(sys.argv[1]) if len(sys.argv) > 1 else 1234)]
a, b = GdbNode(), GdbNode()
a.other, b.other = b, a
del a, b
print("ready 0x%x" % id(items[7]), flush=True)
sys.stdin.read()
