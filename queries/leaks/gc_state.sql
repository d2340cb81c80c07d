-- gc_state.sql — leak report section 8 (gc-state): objects per generation, and the collector's
-- counts and thresholds.
-- Part of the leak report: analyzer/report/leaks.c runs it (order and parameters: README.md).
INSERT INTO leak_findings
SELECT 8, 'gc-state', CASE WHEN generation = 3 THEN 'permanent generation'
ELSE 'generation ' || generation END, count(*), sum(size), NULL, NULL, NULL, NULL,
CASE WHEN generation < 3 THEN 'count ' || coalesce((SELECT value FROM meta
  WHERE key = 'gc.count'), '?') || ', thresholds ' || coalesce((SELECT value FROM meta
  WHERE key = 'gc.threshold'), '?') || ' (generations 0,1,2)'
  ELSE
      'in the permanent generation (where gc.freeze() moves objects, and 3.12+ keeps some of its own startup objects): never collected' END ||
printf('; %d unreachable', sum(unreachable))
FROM objects WHERE generation IS NOT NULL GROUP BY generation ORDER BY generation;
