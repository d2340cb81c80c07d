-- name: largest_objects
-- help: the largest objects by their own size
-- param: ?1 limit: rows to print (default 20)
SELECT printf('0x%x', o.addr) AS addr, t.name AS type, o.size AS size, o.retained AS retained,
       substr(o.value, 1, 60) AS value
FROM objects o JOIN types t ON t.id = o.type_id
ORDER BY o.size DESC, o.addr
LIMIT coalesce(?1, 20);
