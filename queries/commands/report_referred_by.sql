-- report_referred_by.sql — `heapsnap report` (analyzer/cli/cmd_report.c): what refers to object
-- ?1 on its page, the ?2 retaining most, with report_refers_to.sql's columns (the referrer's).
SELECT e.label, printf('0x%x', s.addr), hs_type(s.id), s.retained,
       s.id IN (SELECT id FROM report_objs WHERE page),
       coalesce((SELECT name FROM object_names WHERE id = s.id), CASE WHEN length(s.value) > 80
       THEN substr(s.value, 1, 80) || '…' ELSE s.value END), s.unreachable
FROM referrers r JOIN edges e ON e.id = r.edge JOIN objects s ON s.id = r.src
WHERE r.dst = ?1 ORDER BY s.retained DESC, e.id LIMIT ?2
