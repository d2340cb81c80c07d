"""growing.py — a target whose memory grows, for the dump triggers (tests/integration/test_triggers.py).

usage: python growing.py MODE DIR
  rss         heapsnap.dump_on(rss_bytes=RSS now + 16 MiB, every=16 MiB) into DIR, then grows by
              1 MiB bytes objects (kept in HOARD) every 20 ms up to 56 MiB, waits 1.5 s and
              prints the dumps' paths, one per line
  caught      heapsnap.dump_on(memory_error=True); a MemoryError raised and caught; prints the
              dumps' paths
  uncaught    the same, the MemoryError uncaught (the process ends with it)
  external    no heapsnap: prints "ready", grows as `rss` does, then waits for EOF on stdin
"""
import os
import sys
import time

MIB = 1 << 20
HOARD = []


def grow():
    for i in range(56):
        HOARD.append(bytes([i % 251]) * MIB)
        time.sleep(0.02)


def main():
    mode, d = sys.argv[1], sys.argv[2]
    template = os.path.join(d, "heap-{n}.hsnap")
    if mode == "external":
        print("ready", flush=True)
        grow()
        sys.stdin.read()
        return
    import heapsnap
    from heapsnap import triggers
    if mode == "rss":
        t = heapsnap.dump_on(rss_bytes=triggers.rss() + 16 * MIB, every=16 * MIB, interval=0.01,
                             path_template=template)
        grow()
        time.sleep(1.5)
    else:
        t = heapsnap.dump_on(memory_error=True, path_template=template)
        if mode == "uncaught":
            bytearray(1 << 62)
        try:
            bytearray(1 << 62)
        except MemoryError:
            pass
    print("\n".join(t.dumps), flush=True)


if __name__ == "__main__":
    main()
