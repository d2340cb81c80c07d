"""python -m heapsnap dump PATH [--no-values] [--progress] (SCRIPT | -m MODULE) [ARG...]

Runs a script (or module) as __main__ and dumps the heap when it ends, normally, through
sys.exit or through an uncaught exception, while its globals are still alive.  The exit status
is the script's.
"""
import runpy
import sys

import heapsnap

USAGE = __doc__.split("\n", 1)[0].strip()


def parse(argv):
    """(path, values, progress, module, script, args) from the command line, or exits 2."""
    def usage(msg):
        print("usage: %s\npython -m heapsnap: error: %s" % (USAGE, msg), file=sys.stderr)
        sys.exit(2)

    if argv[:1] in (["-h"], ["--help"]) or argv[:2] in (["dump", "-h"], ["dump", "--help"]):
        print(__doc__)
        sys.exit(0)
    if argv[:1] != ["dump"]:
        usage("the only command is dump")
    path, values, progress = None, True, False
    i = 1
    while i < len(argv):
        a = argv[i]
        i += 1
        if a == "--no-values":
            values = False
        elif a == "--progress":
            progress = True
        elif a == "-m":
            if path is None or i >= len(argv):
                usage("-m needs PATH before it and a MODULE after it")
            return path, values, progress, argv[i], None, argv[i + 1:]
        elif a.startswith("-") and a != "-":
            usage("unknown option %s" % a)
        elif path is None:
            path = a
        else:
            return path, values, progress, None, a, argv[i:]
    usage("give PATH, then SCRIPT or -m MODULE")


def main(argv=None):
    path, values, progress, module, script, args = parse(sys.argv[1:] if argv is None else argv)
    sys.argv = [module or script] + args
    status = 0
    held = None  # the script's way out, kept until the dump: its frames hold its globals
    result = None
    try:
        if module:
            result = runpy.run_module(module, run_name="__main__", alter_sys=True)
        else:
            result = runpy.run_path(script, run_name="__main__")
    except SystemExit as e:
        status = e.code
        held = e
    except BaseException as e:
        held = e
    counts = heapsnap.dump(path, values=values, progress=progress)
    del result
    print("heapsnap: wrote %s: %d objects, %d edges, %d bytes in %.3f s"
          % (path, counts["objects"], counts["edges"], counts["bytes"], counts["seconds"]),
          file=sys.stderr)
    if held is not None and not isinstance(held, SystemExit):
        raise held
    return status


if __name__ == "__main__":
    sys.exit(main())
