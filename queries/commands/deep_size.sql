-- deep_size.sql — `heapsnap deep SNAP ADDR` (analyzer/cli/cmd_object.c): the object ?1's own size,
-- deep size (hs_deep_size) and retained size, and the same three in memory when the snapshot has
-- it (FORMAT.md §4.5).
SELECT printf('0x%x', o.addr) AS addr, t.name AS type, o.size AS size,
       hs_deep_size(o.id) AS deep_size, o.retained AS retained, o.memory AS memory,
       hs_deep_memory(o.id) AS deep_memory, o.retained_memory AS retained_memory
FROM objects o JOIN types t ON t.id = o.type_id WHERE o.id = ?1
