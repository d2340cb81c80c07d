"""lines_oracle.py — capture/cpython/lines.c (the line in a frame's root name, out of process)
against CPython's own lines, for every instruction of every code object of a few standard library
modules and of code with long jumps between lines, backwards and forwards: on 3.10+ the ranges
code.co_lines() gives (None: no line, -1), on 3.8-3.9 dis.findlinestarts (the line of the last
start at or before the offset), and the code's first line before the first instruction.

usage: pythonX lines_oracle.py HS_LINES
"""
import dis
import importlib.util
import subprocess
import sys

MODULES = ["argparse", "dis", "typing", "asyncio.base_events", "json.decoder"]
# Long jumps: a call spread over many lines, a line far below, a loop back, blank lines.
SYNTHETIC = ("def f(x):\n    y = [\n" + "        x,\n" * 300 + "    ]\n" + "\n" * 500 +
             "    for i in y:\n        if i:\n            x += i\n" + "\n" * 200 +
             "    return (x,\n" + "\n" * 70 + "            y)\n")


def codes(co):
    yield co
    for c in co.co_consts:
        if hasattr(c, "co_code"):
            yield from codes(c)


def expected(co):
    n = len(co.co_code)
    lines = [co.co_firstlineno] + [None] * n
    if sys.version_info >= (3, 10):
        for start, end, line in co.co_lines():
            for a in range(start, min(end, n)):
                lines[a + 1] = -1 if line is None else line
    else:
        starts = sorted(dis.findlinestarts(co))
        for k, (start, line) in enumerate(starts):
            end = starts[k + 1][0] if k + 1 < len(starts) else n
            for a in range(start, end):
                lines[a + 1] = line
    return [(-2, lines[0])] + [(a, lines[a + 1]) for a in range(0, n, 2)
                               if lines[a + 1] is not None]


def table(co):
    return co.co_lnotab if sys.version_info < (3, 10) else co.co_linetable


def main():
    tops = [compile(SYNTHETIC, "synthetic.py", "exec")]
    for m in MODULES:
        path = importlib.util.find_spec(m).origin
        with open(path, encoding="utf-8") as f:
            tops.append(compile(f.read(), path, "exec"))
    cases = [(co, expected(co)) for top in tops for co in codes(top)]
    request = "".join("%d %d %s %s\n" % (sys.version_info[1], co.co_firstlineno,
                                         table(co).hex() or "-",
                                         " ".join(str(a) for a, _ in want))
                      for co, want in cases)
    out = subprocess.run([sys.argv[1]], input=request, capture_output=True, text=True,
                         check=True).stdout.split("\n")
    bad = checked = 0
    for (co, want), got in zip(cases, out):
        got = [int(x) for x in got.split()]
        checked += len(want)
        for (a, line), g in zip(want, got):
            if line != g:
                bad += 1
                if bad <= 10:
                    print("%s (%s:%d) offset %d: line %s, lines.c %s" % (
                        co.co_name, co.co_filename, co.co_firstlineno, a, line, g))
        if len(got) != len(want):
            bad += 1
            print("%s: %d answers for %d offsets" % (co.co_name, len(got), len(want)))
    print("%d code objects, %d offsets checked, %d wrong" % (len(cases), checked, bad))
    return 1 if bad or not checked else 0


if __name__ == "__main__":
    sys.exit(main())
