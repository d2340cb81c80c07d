-- name: refcount_surplus
-- help: objects whose refcount exceeds their incoming references (held by C code, by an object without tp_traverse, or leaked); references found by a conservative scan are not counted as surplus
-- param: ?1 limit: rows to print (default 20)
-- param: ?2 min: the smallest surplus to show (default 1)
SELECT printf('0x%x', addr) AS addr, type, refcnt, referrers, ext_refs - conservative AS surplus,
       conservative, size, retained
FROM (SELECT o.addr, t.name AS type, o.refcnt, o.nreferrers AS referrers, o.ext_refs, o.size,
             o.retained,
             (SELECT count(*) FROM referrers r JOIN edges e ON e.id = r.edge
              WHERE r.dst = o.id AND e.kind = 2) AS conservative
      FROM objects o JOIN types t ON t.id = o.type_id
      WHERE o.ext_refs >= coalesce(?2, 1) AND NOT o.immortal)
WHERE ext_refs - conservative >= coalesce(?2, 1)
ORDER BY ext_refs - conservative DESC, retained DESC, addr
LIMIT coalesce(?1, 20);
