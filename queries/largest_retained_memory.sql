-- name: largest_retained_memory
-- help: the objects that keep the most memory alive, counted as memory (retained_memory: allocations as the allocator rounds them), with their paths; empty when the capture gave no memory
-- param: ?1 limit: rows to print (default 20)
SELECT printf('0x%x', o.addr) AS addr, t.name AS type, o.size AS size, o.memory AS memory,
       o.retained AS retained, o.retained_memory AS retained_memory, hs_path(o.id) AS path
FROM (SELECT id FROM objects WHERE retained_memory IS NOT NULL
      ORDER BY retained_memory DESC, addr LIMIT coalesce(?1, 20)) top
JOIN objects o ON o.id = top.id JOIN types t ON t.id = o.type_id
ORDER BY o.retained_memory DESC, o.addr;
