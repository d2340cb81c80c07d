"""callback_leaks.py — callbacks that hold memory in many small pieces, none large alone: the
leak report must judge them as groups (issue 22, section 4 of `heapsnap leaks`).

Planted:
  HANDLERS       240 closures of make_handler.<locals>.handler, each holding its own 256 KiB
                 bytearray through the closure cell `payload` (about 63 MB together)
  SUBSCRIPTIONS  1,200 bound methods Subscriber.on_message (a dict of topic -> method), each
                 holding its own Subscriber, whose `buffer` is 20,000 bytes (about 24 MB)
What building each group allocated is measured with tracemalloc (the oracle), which is then
stopped; the heap is captured in process with heapsnap.dump.

usage: python callback_leaks.py SNAPSHOT
Prints one JSON line: {"snapshot": ..., "python": "3.X", "closures": {"name", "count",
"tracemalloc"}, "methods": {...}}.
"""
import gc
import json
import sys
import tracemalloc

import heapsnap

HANDLERS = []
SUBSCRIPTIONS = {}


def make_handler(i):
    payload = bytearray(256 * 1024)
    payload[0] = i % 256

    def handler(request):
        return payload[0] + request

    return handler


class Subscriber:
    def __init__(self, i):
        self.topic = i
        self.buffer = bytes(20000)

    def on_message(self, message):
        return len(self.buffer) + message


def measured(build):
    """Runs build() and returns the bytes it allocated that are still alive, by tracemalloc."""
    gc.collect()
    before = tracemalloc.get_traced_memory()[0]
    build()
    gc.collect()
    return tracemalloc.get_traced_memory()[0] - before


def main():
    snapshot = sys.argv[1]
    # Grow the containers before measuring, so that their own growth is not counted: the
    # report judges what the callbacks hold, not the list or dict holding them.
    HANDLERS.extend([None] * 240)
    SUBSCRIPTIONS.update(("topic-%d" % i, None) for i in range(1200))
    tracemalloc.start()
    closures = measured(lambda: HANDLERS.__setitem__(slice(None), [make_handler(i)
                                                                   for i in range(240)]))
    methods = measured(lambda: SUBSCRIPTIONS.update(("topic-%d" % i, Subscriber(i).on_message)
                                                    for i in range(1200)))
    tracemalloc.stop()
    heapsnap.dump(snapshot)
    print(json.dumps({
        "snapshot": snapshot,
        "python": "%d.%d" % sys.version_info[:2],
        "closures": {"name": "make_handler.<locals>.handler", "count": len(HANDLERS),
                     "tracemalloc": closures},
        "methods": {"name": "Subscriber.on_message", "count": len(SUBSCRIPTIONS),
                    "tracemalloc": methods},
    }), flush=True)


if __name__ == "__main__":
    main()
