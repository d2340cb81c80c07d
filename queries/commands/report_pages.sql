-- report_pages.sql — `heapsnap report SNAP` (analyzer/cli/cmd_report.c): one row per object that
-- gets a page (temp.report_objs.page), largest retained first: id, address, type, size,
-- retained, refcnt, ext_refs, depth, path, the first ?1 characters of its value and the value's
-- length, unreachable, name, module, and its numbers of references and referrers.
SELECT o.id, printf('0x%x', o.addr), r.type, o.size, o.retained, o.refcnt,
       o.ext_refs, o.depth, r.path, substr(o.value, 1, ?1), length(o.value),
       o.unreachable, r.name, r.module, (SELECT count(*) FROM edges WHERE src = o.id),
       (SELECT count(*) FROM referrers WHERE dst = o.id)
FROM report_objs r JOIN objects o ON o.id = r.id
WHERE r.page ORDER BY o.retained DESC, o.id
