"""heapsnap-gdb.py — the gdb `heapsnap` command: what is the stopped Python process's heap full
of, and who holds this object, without leaving gdb.

Load it with `source PATH/heapsnap-gdb.py` (or from ~/.gdbinit or gdb's auto-load).  It is thin:
every subcommand runs the `heapsnap` CLI's own code in gdb's process through ctypes over
libheapsnap.so (gdb-plugin/hs_gdb.h), so its answers are the CLI's by construction.  The snapshot
of the stopped inferior is taken on first use (a live process through /proc/PID/mem, a core file
directly, any other target through gdb's own memory reads), kept in a private temporary directory,
and dropped when the inferior resumes, changes or exits.  It never depends on the inspected
interpreter's Python: gdb's embedded Python may be any 3.x with ctypes.
"""
import atexit
import ctypes
import os
import re
import shutil
import sys
import tempfile
import traceback

import gdb

# Where libheapsnap.so may be, relative to this file (configure_file fills it in: the build tree
# keeps both side by side, an install puts the library under LIBDIR/heapsnap).
_LIBRARY_DIRS = "@HS_LIBRARY_DIRS@".split(":")
# gdb's `source` runs the file without setting __file__; its code object knows the path.
_HERE = os.path.dirname(os.path.abspath(sys._getframe(0).f_code.co_filename))


class _Error(ctypes.Structure):
    _fields_ = [("code", ctypes.c_int), ("message", ctypes.c_char_p)]


class _Mapping(ctypes.Structure):
    _fields_ = [("start", ctypes.c_uint64), ("end", ctypes.c_uint64),
                ("file_offset", ctypes.c_uint64), ("path", ctypes.c_char_p)]


class _Stats(ctypes.Structure):
    _fields_ = [("objects", ctypes.c_uint64), ("edges", ctypes.c_uint64),
                ("weak", ctypes.c_uint64), ("roots", ctypes.c_uint64),
                ("warnings", ctypes.c_uint64), ("pause_seconds", ctypes.c_double),
                ("seconds", ctypes.c_double), ("source", ctypes.c_char * 512)]


class _NamedQuery(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("help", ctypes.c_char_p),
                ("params", ctypes.c_char_p), ("sql", ctypes.c_char_p)]


_READ_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_uint64, ctypes.c_void_p,
                            ctypes.c_size_t)
_ERR_P = ctypes.POINTER(_Error)
_STATS_P = ctypes.POINTER(_Stats)
_MAPS_P = ctypes.POINTER(_Mapping)

_lib = None


def _library():
    """libheapsnap.so, loaded once.  RTLD_DEEPBIND: gdb has elfutils' libdw loaded, whose dwarf_*
    functions share names with libdwarf's; the capture code must bind to libdwarf's own."""
    global _lib
    if _lib is not None:
        return _lib
    env = os.environ.get("HEAPSNAP_LIBRARY")
    candidates = [env] if env else [os.path.normpath(os.path.join(_HERE, d, "libheapsnap.so"))
                                    for d in _LIBRARY_DIRS]
    path = next((c for c in candidates if os.path.exists(c)), None)
    if path is None:
        raise gdb.GdbError("heapsnap: libheapsnap.so not found (looked at %s); source the "
                           "heapsnap-gdb.py of a build tree or an install, or set "
                           "HEAPSNAP_LIBRARY" % ", ".join(candidates))
    lib = ctypes.CDLL(path, mode=os.RTLD_NOW | os.RTLD_LOCAL | getattr(os, "RTLD_DEEPBIND", 8))
    lib.hs_cli_run.restype = ctypes.c_int
    lib.hs_cli_run.argtypes = [ctypes.c_int, ctypes.POINTER(ctypes.c_char_p), ctypes.c_int,
                               ctypes.c_int]
    lib.hs_gdb_capture_procmem.restype = _ERR_P
    lib.hs_gdb_capture_procmem.argtypes = [ctypes.c_int, _MAPS_P, ctypes.c_size_t,
                                           ctypes.c_char_p, _STATS_P]
    lib.hs_capture_core.restype = _ERR_P
    lib.hs_capture_core.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p,
                                    ctypes.c_void_p, _STATS_P]
    lib.hs_capture_callback.restype = _ERR_P
    lib.hs_capture_callback.argtypes = [_READ_FN, ctypes.c_void_p, _MAPS_P, ctypes.c_size_t,
                                        ctypes.c_char_p, ctypes.c_void_p, _STATS_P]
    lib.hs_error_destroy.restype = None
    lib.hs_error_destroy.argtypes = [_ERR_P]
    _lib = lib
    return lib


