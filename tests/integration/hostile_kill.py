"""hostile_kill.py — `heapsnap capture --pid` of a ~1M-object target, killed part way.

Each capture gets SIGKILL, SIGINT or SIGTERM at a fixed time after its start (0.05, 0.2, 0.5,
1 s and half of an uninterrupted capture's time) and at two moments it is made to hit: while
the target is traced (being walked), and once the snapshot's temporary file exists
(the write).  After each kill:
  * no file at the -o path (unless the snapshot was complete before the signal: see below);
    after SIGKILL only PATH.tmp-XXXXXX may remain, and `heapsnap check`
    must reject it; after SIGINT/SIGTERM nothing at all, and the capture died of the signal;
  * the target is not stopped, has no tracer, and answers on stdin/stdout;
  * when the temporary file appeared, the target was already running again (it is stopped only
    while it is walked, or until the rest of its memory is copied).
A capture that finished before its signal must have written a snapshot that checks; so must one
whose signal came after the rename that completes it (a kill at 1 s of a 0.9 s capture).

usage: hostile_kill.py HEAPSNAP TARGET.py PYTHON [N_OBJECTS]
"""
import glob
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from target_process import target_state

failures = []
figures = {"kills": 0, "finished first": 0, "killed after the rename": 0,
           "tmp files left by SIGKILL": 0}


def fail(name, why):
    print(f"FAIL {name}: {why}")
    failures.append(name)


def ping(proc):
    proc.stdin.write(b"ping\n")
    proc.stdin.flush()
    r, _, _ = select.select([proc.stdout], [], [], 10)
    return bool(r) and proc.stdout.readline() == b"pong\n"


def wait_for(cond, proc, limit=60.0):
    """Polls cond() until it holds (True) or proc ends or limit seconds pass (False)."""
    end = time.monotonic() + limit
    while time.monotonic() < end and proc.poll() is None:
        if cond():
            return True
        time.sleep(0.0005)
    return False


def kill_one(heapsnap, target, out, sig, when):
    name = f"{signal.Signals(sig).name} at {when}"
    cap = subprocess.Popen([heapsnap, "capture", "--pid", str(target.pid), "-o", out],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    running_at_write = None
    try:
        if when == "traced":
            hit = wait_for(lambda: target_state(target.pid)[1] == cap.pid, cap)
        elif when == "writing":
            hit = wait_for(lambda: glob.glob(glob.escape(out) + ".tmp-*"), cap)
            if hit:
                state, tracer = target_state(target.pid)
                running_at_write = state not in "tT" and not tracer
        else:
            wait_for(lambda: False, cap, float(when))
            hit = cap.poll() is None
        if cap.poll() is None:
            cap.send_signal(sig)
            figures["kills"] += 1
        elif when in ("traced", "writing"):
            fail(name, f"the capture ended before the target was {when}: the test proves nothing")
        _, err = cap.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        cap.kill()
        cap.communicate()
        return fail(name, "capture did not end after the signal")
    rc = cap.returncode
    print(f"     {name}: {'hit' if hit else 'missed'}, exit {rc}: {err.strip()[:160]}")
    # The target runs on, untraced.
    state, tracer = target_state(target.pid)
    if state in "tT" or tracer:
        fail(name, f"target left stopped (state {state}, TracerPid {tracer})")
    elif not ping(target):
        fail(name, "target does not answer after the kill")
    if running_at_write is False:
        fail(name, "target still stopped while the snapshot was written")
    tmps = glob.glob(glob.escape(out) + ".tmp-*")
    if rc == 0:
        figures["finished first"] += 1
        c = subprocess.run([heapsnap, "check", out], capture_output=True, text=True)
        if c.returncode != 0 or tmps:
            fail(name, f"finished capture: check {c.returncode}, temporary files {tmps}")
    elif os.path.exists(out):
        # The signal came between the rename (the snapshot complete) and the exit: the file
        # must then be whole, and nothing else left.
        figures["killed after the rename"] += 1
        c = subprocess.run([heapsnap, "check", out], capture_output=True, text=True)
        if c.returncode != 0 or tmps:
            fail(name, f"killed capture (exit {rc}) left {out}: check {c.returncode}, "
                       f"temporary files {tmps}")
    elif rc != -sig:
        fail(name, f"exit {rc}, not killed by the signal (crashed?)")
    elif sig != signal.SIGKILL and tmps:
        fail(name, f"{signal.Signals(sig).name} left temporary files {tmps}")
    for t in tmps:
        figures["tmp files left by SIGKILL"] += sig == signal.SIGKILL
        c = subprocess.run([heapsnap, "check", t], capture_output=True, text=True)
        if c.returncode == 0:
            fail(name, f"`heapsnap check` accepts the partial {t}")
        os.unlink(t)
    if when == "writing" and sig == signal.SIGKILL and rc != 0 and not tmps:
        fail(name, "SIGKILL while writing left no temporary file: the test proves nothing")
    if os.path.exists(out):
        os.unlink(out)
    return None


def main():
    heapsnap, target_py, python = sys.argv[1:4]
    n = sys.argv[4] if len(sys.argv) > 4 else "1000000"
    tmp = tempfile.mkdtemp(prefix="hs-kill-")
    out = os.path.join(tmp, "k.hsnap")
    target = subprocess.Popen([python, target_py, "big", n], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE)
    try:
        if not target.stdout.readline().startswith(b"READY"):
            return fail("target", "did not get ready") or 1
        t0 = time.monotonic()
        r = subprocess.run([heapsnap, "capture", "--pid", str(target.pid), "-o", out],
                           capture_output=True, text=True, timeout=300)
        whole = time.monotonic() - t0
        print(f"     uninterrupted: {whole:.2f} s: {r.stderr.strip()}")
        if r.returncode != 0:
            return fail("uninterrupted", "capture failed") or 1
        os.unlink(out)
        times = ["0.05", "0.2", "0.5", "1", f"{whole / 2:.2f}"]
        for sig in (signal.SIGKILL, signal.SIGINT, signal.SIGTERM):
            for when in times + ["traced", "writing"]:
                kill_one(heapsnap, target, out, sig, when)
    finally:
        target.stdin.close()
        target.wait(timeout=60)
        shutil.rmtree(tmp)
    print("figures:", figures)
    print("failures:", failures)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
