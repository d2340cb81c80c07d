"""python -m heapsnap dump PATH [--no-values] [--progress] (SCRIPT | -m MODULE) [ARG...]

Runs a script (or module) as __main__ and dumps the heap when it ends, normally or through
sys.exit, while its globals are still alive.
"""
import argparse
import runpy
import sys

import heapsnap


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m heapsnap",
                                description="Run a script and dump its heap at exit.")
    sub = p.add_subparsers(dest="command", required=True)
    d = sub.add_parser("dump", help="run SCRIPT (or -m MODULE) and write PATH when it ends")
    d.add_argument("path", help="the .hsnap file to write")
    d.add_argument("--no-values", action="store_true", help="leave out value previews")
    d.add_argument("--progress", action="store_true", help="report progress on stderr")
    d.add_argument("-m", dest="module", help="run a module instead of a script")
    d.add_argument("script", nargs="?", help="the script to run")
    d.add_argument("args", nargs=argparse.REMAINDER, help="its arguments")
    a = p.parse_args(argv)
    if not a.module and not a.script:
        p.error("give SCRIPT or -m MODULE")
    rest = ([a.script] if a.module and a.script else []) + a.args
    sys.argv = [a.module or a.script] + rest
    status = 0
    result = None
    try:
        if a.module:
            result = runpy.run_module(a.module, run_name="__main__", alter_sys=True)
        else:
            result = runpy.run_path(a.script, run_name="__main__")
    except SystemExit as e:
        status = e.code
    counts = heapsnap.dump(a.path, values=not a.no_values, progress=a.progress)
    del result
    print("heapsnap: wrote %s: %d objects, %d edges, %d bytes in %.3f s"
          % (a.path, counts["objects"], counts["edges"], counts["bytes"], counts["seconds"]),
          file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
