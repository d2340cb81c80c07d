"""test_capture_eintr.py — `heapsnap capture --pid` must not make blocking calls in the target
fail with EINTR (issue 17, item 12).  The target (tests/targets/eintr_target.py) has threads
blocked in raw libc epoll_wait (with and without a timeout), poll, read, nanosleep, select and
pause.  The kernel restarts most of them unseen after a ptrace stop, but not epoll_wait (nor
semop, sigtimedwait, io_getevents: signal(7)); the capture leaves a thread asleep in one of those
running and proves afterwards that it did not run during the copy.

1. Three captures of the quiet target: every call still blocked, none returned (no EINTR).
2. With a thread that wakes from epoll_wait every millisecond (it runs during the copy, so the
   capture copies again with every thread stopped): the captures succeed and their snapshots
   check; the blocked threads see at most one EINTR per capture (the second copy's stop; what
   the README documents).

usage: test_capture_eintr.py HEAPSNAP TARGET.py PYTHON
"""
import json
import os
import subprocess
import sys
import tempfile

CAPTURES = 3


def run(heapsnap, target, python, busy, tmp):
    p = subprocess.Popen([python, target] + (["--busy"] if busy else []),
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    problems = []
    try:
        assert p.stdout.readline().strip() == "ready", "target did not start"
        out = os.path.join(tmp, "s.hsnap")
        for i in range(CAPTURES):
            r = subprocess.run([heapsnap, "capture", "--pid", str(p.pid), "-o", out],
                               capture_output=True, text=True, timeout=120)
            print(f"capture {i + 1}: exit {r.returncode}: {r.stderr.strip()}")
            if r.returncode != 0:
                problems.append(f"capture {i + 1} failed")
                continue
            c = subprocess.run([heapsnap, "check", out], capture_output=True, text=True)
            if c.returncode != 0:
                problems.append(f"capture {i + 1} does not check: {c.stderr.strip()}")
        p.stdin.write("counts\n")
        p.stdin.flush()
        counts = json.loads(p.stdout.readline())
    finally:
        p.kill()
        p.wait()
    for name, c in sorted(counts.items()):
        print(f"  {name}: {c['returns']} returns, {c['eintr']} EINTR")
        if name == "busy epoll_wait":
            continue
        limit = CAPTURES if busy else 0
        if c["eintr"] > limit or (not busy and c["returns"]):
            problems.append(f"{name}: {c['returns']} returns, {c['eintr']} EINTR "
                            f"(at most {limit} EINTR allowed)")
    return problems


def main():
    heapsnap, target, python = sys.argv[1:4]
    if not os.path.exists(python):
        print(f"skip: {python} not installed")
        return 77
    tmp = tempfile.mkdtemp(prefix="hs-eintr-")
    problems = []
    for busy in (False, True):
        print(f"== {'with' if busy else 'without'} a thread waking every millisecond")
        problems += run(heapsnap, target, python, busy, tmp)
    print("problems:", problems)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
