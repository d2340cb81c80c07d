-- report_summary.sql — `heapsnap report SNAP` (analyzer/cli/cmd_report.c): the page's summary
-- table in one row: the snapshot's path, the runtime and its version, the objects, their bytes
-- (sys.getsizeof's sum) and memory (NULL when the capture did not give it), the GC garbage
-- objects, the roots and the references.
SELECT (SELECT value FROM meta WHERE key = 'snapshot'),
       (SELECT value FROM meta WHERE key = 'runtime') || ' ' ||
       (SELECT value FROM meta WHERE key = 'runtime_version'), count(*), sum(size),
       CASE WHEN count(memory) THEN sum(memory) END, sum(unreachable),
       (SELECT count(*) FROM roots), (SELECT count(*) FROM edges)
FROM objects
