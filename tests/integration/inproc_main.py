"""inproc_main.py: `python -m heapsnap dump PATH ...` and dump(values=False).

usage: PYTHONPATH=BUILD/capture/inproc pythonX inproc_main.py HEAPSNAP_CLI SCRIPT

SCRIPT (tests/targets/inproc_script.py) makes 37 Marker objects and ends through sys.exit(3)
inside finish(), whose local list holds 5 Ending objects.  Runs it as a script, as a module
(-m), with an uncaught exception, and with --no-values; each time the dump must be written at
exit with the script's objects in it, the path of a Marker must start at the script's module
(sys.modules['__main__'], as when python runs the script), not at the wrapper's frame, the path
of an Ending must start at the frame the script ended in (<exit: finish (...inproc_script.py:N)
...>), the exit status must be the script's, and value previews must be there exactly when
asked for.  A script or module that does not exist: exit 1 and no snapshot.  `python -m heapsnap
gdb-script` in the build tree: exit 1, saying where the plugin is.  Then dump() in this
process with values=True and values=False.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

import heapsnap
from inproc_check import Failures, load


def snapshot_facts(cli, path):
    """(whole, number of Marker objects, number of objects with a value, marker texts seen)."""
    whole = subprocess.run([cli, "check", path], capture_output=True).returncode == 0
    snap = load(cli, path)
    markers = sum(1 for o in snap.objects.values() if o["type"] == "Marker")
    values = [o["value"] for o in snap.objects.values() if "value" in o]
    texts = sum(1 for v in values if re.fullmatch(r"marker-text-\d{4}", v))
    return whole, markers, len(values), texts


def run(fails, cli, d, name, args, status, values, env=None):
    path = os.path.join(d, name + ".hsnap")
    r = subprocess.run([sys.executable, "-m", "heapsnap", "dump", path] + args,
                       capture_output=True, text=True, env=env)
    fails.check(r.returncode == status, "%s: exit status %d, expected %d; stderr %r"
                % (name, r.returncode, status, r.stderr))
    fails.check("heapsnap: wrote %s" % path in r.stderr, "%s: no report: %r" % (name, r.stderr))
    if not os.path.exists(path):
        fails.check(False, "%s: %s not written" % (name, path))
        return
    whole, markers, nvalues, texts = snapshot_facts(cli, path)
    snap = load(cli, path)
    marker = next(a for a, o in snap.objects.items() if o["type"] == "Marker")
    route = subprocess.run([cli, "path", path, str(marker)], capture_output=True,
                           text=True).stdout.split("\n")[0]
    want = "sys.modules['__main__'].__dict__['KEEP'][" if values else "sys.modules[<str at "
    fails.check(route.startswith(want),  # with --no-values, str keys cannot be shown
                "%s: a Marker's path is %r, not from the script's module" % (name, route))
    # A local of the frame the script ended in: its path starts at that frame (a root of its
    # own, <exit: ...>), never at the wrapper's frames in heapsnap/__main__.py.
    ending = [a for a, o in snap.objects.items() if o["type"] == "Ending"]
    fails.check(len(ending) == 5, "%s: %d Ending objects, finish() made 5" % (name, len(ending)))
    route = subprocess.run([cli, "path", path, str(ending[0])], capture_output=True,
                           text=True).stdout.split("\n")[0]
    # 3.11+: the local is a root of its own; 3.8-3.10: the frame's edge labelled <local ending>
    local = " local ending>[" if sys.version_info >= (3, 11) else ")><local ending>["
    print("%s: an Ending's path: %s" % (name, route))
    fails.check(route.startswith("<exit: finish (") and "inproc_script.py:" in route and
                local in route and "__main__.py" not in route,
                "%s: an Ending's path is %r, not from the script's frame" % (name, route))
    fails.check(whole, "%s: heapsnap check failed" % name)
    fails.check(markers == 37, "%s: %d Marker objects, the script made 37" % (name, markers))
    if values:
        fails.check(texts == 37 and nvalues > 1000, "%s: %d marker texts among %d values"
                    % (name, texts, nvalues))
    else:
        fails.check(nvalues == 0, "%s: --no-values wrote %d values" % (name, nvalues))
    os.unlink(path)


def main():
    cli, script = sys.argv[1], sys.argv[2]
    fails = Failures()
    d = tempfile.mkdtemp(prefix="inproc-main-")
    run(fails, cli, d, "script", [script, "--flag", "arg"], 3, True)
    run(fails, cli, d, "novalues", ["--no-values", script, "--flag", "arg"], 3, False)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([env.get("PYTHONPATH", ""), os.path.dirname(script)])
    run(fails, cli, d, "module", ["-m", "inproc_script", "--flag", "arg"], 3, True, env)
    run(fails, cli, d, "raised", [script, "raise"], 1, True)
    for name, args in (("missing", [os.path.join(d, "no-such-script.py")]),
                       ("nomodule", ["-m", "no_such_module_here"])):
        path = os.path.join(d, name + ".hsnap")
        r = subprocess.run([sys.executable, "-m", "heapsnap", "dump", path] + args,
                           capture_output=True, text=True)
        fails.check(r.returncode == 1 and not os.path.exists(path) and
                    "python -m heapsnap: " in r.stderr,
                    "%s: exit %d, snapshot written: %s, stderr %r"
                    % (name, r.returncode, os.path.exists(path), r.stderr))
    # The build tree's package has no gdb plugin in it (only a pip install puts it there).
    r = subprocess.run([sys.executable, "-m", "heapsnap", "gdb-script"], capture_output=True,
                       text=True)
    fails.check(r.returncode == 1 and r.stdout == "" and "share/heapsnap/gdb" in r.stderr,
                "gdb-script in the build tree: exit %d, %r %r" % (r.returncode, r.stdout, r.stderr))

    # dump() itself: values=True writes previews, values=False none.
    keep = ["in-process-value-%d" % i for i in range(5)]
    for values in (True, False):
        path = os.path.join(d, "self-%s.hsnap" % values)
        counts = heapsnap.dump(path, values=values)
        snap = load(cli, path)
        with_value = [o for o in snap.objects.values() if "value" in o]
        mine = sum(1 for o in with_value if re.fullmatch(r"in-process-value-\d", o["value"]))
        if values:
            fails.check(mine == 5 and counts["values"] == len(with_value),
                        "values=True: %d of mine, %d values, counts %s"
                        % (mine, len(with_value), counts))
        else:
            fails.check(not with_value and counts["values"] == 0,
                        "values=False: %d values written" % len(with_value))
        os.unlink(path)
    del keep
    shutil.rmtree(d)  # with the databases `heapsnap path` built beside the snapshots
    fails.finish("inproc_main")


if __name__ == "__main__":
    main()
