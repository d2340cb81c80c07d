"""test_hostile_db.py — databases and SQL that an attacker plants (issue 17, "Databases" and
"The checker"): every case failed before the fix (a crash, a hang, a silently wrong answer or the
usage-error exit code) and must now end in exit 1 with one line naming the file or the object.

usage: test_hostile_db.py HEAPSNAP FIXTURES_DIR
"""
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

HEAPSNAP, FIXTURES = sys.argv[1], sys.argv[2]
failures = 0
tmp = tempfile.mkdtemp(prefix="hs-hostiledb-")


def check(cond, what):
    global failures
    print(("ok: " if cond else "FAIL: ") + what)
    failures += not cond


def heapsnap(*args, timeout=30):
    try:
        return subprocess.run([HEAPSNAP, *args], capture_output=True, text=True,
                              timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(args, -999, "", "(timed out after %ds)" % timeout)


def fresh(name, jsonl=os.path.join(FIXTURES, "small.jsonl")):
    """A snapshot and its loaded database in tmp, as (snap, db)."""
    snap = os.path.join(tmp, name + ".hsnap")
    db = os.path.join(tmp, name + ".db")
    p = heapsnap("convert", jsonl, "-o", snap)
    assert p.returncode == 0, p.stderr
    p = heapsnap("load", snap, "-o", db)
    assert p.returncode == 0, p.stderr
    return snap, db


def tamper(db, *sql):
    con = sqlite3.connect(db)
    for s in sql:
        con.execute(s)
    con.commit()
    con.close()


def failed_cleanly(p, *names):
    """Exit 1, one line on stderr naming one of names, no sanitizer or signal."""
    line = p.stderr.strip()
    return (p.returncode == 1 and "\n" not in line and any(n in line for n in names)
            and "Sanitizer" not in p.stderr)


# 6. A negative objects.id: hs_type's cache indexed type_of[id] with it (heap write out of
# bounds).  300 calls make hs_type read every object's type at once.
snap, db = fresh("negid")
tamper(db, "UPDATE objects SET id = -1000000 WHERE id = 8")
scan = ("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300) "
        "SELECT count(hs_type(o.id)) FROM n, objects o")
p = heapsnap("sql", db, scan)
check(failed_cleanly(p, db), "negative objects.id: %d %s" % (p.returncode, p.stderr.strip()))

# A huge max(id) must not make hs_type allocate for it.
snap, db = fresh("hugeid")
tamper(db, "UPDATE objects SET id = 4611686018427387904 WHERE id = 8")
p = heapsnap("sql", db, scan)
check(failed_cleanly(p, db), "huge objects.id: %d %s" % (p.returncode, p.stderr.strip()))

# 6. A looping parent_edge chain: path ran forever.
snap, db = fresh("loop")
tamper(db, "UPDATE edges SET src = dst WHERE id = (SELECT parent_edge FROM objects WHERE id = 1)",
       "UPDATE objects SET depth = 1000000000 WHERE id = 1")
p = heapsnap("path", db, "0x1100")
check(failed_cleanly(p, "0x1100"), "looping parent chain: %d %s" % (p.returncode,
                                                                    p.stderr.strip()))
p = heapsnap("sql", db, "SELECT hs_path(1)")
check(failed_cleanly(p, "0x1100"), "looping chain through hs_path: %d %s" % (p.returncode,
                                                                           p.stderr.strip()))

# 6. meta.snapshot naming a FIFO: deep blocked in open(); and a symlink the database chose.
snap, db = fresh("fifo")
fifo = os.path.join(tmp, "fifo")
os.mkfifo(fifo)
tamper(db, "UPDATE meta SET value = '%s' WHERE key = 'snapshot'" % fifo)
os.rename(snap, snap + ".moved")  # so that the directory fallback does not find it either
p = heapsnap("sql", db, "SELECT hs_deep_size(0)", timeout=20)
check(failed_cleanly(p, fifo), "meta.snapshot names a FIFO: %d %s" % (p.returncode,
                                                                    p.stderr.strip()))
link = os.path.join(tmp, "link.hsnap")
os.symlink(snap + ".moved", link)
tamper(db, "UPDATE meta SET value = '%s' WHERE key = 'snapshot'" % link)
p = heapsnap("sql", db, "SELECT hs_deep_size(0)")
check(failed_cleanly(p, link), "meta.snapshot names a symlink: %d %s" % (p.returncode,
                                                                       p.stderr.strip()))

# user_version as SCHEMA.md says: another number is refused, or rebuilt from the snapshot.
snap, db = fresh("uv")
tamper(db, "PRAGMA user_version = 99")
p = heapsnap("sql", db, "SELECT count(*) FROM objects")
check(failed_cleanly(p, db) and "schema" in p.stderr,
      "user_version 99 refused: %d %s" % (p.returncode, p.stderr.strip()))

# 5. A database owned by another user is refused (root would otherwise trust its contents).
snap, db = fresh("owner")
os.chown(db, 65534, 65534)
p = heapsnap("sql", db, "SELECT count(*) FROM objects")
check(failed_cleanly(p, db) and "owned by" in p.stderr,
      "another user's database: %d %s" % (p.returncode, p.stderr.strip()))
p = heapsnap("summary", snap)
check(failed_cleanly(p, db) and "owned by" in p.stderr,
      "another user's SNAP.db next to the snapshot: %d %s" % (p.returncode, p.stderr.strip()))

# 5. `cp -p old.hsnap app.hsnap` kept the old database (newer than the snapshot, same name).
old_jsonl = os.path.join(tmp, "old.jsonl")
with open(os.path.join(FIXTURES, "small.jsonl")) as f:
    lines = [l for l in f if '"t":"object"' not in l or '"addr":6144' not in l]
with open(old_jsonl, "w") as f:
    f.writelines(l for l in lines if '6144' not in l)
app = os.path.join(tmp, "app.hsnap")
old = os.path.join(tmp, "old.hsnap")
check(heapsnap("convert", os.path.join(FIXTURES, "small.jsonl"), "-o", app).returncode == 0,
      "convert app")
check(heapsnap("convert", old_jsonl, "-o", old).returncode == 0, "convert old")


def count_objects(snap):
    p = heapsnap("sql", snap, "SELECT count(*) FROM objects", "--format", "json")
    return json.loads(p.stdout)[0]["count(*)"] if p.returncode == 0 else p.stderr.strip()


objects_new = count_objects(app)
time.sleep(0.05)
shutil.copy2(old, app)  # cp -p: the database stays newer than the snapshot
objects_old = count_objects(app)
check(objects_new == 9 and objects_old == 8,
      "cp -p over a snapshot: summary reads the new file (%s then %s objects)" % (objects_new,
                                                                                  objects_old))

# 7. fts3_tokenizer's two-argument form calls through a pointer the SQL chooses.
snap, db = fresh("fts")
p = heapsnap("sql", db, "SELECT fts3_tokenizer('simple', X'4141414141414141')")
p2 = heapsnap("sql", db, "SELECT fts3_tokenizer('simple')")
check(p.returncode == 1 and p2.returncode == 1 and p.returncode >= 0,
      "fts3_tokenizer refused: %d %s / %d %s" % (p.returncode, p.stderr.strip(), p2.returncode,
                                                 p2.stderr.strip()))
# 7. VACUUM INTO and ATTACH create files wherever the SQL says.
copy = os.path.join(tmp, "copy.db")
p = heapsnap("sql", db, "VACUUM INTO '%s'" % copy)
check(p.returncode == 1 and not os.path.exists(copy),
      "VACUUM INTO refused: %d %s" % (p.returncode, p.stderr.strip()))
attached = os.path.join(tmp, "attached.db")
p = heapsnap("sql", db, "ATTACH '%s' AS x; CREATE TABLE x.t(a)" % attached)
check(p.returncode == 1 and not os.path.exists(attached),
      "ATTACH refused: %d %s" % (p.returncode, p.stderr.strip()))
# The shell is the same connection: the statement is refused there too.
shell = subprocess.run([HEAPSNAP, "shell", db], input="VACUUM INTO '%s';\n" % copy,
                       capture_output=True, text=True, timeout=30)
check(not os.path.exists(copy), "VACUUM INTO refused in the shell: %s" % shell.stderr.strip())

# 14. check validates what the analyses rely on: sizes that overflow a sum, NUL in names.
big = os.path.join(tmp, "big.jsonl")
with open(os.path.join(FIXTURES, "small.jsonl")) as f, open(big, "w") as out:
    for l in f:
        out.write(l.replace('"size":232', '"size":450000000000000000'))
bigsnap = os.path.join(tmp, "big.hsnap")
p = heapsnap("convert", big, "-o", bigsnap)
if p.returncode == 0:
    c = heapsnap("check", bigsnap)
    s = heapsnap("summary", bigsnap)
    check(c.returncode == 1 and s.returncode == 1 and "offset" in c.stderr,
          "a size of 4.5e17: check %d %s; summary %d" % (c.returncode, c.stderr.strip(),
                                                         s.returncode))
else:
    check(p.returncode == 1 and "\n" not in p.stderr.strip(),
          "convert refuses a size of 4.5e17: %s" % p.stderr.strip())

# A root name with a NUL byte: redact exited 2, the usage-error code.  The reader now rejects
# NUL in the names the analyses use as C strings; convert may refuse it first.
nul = os.path.join(tmp, "nul.jsonl")
with open(os.path.join(FIXTURES, "small.jsonl")) as f, open(nul, "w") as out:
    for l in f:
        out.write(l.replace('"name":"sys.modules', '"name":"a\\u0000b sys.modules'))
nulsnap = os.path.join(tmp, "nul.hsnap")
p = heapsnap("convert", nul, "-o", nulsnap)
if p.returncode == 0:
    c = heapsnap("check", nulsnap)
    r = heapsnap("redact", nulsnap, "-o", os.path.join(tmp, "r.hsnap"))
    check(c.returncode == 1 and r.returncode == 1 and "NUL" in c.stderr,
          "a NUL in a root name: check %d %s; redact %d" % (c.returncode, c.stderr.strip(),
                                                            r.returncode))
else:
    check(p.returncode == 1, "convert refuses a NUL in a root name: " + p.stderr.strip())

shutil.rmtree(tmp)
print("%d failed" % failures)
sys.exit(1 if failures else 0)
