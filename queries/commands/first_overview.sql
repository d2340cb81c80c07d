-- first_overview.sql — `heapsnap summary`'s overview on a fresh snapshot, before its database is
-- written (analyzer/cli/first_answer.c): summary_overview.sql's columns, spelled the same way,
-- from the counts the analysis gave (the one row of first_counts, a temporary table of the
-- partial database in memory) and the partial database's small tables.
SELECT c.snapshot AS snapshot, c.database AS database, c.producer AS producer,
c.runtime || ' ' || c.runtime_version AS runtime,
c.objects AS objects, c.gc_tracked AS gc_tracked, c.bytes AS bytes,
CASE WHEN c.memory IS NOT NULL THEN c.memory ELSE 'not captured' END AS memory,
c.edges AS edges,
(SELECT count(*) FROM weakrefs) AS weak,
(SELECT count(*) FROM roots) AS roots,
(SELECT count(*) FROM types) AS types,
c.garbage AS garbage, c.garbage_bytes AS garbage_bytes, c.unrooted AS unrooted,
c.conservative AS conservative
FROM first_counts c
