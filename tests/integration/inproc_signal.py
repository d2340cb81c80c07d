"""inproc_signal.py: heapsnap.dump_on_signal in a child process (tests/targets/inproc_service.py).

usage: PYTHONPATH=BUILD/capture/inproc pythonX inproc_signal.py HEAPSNAP_CLI SERVICE_SCRIPT

SIGUSR1 aims a dump at a directory that does not exist: the service reports it on stderr and
goes on.  SIGUSR2 then writes DIR/heap-{pid}-{time}.hsnap: the file must appear with {pid} and
{time} expanded (the child's pid, a time between sending and the child's exit), be whole
(`heapsnap check`), mode 0600, hold the service's own objects, and leave no temporary file.
"""
import os
import re
import signal
import stat
import subprocess
import sys
import tempfile
import time

from inproc_check import Failures, load


def main():
    cli, service = sys.argv[1], sys.argv[2]
    fails = Failures()
    d = tempfile.mkdtemp(prefix="inproc-signal-")
    child = subprocess.Popen([sys.executable, service, d], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
    out = []
    try:
        line = child.stdout.readline()
        out.append(line)
        fails.check(line == "ready\n", "service did not start: %r" % line)
        child.send_signal(signal.SIGUSR1)
        line = child.stdout.readline()  # the handler's report of the failed dump
        out.append(line)
        fails.check(line.startswith("heapsnap: ") and os.path.join(d, "missing") in line and
                    "No such file or directory" in line, "SIGUSR1 failure report: %r" % line)
        t0 = int(time.time())
        child.send_signal(signal.SIGUSR2)
        rest, _ = child.communicate(timeout=120)
        out.append(rest)
        t1 = int(time.time())
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    fails.check(child.returncode == 0, "service exit status %s, output %r"
                % (child.returncode, "".join(out)))
    fails.check(re.search(r"heapsnap: wrote .*heap-%d-\d+\.hsnap \(\d+ objects\)" % child.pid,
                          "".join(out)), "no 'wrote' report in %r" % "".join(out))
    names = sorted(os.listdir(d))
    snaps = [n for n in names if re.fullmatch(r"heap-(\d+)-(\d+)\.hsnap", n)]
    fails.check(len(snaps) == 1 and names == snaps, "files in the directory: %s" % names)
    if len(snaps) == 1:
        m = re.fullmatch(r"heap-(\d+)-(\d+)\.hsnap", snaps[0])
        fails.check(int(m.group(1)) == child.pid, "{pid} gave %s, child is %d"
                    % (m.group(1), child.pid))
        fails.check(t0 <= int(m.group(2)) <= t1, "{time} gave %s, not in [%d, %d]"
                    % (m.group(2), t0, t1))
        path = os.path.join(d, snaps[0])
        fails.check(stat.S_IMODE(os.stat(path).st_mode) == 0o600, "mode %o"
                    % stat.S_IMODE(os.stat(path).st_mode))
        r = subprocess.run([cli, "check", path], capture_output=True, text=True)
        fails.check(r.returncode == 0, "heapsnap check: %d %s%s"
                    % (r.returncode, r.stdout, r.stderr))
        snap = load(cli, path)
        states = [o for o in snap.objects.values() if o["type"] == "ServiceState"]
        fails.check(len(states) == 23, "%d ServiceState objects, the service has 23"
                    % len(states))
        fails.check(any(o.get("value") == "service-state-7" for o in snap.objects.values()),
                    "the service's strings are not in the snapshot")
        os.unlink(path)
    os.rmdir(d)
    fails.finish("inproc_signal")


if __name__ == "__main__":
    main()
