"""clean_service.py — the same kind of request-handling service as leaky_service.py, written
without leaks: a bounded LRU cache, a bounded audit log, small callbacks, no garbage cycles, no
references held by C code.  The leak report must name nothing of it in sections 1-5.

usage: python clean_service.py SNAPSHOT_PREFIX [ROUNDS]
Serves ROUNDS (default 3) rounds of requests and writes SNAPSHOT_PREFIX{round}.hsnap after each.
"""
import collections
import functools
import gc
import sys

import heapsnap

REQUESTS_PER_ROUND = 2000

AUDIT_LOG = collections.deque(maxlen=500)  # bounded: old entries fall off
STATS = collections.Counter()  # one key per status code: bounded by construction
EVENT_HANDLERS = []
CONFIG = {"setting_%d" % i: i for i in range(300)}  # static configuration, does not grow


@functools.lru_cache(maxsize=256)
def render(i):
    return ("<html>%d</html>" % (i % 1000)) * 8


class Session:
    def __init__(self, user):
        self.user = user
        self.items = []

    def close(self):
        self.items.clear()


def on_event(event):
    STATS[event] += 1


def serve(round_no):
    base = round_no * REQUESTS_PER_ROUND
    for i in range(base, base + REQUESTS_PER_ROUND):
        s = Session("user%d" % (i % 10))
        s.items.append(render(i))
        AUDIT_LOG.append("request %d served" % i)
        on_event(200)
        s.close()


def main():
    prefix = sys.argv[1]
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    EVENT_HANDLERS.append(on_event)
    for r in range(rounds):
        serve(r)
        gc.collect()
        path = "%s%d.hsnap" % (prefix, r)
        heapsnap.dump(path)
        print(path, flush=True)


if __name__ == "__main__":
    main()
