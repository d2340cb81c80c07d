"""target_process.py: what the out-of-process capture tests (remote_capture.py,
remote_vs_inproc.py, hostile_heap.py, hostile_kill.py) read of a live target process in /proc.
Each of those scripts runs as `python3 tests/integration/NAME.py ...`, so this sibling module is
on sys.path.
"""
import re
import time


def wait_blocked(pid, timeout=10.0):
    """Waits until pid sits in read(2) (syscall 0 on x86-64), so that the capture never finds
    the call that announced "ready" still on the target's stack."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            with open(f"/proc/{pid}/syscall") as f:
                if f.read().split()[0] == "0":
                    return
        except (OSError, IndexError):
            pass
        time.sleep(0.005)


def target_state(pid):
    """(state letter, TracerPid) of a live process."""
    with open(f"/proc/{pid}/stat") as f:
        state = f.read().rsplit(")", 1)[1].split()[0]
    with open(f"/proc/{pid}/status") as f:
        tracer = int(re.search(r"^TracerPid:\s+(\d+)", f.read(), re.M).group(1))
    return state, tracer
