-- path_dot.sql — `heapsnap path SNAP ADDR --dot` (analyzer/cli/cmd_object.c): hs_dot_write's rows
-- for the path to object ?1 (temp.path_chain): the objects root first as (id, NULL, label, NULL),
-- then the references between them as (src, dst, label, NULL).
SELECT * FROM (
  SELECT o.id, NULL, printf('%s at 0x%x', t.name, o.addr)
         || char(10) || printf('%lld B, %lld B retained', o.size, o.retained)
         || CASE WHEN o.depth = 0 THEN char(10) || 'root ' || coalesce((SELECT nullif(name, '')
              FROM roots WHERE obj = o.id ORDER BY rowid LIMIT 1), '(unnamed)') ELSE '' END,
         NULL
  FROM temp.path_chain chain JOIN objects o ON o.id = chain.id
  JOIN types t ON t.id = o.type_id
  ORDER BY o.depth)
UNION ALL
SELECT * FROM (
  SELECT e.src, o.id, nullif(e.label, ''), NULL
  FROM temp.path_chain chain JOIN objects o ON o.id = chain.id
  JOIN edges e ON e.id = o.parent_edge
  WHERE o.depth > 0 ORDER BY o.depth)
