"""find_pythons.py: prints the interpreter of every pyenv CPython 3.8-3.13, one path a line.

meson runs it when the test_pythons option is empty.  The pyenv root is $PYENV_ROOT, else what
`pyenv root` says, else ~/.pyenv.
"""
import os
import re
import shutil
import subprocess


def pyenv_root():
    if os.environ.get("PYENV_ROOT"):
        return os.environ["PYENV_ROOT"]
    if shutil.which("pyenv"):
        r = subprocess.run(["pyenv", "root"], capture_output=True, text=True)
        if r.returncode == 0 and r.stdout.strip():
            return r.stdout.strip()
    return os.path.expanduser("~/.pyenv")


def pythons():
    """{minor: interpreter path} of pyenv's CPython 3.8-3.13 (the newest patch of each)."""
    versions = os.path.join(pyenv_root(), "versions")
    found = {}
    names = os.listdir(versions) if os.path.isdir(versions) else []
    for name in sorted(names, key=lambda n: [int(x) if x.isdigit() else -1 for x in n.split(".")]):
        m = re.fullmatch(r"3\.(\d+)\.(\d+)", name)
        exe = os.path.join(versions, name, "bin", "python")
        if m and 8 <= int(m.group(1)) <= 13 and os.access(exe, os.X_OK):
            found[int(m.group(1))] = exe  # the newest patch release of each minor wins
    return found


def main():
    found = pythons()
    for minor in sorted(found):
        print(found[minor])


if __name__ == "__main__":
    main()
