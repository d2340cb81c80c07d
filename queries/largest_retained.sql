-- name: largest_retained
-- help: the objects that keep the most memory alive (retained size), with their paths
-- param: ?1 limit: rows to print (default 20)
SELECT printf('0x%x', addr) AS addr, hs_type(id) AS type, size, retained, hs_path(id) AS path
FROM (SELECT id, addr, size, retained FROM objects
      ORDER BY retained DESC, addr LIMIT coalesce(?1, 20))
ORDER BY retained DESC, addr;
