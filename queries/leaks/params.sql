-- params.sql — the leak report's parameters, temp.leak_params (README.md): big, the "large"
-- retained size (?2, the --min-bytes floor; when ?1 is true, 1% of the heap if that is larger),
-- cnt (?3, --min-count), lim (?4, rows per section) and nbase (?5, the number of baselines).
-- Part of the leak report: analyzer/report/leaks.c runs it first, binding the parameters.
DROP TABLE IF EXISTS temp.leak_params;
CREATE TEMP TABLE leak_params AS SELECT
CASE WHEN ?1 AND coalesce(sum(size), 0) / 100 > ?2 THEN sum(size) / 100 ELSE ?2 END AS big,
?3 AS cnt, ?4 AS lim, ?5 AS nbase FROM objects;
