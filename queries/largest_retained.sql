-- name: largest_retained
-- help: the objects that keep the most memory alive (retained size), with their paths
-- param: ?1 limit: rows to print (default 20)
SELECT printf('0x%x', o.addr) AS addr, t.name AS type, o.size AS size, o.retained AS retained,
       hs_path(o.id) AS path
FROM (SELECT id FROM objects ORDER BY retained DESC, addr LIMIT coalesce(?1, 20)) top
JOIN objects o ON o.id = top.id JOIN types t ON t.id = o.type_id
ORDER BY o.retained DESC, o.addr;
