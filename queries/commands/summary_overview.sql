-- summary_overview.sql — `heapsnap summary`'s one-row overview of a snapshot's database, printed
-- as aligned "key  value" lines (analyzer/cli/cmd_summary.c): where the snapshot and database are,
-- what captured it, counts and bytes, and the garbage and unrooted objects, which read
-- "not computed" after a streamed load (meta.analysis not 'complete').
SELECT (SELECT value FROM meta WHERE key = 'snapshot') AS snapshot,
(SELECT file FROM pragma_database_list WHERE name = 'main') AS database,
(SELECT value FROM meta WHERE key = 'producer') AS producer,
(SELECT value FROM meta WHERE key = 'runtime') || ' ' ||
(SELECT value FROM meta WHERE key = 'runtime_version') AS runtime,
(SELECT count(*) FROM objects) AS objects,
(SELECT count(*) FROM objects WHERE gc) AS gc_tracked,
(SELECT coalesce(sum(size), 0) FROM objects) AS bytes,
(SELECT CASE WHEN count(memory) THEN sum(memory) ELSE 'not captured' END
  FROM objects) AS memory,
(SELECT count(*) FROM edges) AS edges,
(SELECT count(*) FROM weakrefs) AS weak,
(SELECT count(*) FROM roots) AS roots,
(SELECT count(*) FROM types) AS types,
CASE WHEN (SELECT value FROM meta WHERE key = 'analysis') <> 'complete' THEN 'not computed'
    ELSE (SELECT count(*) FROM objects WHERE unreachable) END AS garbage,
CASE WHEN (SELECT value FROM meta WHERE key = 'analysis') <> 'complete' THEN 'not computed'
    ELSE (SELECT coalesce(sum(size), 0) FROM objects WHERE unreachable) END AS garbage_bytes,
CASE WHEN (SELECT value FROM meta WHERE key = 'analysis') <> 'complete' THEN 'not computed'
    ELSE (SELECT count(*) FROM objects WHERE depth IS NULL) END AS unrooted,
(SELECT count(*) FROM objects WHERE flags & 4) AS conservative
