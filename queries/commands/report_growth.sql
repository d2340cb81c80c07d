-- report_growth.sql — `heapsnap report SNAP --baseline OLD...` (analyzer/cli/cmd_report.c): a
-- growth chart's bars, one per snapshot of the leak report's series (temp.leak_snapshots) in
-- order: its name and its heap's bytes (?1 = 0) or objects (?1 = 1).
SELECT name, CASE ?1 WHEN 0 THEN bytes ELSE objects END FROM leak_snapshots ORDER BY k
