"""test_gdb.py — the gdb `heapsnap` command (gdb-plugin/heapsnap-gdb.py) in real `gdb -nx -batch`
against a live process of one interpreter and against a gcore core file of it.

The target (tests/targets/gdb_heap.py) holds 1234 GdbItem instances in the module global `items`
and a garbage cycle of two GdbNode objects.  For the live process and for the core:
`heapsnap capture FILE`, then `summary`, `sql` (the GdbItem count must be 1234), `path` of
items[7] (through a gdb convenience variable: must name ['items'][7]), `cycles` (the GdbNode pair),
`referrers` of `*(PyObject *) ADDR` (a struct expression), `show self` in the C frame of
_io_FileIO_readall_impl (the blocked stdin read); each output must equal the `heapsnap`
CLI's on FILE (with the database gdb built removed first); subcommands and query names complete.
Also: a failing command is a one-line gdb error with no traceback (no inferior, not a Python
process, no such object, no such subcommand); a write to the inferior's memory drops the
snapshot (the next command captures again), and so does `continue` (with the temporary
files); `set heapsnap memory gdb` (gdb's own memory reads)
and gdbserver (a remote target) give the same count.

With --installed BUILD_ROOT, the build is installed with `meson install --destdir` into a
temporary directory and the installed script must load the installed library and answer.

usage: test_gdb.py SCRIPT HEAPSNAP PYTHON TARGET [--installed BUILD_ROOT]
"""
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

N_ITEMS = 1234
MARK = "@@@ "


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)
    print("ok:", what)


def gdb_run(script, steps, target_args, pass_fds=(), started=None):
    """Runs gdb -nx -batch with the plugin sourced and each (name, command) step after an echoed
    marker; returns {name: output} (stdout and stderr together) and the whole output.  pass_fds
    are inherited by gdb; started() runs once gdb has been started."""
    cmd = ["gdb", "-nx", "-batch", "-iex", "set auto-load python-scripts off",
           "-iex", "set pagination off", "-iex", "set width 0",
           "-ex", "source " + script]
    for name, command in steps:
        cmd += ["-ex", "echo \\n" + MARK + name + "\\n", "-ex", command]
    cmd += ["-ex", "echo \\n" + MARK + "end\\n"] + target_args
    g = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                         pass_fds=pass_fds)
    if started:
        started()
    stdout, _ = g.communicate(timeout=300)
    sections, name = {}, None
    for line in stdout.splitlines():
        if line.startswith(MARK):
            name = line[len(MARK):]
            sections[name] = []
        elif name is not None:
            sections[name].append(line)
    return {k: "\n".join(v).strip("\n") for k, v in sections.items()}, stdout


def plugin_lines(text):
    """What a command printed, without the plugin's own capture notes."""
    return "\n".join(ln for ln in text.splitlines()
                     if not ln.startswith(("heapsnap: captured", "heapsnap: wrote"))).strip("\n")


def cli(heapsnap, *args):
    r = subprocess.run([heapsnap] + list(args), capture_output=True, text=True, timeout=300)
    if r.returncode:
        raise Failure("heapsnap %s: %s" % (" ".join(args), r.stderr.strip()))
    return r.stdout.strip("\n")


