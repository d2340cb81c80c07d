-- name: garbage_cycles
-- help: GC garbage grouped by strongly connected component, largest first, with its types
-- param: ?1 limit: rows to print (default all)
WITH per_type AS (
  SELECT o.scc AS scc, t.name AS type, count(*) AS n, sum(o.size) AS bytes
  FROM objects o JOIN types t ON t.id = o.type_id
  WHERE o.unreachable
  GROUP BY o.scc, o.type_id
  ORDER BY n DESC, type)
SELECT scc, sum(n) AS objects, sum(bytes) AS bytes, group_concat(type || ' x' || n, ', ') AS types
FROM per_type
GROUP BY scc
ORDER BY bytes DESC, objects DESC, scc
LIMIT coalesce(?1, -1);
