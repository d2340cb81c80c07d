-- conservative_types.sql — `heapsnap summary` and `heapsnap leaks` (hs_rows_print_conservative,
-- analyzer/cli/rows.c): the types of the conservatively scanned objects (flags & 4), commonest
-- first: type name, its objects, and on every row the objects in all and the number of types.
SELECT t.name, count(*), sum(count(*)) OVER (), count(*) OVER () FROM objects o
JOIN types t ON t.id = o.type_id WHERE o.flags & 4 GROUP BY t.id
ORDER BY 2 DESC, 1
