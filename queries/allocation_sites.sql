-- name: allocation_sites
-- help: objects, bytes, memory and retained memory per allocation line (objects.site: tracemalloc's most recent frame), the sites that keep the most memory alive first; empty unless the in-process capture ran while tracemalloc traced. retained_memory counts each object's retained memory unless its immediate dominator was allocated at the same line (which already counts it)
-- param: ?1 limit: rows to print (default 20)
SELECT s.filename AS filename, s.lineno AS lineno, count(*) AS objects, sum(o.size) AS bytes,
       sum(o.memory) AS memory,
       sum(CASE WHEN d.site IS o.site THEN 0 ELSE o.retained_memory END) AS retained_memory
FROM objects o JOIN sites s ON s.id = o.site LEFT JOIN objects d ON d.id = o.idom
GROUP BY o.site
ORDER BY retained_memory DESC, memory DESC, filename, lineno
LIMIT coalesce(?1, 20);
