"""growth_service.py — module-level containers whose growth shows in bytes more than in entries
(issue 22): the leak report must judge growth against a baseline by entry counts and by retained
bytes.

  RETRY_HOOKS    a dict that gains 60 entries per round, each holding 262,000 bytes: +60 entries
                 (under the default --min-count of 100) but +15.7 MB per interval: growing
  SESSION_NOTES  a dict of 10 lists, the same 10 keys every round, each list gaining 400 str of
                 1,000 bytes per round: +0 entries, +4 MB per interval: growing
  SMALL_TAGS     a dict that gains 60 small entries per round: neither count nor bytes is
                 enough: not growing
  SETTINGS       a large dict that does not change: not growing
  lookup_user    an unbounded functools.lru_cache gaining 400 entries of 3,000 bytes per round:
                 a cache held by a C wrapper, growing
  journal        a local list of main(), the running frame, gaining 400 entries of 2,000 bytes
                 per round: a cache held by a frame

usage: python growth_service.py SNAPSHOT_PREFIX [ROUNDS]
Writes SNAPSHOT_PREFIX{round}.hsnap after each round (heapsnap.dump) and prints each path.  With
HS_PAUSE=1 it dumps nothing: it prints each path and blocks reading a byte from fd 0, for the
caller to capture it from outside (heapsnap capture --pid) into that path.
"""
import functools
import gc
import os
import sys

import heapsnap

RETRY_HOOKS = {}
SESSION_NOTES = {"session-%d" % i: [] for i in range(10)}
SMALL_TAGS = {}
SETTINGS = {"setting-%d" % i: "x" * 500 + str(i) for i in range(4000)}


@functools.lru_cache(maxsize=None)
def lookup_user(user_id):
    return bytes(3000)


def serve(round_no):
    for i in range(60):
        RETRY_HOOKS["hook-%d-%d" % (round_no, i)] = bytes(262000)
        SMALL_TAGS["tag-%d-%d" % (round_no, i)] = i
    for notes in SESSION_NOTES.values():
        notes.extend("note %d " % round_no + "n" * 1000 for _ in range(400))
    for i in range(400):
        lookup_user(round_no * 1000 + i)


def main():
    prefix = sys.argv[1]
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    journal = []
    for r in range(rounds):
        serve(r)
        journal.extend(bytes(2000) for _ in range(400))
        gc.collect()
        path = "%s%d.hsnap" % (prefix, r)
        if os.environ.get("HS_PAUSE"):
            print(path, flush=True)
            os.read(0, 1)
        else:
            heapsnap.dump(path)
            print(path, flush=True)


if __name__ == "__main__":
    main()
