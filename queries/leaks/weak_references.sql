-- weak_references.sql — leak report section 7 (weak-references): holders of many weak references
-- (dead ones, and weak caches), leaving out the interpreter's own weak references to classes
-- (subclass lists, ABC registries).
-- Part of the leak report: analyzer/report/leaks.c runs it (order and parameters: README.md).
INSERT INTO leak_findings
WITH w AS (SELECT e.src AS holder, w.ref, w.referent, hs_type(w.referent) AS rtype
  FROM weakrefs w JOIN referrers e ON e.dst = w.ref
  WHERE w.referent IS NULL OR w.referent NOT IN
  (SELECT src FROM edges WHERE label = '.__mro__')),
h AS (SELECT holder, count(*) AS n, sum(referent IS NULL) AS dead FROM w GROUP BY holder
  HAVING n >= 10),
rt AS (SELECT holder, group_concat(rtype || ' x' || k, ', ') AS types FROM
  (SELECT holder, rtype, count(*) AS k FROM w WHERE rtype IS NOT NULL
  GROUP BY holder, rtype ORDER BY k DESC) GROUP BY holder)
SELECT 7, 'weak-references',
      coalesce(hs_path(h.holder), hs_type(h.holder)), h.n, o.size,
o.retained, NULL, h.holder, hs_path(h.holder),
CASE WHEN h.dead > 0 THEN printf('%d dead weak references still held', h.dead) ||
  CASE WHEN h.n > h.dead THEN printf('; %d live', h.n - h.dead) ELSE '' END
  ELSE printf('weak cache of %d live references', h.n) END ||
coalesce(' to ' || rt.types, '')
FROM h JOIN objects o ON o.id = h.holder LEFT JOIN rt ON rt.holder = h.holder
ORDER BY h.dead DESC, h.n DESC LIMIT (SELECT lim FROM leak_params);
