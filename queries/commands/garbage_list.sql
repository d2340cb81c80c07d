-- garbage_list.sql — `heapsnap garbage SNAP` (analyzer/cli/cmd_objects.c): every object
-- gc.collect() would free (or the first ?1), by component then address, with a preview of its
-- value.
SELECT printf('0x%x', o.addr) AS addr, t.name AS type, o.size AS size,
       o.refcnt AS refcnt, o.scc AS scc, o.scc_size AS scc_size,
       substr(o.value, 1, 60) AS value
FROM objects o JOIN types t ON t.id = o.type_id WHERE o.unreachable
ORDER BY o.scc, o.addr LIMIT coalesce(?1, -1)
