-- path_rows.sql — `heapsnap path SNAP ADDR` (analyzer/cli/cmd_object.c): the objects on the
-- shortest path from a root to object ?1 (temp.path_chain), root first, each with the label of the
-- reference that reaches it (a root's name for the root) and its site.
SELECT o.depth AS depth, printf('0x%x', o.addr) AS addr, t.name AS type,
       CASE WHEN o.depth > 0 THEN coalesce(nullif(e.label, ''),
                                           printf('-><%s at 0x%x>', t.name, o.addr))
       ELSE coalesce((SELECT nullif(name, '') FROM roots WHERE obj = o.id ORDER BY rowid
                      LIMIT 1), printf('<%s at 0x%x>', t.name, o.addr)) END AS label,
       o.size AS size, o.retained AS retained,
       (SELECT filename || ':' || lineno FROM sites WHERE id = o.site) AS site
FROM temp.path_chain chain JOIN objects o ON o.id = chain.id
JOIN types t ON t.id = o.type_id
LEFT JOIN edges e ON e.id = o.parent_edge ORDER BY o.depth
