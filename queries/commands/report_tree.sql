-- report_tree.sql — `heapsnap report SNAP` (analyzer/cli/cmd_report.c): the treemap's data and the
-- search's index, one row per object of temp.report_objs, largest retained first: id, parent id
-- (-1 the heap, -2 not in the tree), retained, type, label, name, module, address, has a page,
-- path, garbage, and the bytes reachable from the roots (the same in every row).
SELECT r.id, CASE WHEN r.in_tree THEN coalesce((SELECT t.id FROM report_objs t
                                                WHERE t.id = r.idom AND t.in_tree), -1)
                  ELSE -2 END, r.retained, r.type, r.label,
       r.name, r.module, printf('0x%x', r.addr), r.page, r.path, r.garbage,
       (SELECT coalesce(sum(size), 0) FROM objects WHERE depth IS NOT NULL)
FROM report_objs r ORDER BY r.retained DESC, r.id
