-- diff_sites.sql — `heapsnap diff OLD NEW`, section "by allocation site" (analyzer/cli/cmd_diff.c):
-- per allocation site (file, line), the count, bytes and memory gained or lost from OLD (`old`) to
-- NEW (main), the ?1 largest changes in memory first.
WITH n AS (SELECT s.filename, s.lineno, count(*) AS c, sum(o.size) AS b,
                  sum(o.memory) AS m FROM main.objects o JOIN main.sites s ON s.id = o.site
           GROUP BY o.site),
p AS (SELECT s.filename, s.lineno, count(*) AS c, sum(o.size) AS b,
             sum(o.memory) AS m FROM old.objects o JOIN old.sites s ON s.id = o.site
      GROUP BY o.site)
SELECT filename, lineno, coalesce(n.c, 0) - coalesce(p.c, 0) AS count_delta,
       coalesce(n.b, 0) - coalesce(p.b, 0) AS bytes_delta,
       coalesce(n.m, 0) - coalesce(p.m, 0) AS memory_delta, coalesce(p.c, 0) AS old_count,
       coalesce(n.c, 0) AS new_count, coalesce(p.m, 0) AS old_memory,
       coalesce(n.m, 0) AS new_memory
FROM n FULL OUTER JOIN p USING (filename, lineno)
WHERE count_delta != 0 OR memory_delta != 0
ORDER BY abs(memory_delta) DESC, filename, lineno LIMIT ?1
