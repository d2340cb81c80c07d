-- unbounded_cache.sql — leak report section 2 (unbounded-cache): large (or, against baselines,
-- growing) containers of module globals and class attributes.
-- Part of the leak report: analyzer/report/leaks.c runs it (order and parameters: README.md).
INSERT INTO leak_findings
SELECT 2, 'unbounded-cache', c.subject, coalesce(tr.e1, 0), o.size, o.retained,
CASE WHEN p.nbase > 0 THEN tr.text END, o.id, hs_path(o.id),
printf('%s of %d entries retaining %d bytes', c.type, coalesce(tr.e1, 0), o.retained) ||
CASE WHEN (tr.nsnap = p.nbase + 1 AND p.nbase > 0 AND ((tr.flat = 0 AND tr.e1 - tr.e0 >= p.cnt)
    OR (tr.rflat = 0 AND tr.r1 - tr.r0 >= p.big)))
    THEN printf('; grew by %d entries and %d bytes per snapshot',
  (tr.e1 - tr.e0) / p.nbase, (tr.r1 - tr.r0) / p.nbase) ELSE '' END
FROM leak_containers c JOIN objects o ON o.id = c.id LEFT JOIN leak_trend tr ON tr.id = c.id
JOIN leak_params p
WHERE o.retained >= p.big OR ((tr.nsnap = p.nbase + 1 AND p.nbase > 0 AND ((tr.flat = 0
    AND tr.e1 - tr.e0 >= p.cnt) OR (tr.rflat = 0 AND tr.r1 - tr.r0 >= p.big)))
    AND c.type NOT IN ('list', 'deque', 'bytearray'))
ORDER BY o.retained DESC, c.subject LIMIT (SELECT lim FROM leak_params);
