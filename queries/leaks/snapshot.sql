-- snapshot.sql — the snapshot's own row of temp.leak_snapshots (README.md), k = ?1 (the number
-- of baselines: it comes last): its name and capture time from meta, its objects and bytes.
-- Part of the leak report: analyzer/report/leaks.c runs it after attaching the baselines.
INSERT INTO leak_snapshots SELECT ?1, (SELECT value FROM meta WHERE key = 'snapshot'),
(SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'time_ns'), count(*), sum(size) FROM objects;
