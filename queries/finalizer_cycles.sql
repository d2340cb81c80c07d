-- name: finalizer_cycles
-- help: garbage components holding objects whose type defines __del__ or tp_finalize
-- param: ?1 limit: rows to print (default all)
WITH per_type AS (
  SELECT o.scc AS scc, t.name AS type, t.finalizer AS finalizer, count(*) AS n,
         sum(o.size) AS bytes
  FROM objects o JOIN types t ON t.id = o.type_id
  WHERE o.unreachable
  GROUP BY o.scc, o.type_id
  ORDER BY n DESC, type)
SELECT scc, sum(n) AS objects, sum(bytes) AS bytes, sum(n * finalizer) AS finalizers,
       group_concat(type || ' x' || n, ', ') AS types
FROM per_type
GROUP BY scc
HAVING sum(finalizer) > 0
ORDER BY bytes DESC, scc
LIMIT coalesce(?1, -1);
