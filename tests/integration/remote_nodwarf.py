"""remote_nodwarf.py — out-of-process capture of a python with no DWARF and no .symtab (issue 19):
a copy of a pyenv interpreter and its libpython stripped with `strip --strip-all`, running
tests/targets/remote_zoo.py, is captured (one paused process) by every route a user has:

  dwarf-debuglink  the debug file (objcopy --only-keep-debug) beside libpython, named by the
                   stripped copy's .gnu_debuglink: the DWARF capture, the reference;
  dwarf-build-id   the same debug file only under DIR/.build-id/NN/REST.debug (--debug-dir DIR);
  table            --layouts table: the tables compiled in and exported symbols only;
  stripped         no debug file anywhere (moved away): auto falls back to the tables;
  core             a gcore core of the same process, no debug file;
  gdb              gdb attached to it, the plugin's `heapsnap capture`, no debug file.

Each must equal the reference exactly: objects, sizes, refcounts, flags, previews, edges with
their labels and kinds, weak references, roots and the garbage the analysis predicts; and each
must say (META layout.source) which source it used.

usage: remote_nodwarf.py HEAPSNAP ZOO.py PYTHON GDB_PLUGIN
Exits 0 on success, 1 with the differences, 77 (skip) when PYTHON or a tool is missing.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

from target_process import wait_blocked


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def stripped_copy(python, tmp):
    """A prefix under tmp whose bin/pythonX.Y and lib/libpythonX.Y.so.1.0 are stripped copies
    (the stdlib linked in), and the debug file of that libpython; returns (exe, lib, debug)."""
    q = run([python, "-c", "import sys, sysconfig as s; print(s.get_config_var('LIBDIR')); "
             "print(s.get_config_var('INSTSONAME')); print('python%d.%d' % sys.version_info[:2])"],
            check=True).stdout.split()
    libdir, soname, name = q
    prefix = os.path.join(tmp, "prefix")
    os.makedirs(os.path.join(prefix, "bin"))
    os.makedirs(os.path.join(prefix, "lib"))
    os.symlink(os.path.join(libdir, name), os.path.join(prefix, "lib", name))
    exe, lib = os.path.join(prefix, "bin", name), os.path.join(prefix, "lib", soname)
    shutil.copy(os.path.realpath(python), exe)
    shutil.copy(os.path.join(libdir, soname), lib)
    debug = lib + ".debug"
    run(["objcopy", "--only-keep-debug", lib, debug], check=True)
    for f in (exe, lib):
        run(["strip", "--strip-all", f], check=True)
    run(["objcopy", "--add-gnu-debuglink=" + debug, lib], check=True)
    for f in (exe, lib):
        syms = run(["readelf", "-S", f], check=True).stdout
        assert ".symtab" not in syms and ".debug_info" not in syms, f + " still has symbols"
    return exe, lib, debug


def build_id(path):
    out = run(["readelf", "-n", path], check=True).stdout
    return out.split("Build ID:")[1].split()[0]


def export(heapsnap, snap):
    """The snapshot as sorted JSON lines, its META apart."""
    out = run([heapsnap, "export", snap], check=True).stdout
    rows, meta = [], {}
    for line in out.split("\n"):
        if not line:
            continue
        r = json.loads(line)
        if r["t"] == "meta":
            meta[r["key"]] = r["value"]
        elif r["t"] != "header":
            rows.append(line)
    garbage = run([heapsnap, "sql", snap, "SELECT addr FROM objects WHERE unreachable ORDER BY 1",
                   "--format", "csv"], check=True).stdout
    return sorted(rows) + ["garbage " + garbage], meta


def gdb_capture(plugin, pid, out, env):
    r = run(["gdb", "-nx", "-batch", "-iex", "set auto-load python-scripts off",
             "-ex", "source " + plugin, "-ex", "heapsnap capture " + out, "-p", str(pid)],
            timeout=300, env=env)
    return r.returncode == 0 and os.path.exists(out), r.stdout + r.stderr


def main():
    heapsnap, zoo, python, plugin = sys.argv[1:5]
    missing = [t for t in ("strip", "objcopy", "readelf", "gcore", "gdb") if not shutil.which(t)]
    if not os.path.exists(python) or missing:
        print(f"skip: needs {python} and {missing or 'its tools'}")
        return 77
    tmp = tempfile.mkdtemp(prefix="hs-nodwarf-")
    exe, lib, debug = stripped_copy(python, tmp)
    bid = build_id(lib)
    by_id = os.path.join(tmp, "dbg", ".build-id", bid[:2], bid[2:] + ".debug")
    os.makedirs(os.path.dirname(by_id))
    env = dict(os.environ, LD_LIBRARY_PATH=os.path.dirname(lib), XDG_CACHE_HOME=tmp + "/cache")
    t = subprocess.Popen([exe, zoo, tmp + "/truth.json", tmp + "/garbage.json"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
    snaps, problems = {}, []
    try:
        assert t.stdout.readline().strip() == "ready", "target did not start"
        wait_blocked(t.pid)
        maps = open(f"/proc/{t.pid}/maps").read()
        assert lib in maps, "the target does not run the stripped libpython"

        def cap(name, *args):
            out = os.path.join(tmp, name + ".hsnap")
            cache = dict(env, XDG_CACHE_HOME=os.path.join(tmp, "cache-" + name))  # no reuse
            r = run([heapsnap, "capture", "-o", out, "--verbose"] + list(args), env=cache)
            print(f"{name}: {r.stderr.strip()}")
            if r.returncode:
                problems.append(f"{name}: exit {r.returncode}")
            else:
                snaps[name] = out

        pid = ["--pid", str(t.pid)]
        cap("dwarf-debuglink", *pid)
        os.rename(debug, by_id)
        cap("dwarf-build-id", *pid, "--debug-dir", os.path.join(tmp, "dbg"))
        cap("table", *pid, "--layouts", "table", "--debug-dir", os.path.join(tmp, "dbg"))
        cap("stripped", *pid)
        run(["gcore", "-o", tmp + "/core", str(t.pid)], check=True)
        cap("core", "--core", f"{tmp}/core.{t.pid}")
        # Not the target's LD_LIBRARY_PATH: gdb embeds a libpython of its own.
        ok, out = gdb_capture(plugin, t.pid, os.path.join(tmp, "gdb.hsnap"),
                              dict(os.environ, XDG_CACHE_HOME=os.path.join(tmp, "cache-gdb")))
        print("gdb: " + " | ".join(x for x in out.splitlines() if "heapsnap" in x or "layouts" in x))
        if ok:
            snaps["gdb"] = os.path.join(tmp, "gdb.hsnap")
        else:
            problems.append("gdb: capture failed")
    finally:
        t.stdin.close()
        t.wait()
    want_source = {"dwarf-debuglink": "dwarf " + debug, "dwarf-build-id": "dwarf " + by_id,
                   "table": "table ", "stripped": "table ", "core": "table ", "gdb": "table "}
    ref = export(heapsnap, snaps["dwarf-debuglink"])[0] if "dwarf-debuglink" in snaps else None
    for name, snap in snaps.items():
        rows, meta = export(heapsnap, snap)
        src = meta.get("layout.source", "")
        kind, _, path = want_source[name].partition(" ")
        if not src.startswith(kind) or not src.endswith(path):
            problems.append(f"{name}: layout.source {src!r}, expected {want_source[name]!r}...")
        if ref is not None and rows != ref:
            a, b = set(ref), set(rows)
            problems.append(f"{name}: differs from the DWARF capture: {len(a - b)} rows only "
                            f"there, {len(b - a)} only here, e.g. {sorted(b - a)[:2]}")
        print(f"{name}: {len(rows)} rows, layout.source {src!r}, symbols {meta.get('symbols')!r}")
    for p in problems:
        print("FAIL " + p)
    return 1 if problems or ref is None else 0


if __name__ == "__main__":
    sys.exit(main())