def _check(err):
    """Turns a struct hs_error * into a one-line gdb error (and frees it)."""
    if err:
        msg = err.contents.message.decode(errors="replace")
        _library().hs_error_destroy(err)
        raise gdb.GdbError("heapsnap: " + msg)


# ------------------------------------------------------------------------------------------------
# Settings: set heapsnap debug on|off, set heapsnap memory auto|procmem|core|gdb.

class _SetPrefix(gdb.Command):
    """Settings of the heapsnap command."""

    def __init__(self, verb):
        super().__init__(verb + " heapsnap", gdb.COMMAND_DATA, gdb.COMPLETE_NONE, True)


class _Debug(gdb.Parameter):
    """Whether heapsnap errors show a Python traceback (off: one-line errors)."""
    set_doc = "Set whether heapsnap errors show a Python traceback."
    show_doc = "Show whether heapsnap errors show a Python traceback."

    def __init__(self):
        super().__init__("heapsnap debug", gdb.COMMAND_DATA, gdb.PARAM_BOOLEAN)
        self.value = False

    def get_show_string(self, svalue):
        return "heapsnap debug is %s." % svalue


class _Memory(gdb.Parameter):
    """How heapsnap reads the inferior's memory: auto (a live local process through
    /proc/PID/mem, a core file directly, anything else through gdb), or always gdb."""
    set_doc = "Set how heapsnap reads the inferior's memory (auto or gdb)."
    show_doc = "Show how heapsnap reads the inferior's memory."

    def __init__(self):
        super().__init__("heapsnap memory", gdb.COMMAND_DATA, gdb.PARAM_ENUM, ["auto", "gdb"])
        self.value = "auto"

    def get_set_string(self):
        _drop()  # the next command captures through the new source
        return ""

    def get_show_string(self, svalue):
        return "heapsnap reads memory with: %s." % svalue


# ------------------------------------------------------------------------------------------------
# The snapshot of the stopped inferior: taken on first use, dropped when it resumes.

class _Snapshot:
    def __init__(self, key, path, tmpdir, what):
        self.key, self.path, self.tmpdir, self.what = key, path, tmpdir, what

    def discard(self):
        if self.tmpdir:
            shutil.rmtree(self.tmpdir, ignore_errors=True)


_snap = None


def _drop(*_):
    """Forgets the snapshot (its temporary files go; a file written by `capture FILE` stays)."""
    global _snap
    if _snap is not None:
        _snap.discard()
        _snap = None


def _inferior_key(inf):
    conn = inf.connection
    return (inf.num, inf.pid, conn.type if conn else None)


def _proc_maps(pid):
    """The mappings of a local process from /proc/PID/maps."""
    maps = []
    with open("/proc/%d/maps" % pid) as f:
        for line in f:
            parts = line.split(None, 5)
            lo, hi = (int(x, 16) for x in parts[0].split("-"))
            maps.append((lo, hi, int(parts[2], 16), parts[5].strip() if len(parts) > 5 else ""))
    return maps


def _gdb_maps():
    """The mappings as gdb's `info proc mappings` lists them (live, core or remote targets)."""
    maps = []
    for line in gdb.execute("info proc mappings", to_string=True).splitlines():
        parts = line.split()
        if len(parts) < 4 or not parts[0].startswith("0x"):
            continue
        rest = parts[4:]
        if rest and re.fullmatch(r"[r-][w-][x-][ps-]", rest[0]):
            rest = rest[1:]
        maps.append((int(parts[0], 16), int(parts[1], 16), int(parts[3], 16), " ".join(rest)))
    return maps


def _core_file():
    """The core file gdb has open, from `info target`."""
    m = re.search(r"Local core dump file:\s*`(.+)', file type",
                  gdb.execute("info target", to_string=True))
    if not m:
        raise gdb.GdbError("heapsnap: cannot tell which core file gdb has open")
    return m.group(1)


def _c_maps(maps):
    keep = [p.encode() for (_, _, _, p) in maps]
    arr = (_Mapping * len(maps))(*[_Mapping(lo, hi, off, k)
                                   for (lo, hi, off, _), k in zip(maps, keep)])
    return arr, keep


