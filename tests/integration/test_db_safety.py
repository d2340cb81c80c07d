"""test_db_safety.py — the analyzer opens databases defensively: a database of ours whose schema
was tampered with (a view calling heapsnap's SQL functions, a trigger) cannot run them, because
connections have trusted_schema=OFF and SQLITE_DBCONFIG_DEFENSIVE; a database that is not ours is
refused.

usage: test_db_safety.py HEAPSNAP FIXTURES_DIR
"""
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile

HEAPSNAP, FIXTURES = sys.argv[1], sys.argv[2]
failures = 0


def check(cond, what):
    global failures
    print(("ok: " if cond else "FAIL: ") + what)
    failures += not cond


def heapsnap(*args):
    return subprocess.run([HEAPSNAP, *args], capture_output=True, text=True)


tmp = tempfile.mkdtemp(prefix="hs-dbsafety-")
snap = os.path.join(tmp, "small.hsnap")
db = os.path.join(tmp, "small.db")
heapsnap("convert", os.path.join(FIXTURES, "small.jsonl"), "-o", snap)
p = heapsnap("load", snap, "-o", db)
check(p.returncode == 0, "load: " + p.stderr.strip())
# Our own functions work in direct SQL.
p = heapsnap("sql", db, "SELECT hs_type(id) FROM objects ORDER BY id LIMIT 1", "--format", "csv")
check(p.returncode == 0 and p.stdout.splitlines()[1:] == ["dict"], "hs_type works in direct SQL")

# Tamper with the schema: a view that calls an application function (which a trusted schema
# would let any database file run on the reader's behalf).
con = sqlite3.connect(db)
con.execute("CREATE VIEW evil AS SELECT hs_type(id) AS t FROM objects")
con.commit()
con.close()
p = heapsnap("sql", db, "SELECT count(*) FROM evil")
check(p.returncode == 1 and "unsafe use of hs_type()" in p.stderr,
      "a view in the file cannot call hs_type(): " + p.stderr.strip())

# A SQLite file that is not one of ours is refused, not queried.
foreign = os.path.join(tmp, "foreign.db")
con = sqlite3.connect(foreign)
con.execute("CREATE TABLE objects(id)")
con.commit()
con.close()
p = heapsnap("sql", foreign, "SELECT count(*) FROM objects")
check(p.returncode == 1 and foreign in p.stderr, "a foreign database is refused: " + p.stderr.strip())

shutil.rmtree(tmp)
print("%d failed" % failures)
sys.exit(1 if failures else 0)
