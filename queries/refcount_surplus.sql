-- name: refcount_surplus
-- help: objects whose refcount exceeds their incoming references (held by C code, or leaked)
-- param: ?1 limit: rows to print (default 20)
-- param: ?2 min: the smallest surplus to show (default 1)
SELECT printf('0x%x', o.addr) AS addr, t.name AS type, o.refcnt AS refcnt,
       o.nreferrers AS referrers, o.ext_refs AS surplus, o.size AS size, o.retained AS retained
FROM objects o JOIN types t ON t.id = o.type_id
WHERE o.ext_refs >= coalesce(?2, 1) AND NOT o.immortal
ORDER BY o.ext_refs DESC, o.retained DESC, o.addr
LIMIT coalesce(?1, 20);
