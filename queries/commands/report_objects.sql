-- report_objects.sql — `heapsnap report` (analyzer/cli/cmd_report.c), after the leak report:
-- makes temp.report_objs, the objects the report shows: the ?1 with the largest retained sizes
-- a root reaches (in_tree; the treemap's), the ?2 largest of them with a page, and every
-- finding's object (with a page).  module is the nearest module whose __dict__ is on the
-- object's path (temp.report_mod walks up parent_edge until it meets one); name is the object's
-- own name (temp.object_names, queries/leaks/names.sql), or the name its module or class gives
-- it, or MODULE.__dict__ for a namespace.
DROP TABLE IF EXISTS temp.report_objs;
CREATE TEMP TABLE report_objs(id INTEGER PRIMARY KEY, idom INTEGER, retained INTEGER,
  addr INTEGER, type TEXT, label TEXT, name TEXT, module TEXT, path TEXT, in_tree INTEGER,
  page INTEGER, garbage INTEGER);
INSERT INTO report_objs SELECT o.id, o.idom, o.retained, o.addr, hs_type(o.id),
  coalesce((SELECT label FROM edges WHERE id = o.parent_edge),
  (SELECT name FROM roots WHERE obj = o.id LIMIT 1), ''), NULL, NULL, NULL, 1, 0,
  o.unreachable FROM objects o WHERE o.depth IS NOT NULL ORDER BY o.retained DESC, o.depth
  LIMIT ?1;
UPDATE report_objs SET page = 1 WHERE id IN (SELECT id FROM report_objs
  ORDER BY retained DESC LIMIT ?2);
INSERT INTO report_objs SELECT o.id, o.idom, o.retained, o.addr, hs_type(o.id),
  coalesce((SELECT label FROM edges WHERE id = o.parent_edge), ''), NULL, NULL, NULL, 0, 1,
  o.unreachable FROM leak_findings f JOIN objects o ON o.id = f.obj WHERE true
  ON CONFLICT(id) DO UPDATE SET page = 1;
CREATE INDEX IF NOT EXISTS temp.report_spaces ON leak_spaces(dict);
CREATE INDEX IF NOT EXISTS temp.report_named ON leak_named(id);
DROP TABLE IF EXISTS temp.report_mod;
CREATE TEMP TABLE report_mod AS WITH RECURSIVE up(id, cur, n, module) AS (
  SELECT id, id, 0, (SELECT owner FROM leak_spaces WHERE dict = id AND kind = 'module')
  FROM report_objs
  UNION ALL SELECT up.id, e.src, up.n + 1, (SELECT owner FROM leak_spaces WHERE
  dict = e.src AND kind = 'module') FROM up JOIN objects o ON o.id = up.cur
  JOIN edges e ON e.id = o.parent_edge WHERE up.module IS NULL AND up.n < 200)
SELECT id, module FROM up WHERE module IS NOT NULL;
UPDATE report_objs SET module = (SELECT module FROM report_mod m
  WHERE m.id = report_objs.id), path = hs_path(id);
UPDATE report_objs SET name = coalesce((SELECT name FROM object_names
  WHERE id = report_objs.id),
  (SELECT min(CASE n.kind WHEN 'module' THEN n.owner
    ELSE coalesce(report_objs.module || '.', '') || n.owner END || '.' || n.name)
    FROM leak_named n WHERE n.id = report_objs.id AND n.kind IN ('module', 'class')),
  (SELECT CASE s.kind WHEN 'module' THEN s.owner
    ELSE coalesce(report_objs.module || '.', '') || s.owner END || '.__dict__'
    FROM leak_spaces s WHERE s.dict = report_objs.id));
