-- report_types_grown.sql — `heapsnap report --baseline` (analyzer/cli/cmd_report.c): the 10
-- types whose objects grew most from the oldest snapshot to the main one (temp.report_types,
-- report_type_counts.sql): type, its counts per snapshot oldest first, joined by ' > '.
SELECT type, group_concat(n, ' > ') FROM (SELECT r.type, r.k, r.n FROM report_types r
JOIN (SELECT type, max(CASE WHEN k = (SELECT max(k) FROM report_types) THEN n END)
  - coalesce(max(CASE WHEN k = 0 THEN n END), 0) AS d
  FROM report_types GROUP BY type ORDER BY d DESC LIMIT 10) g USING (type)
ORDER BY g.d DESC, r.type, r.k) GROUP BY type ORDER BY min(rowid)
