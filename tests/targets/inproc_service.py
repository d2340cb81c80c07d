"""inproc_service.py: a small "service" for inproc_signal.py: it installs heapsnap.dump_on_signal
and idles until its snapshot appears.

usage: PYTHONPATH=BUILD/capture/inproc python inproc_service.py DIR

SIGUSR2 dumps to DIR/heap-{pid}-{time}.hsnap (the default template, under DIR); SIGUSR1 dumps
into DIR/missing/ (a directory that does not exist), a failure the handler must report on stderr
without disturbing the service.  Prints "ready" once both handlers are in place and exits 0 once
the SIGUSR2 snapshot exists (2 after 60 s without one).
"""
import os
import signal
import sys
import time

import heapsnap


class ServiceState:
    def __init__(self, n):
        self.n = n
        self.name = "service-state-%d" % n


STATE = [ServiceState(i) for i in range(23)]


def main():
    d = sys.argv[1]
    prev = heapsnap.dump_on_signal(path_template=os.path.join(d, "heap-{pid}-{time}.hsnap"))
    if prev is not signal.SIG_DFL:
        print("dump_on_signal returned %r, expected the default handler" % (prev,))
        return 2
    heapsnap.dump_on_signal(signal.SIGUSR1, os.path.join(d, "missing", "h-{pid}.hsnap"))
    print("ready", flush=True)
    prefix = "heap-%d-" % os.getpid()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if any(n.startswith(prefix) and n.endswith(".hsnap") for n in os.listdir(d)):
            print("done", flush=True)
            return 0
        time.sleep(0.02)
    return 2


if __name__ == "__main__":
    sys.exit(main())
