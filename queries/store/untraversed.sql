-- untraversed.sql — hs_store_untraversed (analyzer/store/store_query.c), for the notes of
-- `heapsnap leaks` and `heapsnap show`: the types of the objects that may hold references no
-- edge of the snapshot shows, as one text "numpy.ndarray (77), datetime.date (21), ..." (the
-- three with most objects, then ', ...' when there are more), NULL when there are none.  Such
-- an object's type has no tp_traverse (not Py_TPFLAGS_HAVE_GC: the collector and
-- gc.get_referents never look inside it), the capture found no edge from it, and it is not one of
-- CPython's own types (module builtins), which the captures walk by their known fields: numpy's
-- ndarray (an object array's elements, a view's base), datetime's tzinfo.  Out-of-process
-- captures that leave the module empty give the dotted tp_name ("numpy.ndarray").
WITH u AS (SELECT t.id AS id,
  CASE WHEN t.module = '' THEN t.name ELSE t.module || '.' || t.name END AS name
  FROM objects o JOIN types t ON t.id = o.type_id
  WHERE NOT t.gc AND o.nrefs = 0
    AND (t.module NOT IN ('builtins', '') OR (t.module = '' AND instr(t.name, '.') > 0)))
SELECT (SELECT group_concat(name || ' (' || n || ')', ', ') FROM (SELECT name, count(*) AS n
  FROM u GROUP BY id ORDER BY n DESC, name LIMIT 3))
  || CASE WHEN (SELECT count(DISTINCT id) FROM u) > 3 THEN ', ...' ELSE '' END
