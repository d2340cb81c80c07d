"""leaky_service.py — a small request-handling "service" that exhibits every leak pattern the
leak report (`heapsnap leaks`) names, so its tests can assert that each one is found.

Each pattern has a distinctive name the report must print:
  1. finalizer cycles      class LeakySession (a self-cycle with __del__, left as GC garbage)
  2. unbounded cache       module global RESPONSE_CACHE (a dict keyed by request id, never evicted)
                           and the class attribute Router.route_memo
  3. global accumulation   module global AUDIT_LOG (a list that only grows)
  4. closures / methods    function on_tick (a closure capturing a large list) and the bound
                           method ReportBuilder.on_event, both kept in EVENT_HANDLERS
  5. held by C code        class LeakedByExtension (instances whose refcount was raised with
                           Py_IncRef, as a buggy extension would, then dropped)
  6. __slots__ candidate   class RequestRecord (many instances, always the same four attributes)
  7. weak references       WEAK_INDEX (a WeakValueDictionary) and DEAD_REFS (dead weakrefs)

usage: python leaky_service.py SNAPSHOT_PREFIX [ROUNDS]
       python leaky_service.py --serve [ROUNDS]
Serves ROUNDS (default 3) rounds of requests and writes SNAPSHOT_PREFIX{round}.hsnap after each
with the in-process capture module (heapsnap.dump); prints each path on stdout.  With --serve it
captures nothing itself: after each round it prints "round N" and waits for a line on stdin, so
that `heapsnap capture --pid` can snapshot it from outside (the README's demo).
"""
import ctypes
import gc
import sys
import weakref

REQUESTS_PER_ROUND = 2000

RESPONSE_CACHE = {}  # request id -> response body: grows with every request (pattern 2)
AUDIT_LOG = []  # one entry per request, never trimmed (pattern 3)
EVENT_HANDLERS = []  # callbacks that keep what they capture alive (pattern 4)
WEAK_INDEX = weakref.WeakValueDictionary()  # a weak cache (pattern 7)
DEAD_REFS = []  # weak references whose referents died (pattern 7)
ARCHIVE = []  # RequestRecord instances kept for "analytics" (pattern 6)


class Router:
    route_memo = {}  # class attribute used as a cache, keyed by path (pattern 2)


class LeakySession:
    """A session that refers to itself and defines __del__ (pattern 1)."""

    def __init__(self, n):
        self.me = self
        self.scratch = bytearray(n)

    def __del__(self):
        pass


class LeakedByExtension:
    """Objects an extension took a reference to and never released (pattern 5)."""

    def __init__(self, i):
        self.payload = "x" * 200 + str(i)


class RequestRecord:
    """Many instances with the same attributes: a __slots__ candidate (pattern 6)."""

    def __init__(self, i):
        self.request_id = i
        self.path = "/items/%d" % (i % 50)
        self.status = 200
        self.elapsed = i * 0.001


class ReportBuilder:
    def __init__(self):
        self.rows = [bytes(512) for _ in range(3000)]

    def on_event(self, event):
        return len(self.rows) + event


class Cached:
    def __init__(self, key):
        self.key = key


def make_ticker():
    history = ["tick %06d" % i for i in range(30000)]

    def on_tick():
        return len(history)

    return on_tick


def serve(round_no):
    base = round_no * REQUESTS_PER_ROUND
    for i in range(base, base + REQUESTS_PER_ROUND):
        RESPONSE_CACHE[i] = ("<html>%d</html>" % i) * 8
        Router.route_memo["/r/%d" % i] = i
        AUDIT_LOG.append("request %d served" % i)
        ARCHIVE.append(RequestRecord(i))
    for _ in range(20):
        LeakySession(4096)  # garbage: a cycle with __del__, never collected (gc is off)
    for i in range(300):
        obj = LeakedByExtension(base + i)
        ctypes.pythonapi.Py_IncRef(ctypes.py_object(obj))
    del obj
    for i in range(100):
        DEAD_REFS.append(weakref.ref(Cached(i)))
    keep = [Cached(i) for i in range(50)]
    for c in keep:
        WEAK_INDEX[c.key] = c
    return keep


def main():
    prefix = sys.argv[1]
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    if prefix != "--serve":
        import heapsnap
    gc.collect()
    gc.disable()
    EVENT_HANDLERS.append(ReportBuilder().on_event)
    EVENT_HANDLERS.append(make_ticker())
    alive = []
    for r in range(rounds):
        alive.append(serve(r))
        if prefix == "--serve":
            print("round %d" % r, flush=True)
            sys.stdin.readline()
            continue
        path = "%s%d.hsnap" % (prefix, r)
        heapsnap.dump(path)
        print(path, flush=True)


if __name__ == "__main__":
    main()