def _capture(out_path):
    """Captures the selected inferior into out_path; returns a description of the source."""
    lib = _library()
    inf = gdb.selected_inferior()
    if inf.pid == 0:
        raise gdb.GdbError("heapsnap: no process or core file (attach, run, or open a core)")
    if any(t.is_running() for t in inf.threads()):
        raise gdb.GdbError("heapsnap: the inferior is running; interrupt it first")
    conn = inf.connection.type if inf.connection else None
    st = _Stats()
    path = out_path.encode()
    if _memory.value == "auto" and conn == "core":
        core = _core_file()
        exe = gdb.current_progspace().filename
        _check(lib.hs_capture_core(core.encode(), exe.encode() if exe else None, path, None,
                                   ctypes.byref(st)))
        source = "core file " + core
    elif _memory.value == "auto" and conn == "native":
        arr, _keep = _c_maps(_proc_maps(inf.pid))
        _check(lib.hs_gdb_capture_procmem(inf.pid, arr, len(arr), path, ctypes.byref(st)))
        source = "process %d via /proc/%d/mem" % (inf.pid, inf.pid)
    else:
        arr, _keep = _c_maps(_gdb_maps())

        @_READ_FN
        def read(_ctx, addr, buf, n):
            try:
                data = inf.read_memory(addr, n).tobytes()
            except Exception:  # gdb.MemoryError, or an address gdb will not take
                return -1
            ctypes.memmove(buf, data, n)
            return 0

        _check(lib.hs_capture_callback(read, None, arr, len(arr), path, None, ctypes.byref(st)))
        source = "%s target via gdb's memory reads" % (conn or "this")
    return "%d objects, %d edges, %d weak, %d roots, %d warnings from %s in %.2f s\n  %s" % (
        st.objects, st.edges, st.weak, st.roots, st.warnings, source, st.seconds,
        st.source.decode(errors="replace"))


def _snapshot():
    """The snapshot of the selected inferior, captured now if there is none for it."""
    global _snap
    key = _inferior_key(gdb.selected_inferior())
    if _snap is not None and _snap.key != key:
        _drop()
    if _snap is None:
        tmpdir = tempfile.mkdtemp(prefix="heapsnap-gdb-")
        path = os.path.join(tmpdir, "heap.hsnap")
        try:
            what = _capture(path)
        except BaseException:
            shutil.rmtree(tmpdir, ignore_errors=True)
            raise
        _snap = _Snapshot(key, path, tmpdir, what)
        gdb.write("heapsnap: captured %s\n" % what)
    return _snap


for _event in ("cont", "exited", "memory_changed", "inferior_call", "new_objfile",
               "clear_objfiles", "inferior_deleted"):
    getattr(gdb.events, _event).connect(_drop)
if hasattr(gdb.events, "gdb_exiting"):
    gdb.events.gdb_exiting.connect(_drop)
atexit.register(_drop)


# ------------------------------------------------------------------------------------------------
# Running the CLI in process.

def _run(args):
    """Runs `heapsnap ARGS...` through hs_cli_run; writes its output with gdb.write (so gdb's
    pager applies) and turns a failure into a one-line gdb error."""
    lib = _library()
    argv = [b"heapsnap"] + [a.encode() for a in args]
    c_argv = (ctypes.c_char_p * (len(argv) + 1))(*argv, None)
    out, err = os.memfd_create("heapsnap-out"), os.memfd_create("heapsnap-err")
    try:
        rc = lib.hs_cli_run(len(argv), c_argv, out, err)
        texts = []
        for fd in (out, err):
            os.lseek(fd, 0, os.SEEK_SET)
            chunks = []
            while True:
                b = os.read(fd, 1 << 20)
                if not b:
                    break
                chunks.append(b)
            texts.append(b"".join(chunks).decode(errors="replace"))
    finally:
        os.close(out)
        os.close(err)
    if rc < 0:
        raise gdb.GdbError("heapsnap: cannot redirect the output: %s" %
                           os.strerror(ctypes.get_errno()))
    gdb.write(texts[0])
    lines = [ln for ln in texts[1].splitlines() if ln.strip()]
    if rc != 0:
        msg = lines[0] if lines else "heapsnap %s failed (exit %d)" % (args[0], rc)
        raise gdb.GdbError(msg if msg.startswith("heapsnap") else "heapsnap: " + msg)
    for ln in lines:
        gdb.write(ln + "\n", gdb.STDERR)


def _address(expr):
    """The address a gdb expression denotes: a pointer's value, an integer, or an object's
    address (`*op`)."""
    v = gdb.parse_and_eval(expr)
    if v.type.strip_typedefs().code in (gdb.TYPE_CODE_STRUCT, gdb.TYPE_CODE_UNION):
        v = v.address
    return "0x%x" % (int(v) & 0xFFFFFFFFFFFFFFFF)


def _wants_help(argv):
    return any(a in ("-h", "--help") for a in argv)


