-- leaks_findings.sql — `heapsnap leaks SNAP --format csv|json` (analyzer/cli/cmd_leaks.c): every
-- finding of the leak report (temp.leak_findings, queries/leaks/) in order, with its section and
-- pattern, its object's address and allocation site (file:line, NULL without one).
SELECT section, pattern, subject, objects, bytes, retained, trend,
       CASE WHEN obj IS NULL THEN NULL
            ELSE printf('0x%x', (SELECT addr FROM objects WHERE id = obj)) END AS addr, path,
       (SELECT s.filename || ':' || s.lineno FROM objects o JOIN sites s ON s.id = o.site
        WHERE o.id = obj) AS site, detail
FROM leak_findings ORDER BY rowid
