"""python -m heapsnap dump PATH [--no-values] [--progress] (SCRIPT | -m MODULE) [ARG...]

Runs a script (or module) as __main__ and dumps the heap when it ends, normally, through
sys.exit or through an uncaught exception, while its globals are still alive.  The exit status
is the script's.  The script runs in a module installed as sys.modules["__main__"], as python
runs it, so paths start at the script's module; the frames the script had when it ended (through
sys.exit or an exception) are roots named <exit: function (file:line) ...>, so what their locals
hold has a path from there.  A script or module that does not exist is an error (exit 1) and
writes no snapshot.

python -m heapsnap gdb-script prints the path of the gdb plugin that `pip install` put in this
package (gdb -p PID -ex "source $(python -m heapsnap gdb-script)"); exit 1 when it has none.
"""
import builtins
import importlib.util
import io
import os
import sys
import types

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
        usage("the commands are dump and gdb-script")
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


def load(module, script):
    """The code to run and the module to run it in, installed as sys.modules["__main__"] as
    python itself runs a script: the script's globals are that module's dict, so that every
    path in the dump starts at the script's module, not at this wrapper.  None, with the
    message printed, when the script or module does not exist (then no dump is written)."""
    if module:
        try:
            spec = importlib.util.find_spec(module)
            if spec is not None and spec.submodule_search_locations is not None:
                spec = importlib.util.find_spec(module + ".__main__")
        except (ImportError, ValueError) as e:
            spec, why = None, e
        else:
            why = "no module named %r" % module
        if spec is None or spec.loader is None or not hasattr(spec.loader, "get_code"):
            print("python -m heapsnap: %s: %s" % (module, why), file=sys.stderr)
            return None
        code, path = spec.loader.get_code(spec.name), spec.origin
    else:
        if not os.path.isfile(script):
            print("python -m heapsnap: %s: no such file" % script, file=sys.stderr)
            return None
        with io.open_code(script) as f:
            code = compile(f.read(), script, "exec", dont_inherit=True)
        path, spec = script, None
        sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
    main_module = types.ModuleType("__main__")
    main_module.__dict__.update(__file__=path, __cached__=None, __builtins__=builtins,
                                __spec__=spec, __loader__=spec.loader if spec else None,
                                __package__=spec.parent if spec else None)
    sys.modules["__main__"] = main_module
    sys.argv[0] = path
    return code


def run(code):
    """Runs code in __main__; returns (exit status, the exception that ended it or None)."""
    try:
        exec(code, sys.modules["__main__"].__dict__)
    except SystemExit as e:
        return e.code, e
    except BaseException as e:
        return 1, e
    return 0, None


def ended_frames(exc):
    """The script's frames when exc ended it: those of exc's traceback and of the exceptions
    it chains (__context__, __cause__), this wrapper's own left out, each once."""
    frames, seen, todo = [], set(), [exc]
    while todo:
        e = todo.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        tb = e.__traceback__
        while tb is not None:
            f = tb.tb_frame
            if f.f_globals is not globals() and id(f) not in seen:
                seen.add(id(f))
                frames.append(f)
            tb = tb.tb_next
        todo += [e.__cause__, e.__context__]
    return tuple(frames)


def gdb_script():
    """Prints the gdb plugin installed beside this package by pip (pyproject.toml's wheel), or
    says where else it is and returns 1."""
    path = os.path.join(os.path.dirname(os.path.abspath(heapsnap.__file__)), "gdb",
                        "heapsnap-gdb.py")
    if not os.path.isfile(path):
        print("python -m heapsnap: %s: no such file: only `pip install` puts the gdb plugin in "
              "the package (`meson install`: PREFIX/share/heapsnap/gdb/heapsnap-gdb.py; a build "
              "tree: build/gdb-plugin/heapsnap-gdb.py)" % path, file=sys.stderr)
        return 1
    print(path)
    return 0


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv == ["gdb-script"]:
        return gdb_script()
    path, values, progress, module, script, args = parse(argv)
    sys.argv = [module or script] + args
    code = load(module, script)
    if code is None:
        return 1
    status, held = run(code)  # held: kept until the dump, its frames hold the script's locals
    del code
    # The script's frames when it ended are roots of their own (<exit: ...>), so that what
    # they hold has a path from the script's frame, not from this wrapper's (held).
    frames = ended_frames(held) if held is not None else None
    counts = heapsnap.dump(path, values=values, progress=progress, _exit_frames=frames)
    del frames
    print("heapsnap: wrote %s: %d objects, %d edges, %d bytes in %.3f s"
          % (path, counts["objects"], counts["edges"], counts["bytes"], counts["seconds"]),
          file=sys.stderr)
    if held is not None and not isinstance(held, SystemExit):
        raise held
    return status


if __name__ == "__main__":
    sys.exit(main())
