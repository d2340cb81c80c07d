-- path_chain.sql — `heapsnap path SNAP ADDR` (analyzer/cli/cmd_object.c): temp.path_chain, the
-- objects on the shortest path from a root to object ?1 (parent_edge walked up), n steps from it;
-- path_rows.sql, path_dot.sql and path_root.sql read it.
DROP TABLE IF EXISTS temp.path_chain;
CREATE TEMP TABLE path_chain AS
WITH RECURSIVE chain(id, n) AS (
  SELECT ?1, 0
  UNION ALL
  SELECT e.src, chain.n + 1 FROM chain JOIN objects o ON o.id = chain.id
  JOIN edges e ON e.id = o.parent_edge
  WHERE o.depth > 0 AND chain.n < (SELECT depth FROM objects WHERE id = ?1))
SELECT id, n FROM chain;
