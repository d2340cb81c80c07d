"""eintr_target.py — threads blocked in raw libc calls (through ctypes, so that no Python retry
hides an EINTR), for tests/integration/test_capture_eintr.py.  Each thread loops on its call and
counts the returns and the EINTR failures: a capture must leave every count at 0.

With --busy, one more thread wakes from epoll_wait every millisecond and appends to a list
(a spared thread that runs during the copy: the capture must notice and copy again).

Writes "ready" on fd 1; each line on fd 0 is answered with the counts as one JSON line.

usage: python eintr_target.py [--busy]
"""
import ctypes
import ctypes.util
import json
import os
import sys
import threading

libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
counts = {}
lock = threading.Lock()
EINTR = 4


class EpollEvent(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("events", ctypes.c_uint32), ("data", ctypes.c_uint64)]


class PollFd(ctypes.Structure):
    _fields_ = [("fd", ctypes.c_int), ("events", ctypes.c_short), ("revents", ctypes.c_short)]


class Timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


def loop(name, call, then=None):
    counts[name] = {"returns": 0, "eintr": 0}
    while True:
        r = call()
        e = ctypes.get_errno()
        with lock:
            counts[name]["returns"] += 1
            counts[name]["eintr"] += r < 0 and e == EINTR
        if then:
            then()


def main():
    silent_r, _silent_w = os.pipe()  # nobody ever writes: every wait on it blocks
    ep = libc.epoll_create1(0)
    ev = EpollEvent(1, 0)  # EPOLLIN
    assert libc.epoll_ctl(ep, 1, silent_r, ctypes.byref(ev)) == 0  # EPOLL_CTL_ADD
    events = (EpollEvent * 4)()
    pfd = PollFd(silent_r, 1, 0)
    buf = ctypes.create_string_buffer(16)
    long_sleep = Timespec(100000, 0)
    calls = {
        "epoll_wait": lambda: libc.epoll_wait(ep, events, 4, -1),
        "epoll_wait with a timeout": lambda: libc.epoll_wait(ep, events, 4, 100000000),
        "poll": lambda: libc.poll(ctypes.byref(pfd), 1, -1),
        "read": lambda: libc.read(silent_r, buf, 16),
        "nanosleep": lambda: libc.nanosleep(ctypes.byref(long_sleep), None),
        "select": lambda: libc.select(silent_r + 1, None, None, None, None),
        "pause": lambda: libc.pause(),
    }
    for name, call in calls.items():
        threading.Thread(target=loop, args=(name, call), daemon=True).start()
    if "--busy" in sys.argv[1:]:
        grown = []
        threading.Thread(target=loop, daemon=True,
                         args=("busy epoll_wait", lambda: libc.epoll_wait(ep, events, 4, 1),
                               lambda: grown.append(len(grown)))).start()
    while len(counts) < len(calls) + ("--busy" in sys.argv[1:]):
        threading.Event().wait(0.01)
    print("ready", flush=True)
    for _ in sys.stdin:
        with lock:
            print(json.dumps(counts), flush=True)


main()
