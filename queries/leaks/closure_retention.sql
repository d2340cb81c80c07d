-- closure_retention.sql — leak report section 4 (closure-retention): groups of closures and of
-- bound methods (leak_groups) that hold a large size: per group its count, bytes, what it holds, a
-- representative (the member retaining the most), the variable of the largest cell or the type of
-- __self__, and the object most of its members are held by (their immediate dominator).
-- Part of the leak report: analyzer/report/leaks.c runs it (order and parameters: README.md).
INSERT INTO leak_findings
WITH f AS (SELECT g.*, coalesce((SELECT v.value FROM edges e JOIN objects v ON v.id = e.dst
  WHERE e.src = g.grp AND e.label = '.co_qualname'),
  (SELECT (SELECT n.name FROM leak_func_names n WHERE n.id = c.func)
      FROM leak_callables c WHERE c.id = g.rep)) AS name,
  (SELECT v.value FROM edges e JOIN objects v ON v.id = e.dst WHERE e.src = g.grp
  AND e.label = '.co_filename') AS file
  FROM leak_groups g JOIN leak_params p WHERE g.held >= p.big)
SELECT 4, 'closure-retention',
      f.name, f.n, f.b, f.held, NULL, f.rep, hs_path(f.rep),
printf('%d %s%s of %s%s %s %d bytes', f.n,
  CASE f.kind WHEN 'closure' THEN 'closure' ELSE 'bound method' END,
  CASE WHEN f.n > 1 THEN 's' ELSE '' END, f.name, coalesce(' (' || f.file || ')', ''),
  CASE WHEN f.n > 1 THEN 'hold' ELSE 'holds' END, f.held) ||
CASE WHEN f.kind = 'closure' THEN coalesce((SELECT
  printf('; %sclosure cell %s holds a %s retaining %d bytes',
  CASE WHEN f.n > 1 THEN 'the largest''s ' ELSE '' END,
  coalesce((SELECT v.value FROM edges fv JOIN edges ve ON ve.src = fv.dst AND ve.label = t.label
      JOIN objects v ON v.id = ve.dst WHERE fv.src = f.grp
      AND fv.label = '.co_freevars'), (SELECT v.value FROM edges ln
      JOIN edges ve ON ve.src = ln.dst JOIN objects v ON v.id = ve.dst WHERE ln.src = f.grp
      AND ln.label = '<co_localsplusnames>' AND ve.label = '[' || ((SELECT count(*) FROM edges n
      WHERE n.src = ln.dst) - (SELECT count(*) FROM edges n
      WHERE n.src = ce.dst) + CAST(substr(t.label, 2, length(t.label) - 2) AS INTEGER))
      || ']'), t.label), hs_type(x.dst), cell.retained)
  FROM edges ce JOIN edges t ON t.src = ce.dst JOIN objects cell ON cell.id = t.dst
  JOIN edges x ON x.src = cell.id WHERE ce.src = f.rep AND ce.label = '.__closure__'
  ORDER BY cell.retained DESC LIMIT 1), '')
ELSE coalesce((SELECT printf('; %s __self__ (a %s) retaining %d bytes',
  CASE WHEN f.n > 1 THEN 'each keeps its' ELSE 'it keeps its' END, hs_type(x.dst),
  o.retained) FROM edges x JOIN objects o ON o.id = x.dst
  WHERE x.src = f.rep AND x.label = '.__self__'), '') END ||
CASE WHEN f.n > 1 AND f.holder IS NOT NULL THEN printf('; %s held by %s',
  CASE WHEN f.k = f.n THEN 'all' ELSE f.k || ' of them' END,
  coalesce(hs_path(f.holder), hs_type(f.holder))) ELSE '' END
FROM f ORDER BY f.held DESC, f.rep LIMIT (SELECT lim FROM leak_params);
