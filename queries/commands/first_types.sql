-- first_types.sql — `heapsnap summary`'s types on a fresh snapshot, before its database is
-- written (analyzer/cli/first_answer.c): type_histogram.sql's rows from the per-type totals the
-- analysis gave (first_types, a temporary table of the partial database in memory, one row per
-- type with objects), ?2 the objects' total size.
-- param: ?1 limit: rows to print (default all)
SELECT t.name AS type, t.module AS module, f.count AS count, f.bytes AS bytes,
       round(100.0 * f.bytes / ?2, 1) AS percent
FROM first_types f JOIN types t ON t.id = f.type_id
ORDER BY bytes DESC, type
LIMIT coalesce(?1, -1);
