"""quoted_names.py — large caches stored under names that repr() spells with double quotes or
escapes (issue 22): the leak report must name each one as the str it is.

  globals()["it's cache"]       repr "it's cache"    (double quotes)
  globals()['both \'"']         repr 'both \'"'      (single quotes, an escaped quote)
  globals()["tab\there"]        repr 'tab\there'     (an escape)
  APP.__dict__["x'y"]           an attribute of a module-level instance
  setattr(Router, "it's memo")  a class attribute
Each holds 400 bytes objects of 1,000 bytes (about 420 KB, above the 256 KiB floor).

usage: python quoted_names.py SNAPSHOT
Writes SNAPSHOT with heapsnap.dump and prints its path.
"""
import sys

import heapsnap


class App:
    pass


class Router:
    pass


def cache(tag):
    return {"%s-%d" % (tag, i): bytes(1000) for i in range(400)}


APP = App()


def main():
    globals()["it's cache"] = cache("a")
    globals()['both \'"'] = cache("b")
    globals()["tab\there"] = cache("c")
    APP.__dict__["x'y"] = cache("d")
    setattr(Router, "it's memo", cache("e"))
    heapsnap.dump(sys.argv[1])
    print(sys.argv[1], flush=True)


if __name__ == "__main__":
    main()
