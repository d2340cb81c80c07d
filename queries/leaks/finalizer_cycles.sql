-- finalizer_cycles.sql — leak report section 1 (finalizer-cycles): garbage components with a
-- finalizer, grouped by the finalizer's type and the component's shape (its types and counts:
-- identical cycles are one row with their count). A component of one object is no cycle: it refers
-- to itself (a self-reference), or is held only by garbage; an instance and its own __dict__ refer
-- to each other only when the instance refers to itself through its attributes.
-- Part of the leak report: analyzer/report/leaks.c runs it (order and parameters: README.md).
INSERT INTO leak_findings
WITH g AS (SELECT o.scc AS scc, t.name AS type, t.finalizer AS fin, count(*) AS n,
  sum(o.size) AS b, min(o.id) AS rep
  FROM objects o JOIN types t ON t.id = o.type_id WHERE o.unreachable
  GROUP BY o.scc, o.type_id),
c AS (SELECT scc, sum(n) AS n, sum(b) AS b, min(rep) AS rep,
  group_concat(type || ' x' || n, ', ') AS shape
  FROM (SELECT * FROM g ORDER BY scc, n DESC, type) GROUP BY scc HAVING sum(fin) > 0),
k AS (SELECT c.*, CASE WHEN c.n = 1 THEN CASE WHEN EXISTS (SELECT 1 FROM edges e
  WHERE e.src = c.rep AND e.dst = c.rep) THEN 'self' ELSE 'held' END
  WHEN c.n = 2 AND EXISTS (SELECT 1 FROM objects a JOIN edges e ON e.src = a.id
  AND e.label = '.__dict__' JOIN objects d ON d.id = e.dst AND d.unreachable
  AND d.scc = a.scc WHERE a.unreachable AND a.scc = c.scc) THEN 'self-dict'
  ELSE 'cycle' END AS kind FROM c)
SELECT 1, 'finalizer-cycles', g.type, sum(k.n), sum(k.b),
      sum(k.b), NULL, min(g.rep), NULL,
CASE k.kind WHEN 'cycle' THEN printf('%d unreachable cycle%s of the same shape: {%s}',
  count(*), CASE WHEN count(*) > 1 THEN 's' ELSE '' END, k.shape)
WHEN 'held' THEN printf('%d unreachable %s object%s in no cycle, held only by garbage',
  count(*), g.type, CASE WHEN count(*) > 1 THEN 's' ELSE '' END)
ELSE printf('%d unreachable %s object%s referring only to %s%s (a self-reference,'
  || ' no cycle of several objects): {%s}', count(*), g.type,
  CASE WHEN count(*) > 1 THEN 's' ELSE '' END,
  CASE WHEN count(*) > 1 THEN 'themselves' ELSE 'itself' END,
  CASE k.kind WHEN 'self-dict' THEN ' through their __dict__' ELSE '' END, k.shape) END
FROM g JOIN k ON k.scc = g.scc WHERE g.fin GROUP BY g.type, k.kind, k.shape
ORDER BY sum(k.b) DESC, g.type, k.shape LIMIT (SELECT lim FROM leak_params);
