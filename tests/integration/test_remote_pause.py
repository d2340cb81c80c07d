"""test_remote_pause.py — `heapsnap capture --pid` reads, while the target is stopped, only what
the walk needs: never the contents of large buffers (issue 20 item 3).

The target holds 256 MiB in one bytes, one bytearray and one array.array('B') (each filled with
its own byte, so that its pages are resident), prints their addresses, sys.getsizeof sizes and
the bytes' first 20 bytes, and waits.  Checks:
1. the capture succeeds; its summary line and META pause_seconds report the pause;
2. META pause_bytes_read (what was read while the target was stopped) is positive, a multiple of
   the page size and below 64 MiB: far less than the buffers (the target's whole heap of objects
   is a few MiB), and the verbose line says the same number;
3. each buffer is in the snapshot with its sys.getsizeof size, and the bytes' preview is its
   first bytes (its header page was read, its contents were not needed).

usage: test_remote_pause.py HEAPSNAP PYTHON
"""
import json
import os
import re
import subprocess
import sys
import tempfile

TARGET = r"""
import array, os, sys
size = 85 << 20
b = b"\x41" * size
ba = bytearray(b"\x42") * size
arr = array.array("B", b"\x43") * size
for o in (b, ba, arr):
    print(hex(id(o)), type(o).__name__, sys.getsizeof(o))
print("ready", flush=True)
os.read(0, 1)
"""
LIMIT = 64 << 20


def main():
    heapsnap, python = sys.argv[1], sys.argv[2]
    problems = []
    with tempfile.TemporaryDirectory(prefix="hs-pause-") as tmp:
        p = subprocess.Popen([python, "-c", TARGET], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
        want = {}
        try:
            for line in p.stdout:
                if line.strip() == "ready":
                    break
                addr, kind, size = line.split()
                want[int(addr, 16)] = (kind, int(size))
            out = os.path.join(tmp, "s.hsnap")
            r = subprocess.run([heapsnap, "capture", "--pid", str(p.pid), "-o", out,
                                "--verbose"], capture_output=True, text=True, timeout=300)
        finally:
            p.stdin.close()
            p.wait()
        print(r.stderr.strip())
        if r.returncode != 0:
            print("FAIL: capture failed")
            return 1
        if not re.search(r"pause [\d.]+ s, [\d.]+ s", r.stderr):
            problems.append("the summary line reports no pause")
        said = re.search(r"read (\d+) bytes of the target while stopped", r.stderr)
        e = subprocess.run([heapsnap, "export", out], capture_output=True, text=True,
                           check=True)
        meta, objs = {}, {}
        for line in e.stdout.splitlines():
            rec = json.loads(line)
            if rec["t"] == "meta":
                meta[rec["key"]] = rec["value"]
            elif rec["t"] == "object" and rec["addr"] in want:
                objs[rec["addr"]] = rec
        pause = float(meta.get("pause_seconds", "-1"))
        read = int(meta.get("pause_bytes_read", "-1"))
        print(f"pause_seconds {pause}, pause_bytes_read {read} "
              f"(buffers: {sum(s for _, s in want.values())} bytes)")
        if pause <= 0:
            problems.append(f"META pause_seconds is {pause}")
        if read <= 0 or read % 4096 or read >= LIMIT:
            problems.append(f"META pause_bytes_read is {read}: not in (0, {LIMIT}) pages")
        if not said or int(said[1]) != read:
            problems.append("the verbose line does not say the bytes read as META does")
        for addr, (kind, size) in want.items():
            o = objs.get(addr)
            if not o:
                problems.append(f"{kind} at {addr:#x} is not in the snapshot")
                continue
            print(f"{kind} at {addr:#x}: size {o['size']} (sys.getsizeof {size}), "
                  f"value {o.get('value', '')[:24]!r}")
            if o["type"] != kind or o["size"] != size:
                problems.append(f"{kind} at {addr:#x}: {o['type']} of size {o['size']}, "
                                f"not {kind} of {size}")
            if kind == "bytes" and not o.get("value", "").startswith("b'AAAAAAAAAAAAAAAAAAAA"):
                problems.append(f"bytes at {addr:#x}: preview {o.get('value')!r}")
    for pr in problems:
        print("FAIL: " + pr)
    if not problems:
        print("ok: the buffers are in the snapshot, their contents were not read")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
