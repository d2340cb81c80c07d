"""pip_install.py: `pip install --no-build-isolation .` (pyproject.toml, meson-python) into a
fresh virtual environment of PYTHON, then what a user of that venv does: a capture with
`import heapsnap; heapsnap.dump(...)`, queries with the venv's `heapsnap` CLI, and the gdb plugin
named by `python -m heapsnap gdb-script` attached to a process of the venv's interpreter.

The build uses Debian's packages only: python3-mesonpy's modules, through a directory of links to
them on PYTHONPATH (MODE shim, for an interpreter other than Debian's), or the venv made with
--system-site-packages (MODE system, for Debian's python3).  pip gets --no-index: nothing is
fetched.  The source tree is copied first (meson-python writes its native file and working
directory into the tree it builds).  A missing piece (the interpreter, python3-mesonpy, venv,
gdb) is a skip with its reason (exit 77), never a pass.

usage: pip_install.py SOURCE_ROOT PYTHON shim|system
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

N_MARKERS = 4321
MARK = "@@@ "
# Debian's modules meson-python 0.12 imports, with the last Python minor that needs each.
MESONPY_MODULES = {"mesonpy": 99, "pyproject_metadata": 99, "packaging": 99, "tomli": 10,
                   "typing_extensions": 9}
TARGET = """import sys, heapsnap
class PipMarker:
    pass
keep = [PipMarker() for _ in range(%d)]
if sys.argv[1] == "dump":
    counts = heapsnap.dump(sys.argv[2])
    print(heapsnap.__file__)
    print(heapsnap._ext.__file__)
    print(counts["objects"])
    print("%%d.%%d.%%d" %% sys.version_info[:3])
else:
    print("ready", flush=True)
    sys.stdin.read()
