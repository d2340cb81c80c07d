-- report_refers_to.sql — `heapsnap report` (analyzer/cli/cmd_report.c): what object ?1 refers
-- to on its page, the ?2 retaining most: edge label, address, type, retained, whether it has a
-- page (temp.report_objs), its name (temp.object_names, queries/leaks/names.sql) or else its
-- value's first 80 characters, unreachable.  report_referred_by.sql gives the same columns.
SELECT e.label, printf('0x%x', d.addr), hs_type(d.id), d.retained,
       d.id IN (SELECT id FROM report_objs WHERE page),
       coalesce((SELECT name FROM object_names WHERE id = d.id), CASE WHEN length(d.value) > 80
       THEN substr(d.value, 1, 80) || '…' ELSE d.value END), d.unreachable
FROM edges e JOIN objects d ON d.id = e.dst
WHERE e.src = ?1 ORDER BY d.retained DESC, e.id LIMIT ?2