_OPTS_WITH_VALUE = ("-f", "--format", "-n", "--limit", "--top", "--by", "-b")


def _split_options(arg):
    """Leading options (`--format json`, `-n 5`, `--`) apart from the rest of the line, which is
    an expression and may contain spaces."""
    opts, rest = [], arg.strip()
    while rest.startswith("-"):
        word, _, tail = rest.partition(" ")
        tail = tail.lstrip()
        if word == "--":
            rest = tail
            break
        if re.fullmatch(r"-\d.*", word):  # a negative number is an expression
            break
        opts.append(word)
        if word in _OPTS_WITH_VALUE and "=" not in word:
            value, _, tail = tail.partition(" ")
            opts.append(value)
            tail = tail.lstrip()
        rest = tail
    return opts, rest


class _Sub(gdb.Command):
    """Base of the subcommands: CLI is the CLI subcommand it runs."""
    CLI = None
    COMPLETE = gdb.COMPLETE_NONE

    def __init__(self):
        # A completer class would hide a complete() method (Query's).
        args = () if self.COMPLETE is None else (self.COMPLETE,)
        super().__init__("heapsnap " + self.NAME, gdb.COMMAND_DATA, *args)

    def invoke(self, arg, from_tty):
        self.dont_repeat()
        try:
            self.run(arg)
        except gdb.GdbError:
            if _debug.value:
                traceback.print_exc()
            raise
        except KeyboardInterrupt:
            raise
        except Exception as e:
            if _debug.value:
                traceback.print_exc()
            raise gdb.GdbError("heapsnap %s: %s" % (self.NAME, e)) from None

    def run(self, arg):
        argv = gdb.string_to_argv(arg)
        if _wants_help(argv):
            return _run([self.CLI or self.NAME, "--help"])
        _run([self.CLI or self.NAME, _snapshot().path] + argv)


class _ExprSub(_Sub):
    COMPLETE = gdb.COMPLETE_EXPRESSION

    def run(self, arg):
        opts, expr = _split_options(arg)
        if _wants_help(opts):
            return _run([self.NAME, "--help"])
        if not expr:
            raise gdb.GdbError("heapsnap %s: needs an expression (an object's address)" %
                               self.NAME)
        addr = _address(expr)
        _run([self.NAME, _snapshot().path, addr] + opts)


class HeapsnapCommand(gdb.Command):
    """Analyze the Python heap of the stopped inferior (a live process or a core file).

Usage: heapsnap SUBCOMMAND [ARGS...]

  capture [FILE]        take the snapshot now (and write it to FILE for later)
  summary | types | top | cycles | garbage [OPTIONS]
  show EXPR | path EXPR | referrers EXPR | deep EXPR
  leaks [OPTIONS]       the leak report;  report -o FILE.html  the HTML report
  query NAME [ARG...]   a named query (heapsnap query --list)
  sql "SELECT ..."      SQL on the snapshot's database
  help                  this text

EXPR is any gdb expression giving an object's address ($rdi, a PyObject * variable, 0x7f...).
OPTIONS are the CLI's (--format table|csv|json, -n N, --by ...); SUBCOMMAND --help shows them.
The snapshot is taken on first use and dropped when the inferior resumes.
See also: set heapsnap debug on, set heapsnap memory auto|gdb."""

    def __init__(self):
        super().__init__("heapsnap", gdb.COMMAND_DATA, gdb.COMPLETE_NONE, True)

    def invoke(self, arg, from_tty):
        if arg.strip():
            raise gdb.GdbError("heapsnap: '%s' is not a subcommand (see 'heapsnap help')" %
                               arg.split()[0])
        gdb.write(self.__doc__ + "\n")


class Help(_Sub):
    """Show what the heapsnap subcommands do."""
    NAME = "help"

    def run(self, arg):
        gdb.write(HeapsnapCommand.__doc__ + "\n")


class Capture(_Sub):
    """Take the snapshot of the stopped inferior now; with FILE, also write it there.

Usage: heapsnap capture [FILE]
FILE keeps the snapshot after gdb: run `heapsnap summary FILE` (the CLI) on it later.
The session then uses FILE as its snapshot (and builds FILE's database next to it)."""
    NAME = "capture"
    COMPLETE = gdb.COMPLETE_FILENAME

    def run(self, arg):
        global _snap
        argv = gdb.string_to_argv(arg)
        if _wants_help(argv):
            return gdb.write(self.__doc__ + "\n")
        if len(argv) > 1:
            raise gdb.GdbError("heapsnap capture: takes at most one FILE")
        snap = _snapshot()
        if argv:
            path = os.path.abspath(os.path.expanduser(argv[0]))
            shutil.copyfile(snap.path, path)
            snap.discard()
            _snap = _Snapshot(snap.key, path, None, snap.what)
            gdb.write("heapsnap: wrote %s\n" % path)


