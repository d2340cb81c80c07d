-- diff_new.sql — `heapsnap diff OLD NEW`, section "new objects" (analyzer/cli/cmd_diff.c): the ?1
-- objects of NEW (main) with no object of the same address and type name in OLD (`old`), largest
-- retained size first, each with its path from a root.
SELECT printf('0x%x', addr) AS addr, type, size, retained, hs_path(id) AS path FROM
  (SELECT o.id, o.addr, t.name AS type, o.size, o.retained
   FROM main.objects o JOIN main.types t ON t.id = o.type_id
   WHERE NOT EXISTS (SELECT 1 FROM old.objects p JOIN old.types pt ON pt.id = p.type_id
                     WHERE p.addr = o.addr AND pt.name = t.name)
   ORDER BY o.retained DESC, o.addr LIMIT ?1)
