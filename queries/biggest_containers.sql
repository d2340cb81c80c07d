-- name: biggest_containers
-- help: the objects holding the most references (lists, dicts, sets, ...)
-- param: ?1 limit: rows to print (default 20)
SELECT printf('0x%x', o.addr) AS addr, t.name AS type, o.nrefs AS refs, o.size AS size,
       o.retained AS retained
FROM objects o JOIN types t ON t.id = o.type_id
WHERE o.nrefs > 0
ORDER BY o.nrefs DESC, o.size DESC, o.addr
LIMIT coalesce(?1, 20);
