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

__all__ = ["dump", "dump_on_signal"]

_ext = importlib.import_module("._heapsnap_%d%d" % sys.version_info[:2], __name__)
dump = _ext.dump


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
