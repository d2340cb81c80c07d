-- slots_candidates.sql — leak report section 6 (slots-candidates): classes with many instances
-- whose attribute sets are all alike.  Each aggregate is computed once, in a join: the share of
-- the commonest attribute set per class was a correlated subquery over every instance, run once
-- per class (O(classes x instances): 73 s for 355k objects).  An attribute counts once by name: a
-- 3.13 instance whose dict shares its inline values reaches each value twice, from the instance
-- (.x) and from the dict (['x']).
-- Part of the leak report: analyzer/report/leaks.c runs it (order and parameters: README.md).
INSERT INTO leak_findings
WITH cls AS (SELECT o.type_id AS tid FROM objects o JOIN types t ON t.id = o.type_id
  AND t.heap GROUP BY o.type_id HAVING count(*) >= (SELECT cnt FROM leak_params) * 10),
inst AS (SELECT o.id, o.type_id AS tid, o.size, o.memory,
  (SELECT d.dst FROM edges d WHERE d.src = o.id AND d.label = '.__dict__') AS dict
  FROM objects o JOIN cls ON cls.tid = o.type_id),
attrs AS (SELECT i.id, i.tid, i.size + coalesce(dobj.size, 0) AS bytes,
  i.memory + coalesce(dobj.memory, 0) AS memory, dobj.id IS NULL AS inline,
  (SELECT group_concat(l, ',') FROM (SELECT DISTINCT coalesce(hs_str_key(a.label),
  substr(a.label, 2)) AS l FROM edges a
  WHERE (a.src = i.dict AND hs_str_key(a.label) IS NOT NULL)
  OR (a.src = i.id AND a.label LIKE '.%' AND a.label NOT IN ('.__dict__', '.__class__'))
  ORDER BY l)) AS aset,
  (SELECT count(DISTINCT coalesce(hs_str_key(a.label), substr(a.label, 2))) FROM edges a
  WHERE (a.src = i.dict AND hs_str_key(a.label) IS NOT NULL)
  OR (a.src = i.id AND a.label LIKE '.%' AND a.label NOT IN ('.__dict__', '.__class__')))
  AS nattr
  FROM inst i LEFT JOIN objects dobj ON dobj.id = i.dict),
common AS (SELECT tid, max(n) AS common FROM
  (SELECT tid, count(*) AS n FROM attrs GROUP BY tid, aset) GROUP BY tid),
-- In memory (objects.memory) when the capture gave it: an instance with its dict or its attribute
-- values, against a slotted one (object header, GC header and a pointer an attribute, rounded as
-- pymalloc rounds it); else by getsizeof, guessing 8 bytes an attribute for values kept outside a
-- dict.

per0 AS (SELECT a.tid, count(*) AS n, max(a.nattr) AS nattr, min(a.id) AS rep,
  count(a.memory) = count(*) AS in_memory,
  CASE WHEN count(a.memory) = count(*) THEN sum(a.memory)
  ELSE sum(a.bytes + a.inline * 8 * a.nattr) END AS bytes FROM attrs a GROUP BY a.tid),
per AS (SELECT *, n * CASE WHEN in_memory THEN (32 + 8 * nattr + 15) / 16 * 16
  ELSE 32 + 8 * nattr END AS slotted FROM per0)
SELECT 6, 'slots-candidates', t.name, per.n,
      per.bytes,
per.bytes - per.slotted, NULL, per.rep, hs_path(per.rep),
printf('%d instances, %d%% with the same %d attributes: %d bytes now, %d with '
  || '__slots__ (saves %d%s)', per.n, 100 * cm.common / per.n, per.nattr, per.bytes,
  per.slotted, per.bytes - per.slotted,
  CASE WHEN per.in_memory THEN ', in memory' ELSE ', by sys.getsizeof' END)
FROM per JOIN common cm ON cm.tid = per.tid JOIN types t ON t.id = per.tid
WHERE cm.common * 10 >= per.n * 9 AND per.bytes > per.slotted
ORDER BY per.bytes - per.slotted DESC LIMIT (SELECT lim FROM leak_params);
