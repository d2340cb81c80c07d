-- top_by_count.sql — `heapsnap top SNAP --by count` (analyzer/cli/cmd_objects.c): the ?1 types
-- with the most objects, with their module and total size.
SELECT t.name AS type, t.module AS module, count(*) AS count, sum(o.size) AS bytes
FROM objects o JOIN types t ON t.id = o.type_id GROUP BY o.type_id
ORDER BY count DESC, type LIMIT ?1
