-- report_grown.sql — `heapsnap report --baseline` (analyzer/cli/cmd_report.c): the first three
-- containers of the leak report's section 3 (global accumulation), whose entries get a chart:
-- object id, subject.
SELECT obj, subject FROM leak_findings WHERE section = 3 AND obj IS NOT NULL
ORDER BY rowid LIMIT 3
