"""hostile_heap.py — a target that corrupts its own heap with ctypes, for the hostile-heap and
killed-capture tests of the out-of-process capture (tests/integration/hostile_*.py).

It builds a small heap (or, in mode "big", about N objects), then applies one corruption, prints
"READY 0xADDR" (the address the capture's warning should name, 0x0 for "big") and answers every
line on stdin with "pong" until EOF, when it leaves with os._exit (no finalization may touch the
corrupted objects).  The collector is disabled first and nothing that would walk the corrupted
objects runs afterwards.

Modes (offsets are those of every CPython 3.8-3.13 default build on x86-64):
  bad_type         an instance's ob_type = 0x10 (unmapped); a list still refers to it
  garbage_type     an instance's ob_type points at 0x41-filled readable memory
  forged_type      ob_type points at a copy of the instance's class whose tp_name is 0x10 and
                   whose tp_base is itself
  gc_cycle         a GC list entry's _gc_next points back at an earlier entry
  gc_cycle_bad     an entry whose ob_type is bogus links to itself
  gc_next_unmapped a GC list entry's _gc_next = 0x10
  list_oversize    a list of 3 gets ob_size = 2^20, more than it has allocated
  list_item        a list item = 0x10
  list_items       a list's item array (ob_item) = 0x10
  dict_keys        a dict's ma_keys = 0x10
  clean            no corruption
  big              no corruption; about N (default 1 000 000) objects

usage: python hostile_heap.py MODE [N]
"""
import ctypes
import gc
import os
import sys

gc.disable()

UNMAPPED = 0x10
GC_HEAD = 16  # PyGC_Head sits right before the object
OB_TYPE, OB_SIZE, LIST_ITEM, LIST_ALLOCATED, DICT_KEYS = 8, 16, 24, 32, 32
TP_NAME, TP_BASE, HEAPTYPE_COPY = 24, 256, 1024


def word(addr):
    return ctypes.c_uint64.from_address(addr)


class Victim:
    __slots__ = ("v",)

    def __init__(self, v):
        self.v = v


def gc_successor(a, b, limit=64):
    """True when b's GC head follows a's within limit links (same generation list)."""
    p, target = id(a) - GC_HEAD, id(b) - GC_HEAD
    for _ in range(limit):
        p = word(p).value & ~3
        if p == target:
            return True
    return False


def main():
    mode = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
    keep = []  # everything the corruption touches, alive until os._exit
    heap = [{"k": [i, str(i)], "t": (i, i + 1)} for i in range(2000)]
    keep.append(heap)
    addr = 0
    if mode == "clean":
        pass
    elif mode == "big":
        heap.extend([i, (i,), str(i)] for i in range(n // 4))
    elif mode in ("bad_type", "garbage_type", "forged_type"):
        v = Victim([1, 2])
        holder = [v]
        keep += [v, holder]
        if mode == "bad_type":
            bogus = UNMAPPED
        elif mode == "garbage_type":
            buf = ctypes.create_string_buffer(b"\x41" * 512)
            keep.append(buf)
            bogus = ctypes.addressof(buf)
        else:
            buf = ctypes.create_string_buffer(HEAPTYPE_COPY)
            ctypes.memmove(buf, id(Victim), HEAPTYPE_COPY)
            keep.append(buf)
            bogus = ctypes.addressof(buf)
            word(bogus + TP_NAME).value = UNMAPPED
            word(bogus + TP_BASE).value = bogus
        word(id(v) + OB_TYPE).value = bogus
        addr = id(v)
    elif mode in ("gc_cycle", "gc_cycle_bad", "gc_next_unmapped"):
        # a, x, b, c are consecutive in generation 0; c keeps anything freed later from
        # unlinking next to b.
        a, x, b, c = Victim(1), Victim(2), Victim(3), Victim(4)
        keep += [a, x, b, c]
        if not (gc_successor(a, b) and gc_successor(b, c)):
            sys.exit("hostile_heap: victims are not in one GC list")
        if mode == "gc_next_unmapped":
            word(id(b) - GC_HEAD).value = UNMAPPED
            addr = id(b)
        elif mode == "gc_cycle_bad":
            word(id(b) + OB_TYPE).value = UNMAPPED
            word(id(b) - GC_HEAD).value = id(b) - GC_HEAD
            addr = id(b)
        else:
            word(id(b) - GC_HEAD).value = id(a) - GC_HEAD
            addr = id(a)
    elif mode == "list_oversize":
        lst = [1, 2, 3]
        keep.append(lst)
        if word(id(lst) + LIST_ALLOCATED).value >= 1 << 20:
            sys.exit("hostile_heap: unexpected list allocation")
        word(id(lst) + OB_SIZE).value = 1 << 20
        addr = id(lst)
    elif mode in ("list_item", "list_items"):
        lst = [Victim(1), Victim(2), Victim(3)]
        keep.append(lst)
        if mode == "list_item":
            word(word(id(lst) + LIST_ITEM).value + 8).value = UNMAPPED
        else:
            keep.append(lst[:])  # the items stay alive
            word(id(lst) + LIST_ITEM).value = UNMAPPED
        addr = id(lst)
    elif mode == "dict_keys":
        d = {"alpha": [1], "beta": [2]}
        keep.append(d)
        word(id(d) + DICT_KEYS).value = UNMAPPED
        addr = id(d)
    else:
        sys.exit(f"hostile_heap: unknown mode {mode}")
    sys.stdout.write(f"READY {addr:#x}\n")
    sys.stdout.flush()
    for line in sys.stdin:
        sys.stdout.write("pong\n")
        sys.stdout.flush()
    os._exit(0)


main()
