-- name: duplicate_strings
-- help: str objects with equal values (interning them would save the wasted bytes)
-- param: ?1 limit: rows to print (default 20)
SELECT substr(o.value, 1, 60) AS value, count(*) AS copies, max(o.size) AS size,
       sum(o.size) - max(o.size) AS wasted
FROM objects o JOIN types t ON t.id = o.type_id
WHERE t.name = 'str' AND o.value IS NOT NULL
GROUP BY o.value
HAVING count(*) > 1
ORDER BY wasted DESC, value
LIMIT coalesce(?1, 20);
