-- trend.sql — leak_trend: per container, the snapshots it is in, the intervals in which its
-- entries (flat) and its retained size (rflat) did not grow, first and last entries and retained
-- sizes, and the series as text ("2000 > 4000 > 6000").
-- Part of the leak report: analyzer/report/leaks.c runs it (order and parameters: README.md).
DROP TABLE IF EXISTS temp.leak_trend;
CREATE TEMP TABLE leak_trend AS
WITH s AS (SELECT id, k, entries, retained,
  lag(entries) OVER w AS pe, lag(retained) OVER w AS pr, first_value(entries) OVER w AS e0,
  first_value(retained) OVER w AS r0
  FROM leak_series WINDOW w AS (PARTITION BY id ORDER BY k)),
txt AS (SELECT id, group_concat(entries, ' > ') AS e, group_concat(retained, ' > ') AS r
  FROM (SELECT * FROM leak_series ORDER BY id, k) GROUP BY id)
SELECT s.id AS id, count(*) AS
      nsnap, sum(pe IS NOT NULL AND entries <= pe) AS flat,
sum(pr IS NOT NULL AND retained <= pr) AS rflat,
max(e0) AS e0, max(r0) AS r0,
max(CASE WHEN k = (SELECT nbase FROM leak_params) THEN entries END) AS e1,
max(CASE WHEN k = (SELECT nbase FROM leak_params) THEN retained END) AS r1,
'entries ' || txt.e || '; retained ' || txt.r AS text
FROM s JOIN txt ON txt.id = s.id GROUP BY s.id;
CREATE INDEX temp.leak_trend_id ON leak_trend(id);
