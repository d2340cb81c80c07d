"""test_hostile_files.py — files heapsnap writes, against a local attacker (issue 17, items 1, 3, 4).

As root, in a shared sticky directory (mode 1777, like /tmp), an unprivileged user (`nobody`)
plants symlinks to a root-owned victim file at every temporary name heapsnap used to write through
(OUT.tmp-PID for snapshots, OUT.tmp for reports, OUT.PID for the layout cache) and at the final
output names.  heapsnap then runs as root: the in-process dump, capture, convert, redact, load,
report, export.  The victim must be untouched; every output must be a regular file, mode 0600.
Then the layout cache: a cache directory owned by another user, or open to others, is not used;
a corrupted entry is rebuilt from the DWARF (and said so).  Then an output that names its input
(or a symlink to it) is refused with exit 1 and the input left whole.

Each heapsnap command is started through a small Python wrapper that prints its pid and waits,
then execs heapsnap, so the attacker knows the pid that ends up in a PID-based name.

usage: test_hostile_files.py HEAPSNAP PYTHON FIXTURES_DIR   (PYTHON: a pyenv interpreter with the
in-process module on PYTHONPATH and DWARF for out-of-process capture)
"""
import glob
import os
import pwd
import shutil
import stat
import subprocess
import sys
import tempfile

HEAPSNAP, PYTHON, FIXTURES = sys.argv[1], sys.argv[2], sys.argv[3]
VICTIM_TEXT = b"root's file, not to be touched\n"
failures = 0


def check(cond, what):
    global failures
    print(("ok: " if cond else "FAIL: ") + what)
    failures += not cond


if os.geteuid() != 0:
    print("SKIP: needs root (it runs heapsnap as root against another user's symlinks)")
    sys.exit(77)
try:
    ATTACKER = pwd.getpwnam("nobody")
except KeyError:
    print("SKIP: no user 'nobody' to plant the symlinks")
    sys.exit(77)


def as_attacker(fn):
    """Runs fn() in a child process with the attacker's uid."""
    pid = os.fork()
    if pid == 0:
        try:
            os.setgid(ATTACKER.pw_gid)
            os.setuid(ATTACKER.pw_uid)
            fn()
            os._exit(0)
        except BaseException as e:  # report and fail the child
            print("attacker:", e)
            os._exit(1)
    return os.waitpid(pid, 0)[1] == 0


private = tempfile.mkdtemp(prefix="hs-hostile-root-")  # 0700, root's
victim = os.path.join(private, "victim")
shared = tempfile.mkdtemp(prefix="hs-hostile-shared-")
os.chmod(shared, 0o1777)
WRAP = "import os,sys; print(os.getpid(), flush=True); sys.stdin.readline(); os.execv(sys.argv[1], sys.argv[1:])"


def reset_victim():
    with open(victim, "wb") as f:
        f.write(VICTIM_TEXT)
    os.chmod(victim, 0o644)


def victim_intact(what):
    st = os.stat(victim)
    check(open(victim, "rb").read() == VICTIM_TEXT and stat.S_IMODE(st.st_mode) == 0o644,
          what + ": the victim is untouched")


def plant(names):
    return as_attacker(lambda: [os.symlink(victim, n) for n in names])


