-- name: type_histogram
-- help: objects and bytes per type, most bytes first
-- param: ?1 limit: rows to print (default all)
SELECT t.name AS type, t.module AS module, count(*) AS count, sum(o.size) AS bytes,
       round(100.0 * sum(o.size) / (SELECT sum(size) FROM objects), 1) AS percent
FROM objects o JOIN types t ON t.id = o.type_id
GROUP BY o.type_id
ORDER BY bytes DESC, type
LIMIT coalesce(?1, -1);