""" % N_MARKERS


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)
    print("ok:", what)


def skip(reason):
    print("skip: " + reason)
    sys.exit(77)


def run(cmd, **kw):
    print("+ " + " ".join(cmd), flush=True)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600, **kw)


def debian_modules(minor):
    """{module: path} of the Debian modules meson-python needs on 3.minor, or skips."""
    code = ("import importlib, os\nfor m in %r:\n"
            "    try:\n        f = importlib.import_module(m).__file__\n"
            "    except ImportError:\n        continue\n"
            "    print(m, os.path.dirname(f) if f.endswith('__init__.py') else f)"
            % sorted(MESONPY_MODULES))
    r = subprocess.run(["/usr/bin/python3", "-c", code], capture_output=True, text=True) \
        if os.access("/usr/bin/python3", os.X_OK) else None
    found = dict(ln.split(" ", 1) for ln in r.stdout.splitlines()) if r else {}
    missing = [m for m, last in MESONPY_MODULES.items() if minor <= last and m not in found]
    if missing:
        skip("Debian's %s not importable by /usr/bin/python3 (apt-get install python3-mesonpy "
             "python3-typing-extensions)" % ", ".join(missing))
    return found


def make_venv(python, mode, tmp, minor):
    """The venv and the environment pip runs in."""
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    venv = os.path.join(tmp, "venv")
    args = [python, "-m", "venv", venv] + (["--system-site-packages"] if mode == "system" else [])
    found = debian_modules(minor)
    if mode == "shim":
        shim = os.path.join(tmp, "mesonpy-path")
        os.mkdir(shim)
        for path in found.values():
            os.symlink(path, os.path.join(shim, os.path.basename(path)))
        env["PYTHONPATH"] = shim
    r = run(args)
    if r.returncode != 0:
        skip("%s -m venv failed (Debian's python3 needs python3-venv): %s"
             % (python, r.stderr.strip()[-300:]))
    return venv, env


def pip_install(venv, env, source, tmp):
    def ignore(d, names):  # build trees, git, meson-python's leftovers, caches, test files
        top = ("build", ".git", ".mesonpy", "demo-out", ".test-tmp") if d == source else ()
        return [n for n in names if n.startswith(top) or n == "__pycache__"]

    src = os.path.join(tmp, "src")
    shutil.copytree(source, src, symlinks=True, ignore=ignore)
    r = run([os.path.join(venv, "bin", "python"), "-m", "pip", "install", "--no-index",
             "--no-build-isolation", src], env=env, cwd=tmp)
    print("\n".join((r.stdout + r.stderr).splitlines()[-12:]))
    if r.returncode != 0:
        print(r.stdout[-6000:], r.stderr[-6000:])
        raise Failure("pip install exited %d" % r.returncode)
    check(re.search(r"Successfully installed heapsnap-\d", r.stdout), "pip installed heapsnap")


def capture_and_query(venv, minor, tmp):
    """dump() in the venv's interpreter, then the venv's heapsnap summary and types on it."""
    py, cli = os.path.join(venv, "bin", "python"), os.path.join(venv, "bin", "heapsnap")
    check(os.access(cli, os.X_OK), "the wheel installed the CLI as " + cli)
    snap = os.path.join(tmp, "pip.hsnap")
    r = run([py, "-c", TARGET, "dump", snap], cwd=tmp)
    check(r.returncode == 0, "dump() in the venv: exit %d %s" % (r.returncode, r.stderr.strip()))
    module, ext, objects, version = r.stdout.split()
    site = os.path.realpath(venv)
    check(os.path.realpath(module).startswith(site + os.sep), "heapsnap imported from the venv: "
          + module)
    check(re.search(r"/heapsnap/_heapsnap_3%d\.cpython-3%d[^/]*\.so$" % (minor, minor), ext),
          "its extension is the one for 3.%d: %s" % (minor, os.path.basename(ext)))
    r = run([cli, "summary", snap])
    print(r.stdout[:600])
    check(r.returncode == 0, "the venv's heapsnap summary: exit %d %s" % (r.returncode, r.stderr))
    check(re.search(r"^runtime\s+cpython %s$" % re.escape(version), r.stdout, re.M),
          "summary names the runtime cpython " + version)
    check(re.search(r"^objects\s+%s$" % objects, r.stdout, re.M),
          "summary counts dump()'s %s objects" % objects)
    r = run([cli, "types", snap, "--format", "csv"])
    rows = [ln.split(",") for ln in r.stdout.splitlines() if ln.startswith("PipMarker,")]
    print(rows)
    check(r.returncode == 0 and len(rows) == 1 and rows[0][2] == str(N_MARKERS),
          "heapsnap types counts the %d PipMarker instances" % N_MARKERS)


def gdb_plugin(venv, tmp):
    """The plugin python -m heapsnap gdb-script names, in gdb attached to the venv's python."""
    py = os.path.join(venv, "bin", "python")
    r = run([py, "-m", "heapsnap", "gdb-script"], cwd=tmp)
    script = r.stdout.strip()
    check(r.returncode == 0 and os.path.isfile(script) and os.path.realpath(script).startswith(
        os.path.realpath(venv) + os.sep), "python -m heapsnap gdb-script names %r" % script)
    if not shutil.which("gdb"):
        skip("no gdb (apt-get install gdb): pip install, dump() and the CLI passed; the "
             "installed gdb plugin was not run")
    t = subprocess.Popen([py, "-c", TARGET, "wait"], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True, cwd=tmp)
    try:
        check(t.stdout.readline().strip() == "ready", "the target started")
        steps = [("lib", "python print('LIB', _library()._name)"),
                 ("sql", "heapsnap sql \"SELECT count(*) AS n FROM objects WHERE hs_type(id) = "
                         "'PipMarker'\"")]
        cmd = ["gdb", "-nx", "-batch", "-iex", "set auto-load python-scripts off",
               "-iex", "set pagination off", "-ex", "source " + script]
        for name, command in steps:
            cmd += ["-ex", "echo \\n" + MARK + name + "\\n", "-ex", command]
        g = run(cmd + ["-p", str(t.pid)])
    finally:
        t.stdin.close()
        t.wait(timeout=60)
    print(g.stdout[-3000:], g.stderr[-2000:])
    out = dict(re.findall(r"^" + MARK + r"(\w+)\n(.*?)(?=^" + MARK + r"|\Z)", g.stdout,
                          re.M | re.S))
    lib = re.search(r"^LIB (\S+)$", out.get("lib", ""), re.M)
    check(lib and lib.group(1) == os.path.join(os.path.dirname(script), "libheapsnap.so"),
          "gdb loaded the library beside the script: %s" % (lib and lib.group(1)))
    check(re.search(r"^\s*%d\s*$" % N_MARKERS, out.get("sql", ""), re.M),
          "the plugin counts the %d PipMarker instances in the live process" % N_MARKERS)


def main():
    source, python, mode = sys.argv[1:4]
    if not os.access(python, os.X_OK):
        skip("no interpreter %s" % python)
    r = subprocess.run([python, "-c", "import sys; print(sys.version_info[1])"],
                       capture_output=True, text=True)
    minor = int(r.stdout)
    if not 8 <= minor <= 13:
        skip("%s is 3.%d; heapsnap supports 3.8-3.13" % (python, minor))
    for tool in ("meson", "ninja"):
        if not shutil.which(tool):
            skip("no %s on PATH (meson-python runs it)" % tool)
    tmp = tempfile.mkdtemp(prefix="hs-pip-")
    try:
        venv, env = make_venv(python, mode, tmp, minor)
        pip_install(venv, env, source, tmp)
        capture_and_query(venv, minor, tmp)
        gdb_plugin(venv, tmp)
    except Failure as e:
        print("FAIL:", e)
        return 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("pip install: every check passed (%s, %s)" % (python, mode))
    return 0


if __name__ == "__main__":
    sys.exit(main())