def output_ok(path, what):
    st = os.lstat(path)
    check(stat.S_ISREG(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o600 and st.st_uid == 0,
          "%s: %s is a regular file of root's, mode 0600 (mode %o)" % (
              what, os.path.basename(path), stat.S_IMODE(st.st_mode)))


def run_planted(argv, out, names, env=None, stdin_text=None):
    """Starts argv through the pid wrapper, plants the attacker's links at names(pid), lets it run.
    Returns the CompletedProcess-like (returncode, stderr)."""
    p = subprocess.Popen([PYTHON, "-c", WRAP] + argv, stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    pid = int(p.stdout.readline())
    plant([os.path.join(shared, n) for n in names(pid)])
    p.stdin.write(b"\n" if stdin_text is None else stdin_text)
    p.stdin.flush()
    p.stdin.close()
    err = p.stderr.read().decode(errors="replace")
    p.wait(timeout=120)
    return p.returncode, err


def clean_shared():
    for n in os.listdir(shared):
        path = os.path.join(shared, n)
        shutil.rmtree(path) if os.path.isdir(path) and not os.path.islink(path) else os.unlink(path)


env = dict(os.environ, PYTHONPATH=os.environ.get("PYTHONPATH", ""))
cache = tempfile.mkdtemp(prefix="hs-hostile-cache-")
env["XDG_CACHE_HOME"] = cache
small = os.path.join(FIXTURES, "small.hsnap")
small_jsonl = os.path.join(FIXTURES, "small.jsonl")

# --- 1 and 2: planted symlinks at the temporary names, then at the output names -----------------
snap = os.path.join(shared, "dump.hsnap")
cases = [
    ("dump (in process)", None, snap, lambda pid: ["dump.hsnap.tmp-%d" % pid]),
    ("convert", ["convert", small_jsonl, "-o", os.path.join(shared, "conv.hsnap")],
     os.path.join(shared, "conv.hsnap"), lambda pid: ["conv.hsnap.tmp-%d" % pid]),
    ("redact", ["redact", small, "-o", os.path.join(shared, "red.hsnap")],
     os.path.join(shared, "red.hsnap"), lambda pid: ["red.hsnap.tmp-%d" % pid]),
    ("load", ["load", small, "-o", os.path.join(shared, "small.db")],
     os.path.join(shared, "small.db"), lambda pid: ["small.db.tmp%d" % pid]),
    ("export", ["export", small, "-o", os.path.join(shared, "out.jsonl")],
     os.path.join(shared, "out.jsonl"), lambda pid: ["out.jsonl"]),
]
for final_link in (False, True):
    for what, args, out, names in cases:
        reset_victim()
        what = what + (" (link at the output)" if final_link else "")
        if args is None:
            argv = [PYTHON, "-c", "import heapsnap,sys; heapsnap.dump(sys.argv[1])", out]
        else:
            argv = [HEAPSNAP] + args
        namefn = (lambda pid, out=out: [os.path.basename(out)]) if final_link else names
        rc, err = run_planted(argv, out, namefn, env=env)
        check(rc == 0, "%s: exit 0 (%d: %s)" % (what, rc, err.strip()[-200:]))
        victim_intact(what)
        if os.path.lexists(out):
            output_ok(out, what)
        else:
            check(False, what + ": no output")
        clean_shared()

# report: a snapshot of root's in the shared directory (its database is made next to it).
reset_victim()
shutil.copy(small, os.path.join(shared, "rep.hsnap"))
os.chmod(os.path.join(shared, "rep.hsnap"), 0o600)
for final_link in (False, True):
    reset_victim()
    out = os.path.join(shared, "rep.html")
    rc, err = run_planted([HEAPSNAP, "report", os.path.join(shared, "rep.hsnap"), "-o", out],
                          out, lambda pid: ["rep.html"] if final_link else ["rep.html.tmp"],
                          env=env)
    what = "report" + (" (link at the output)" if final_link else "")
    check(rc == 0, "%s: exit 0 (%d: %s)" % (what, rc, err.strip()[-200:]))
    victim_intact(what)
    if os.path.lexists(out):
        output_ok(out, what)
    if os.path.lexists(out):
        os.unlink(out)
clean_shared()

# --- 3: the layout cache ---------------------------------------------------------------------
TARGET = "import sys; OBJS = [object() for _ in range(500)]; print('READY', flush=True); sys.stdin.readline()"


def capture(cache_env, what):
    t = subprocess.Popen([PYTHON, "-c", TARGET], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        t.stdout.readline()
        out = os.path.join(private, "cap.hsnap")
        p = subprocess.run([HEAPSNAP, "capture", "--pid", str(t.pid), "-o", out],
                           capture_output=True, text=True, env=cache_env)
        objs = -1
        if p.returncode == 0:
            s = subprocess.run([HEAPSNAP, "export", out], capture_output=True, text=True).stdout
            objs = sum(1 for l in s.splitlines() if l.startswith('{"t":"object"'))
        return p.returncode, p.stderr, objs
    finally:
        t.stdin.close()
        t.wait(timeout=30)


rc, err, objs = capture(env, "a first capture")
entries = glob.glob(os.path.join(cache, "heapsnap", "layout-*"))
check(rc == 0 and objs > 500 and len(entries) >= 1,
      "a first capture fills the cache (%d objects, %d entries)" % (objs, len(entries)))
st = os.stat(os.path.join(cache, "heapsnap"))
check(stat.S_IMODE(st.st_mode) == 0o700, "the cache directory is 0700 (%o)" % stat.S_IMODE(st.st_mode))
if entries:
    good = open(entries[0]).read()
    name = os.path.basename(entries[0])
    poisoned = "".join("999999\n" if l[:1].isdigit() else l for l in good.splitlines(True))
    # A corrupted entry of one's own: rebuilt, and said so.
    with open(entries[0], "w") as f:
        f.write(poisoned)
    rc, err, objs = capture(env, "corrupted entry")
    check(rc == 0 and objs > 500, "a corrupted entry: the capture is still right (%d objects)" % objs)
    check("layout cache" in err and open(entries[0]).read() == good,
          "a corrupted entry is rebuilt and said so: %s" % err.strip()[-200:])
    # Another user's cache directory (the old /tmp fallback, or a planted $XDG_CACHE_HOME).
    for mode, owner in ((0o755, ATTACKER.pw_uid), (0o777, 0)):
        evil = tempfile.mkdtemp(prefix="hs-hostile-evil-")
        os.chmod(evil, 0o755)
        os.mkdir(os.path.join(evil, "heapsnap"))
        with open(os.path.join(evil, "heapsnap", name), "w") as f:
            f.write(poisoned)
        os.chown(os.path.join(evil, "heapsnap"), owner, 0)
        os.chmod(os.path.join(evil, "heapsnap"), mode)
        rc, err, objs = capture(dict(env, XDG_CACHE_HOME=evil),
                                "cache of uid %d, mode %o" % (owner, mode))
        check(rc == 0 and objs > 500, "a cache directory of uid %d mode %o is not used (%d objects)"
              % (owner, mode, objs))
        check("layout cache" in err and "not used" in err, "and said so: %s" % err.strip()[-200:])
        shutil.rmtree(evil)
    # No HOME, no XDG_CACHE_HOME: no /tmp/.cache fallback.
    noenv = {k: v for k, v in env.items() if k not in ("HOME", "XDG_CACHE_HOME")}
    before = os.path.exists("/tmp/.cache/heapsnap")
    rc, err, objs = capture(noenv, "no HOME")
    check(rc == 0 and objs > 500 and (before or not os.path.exists("/tmp/.cache/heapsnap")),
          "without HOME the cache is never under /tmp")

# --- 4: an output that is the input --------------------------------------------------------
work = tempfile.mkdtemp(prefix="hs-hostile-same-")
for cmd, src in (("export", small), ("load", small), ("convert", small_jsonl),
                 ("redact", small), ("report", small)):
    for via_link in (False, True):
        inp = os.path.join(work, os.path.basename(src))
        shutil.copy(src, inp)
        before = open(inp, "rb").read()
        out = inp
        if via_link:
            out = os.path.join(work, "link")
            os.symlink(inp, out)
        p = subprocess.run([HEAPSNAP, cmd, inp, "-o", out], capture_output=True, text=True)
        what = "%s IN -o %s" % (cmd, "a link to IN" if via_link else "IN")
        check(p.returncode == 1 and "is the input" in p.stderr,
              "%s: refused with exit 1 (%d: %s)" % (what, p.returncode, p.stderr.strip()[-200:]))
        check(open(inp, "rb").read() == before, what + ": the input is whole")
        shutil.rmtree(work)
        os.mkdir(work)

for d in (private, shared, cache, work):
    shutil.rmtree(d, ignore_errors=True)
print("%d failed" % failures)
sys.exit(1 if failures else 0)
