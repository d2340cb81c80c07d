-- name: dead_weakrefs
-- help: weak references whose referent is gone, and where they are kept
-- param: ?1 limit: rows to print (default all)
SELECT printf('0x%x', r.addr) AS weakref, t.name AS type,
       CASE WHEN c.id IS NULL THEN NULL ELSE printf('0x%x', c.addr) END AS callback,
       hs_path(r.id) AS path
FROM weakrefs w
JOIN objects r ON r.id = w.ref
JOIN types t ON t.id = r.type_id
LEFT JOIN objects c ON c.id = w.callback
WHERE w.referent IS NULL
ORDER BY r.addr
LIMIT coalesce(?1, -1);
