-- setup.sql — the leak report's working tables: leak_findings (what the report prints),
-- leak_snapshots and leak_series (the snapshot and its baselines: leaks.c adds the baselines'
-- rows, whose schema names SQL cannot bind), and leak_containers: the containers that module
-- globals, class attributes, attributes of module-level instances, lru_cache wrappers and running
-- frames' locals name.
-- Part of the leak report: analyzer/report/leaks.c runs it (order and parameters: README.md).
DROP TABLE IF EXISTS temp.leak_findings;
CREATE TEMP TABLE leak_findings(section INTEGER, pattern TEXT, subject TEXT, objects INTEGER,
bytes INTEGER, retained INTEGER, trend TEXT, obj INTEGER, path TEXT, detail TEXT);
DROP TABLE IF EXISTS temp.leak_snapshots;
CREATE TEMP TABLE leak_snapshots(k INTEGER PRIMARY KEY, name TEXT, time_ns INTEGER,
objects INTEGER, bytes INTEGER);
DROP TABLE IF EXISTS temp.leak_series;
CREATE TEMP TABLE leak_series(id INTEGER, k INTEGER, entries INTEGER, retained INTEGER);
DROP TABLE IF EXISTS temp.leak_containers;
-- Namespaces: module __dict__s and heap classes' __dict__s; the containers are their values, and
-- the values in the __dict__ (or inline attributes) of module-level instances of heap types
-- ("app.cache" where app = App()).
DROP TABLE IF EXISTS temp.leak_spaces;
CREATE TEMP TABLE leak_spaces AS
SELECT d.dst AS dict, coalesce((SELECT v.value FROM edges n JOIN objects v ON v.id = n.dst
  WHERE n.src = d.dst AND n.label = '[''__name__'']'), printf('<module 0x%x>', m.addr))
  AS owner, 'module' AS kind
FROM objects m JOIN types mt ON mt.id = m.type_id AND mt.name = 'module'
JOIN edges d ON d.src = m.id AND d.label = '.__dict__';
INSERT INTO leak_spaces SELECT d.dst, v.value, 'class'
FROM (SELECT src FROM edges WHERE label = '.__mro__') k
JOIN edges q ON q.src = k.src AND q.label = '.__qualname__' JOIN objects v ON v.id = q.dst
JOIN edges d ON d.src = k.src AND d.label = '.__dict__';
DROP TABLE IF EXISTS temp.leak_named;
CREATE TEMP TABLE leak_named AS SELECT s.owner, s.kind,
hs_str_key(g.label) AS name, g.dst AS id
FROM leak_spaces s JOIN edges g ON g.src = s.dict AND hs_str_key(g.label) IS NOT NULL;
INSERT INTO leak_named SELECT g.owner || '.' || g.name, 'instance',
CASE WHEN substr(a.label, 1, 10) = '.__dict__[' THEN hs_str_key(substr(a.label, 10))
ELSE substr(a.label, 2) END, a.dst
FROM leak_named g CROSS JOIN objects i ON i.id = g.id AND g.kind = 'module'
CROSS JOIN types it ON it.id = i.type_id AND it.heap
CROSS JOIN edges a ON a.src = i.id AND a.label LIKE '.%'
  AND a.label NOT IN ('.__dict__', '.__class__');
INSERT INTO leak_named SELECT g.owner || '.' || g.name, 'instance',
hs_str_key(a.label), a.dst
FROM leak_named g CROSS JOIN objects i ON i.id = g.id AND g.kind = 'module'
CROSS JOIN types it ON it.id = i.type_id AND it.heap
CROSS JOIN edges d ON d.src = i.id AND d.label = '.__dict__'
CROSS JOIN edges a ON a.src = d.dst AND hs_str_key(a.label) IS NOT NULL;
-- The cache dict of each functools.lru_cache wrapper named so far (its largest dict referent: the
-- wrapper also refers to its __dict__), under the wrapper's name.
INSERT INTO leak_named SELECT g.owner, g.kind, g.name || ' (lru_cache)',
(SELECT d.dst FROM edges d CROSS JOIN objects x ON x.id = d.dst
  CROSS JOIN types xt ON xt.id = x.type_id AND xt.name = 'dict'
  WHERE d.src = g.id AND d.label IS NULL ORDER BY x.retained DESC LIMIT 1)
FROM leak_named g CROSS JOIN objects w ON w.id = g.id
CROSS JOIN types wt ON wt.id = w.type_id AND wt.name = '_lru_cache_wrapper';
-- The local variables of running frames (roots named '<thread ...: f (file:line) local x>'), named
-- by the root.
INSERT INTO leak_named SELECT r.name, 'frame', NULL, r.obj FROM roots r
WHERE r.kind = 'frame' AND r.name LIKE '% local %';
-- 3.8-3.10: a frame object is the root and its locals are its referents labelled '<local x>',
-- named as 3.11+ name them: '<thread ...: f (file:line) local x>'.
INSERT INTO leak_named SELECT substr(r.name, 1, length(r.name) - 1) || ' ' ||
substr(e.label, 2), 'frame', NULL, e.dst FROM roots r CROSS JOIN objects f ON f.id = r.obj
CROSS JOIN types ft ON ft.id = f.type_id AND ft.name = 'frame'
CROSS JOIN edges e ON e.src = r.obj AND e.label LIKE '<local %>' WHERE r.kind = 'frame';
CREATE TEMP TABLE leak_containers AS
SELECT n.id AS id,
min(CASE WHEN n.kind = 'frame' THEN n.owner ELSE n.owner || '.' || n.name END) AS subject,
min(n.kind) AS kind,
t.name AS type
FROM leak_named n CROSS JOIN objects c ON c.id = n.id
CROSS JOIN types t ON t.id = c.type_id
WHERE t.name IN ('dict', 'list', 'set', 'deque', 'OrderedDict', 'defaultdict', 'Counter',
    'bytearray',   	 'SimpleQueue', 'Queue', 'array') GROUP BY n.id;
CREATE INDEX temp.leak_containers_id ON leak_containers(id);
INSERT INTO leak_series SELECT c.id, (SELECT nbase FROM leak_params), (SELECT CASE
    WHEN sum(substr(e.label, 1, 1) = '[') > 0 THEN sum(substr(e.label, 1, 1) = '[') ELSE count(*)
    END FROM main.edges e WHERE e.src = c.id), o.retained FROM leak_containers c CROSS
    JOIN objects o ON o.id = c.id;
