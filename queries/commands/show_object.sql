-- show_object.sql — `heapsnap show SNAP ADDR` (analyzer/cli/cmd_object.c): the object ?1
-- (relation 'object'), then the first ?2 of its referents in edge order and of its referrers in
-- address order, each with the reference's label and kind, a preview of the value and the
-- allocation site (file:line, when tracemalloc traced the capture).
SELECT 'object' AS relation, printf('0x%x', o.addr) AS addr, t.name AS type,
       o.size AS size, o.retained AS retained, o.refcnt AS refcnt, NULL AS label,
       NULL AS kind, substr(o.value, 1, 60) AS value,
       (SELECT filename || ':' || lineno FROM sites WHERE id = o.site) AS site
FROM objects o JOIN types t ON t.id = o.type_id WHERE o.id = ?1
UNION ALL
SELECT * FROM (
  SELECT 'referent', printf('0x%x', d.addr), t.name, d.size, d.retained, d.refcnt, e.label,
         e.kind, substr(d.value, 1, 60),
         (SELECT filename || ':' || lineno FROM sites WHERE id = d.site)
  FROM edges e JOIN objects d ON d.id = e.dst JOIN types t ON t.id = d.type_id
  WHERE e.src = ?1 ORDER BY e.id LIMIT ?2)
UNION ALL
SELECT * FROM (
  SELECT 'referrer', printf('0x%x', s.addr), t.name, s.size, s.retained, s.refcnt, e.label,
         e.kind, substr(s.value, 1, 60),
         (SELECT filename || ':' || lineno FROM sites WHERE id = s.site)
  FROM referrers r JOIN edges e ON e.id = r.edge JOIN objects s ON s.id = r.src
  JOIN types t ON t.id = s.type_id
  WHERE r.dst = ?1 ORDER BY s.addr, e.id LIMIT ?2)
