-- diff_types.sql — `heapsnap diff OLD NEW`, section "by type" (analyzer/cli/cmd_diff.c): per type
-- name, the count and bytes gained or lost from OLD (attached as `old`) to NEW (main), the ?1
-- largest changes in bytes first.
WITH n AS (SELECT t.name AS type, count(*) AS c, sum(o.size) AS b
           FROM main.objects o JOIN main.types t ON t.id = o.type_id GROUP BY t.name),
p AS (SELECT t.name AS type, count(*) AS c, sum(o.size) AS b
      FROM old.objects o JOIN old.types t ON t.id = o.type_id GROUP BY t.name)
SELECT type, coalesce(n.c, 0) - coalesce(p.c, 0) AS count_delta,
       coalesce(n.b, 0) - coalesce(p.b, 0) AS bytes_delta, coalesce(p.c, 0) AS old_count,
       coalesce(n.c, 0) AS new_count, coalesce(p.b, 0) AS old_bytes, coalesce(n.b, 0) AS new_bytes
FROM n FULL OUTER JOIN p USING (type) WHERE count_delta != 0 OR bytes_delta != 0
ORDER BY abs(bytes_delta) DESC, type LIMIT ?1
