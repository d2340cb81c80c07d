-- c_references.sql — leak report section 5 (c-references): instances of classes and plain
-- containers that nothing in the heap refers to but whose refcount says something holds them,
-- grouped by type.  Objects that the heap does refer to and C code holds as well (the links of
-- functools.lru_cache's C list) are left out: that is normal for C types and would drown the
-- leaks.  Objects with astronomically high counts are statically allocated or deep-frozen (3.11),
-- and the roots the capture named (frames, modules) are explained.
-- Part of the leak report: analyzer/report/leaks.c runs it (order and parameters: README.md).
INSERT INTO leak_findings
SELECT 5, 'c-references', t.name, count(*), sum(o.size), sum(o.retained), NULL, min(o.id),
hs_path(min(o.id)),
printf('%d %s objects that nothing in the heap refers to hold %d references'
  || ' (refcount leaks, C code, or objects without tp_traverse holding them)',
  count(*), t.name, sum(o.ext_refs))
FROM objects o JOIN types t ON t.id = o.type_id JOIN leak_params p
WHERE o.ext_refs > 0 AND NOT o.immortal AND o.refcnt < 100000000
  AND NOT o.unreachable AND o.nreferrers = 0
  AND (t.heap OR t.name IN ('dict', 'list', 'set', 'deque', 'OrderedDict', 'defaultdict',
      'Counter', 'bytearray',   	 'SimpleQueue', 'Queue', 'array'))
  AND NOT EXISTS (SELECT 1 FROM roots r WHERE r.obj = o.id)
  AND o.id NOT IN (SELECT type_object FROM types WHERE type_object IS NOT NULL)
GROUP BY o.type_id HAVING count(*) >= p.cnt OR sum(o.retained) >= p.big
ORDER BY sum(o.retained) DESC, t.name LIMIT (SELECT lim FROM leak_params);
