-- path_root.sql — `heapsnap path SNAP ADDR`'s note (analyzer/cli/cmd_object.c): whether the root
-- of the path to object ?1 (the chain of path_rows.sql) is held from outside the snapshot's
-- graph: references its refcount counts and no edge shows, and no named root explains.
WITH RECURSIVE chain(id, n) AS (
  SELECT ?1, 0
  UNION ALL
  SELECT e.src, chain.n + 1 FROM chain JOIN objects o ON o.id = chain.id
  JOIN edges e ON e.id = o.parent_edge
  WHERE o.depth > 0 AND chain.n < (SELECT depth FROM objects WHERE id = ?1))
SELECT o.ext_refs > 0 AND NOT o.immortal AND NOT
       EXISTS (SELECT 1 FROM roots r WHERE r.obj = o.id)
FROM chain JOIN objects o ON o.id = chain.id
ORDER BY chain.n DESC LIMIT 1
