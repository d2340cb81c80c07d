-- leaks_section.sql — `heapsnap leaks SNAP` in table format (analyzer/cli/cmd_leaks.c): the
-- findings of section ?1 of the leak report (temp.leak_findings) in order, with their object's
-- address and allocation site (file:line, NULL without one).
SELECT subject, objects, bytes, retained, trend,
       CASE WHEN obj IS NULL THEN NULL
            ELSE printf('0x%x', (SELECT addr FROM objects WHERE id = obj)) END AS addr, path,
       (SELECT s.filename || ':' || s.lineno FROM objects o JOIN sites s ON s.id = o.site
        WHERE o.id = obj) AS site, detail
FROM leak_findings WHERE section = ?1 ORDER BY rowid
