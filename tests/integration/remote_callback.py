"""remote_callback.py — hs_capture_callback (the gdb plugin's entry point) through ctypes, with a
read callback over /proc/PID/mem of a stopped target: its snapshot must hold the same objects,
sizes, refcounts and edges as `heapsnap capture --pid` of the same stopped process.

usage: remote_callback.py HEAPSNAP LIBHSCAPTURE.so ZOO.py PYTHON
"""
import ctypes
import json
import os
import signal
import subprocess
import sys
import tempfile


class Mapping(ctypes.Structure):
    _fields_ = [("start", ctypes.c_uint64), ("end", ctypes.c_uint64),
                ("file_offset", ctypes.c_uint64), ("path", ctypes.c_char_p)]


class Stats(ctypes.Structure):
    _fields_ = [("objects", ctypes.c_uint64), ("edges", ctypes.c_uint64),
                ("weak", ctypes.c_uint64), ("roots", ctypes.c_uint64),
                ("warnings", ctypes.c_uint64), ("pause_seconds", ctypes.c_double),
                ("seconds", ctypes.c_double), ("source", ctypes.c_char * 512)]


class Error(ctypes.Structure):
    _fields_ = [("code", ctypes.c_int), ("message", ctypes.c_char_p)]


READ_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_uint64, ctypes.c_void_p,
                           ctypes.c_size_t)


def load(heapsnap, snap):
    out = subprocess.run([heapsnap, "export", snap], capture_output=True, text=True,
                         check=True).stdout
    objs, edges = {}, {}
    for line in out.splitlines():
        r = json.loads(line)
        if r["t"] == "object":
            objs[r["addr"]] = (r["type"], r["size"], r["refcnt"], r.get("value"))
        elif r["t"] == "edge":
            edges.setdefault(r["src"], []).append((r["dst"], r.get("label"), r.get("kind")))
    return objs, edges


def main():
    heapsnap, lib, zoo, python = sys.argv[1:5]
    hs = ctypes.CDLL(lib)
    hs.hs_capture_callback.restype = ctypes.POINTER(Error)
    hs.hs_capture_callback.argtypes = [READ_FN, ctypes.c_void_p, ctypes.POINTER(Mapping),
                                       ctypes.c_size_t, ctypes.c_char_p, ctypes.c_void_p,
                                       ctypes.POINTER(Stats)]
    tmp = tempfile.mkdtemp(prefix="hs-cb-")
    cb_snap, pid_snap = os.path.join(tmp, "cb.hsnap"), os.path.join(tmp, "pid.hsnap")
    t = subprocess.Popen([python, zoo, os.path.join(tmp, "t.json"), os.path.join(tmp, "g.json")],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    reads = [0]
    try:
        t.stdout.readline()
        os.kill(t.pid, signal.SIGSTOP)  # both captures see the same memory
        maps, keep = [], []
        with open(f"/proc/{t.pid}/maps") as f:
            for line in f:
                parts = line.split(None, 5)
                lo, hi = (int(x, 16) for x in parts[0].split("-"))
                path = parts[5].strip().encode() if len(parts) > 5 else b""
                keep.append(path)
                maps.append(Mapping(lo, hi, int(parts[2], 16), path))
        mem = os.open(f"/proc/{t.pid}/mem", os.O_RDONLY)

        @READ_FN
        def read(ctx, addr, buf, n):
            reads[0] += 1
            try:
                data = os.pread(mem, n, addr)
            except OSError:
                return -1
            if len(data) != n:
                return -1
            ctypes.memmove(buf, data, n)
            return 0

        st = Stats()
        err = hs.hs_capture_callback(read, None, (Mapping * len(maps))(*maps), len(maps),
                                     cb_snap.encode(), None, ctypes.byref(st))
        if err:
            print("hs_capture_callback:", err.contents.message.decode())
            return 1
        print(f"callback: {st.objects} objects, {st.edges} edges, {reads[0]} page reads, "
              f"{st.seconds:.3f} s")
        r = subprocess.run([heapsnap, "capture", "--pid", str(t.pid), "-o", pid_snap],
                           capture_output=True, text=True)
        print(r.stderr.strip())
        if r.returncode:
            return 1
        os.close(mem)
    finally:
        os.kill(t.pid, signal.SIGCONT)
        t.stdin.close()
        t.wait()
    a, ae = load(heapsnap, cb_snap)
    b, be = load(heapsnap, pid_snap)
    problems = [f"0x{k:x}: {a.get(k)} vs {b.get(k)}" for k in set(a) | set(b) if a.get(k) != b.get(k)]
    problems += [f"0x{k:x}: edges differ" for k in set(ae) | set(be) if ae.get(k) != be.get(k)]
    if reads[0] == 0 or len(a) < 1000:
        problems.append("the callback was not used")
    for p in problems[:20]:
        print("  " + p)
    print(f"{len(a)} objects; {len(problems)} differences")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