def session(script, heapsnap, snap, addr, target_args, what, source):
    """The common session (live or core) and its comparison with the CLI on the same file."""
    report = re.sub(r"\.hsnap$", ".html", snap)
    steps = [("nosuchq", "heapsnap query no_such_query"),  # refused before any capture
             ("capture", "heapsnap capture " + snap),
             ("summary", "heapsnap summary"),
             ("sql", "heapsnap sql \"SELECT count(*) AS n FROM objects WHERE hs_type(id) = "
                     "'GdbItem'\""),
             ("setvar", "set $hs_obj = " + addr),
             ("path", "heapsnap path $hs_obj"),
             ("cycles", "heapsnap cycles"),
             ("referrers", "heapsnap referrers *(PyObject *) " + addr),
             ("types", "heapsnap types -n 5 --format csv"),
             ("frame", "frame function _io_FileIO_readall_impl"),
             ("self", "output/x (unsigned long) self"),
             ("show-self", "heapsnap show self"),
             ("bad", "heapsnap show 0x10"),
             ("nosub", "heapsnap frobnicate"),
             ("complete-sub", "complete heapsnap su"),
             ("complete-query", "complete heapsnap query dead_"),
             ("leaks", "heapsnap leaks --format csv"),
             ("report", "heapsnap report -o " + report)]
    out, whole = gdb_run(script, steps, target_args)
    print(whole)
    check("end" in out, what + ": gdb ran every step")
    check(re.search(r"heapsnap: captured \d+ objects.* from " + source, out["capture"]),
          what + ": captured on first use from " + source)
    check(os.path.exists(snap), what + ": capture FILE wrote " + snap)
    os.unlink(re.sub(r"\.hsnap$", ".db", snap))  # the CLI builds its own database
    check(plugin_lines(out["summary"]) == cli(heapsnap, "summary", snap),
          what + ": summary equals the CLI's")
    sql = plugin_lines(out["sql"])
    check(sql == cli(heapsnap, "sql", snap,
                     "SELECT count(*) AS n FROM objects WHERE hs_type(id) = 'GdbItem'"),
          what + ": sql equals the CLI's")
    check(sql.split()[-1] == str(N_ITEMS), what + ": sql counts %d GdbItem" % N_ITEMS)
    path = plugin_lines(out["path"])
    check(path == cli(heapsnap, "path", snap, addr), what + ": path equals the CLI's")
    check("['items'][7]" in path.splitlines()[0], what + ": path names the module global items")
    cycles = plugin_lines(out["cycles"])
    check(cycles == cli(heapsnap, "cycles", snap), what + ": cycles equals the CLI's")
    check("GdbNode x2" in cycles, what + ": cycles shows the GdbNode pair")
    check(plugin_lines(out["referrers"]) == cli(heapsnap, "referrers", snap, addr),
          what + ": referrers of a struct expression equals the CLI's")
    check(plugin_lines(out["types"]) == cli(heapsnap, "types", snap, "-n", "5", "--format",
                                            "csv"), what + ": options pass through")
    self_addr = out["self"].splitlines()[-1].strip()
    check(re.fullmatch(r"0x[0-9a-f]+", self_addr) is not None, what + ": a C frame's self")
    show = plugin_lines(out["show-self"])
    check(show == cli(heapsnap, "show", snap, self_addr) and "FileIO" in show,
          what + ": show of a C variable (the FileIO self) equals the CLI's")
    for step, msg in (("bad", "no object at address 0x10"), ("nosub", "not a subcommand")):
        lines = out[step].splitlines()
        check(len(lines) == 1 and msg in lines[0] and "Traceback" not in out[step],
              what + ": one-line error " + repr(out[step]))
    check(out["complete-sub"].splitlines() == ["heapsnap summary"],
          what + ": completes subcommands")
    check(out["complete-query"].splitlines() == ["heapsnap query dead_weakrefs"],
          what + ": completes query names")
    nq = out["nosuchq"].splitlines()
    check(len(nq) == 1 and "no query named 'no_such_query'" in nq[0],
          what + ": an unknown query is refused in one line, before capturing: %r" % nq)
    check(plugin_lines(out["leaks"]) == cli(heapsnap, "leaks", snap, "--format", "csv"),
          what + ": leaks equals the CLI's")
    check(os.path.getsize(report) > 10000 if os.path.exists(report) else False,
          what + ": report -o wrote " + report)


def live_extras(script, pid):
    """Drop on a memory write (the handler `continue` runs too); gdb's own memory reads; set
    heapsnap debug on shows tracebacks."""
    q = "heapsnap sql SELECT count(*) FROM objects WHERE hs_type(id) = 'GdbItem'"
    out, whole = gdb_run(script, [("first", q), ("again", q),
                                  ("write", "set var *(char *) $sp = *(char *) $sp"), ("after", q),
                                  ("mode", "set heapsnap memory gdb"),
                                  ("gdbread", "heapsnap summary"), ("gdbsql", q),
                                  ("debug", "set heapsnap debug on"),
                                  ("bad", "heapsnap path 1 +")],
                         ["-p", str(pid)])
    print(whole)
    check("captured" in out["first"] and "captured" not in out["again"],
          "live: the snapshot is kept while the inferior is stopped")
    check("captured" in out["after"], "live: a write to the inferior's memory dropped the snapshot")
    check("gdb's memory reads" in out["gdbread"] and out["gdbsql"].split()[-1] == str(N_ITEMS),
          "live: set heapsnap memory gdb captures through gdb with the same count")
    check("Traceback" in out["bad"], "live: set heapsnap debug on shows the traceback")