class Summary(_Sub):
    """Counts, sizes and the top types of the heap.  Usage: heapsnap summary [--format F]"""
    NAME = "summary"


class Types(_Sub):
    """Objects and bytes per type.  Usage: heapsnap types [-n N] [--format F]"""
    NAME = "types"


class Top(_Sub):
    """The largest objects.  Usage: heapsnap top [--by size|retained|count] [-n N] [--format F]"""
    NAME = "top"


class Cycles(_Sub):
    """GC garbage grouped by strongly connected component.  Usage: heapsnap cycles [--format F]"""
    NAME = "cycles"


class Garbage(_Sub):
    """The objects gc.collect() would free.  Usage: heapsnap garbage [-n N] [--format F]"""
    NAME = "garbage"


class Show(_ExprSub):
    """An object, its referents and referrers.  Usage: heapsnap show [--format F] EXPR"""
    NAME = "show"


class Path(_ExprSub):
    """The labelled shortest path from a root (a module global, a frame...) to an object.
Usage: heapsnap path [--format F] EXPR"""
    NAME = "path"


class Referrers(_ExprSub):
    """What refers to an object.  Usage: heapsnap referrers [--format F] EXPR"""
    NAME = "referrers"


class Deep(_ExprSub):
    """The deep size of an object.  Usage: heapsnap deep [--format F] EXPR"""
    NAME = "deep"


class Leaks(_Sub):
    """The leak report on the heap (the CLI's `heapsnap leaks`; --baseline takes earlier
snapshot files).  Usage: heapsnap leaks [--baseline OLD.hsnap]... [--min-bytes N] [-n N]
[--format F]"""
    NAME = "leaks"


class Report(_Sub):
    """A self-contained HTML report of the heap.  Usage: heapsnap report -o REPORT.html
[--baseline OLD.hsnap]..."""
    NAME = "report"


def _query_names():
    lib = _library()
    n = ctypes.c_size_t.in_dll(lib, "hs_nqueries").value
    table = (_NamedQuery * n).in_dll(lib, "hs_queries")
    return [q.name.decode() for q in table]


class Query(_Sub):
    """Run a named query on the heap.  Usage: heapsnap query NAME [ARG...] [--format F]
`heapsnap query` alone (or --list) lists the queries.  An ARG starting with $ is evaluated by gdb
(an address in a convenience variable or register)."""
    NAME = "query"
    COMPLETE = None

    def run(self, arg):
        argv = gdb.string_to_argv(arg)
        if _wants_help(argv):
            return _run(["query", "--help"])
        if not argv or "--list" in argv or "-l" in argv:
            return _run(["query", "--list"] + [a for a in argv if a not in ("--list", "-l")])
        if argv[0] not in _query_names():  # before a capture of the whole heap
            raise gdb.GdbError("heapsnap query: no query named '%s' (heapsnap query --list)"
                               % argv[0])
        argv = [_address(a) if a.startswith("$") else a for a in argv]
        _run(["query", _snapshot().path] + argv)

    def complete(self, text, word):
        if " " in text.lstrip():
            return gdb.COMPLETE_EXPRESSION
        try:
            return [n for n in _query_names() if n.startswith(text.strip())]
        except gdb.GdbError:
            return []


class Sql(_Sub):
    """Run SQL on the snapshot's database (tables in analyzer/SCHEMA.md; functions hs_type(id),
hs_path(id), hs_deep_size(id)).
Usage: heapsnap sql "SELECT ..." [ARG...]    or, unquoted, the whole line is the SQL:
       heapsnap sql SELECT count(*) FROM objects"""
    NAME = "sql"

    def run(self, arg):
        text = arg.strip()
        argv = gdb.string_to_argv(text) if text[:1] in ("'", '"', "-") else [text]
        if _wants_help(argv):
            return _run(["sql", "--help"])
        if not argv or not argv[0]:
            raise gdb.GdbError("heapsnap sql: needs the SQL to run")
        _run(["sql", _snapshot().path] + argv)


_SetPrefix("set")
_SetPrefix("show")
_debug = _Debug()
_memory = _Memory()
HeapsnapCommand()
for _cls in (Help, Capture, Summary, Types, Top, Cycles, Garbage, Show, Path, Referrers, Deep,
             Leaks, Report, Query, Sql):
    _cls()
