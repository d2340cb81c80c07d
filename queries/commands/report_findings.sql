-- report_findings.sql — `heapsnap report SNAP` (analyzer/cli/cmd_report.c): the findings of leak
-- report section ?1 (temp.leak_findings) in order: subject, objects, bytes, retained, trend, the
-- object's address, path, detail, and whether the object exists.
SELECT f.subject, f.objects, f.bytes, f.retained, f.trend, printf('0x%x', o.addr),
       f.path, detail, o.id IS NOT NULL
FROM leak_findings f LEFT JOIN objects o ON o.id = f.obj
WHERE section = ?1 ORDER BY f.rowid
