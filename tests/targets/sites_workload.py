"""sites_workload.py — a real workload under tracemalloc for the allocation sites (issue 21 item
1): it parses a JSON document (json's decoder), builds dataclass records and an index of them,
counts the words of a text with re and collections.Counter, and parses mail messages with the
email package, all while tracemalloc traces (5 frames).  Then, before dumping the heap with
heapsnap, it writes the oracle test_sites.py compares the snapshot with:

* every object it can reach (gc.get_objects() and their referents, transitively), held so that
  no address is reused: address, type name, whether its type has a 3.11 managed dict, and the
  most recent frame of tracemalloc.get_object_traceback(o) (None when it has none);
* per (file, line) of the most recent frame: the live allocations tracemalloc traced (the figures
  Snapshot.statistics('lineno') sums), raw and each rounded as pymalloc rounds it.

With --pause, it also traces a block in another domain (other_domain), and after the second dump
writes "ready" on fd 1 and blocks on fd 0 with every object of the oracle alive, for
tests/integration/test_sites_remote.py to capture it from outside.

usage: sites_workload.py SNAP.hsnap ORACLE.json SNAP2.hsnap [--pause]
"""
import tracemalloc

tracemalloc.start(5)

import collections  # noqa: E402
import dataclasses  # noqa: E402
import email  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import sys  # noqa: E402

import heapsnap  # noqa: E402


@dataclasses.dataclass
class Record:
    ident: int
    name: str
    tags: list
    score: float


def make_document(n):
    items = [{"id": i, "name": "item-%d" % i, "tags": ["t%d" % (i % 7), "u%d" % (i % 13)],
              "score": i * 0.25, "meta": {"owner": "user%d" % (i % 50), "ok": i % 3 == 0}}
             for i in range(n)]
    return json.dumps({"version": 3, "items": items})


def build_records(doc):
    return [Record(d["id"], d["name"], d["tags"], d["score"]) for d in doc["items"]]


TEXT = ("the quick brown fox jumps over the lazy dog while a heap snapshot counts "
        "every object the process keeps alive and where it was allocated ") * 400

MAIL = """From: alice@example.com
To: bob@example.com
Subject: report %d
Content-Type: text/plain

Line one of message %d.
Line two, with numbers %d and %d.
"""


def workload():
    doc = json.loads(make_document(3000))
    records = build_records(doc)
    index = {r.name: r for r in records}
    words = collections.Counter(re.findall(r"[a-z]+", TEXT))
    mails = [email.message_from_string(MAIL % (i, i, i, i * i)) for i in range(300)]
    return doc, records, index, words, mails


def grow(n):
    return [Record(-i, None, None, 0.5) for i in range(n)]  # the line diff --section sites finds


def rounded(n):
    """What pymalloc (up to 512 bytes) or glibc's malloc takes for a request of n bytes."""
    if n <= 512:
        return max(16, (n + 15) // 16 * 16)
    return (n + 8 + 15) // 16 * 16


def line_sums():
    """(file, line) of the most recent frame -> [raw bytes, rounded bytes, allocations]."""
    sums = {}
    for t in tracemalloc._get_traces():
        if t[2]:
            s = sums.setdefault(t[2][0], [0, 0, 0])
            s[0] += t[1]
            s[1] += rounded(t[1])
            s[2] += 1
    return sums


def reachable():
    seen, held = set(), []
    stack = gc.get_objects()
    while stack:
        o = stack.pop()
        if id(o) not in seen:
            seen.add(id(o))
            held.append(o)
            stack.extend(gc.get_referents(o))
    return held


def other_domain():
    """A trace in a domain other than Python's, as numpy makes: 3.8 then keys its whole table by
    (pointer, domain), which the capture from outside must read too."""
    import ctypes
    track = ctypes.pythonapi.PyTraceMalloc_Track
    track.argtypes = [ctypes.c_uint, ctypes.c_size_t, ctypes.c_size_t]
    assert track(389047, 4096, 64) == 0


def main():
    gc.disable()
    kept = workload()  # noqa: F841 (alive through the dump)
    lines = line_sums()
    held = reachable()
    objects = []
    for o in held:
        tb = tracemalloc.get_object_traceback(o)
        tp = type(o)
        objects.append([id(o), tp.__name__, bool(tp.__flags__ & (1 << 4)),
                        [tb[-1].filename, tb[-1].lineno] if tb else None])
    heapsnap.dump(sys.argv[1])
    more = grow(2000)  # noqa: F841 (alive through the second dump)
    grown = [[k[0], k[1]] + v for k, v in line_sums().items()
             if k == (__file__, grow.__code__.co_firstlineno + 1)]
    with open(sys.argv[2], "w") as f:
        json.dump({"python": sys.version.split()[0], "version": list(sys.version_info[:2]),
                   "objects": objects, "grown": grown,
                   "lines": [[k[0], k[1]] + v for k, v in lines.items()]}, f)
    if sys.argv[4:] == ["--pause"]:
        other_domain()
    heapsnap.dump(sys.argv[3])
    if sys.argv[4:] == ["--pause"]:  # for a capture from outside, of the same heap
        os.write(1, b"ready\n")
        os.read(0, 1)
    del held


if __name__ == "__main__":
    main()
