-- report_entries.sql — `heapsnap report --baseline` (analyzer/cli/cmd_report.c): container ?1's
-- chart, one bar per snapshot (temp.leak_series): the snapshot's name, the container's entries.
SELECT s.name, l.entries FROM leak_series l JOIN leak_snapshots s ON s.k = l.k
WHERE l.id = ?1 ORDER BY l.k
