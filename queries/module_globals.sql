-- name: module_globals
-- help: module-level names by the memory they keep alive (retained size)
-- param: ?1 limit: rows to print (default 20)
SELECT hs_path(module_id) AS module, name, type, size, retained
FROM (SELECT m.id AS module_id, g.label AS name, t.name AS type, v.size AS size,
             v.retained AS retained
      FROM objects m
      JOIN types mt ON mt.id = m.type_id AND mt.name = 'module'
      JOIN edges d ON d.src = m.id AND d.label = '.__dict__'
      JOIN edges g ON g.src = d.dst
      JOIN objects v ON v.id = g.dst
      JOIN types t ON t.id = v.type_id
      WHERE g.label LIKE '[%'
      ORDER BY v.retained DESC, m.id, g.id
      LIMIT coalesce(?1, 20))
ORDER BY retained DESC;
