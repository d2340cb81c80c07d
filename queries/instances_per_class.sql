-- name: instances_per_class
-- help: instances of each class (heap type) with the count and bytes of their __dict__s; qualname is the class's __qualname__ (meta 'type.qualname.ID', else its name)
-- param: ?1 limit: rows to print (default 20)
SELECT t.name AS class, t.module AS module,
       coalesce((SELECT value FROM meta WHERE key = 'type.qualname.' || t.id), t.name) AS qualname,
       count(*) AS instances, sum(o.size) AS bytes,
       count(d.id) AS dicts, coalesce(sum(d.size), 0) AS dict_bytes
FROM objects o
JOIN types t ON t.id = o.type_id AND t.heap
LEFT JOIN edges e ON e.src = o.id AND e.label = '.__dict__'
LEFT JOIN objects d ON d.id = e.dst
GROUP BY o.type_id
ORDER BY bytes + dict_bytes DESC, class
LIMIT coalesce(?1, 20);
