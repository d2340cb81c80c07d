-- name: objects_per_generation
-- help: objects and bytes per GC generation (untracked, 0, 1, 2, permanent) and the garbage in each
SELECT CASE WHEN o.generation IS NULL THEN 'untracked'
            WHEN o.generation = 3 THEN 'permanent'
            ELSE CAST(o.generation AS TEXT) END AS generation,
       count(*) AS objects, sum(o.size) AS bytes, sum(o.unreachable) AS garbage
FROM objects o
GROUP BY o.generation
ORDER BY coalesce(o.generation, -1);
