-- path_root.sql — `heapsnap path SNAP ADDR`'s note (analyzer/cli/cmd_object.c): whether the root
-- of the path to object ?1 (temp.path_chain) is held from outside the snapshot's graph: references
-- its refcount counts and no edge shows, and no named root explains.
SELECT o.ext_refs > 0 AND NOT o.immortal AND NOT
       EXISTS (SELECT 1 FROM roots r WHERE r.obj = o.id)
FROM temp.path_chain chain JOIN objects o ON o.id = chain.id
ORDER BY chain.n DESC LIMIT 1