def other_targets(script, pid):
    """gdbserver (a remote target: mappings from `info proc mappings`, memory through gdb), and
    the one-line errors for no inferior and for a process that is not Python."""
    q = "heapsnap sql SELECT count(*) FROM objects WHERE hs_type(id) = 'GdbItem'"
    if shutil.which("gdbserver"):
        out, whole = gdb_run(script, [("target", "target remote | exec gdbserver --attach - %d"
                                       % pid), ("sql", q)], [])
        print(whole)
        check("remote target via gdb's memory reads" in out["sql"] and
              out["sql"].split()[-1] == str(N_ITEMS), "gdbserver: the same count")
    else:
        print("skip: no gdbserver")
    out, whole = gdb_run(script, [("none", "heapsnap summary")], [])
    check(out["none"].splitlines() == ["heapsnap: no process or core file (attach, run, or "
                                       "open a core)"], "no inferior: one-line error")
    sleeper = subprocess.Popen(["sleep", "120"])
    try:
        out, whole = gdb_run(script, [("sleep", "heapsnap summary")], ["-p", str(sleeper.pid)])
    finally:
        sleeper.kill()
        sleeper.wait()
    lines = out["sleep"].splitlines()
    check(len(lines) == 1 and "_PyRuntime" in lines[0] and lines[0].startswith("heapsnap: "),
          "not a Python process: one-line error " + repr(out["sleep"]))


def resume_to_exit(script, t):
    """`continue` drops the snapshot: gdb holds the only write end of the target's stdin and
    closes it, so the continued target reads EOF and exits."""
    fd = t.stdin.fileno()
    q = "heapsnap sql SELECT count(*) FROM objects WHERE hs_type(id) = 'GdbItem'"
    out, whole = gdb_run(script, [("first", q), ("tmp", "python print('TMP', _snap.tmpdir)"),
                                  ("close", "python import os; os.close(%d)" % fd),
                                  ("cont", "continue"), ("after", "heapsnap summary"),
                                  ("snap", "python print('SNAP', _snap)")],
                         ["-p", str(t.pid)], pass_fds=(fd,), started=t.stdin.close)
    print(whole)
    tmpdir = out["tmp"].split()[-1]
    check("captured" in out["first"] and "exited normally" in out["cont"],
          "continue: the target ran to its end")
    check(out["snap"] == "SNAP None" and not os.path.exists(tmpdir),
          "continue: the snapshot and its temporary directory were dropped")
    check("no process or core file" in out["after"], "continue: nothing left to capture")


def start_target(python, target, tmp):
    t = subprocess.Popen([python, target, str(N_ITEMS)], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True, cwd=tmp)
    line = t.stdout.readline().split()
    if len(line) != 2 or line[0] != "ready":
        raise Failure("target did not start: %r" % line)
    return t, line[1]


def stop_target(t):
    t.stdin.close()
    t.wait(timeout=60)


def installed(build_root, python, target, tmp):
    dest = os.path.join(tmp, "dest")
    subprocess.run(["meson", "install", "-C", build_root, "--no-rebuild", "--quiet",
                    "--destdir", dest], check=True, stdout=subprocess.DEVNULL)
    scripts = glob.glob(os.path.join(dest, "**", "share", "heapsnap", "gdb", "heapsnap-gdb.py"),
                        recursive=True)
    check(len(scripts) == 1, "install: heapsnap-gdb.py under share/heapsnap/gdb")
    t, _addr = start_target(python, target, tmp)
    try:
        out, whole = gdb_run(scripts[0], [
            ("lib", "python print('LIB', _lib._name if _lib else None)"),
            ("sql", "heapsnap sql SELECT count(*) FROM objects WHERE hs_type(id) = 'GdbItem'"),
            ("lib2", "python print('LIB', _lib._name)")], ["-p", str(t.pid)])
    finally:
        stop_target(t)
    print(whole)
    check(out["sql"].split()[-1] == str(N_ITEMS), "install: the installed plugin answers")
    lib = out["lib2"].split()[-1]
    check(lib.startswith(dest + os.sep) and os.path.exists(lib),
          "install: it loaded the installed library " + lib)


def main():
    script, heapsnap, python, target = sys.argv[1:5]
    tmp = tempfile.mkdtemp(prefix="hs-gdb-")
    try:
        if len(sys.argv) > 6 and sys.argv[5] == "--installed":
            installed(sys.argv[6], python, target, tmp)
            return 0
        t, addr = start_target(python, target, tmp)
        try:
            session(script, heapsnap, os.path.join(tmp, "live.hsnap"), addr,
                    ["-p", str(t.pid)], "live", "process %d via /proc/%d/mem" % (t.pid, t.pid))
            live_extras(script, t.pid)
            other_targets(script, t.pid)
            core = os.path.join(tmp, "core")
            subprocess.run(["gcore", "-o", core, str(t.pid)], check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            resume_to_exit(script, t)
        finally:
            stop_target(t)  # the core outlives the process
        session(script, heapsnap, os.path.join(tmp, "core.hsnap"), addr,
                [python, "%s.%d" % (core, t.pid)], "core", "core file")
    except Failure as e:
        print("FAIL:", e)
        return 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
