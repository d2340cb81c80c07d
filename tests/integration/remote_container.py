"""remote_container.py — a target in another mount namespace (issue 19 item 5), as in a Docker
container or under systemd's PrivateTmp: its interpreter and libpython exist only inside the
namespace (a tmpfs mounted there by `unshare --mount`), and the same path on the host holds a
decoy that is not an ELF file.  heapsnap must read the target's own files through
/proc/PID/map_files and /proc/PID/root: the capture with the libpython's DWARF and the capture
with the tables only (--layouts table) both succeed, name the target's path, and are equal.

usage: remote_container.py HEAPSNAP ZOO.py PYTHON
Exits 0 on success, 1 with the reason, 77 (skip) when unshare cannot make a mount namespace.
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


def export(heapsnap, snap):
    rows, meta = [], {}
    for line in run([heapsnap, "export", snap], check=True).stdout.split("\n"):
        if line:
            r = json.loads(line)
            if r["t"] == "meta":
                meta[r["key"]] = r["value"]
            else:
                rows.append(line)
    return sorted(rows), meta


def main():
    heapsnap, zoo, python = sys.argv[1:4]
    if not shutil.which("unshare") or run(["unshare", "--mount", "true"]).returncode:
        print("skip: unshare --mount is not permitted here (needs root or user namespaces)")
        return 77
    q = run([python, "-c", "import sys, sysconfig as s; print(s.get_config_var('LIBDIR')); "
             "print(s.get_config_var('INSTSONAME')); print('python%d.%d' % sys.version_info[:2])"],
            check=True).stdout.split()
    libdir, soname, name = q
    tmp = tempfile.mkdtemp(prefix="hs-container-")
    ct = os.path.join(tmp, "ct")  # the mount point: the decoy outside, the real files inside
    os.makedirs(os.path.join(ct, "lib"))
    with open(os.path.join(ct, "lib", soname), "w") as f:
        f.write("a decoy: the host's file of the target's path, not the target's file\n")
    inner = (f"mount -t tmpfs tmpfs {ct} && mkdir {ct}/bin {ct}/lib && "
             f"cp {os.path.realpath(python)} {ct}/bin/{name} && cp {libdir}/{soname} {ct}/lib/ && "
             f"ln -s {libdir}/{name} {ct}/lib/{name} && "
             f"exec env LD_LIBRARY_PATH={ct}/lib {ct}/bin/{name} {zoo} {tmp}/t.json {tmp}/g.json")
    t = subprocess.Popen(["unshare", "--mount", "--propagation", "private", "sh", "-c", inner],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    problems = []
    try:
        if t.stdout.readline().strip() != "ready":
            print("target did not start")
            return 1
        wait_blocked(t.pid)
        maps = open(f"/proc/{t.pid}/maps").read()
        assert f"{ct}/lib/{soname}" in maps, "the target does not map the namespace's libpython"
        snaps = {}
        for label, extra in (("dwarf", []), ("table", ["--layouts", "table"])):
            out = os.path.join(tmp, label + ".hsnap")
            env = dict(os.environ, XDG_CACHE_HOME=os.path.join(tmp, "cache-" + label))
            r = run([heapsnap, "capture", "--pid", str(t.pid), "-o", out, "--verbose"] + extra,
                    env=env)
            print(f"{label}: exit {r.returncode}: {r.stderr.strip()}")
            if r.returncode:
                problems.append(f"{label}: the capture failed")
            else:
                snaps[label] = export(heapsnap, out)
    finally:
        t.stdin.close()
        t.wait()
    for label, (_, meta) in snaps.items():
        if meta.get("python.file") != f"{ct}/lib/{soname}":
            problems.append(f"{label}: python.file {meta.get('python.file')!r}")
        if not meta.get("layout.source", "").startswith(label):
            problems.append(f"{label}: layout.source {meta.get('layout.source')!r}")
    if len(snaps) == 2 and snaps["dwarf"][0] != snaps["table"][0]:
        problems.append("the DWARF and table captures of the same paused target differ")
    for p in problems:
        print("FAIL " + p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
