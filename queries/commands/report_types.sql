-- report_types.sql — `heapsnap report SNAP` (analyzer/cli/cmd_report.c): the page's type table,
-- the ?1 types with the most bytes: name, objects, bytes, and the largest type's bytes (the
-- bars' scale).
SELECT t.name, count(*), sum(o.size), max(sum(o.size)) OVER ()
FROM objects o JOIN types t ON t.id = o.type_id
GROUP BY o.type_id ORDER BY 3 DESC LIMIT ?1
