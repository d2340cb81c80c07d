"""heapsnap.triggers: dumps taken when something happens, as the JVM's HeapDumpOnOutOfMemoryError
(heapsnap.dump_on is the entry point; this module is imported only when it is called).

* memory_error: a dump when a MemoryError is raised.  On 3.12+ every raise is seen
  (sys.monitoring's RAISE event, caught or not; one dump per exception); on 3.8-3.11, which have no such hook, an
  uncaught MemoryError (sys.excepthook, threading.excepthook), before the interpreter unwinds.
* rss_bytes: a dump when the process's resident set (/proc/self/statm) crosses rss_bytes, then
  each further `every` bytes (once per step; without `every`, once).  A thread polls RSS every
  `interval` seconds and dumps from that thread.

A failed dump is reported on stderr, never raised into the program.
"""
import os
import sys
import threading
import time

_lock = threading.Lock()
_MONITORING_TOOL = 4  # sys.monitoring tool id: 0-5 are free for tools; 4 is not a named one


def rss():
    """The resident set size of this process in bytes."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class Trigger:
    def __init__(self, dump, path_template, options):
        self.dump, self.template, self.options = dump, path_template, options
        self.dumps = []  # the paths written
        self.seq = 0

    def fire(self, why):
        """One dump, unless another is running (a MemoryError inside a dump triggers none)."""
        if not _lock.acquire(blocking=False):
            return
        try:
            self.seq += 1
            path = self.template.format(pid=os.getpid(), time=int(time.time()), n=self.seq)
            try:
                counts = self.dump(path, **self.options)
            except Exception as e:  # the program must go on
                print("heapsnap: %s (%s): %s" % (path, why, e), file=sys.stderr)
            else:
                self.dumps.append(path)
                print("heapsnap: wrote %s (%s; %d objects)" % (path, why, counts["objects"]),
                      file=sys.stderr)
        finally:
            _lock.release()


def watch_memory_error(trigger):
    """Calls trigger.fire when a MemoryError is raised (see the module's docstring)."""
    mon = getattr(sys, "monitoring", None)
    if mon is not None:
        seen = [None]  # RAISE comes again in each frame it passes through: one dump each

        def on_raise(code, offset, exc):
            if isinstance(exc, MemoryError) and id(exc) != seen[0]:
                seen[0] = id(exc)
                trigger.fire("MemoryError raised")
        if mon.get_tool(_MONITORING_TOOL) != "heapsnap":  # a second dump_on replaces the first
            mon.use_tool_id(_MONITORING_TOOL, "heapsnap")
        mon.register_callback(_MONITORING_TOOL, mon.events.RAISE, on_raise)
        mon.set_events(_MONITORING_TOOL, mon.events.RAISE)
        return
    previous, previous_thread = sys.excepthook, threading.excepthook

    def hook(kind, value, tb):
        if isinstance(value, MemoryError):
            trigger.fire("uncaught MemoryError")
        previous(kind, value, tb)

    def thread_hook(args):
        if isinstance(args.exc_value, MemoryError):
            trigger.fire("uncaught MemoryError in thread %s" % args.thread.name)
        previous_thread(args)

    sys.excepthook, threading.excepthook = hook, thread_hook


def watch_rss(trigger, rss_bytes, every, interval):
    """Starts the daemon thread that fires trigger at each RSS step."""
    def run():
        threshold = rss_bytes
        while threshold is not None:
            time.sleep(interval)
            now = rss()
            if now < threshold:
                continue
            trigger.fire("RSS %d bytes crossed %d" % (now, threshold))
            if not every:
                break
            while threshold <= now:  # one dump per step, however many steps were crossed
                threshold += every

    t = threading.Thread(target=run, name="heapsnap-rss", daemon=True)
    t.start()
    return t
