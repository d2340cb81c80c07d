-- cycles_dot.sql — `heapsnap cycles SNAP --dot` (analyzer/cli/cmd_objects.c): hs_dot_write's rows
-- for the GC garbage, cluster by cluster: the objects of the ?1 largest components (-1: all) as
-- (id, NULL, label, cluster label), at most ?2 per component and ?3 in all, largest component
-- first; then the references among the objects drawn as (src, dst, label, NULL).
WITH c AS (SELECT scc, count(*) AS n, sum(size) AS bytes FROM objects
           WHERE unreachable GROUP BY scc ORDER BY bytes DESC, n DESC, scc LIMIT ?1),
ranked AS (SELECT c.scc, c.n, c.bytes, o.id, o.addr, o.size, o.type_id,
                  row_number() OVER (PARTITION BY c.scc ORDER BY o.addr) AS kk
           FROM c JOIN objects o ON o.scc = c.scc AND o.unreachable),
shown AS (SELECT * FROM (SELECT *, row_number() OVER (ORDER BY bytes DESC, n DESC,
                                                      scc, addr) AS k
                         FROM ranked WHERE kk <= ?2) WHERE k <= ?3)
SELECT * FROM (
  SELECT s.id, NULL, printf('%s at 0x%x', t.name, s.addr) || char(10)
         || printf('%lld B', s.size), printf('component %lld: %lld objects, %lld B', s.scc,
         s.n, s.bytes) || CASE WHEN count(*) OVER w < s.n
                               THEN printf(' (%lld drawn)', count(*) OVER w) ELSE '' END
  FROM shown s JOIN types t ON t.id = s.type_id WINDOW w AS (PARTITION BY s.scc)
  ORDER BY s.k)
UNION ALL
SELECT * FROM (
  SELECT e.src, e.dst, nullif(e.label, ''), NULL
  FROM shown s JOIN edges e ON e.src = s.id JOIN shown d ON d.id = e.dst
  ORDER BY s.k, e.id)
