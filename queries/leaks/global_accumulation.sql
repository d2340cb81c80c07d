-- global_accumulation.sql — leak report section 3 (global-accumulation): module-level containers
-- that grew in every interval, in entries or in retained bytes (GROWING), the most bytes first.
-- Part of the leak report: analyzer/report/leaks.c runs it (order and parameters: README.md).
INSERT INTO leak_findings
SELECT 3, 'global-accumulation', c.subject, tr.e1, o.size, o.retained, tr.text, o.id,
hs_path(o.id),
printf('%s grew in each of %d intervals in %s: +%d entries (%d per snapshot),'
  || ' +%d bytes retained (%d per snapshot)', c.type, p.nbase,
  CASE WHEN NOT (tr.rflat = 0 AND tr.r1 - tr.r0 >= p.big) THEN 'entries'
  WHEN NOT (tr.flat = 0 AND tr.e1 - tr.e0 >= p.cnt) THEN 'retained bytes'
      ELSE 'entries and retained bytes' END,
  tr.e1 - tr.e0, (tr.e1 - tr.e0) / p.nbase, tr.r1 - tr.r0, (tr.r1 - tr.r0) / p.nbase)
FROM leak_containers c JOIN objects o ON o.id = c.id JOIN leak_trend tr ON tr.id = c.id
JOIN leak_params p WHERE c.kind IN ('module', 'instance') AND (tr.nsnap = p.nbase + 1
    AND p.nbase > 0 AND ((tr.flat = 0 AND tr.e1 - tr.e0 >= p.cnt) OR (tr.rflat = 0
    AND tr.r1 - tr.r0 >= p.big))) ORDER BY tr.r1 - tr.r0 DESC, tr.e1 - tr.e0 DESC, c.subject
LIMIT (SELECT lim FROM leak_params);
