-- report_type_counts.sql — `heapsnap report --baseline` (analyzer/cli/cmd_report.c): makes
-- temp.report_types(k, type, n), the objects per type name in each snapshot, with the main
-- snapshot's rows as k = ?1 (the number of baselines).  cmd_report.c adds each baseline bK's
-- rows (a schema name, which no parameter can give); report_types_grown.sql reads the table.
DROP TABLE IF EXISTS temp.report_types;
CREATE TEMP TABLE report_types AS SELECT ?1 AS k, t.name AS type, count(*) AS n
FROM objects o JOIN types t ON t.id = o.type_id GROUP BY t.name;
