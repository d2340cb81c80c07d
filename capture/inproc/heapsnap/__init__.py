"""heapsnap: exact snapshots of this interpreter's heap, written in process.

    import heapsnap
    heapsnap.dump("app.hsnap")          # -> {'objects': ..., 'edges': ..., 'seconds': ...}
    heapsnap.dump_on_signal()           # kill -USR2 PID writes heap-PID-TIME.hsnap

Analyze the file with the `heapsnap` command (heapsnap summary app.hsnap, ...).  The work is
done by the C extension _heapsnap_3X built for this interpreter's minor version.
"""
import importlib
import os
import signal
import sys
import time

__all__ = ["dump", "dump_on", "dump_on_signal", "SizeofTimeout"]

SUPPORTED = "CPython 3.8-3.13 with the GIL"


def _load_extension():
    """The C extension for this interpreter, or ImportError saying what was found and what is
    supported (a version outside 3.8-3.13, a free-threaded or other implementation, a version
    this install was not built for).  Only sys is used on the way in: importing heapsnap adds
    no module of the standard library to the heap it will dump."""
    found = "%s %d.%d.%d" % ((sys.implementation.name,) + tuple(sys.version_info[:3]))
    if sys.implementation.name != "cpython" or not (3, 8) <= sys.version_info[:2] <= (3, 13):
        raise ImportError("heapsnap: %s is not supported: heapsnap supports %s"
                          % (found.replace("cpython", "CPython"), SUPPORTED))
    try:
        return importlib.import_module("._heapsnap_%d%d" % sys.version_info[:2], __name__)
    except ModuleNotFoundError:
        pass
    import sysconfig
    found = found.replace("cpython", "CPython")
    if sysconfig.get_config_var("Py_GIL_DISABLED"):
        raise ImportError("heapsnap: %s (free-threaded) is not supported: heapsnap supports %s"
                          % (found, SUPPORTED)) from None
    here = os.path.dirname(os.path.abspath(__file__))
    built = sorted(int(n.split(".")[0][len("_heapsnap_3"):]) for n in os.listdir(here)
                   if n.startswith("_heapsnap_3") and n.endswith(".so"))
    raise ImportError("heapsnap: this install has no module for %s (built for: %s); "
                      "rebuild heapsnap with this interpreter present"
                      % (found, ", ".join("3.%d" % b for b in built) or "none")) from None


_ext = _load_extension()
dump = _ext.dump
SizeofTimeout = _ext.SizeofTimeout  # raised in a __sizeof__ that dump() called, past 1 s


def dump_on_signal(signum=signal.SIGUSR2, path_template="heap-{pid}-{time}.hsnap", **options):
    """Dump the heap each time signum arrives (in the main thread, between bytecodes).

    path_template may use {pid} and {time} (seconds since the epoch).  options are passed to
    dump().  Returns the previous handler.  A failed dump is reported on stderr, never raised
    into the interrupted code.
    """

    def handler(sig, frame):
        path = path_template.format(pid=os.getpid(), time=int(time.time()))
        try:
            counts = dump(path, **options)
        except Exception as e:  # the interrupted program must go on
            print("heapsnap: %s: %s" % (path, e), file=sys.stderr)
        else:
            print("heapsnap: wrote %s (%d objects)" % (path, counts["objects"]),
                  file=sys.stderr)

    return signal.signal(signum, handler)


def dump_on(memory_error=False, rss_bytes=None, every=None, interval=0.5,
            path_template="heap-{pid}-{n}.hsnap", **options):
    """Dump the heap when a MemoryError is raised (memory_error=True) and/or when the process's
    RSS crosses rss_bytes, then each further `every` bytes (heapsnap.triggers says exactly when).

    path_template may use {pid}, {time} and {n} (the dump's number).  options are passed to
    dump().  Returns the trigger; its .dumps lists the paths written.  A failed dump is reported
    on stderr, never raised into the program.
    """
    from . import triggers
    if not memory_error and rss_bytes is None:
        raise ValueError("dump_on: give memory_error=True or rss_bytes=N")
    if every is not None and every <= 0:
        raise ValueError("dump_on: every must be a positive number of bytes")
    trigger = triggers.Trigger(dump, path_template, options)
    if memory_error:
        triggers.watch_memory_error(trigger)
    if rss_bytes is not None:
        triggers.watch_rss(trigger, rss_bytes, every, interval)
    return trigger
