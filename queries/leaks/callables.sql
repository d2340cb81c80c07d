-- callables.sql — closures and bound methods, judged by group: the functions that have a
-- __closure__ and the bound methods, reachable from a root, with grp the code object of the
-- function (of the method's __func__; the function itself when it has no code edge).  holder is
-- what refers to the objects a member may share with others of its group: the closure tuple (to
-- its cells), or the method (to its __self__).  top is 0 for a member dominated by another member
-- of its group within three steps (a closure whose cell holds another closure of the same code, as
-- a chain of wrappers makes), whose retained size the other's already counts. leak_shared: what
-- members of a group share and no one else holds (a cell of several closures, the __self__ of
-- several methods), counted once for the group. leak_groups: per group (grp, kind) its members
-- (n), their bytes (b), what it holds (held), the member retaining the most (rep), and the object
-- holding most members (holder, k of them: their immediate dominator).  Every aggregate is
-- computed here once, in joins.
-- Part of the leak report: analyzer/report/leaks.c runs it (order and parameters: README.md).
DROP TABLE IF EXISTS temp.leak_callables;
CREATE TEMP TABLE leak_callables AS
SELECT 'closure' AS kind, f.id AS id, f.id AS func, c.dst AS holder, f.size AS size,
  f.retained AS retained, f.idom AS idom, coalesce((SELECT k.dst FROM edges k
  WHERE k.src = f.id AND k.label = '.__code__'), f.id) AS grp, 1 AS top
FROM objects f JOIN edges c ON c.src = f.id AND c.label = '.__closure__'
WHERE f.type_id IN (SELECT id FROM types WHERE name = 'function')
  AND f.idom IS NOT NULL AND NOT f.unreachable
UNION ALL
SELECT 'method', m.id, fe.dst, m.id, m.size, m.retained, m.idom,
  coalesce((SELECT k.dst FROM edges k WHERE k.src = fe.dst AND k.label = '.__code__'),
  fe.dst), 1
FROM objects m JOIN edges fe ON fe.src = m.id AND fe.label = '.__func__'
WHERE m.type_id IN (SELECT id FROM types WHERE name = 'method')
  AND m.idom IS NOT NULL AND NOT m.unreachable;
CREATE INDEX temp.leak_callables_id ON leak_callables(id);
CREATE INDEX temp.leak_callables_holder ON leak_callables(holder, grp);
UPDATE leak_callables AS x SET top = 0 WHERE EXISTS (SELECT 1 FROM objects a
LEFT JOIN objects b ON b.id = a.idom
JOIN leak_callables o ON o.id IN (a.id, a.idom, b.idom) AND o.grp = x.grp
  AND o.id <> x.id WHERE a.id = x.idom);
DROP TABLE IF EXISTS temp.leak_shared;
CREATE TEMP TABLE leak_shared AS SELECT DISTINCT c.grp AS grp, c.kind AS kind,
e.dst AS obj
FROM leak_callables c CROSS JOIN edges e ON e.src = c.holder
  AND (c.kind = 'closure' OR e.label = '.__self__')
CROSS JOIN objects s ON s.id = e.dst AND s.idom IS NOT c.holder
WHERE NOT EXISTS (SELECT 1 FROM referrers r WHERE r.dst = s.id AND NOT EXISTS
  (SELECT 1 FROM leak_callables h WHERE h.holder = r.src AND h.grp = c.grp));
DROP TABLE IF EXISTS temp.leak_groups;
CREATE TEMP TABLE leak_groups AS
WITH g AS (SELECT grp, kind, count(*) AS n, sum(size) AS b,
  sum(CASE WHEN top THEN retained ELSE 0 END) AS held, max(retained) AS most, id AS rep
  FROM leak_callables GROUP BY grp, kind),
s AS (SELECT s.grp, s.kind, sum(o.retained) AS held FROM leak_shared s
  JOIN objects o ON o.id = s.obj GROUP BY s.grp, s.kind),
h AS (SELECT grp, kind, idom AS holder, max(k) AS k FROM (SELECT grp, kind, idom,
  count(*) AS k FROM leak_callables GROUP BY grp, kind, idom) GROUP BY grp, kind)
SELECT g.grp, g.kind, g.n, g.b, g.held + coalesce(s.held, 0) AS held, g.rep, h.holder,
  h.k FROM g LEFT JOIN s ON s.grp = g.grp AND s.kind = g.kind
  LEFT JOIN h ON h.grp = g.grp AND h.kind = g.kind;
