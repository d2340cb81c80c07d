-- diff_grown.sql — `heapsnap diff OLD NEW`, section "containers that grew"
-- (analyzer/cli/cmd_diff.c): the ?1 objects matched by address and type name whose references or
-- size grew from OLD (`old`) to NEW (main), most references gained first, with their paths.
SELECT printf('0x%x', addr) AS addr, type, old_refs, new_refs, refs_delta, old_size,
       new_size, bytes_delta, hs_path(id) AS path FROM
  (SELECT n.id, n.addr, t.name AS type, p.nrefs AS old_refs,
          n.nrefs AS new_refs, n.nrefs - p.nrefs AS refs_delta, p.size AS old_size,
          n.size AS new_size, n.size - p.size AS bytes_delta
   FROM main.objects n JOIN main.types t ON t.id = n.type_id
   JOIN old.objects p ON p.addr = n.addr JOIN old.types pt ON pt.id = p.type_id
   WHERE pt.name = t.name AND (n.nrefs > p.nrefs OR n.size > p.size)
   ORDER BY refs_delta DESC, bytes_delta DESC, n.addr LIMIT ?1)
