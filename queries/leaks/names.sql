-- names.sql — the names objects give themselves, one definition for the leak report and for
-- `heapsnap report` (analyzer/cli/cmd_report.c), as two temporary views over the main database:
--   leak_func_names(id, name)  a function's qualified name: its __qualname__, else its
--                              __name__, else 'function' (closure_retention.sql names its groups
--                              with it);
--   object_names(id, name)     an object's own name when its type gives it one, else NULL: a
--                              module's __name__; a function's __module__ and qualified name (a
--                              method's, classmethod's or staticmethod's, its __func__'s); a code
--                              object's co_qualname (else co_name, else 'code') and file; a
--                              class's module and __qualname__ (the module left out for builtins).
-- Look a name up as (SELECT name FROM object_names WHERE id = X): SQLite reads only X's row.
-- Part of the leak report: analyzer/report/leaks.c runs it after setup.sql (README.md).
DROP VIEW IF EXISTS temp.leak_func_names;
CREATE TEMP VIEW leak_func_names(id, name) AS
SELECT o.id, coalesce((SELECT v.value FROM edges e JOIN objects v ON v.id = e.dst
    WHERE e.src = o.id AND e.label = '.__qualname__'),
  (SELECT v.value FROM edges e JOIN objects v ON v.id = e.dst
    WHERE e.src = o.id AND e.label = '.__name__'), 'function')
FROM objects o;
DROP VIEW IF EXISTS temp.object_names;
CREATE TEMP VIEW object_names(id, name) AS
SELECT x.id, CASE
  WHEN x.type = 'module' THEN (SELECT v.value FROM edges e JOIN objects v ON v.id = e.dst
    WHERE e.src = x.id AND e.label = '.__name__')
  WHEN x.type = 'function' THEN coalesce((SELECT v.value FROM edges e JOIN objects v
    ON v.id = e.dst WHERE e.src = x.id AND e.label = '.__module__') || '.', '')
    || (SELECT name FROM leak_func_names WHERE id = x.id)
  WHEN x.type = 'code' THEN coalesce((SELECT v.value FROM edges e JOIN objects v ON v.id = e.dst
    WHERE e.src = x.id AND e.label = '.co_qualname'), (SELECT v.value FROM edges e JOIN objects v
    ON v.id = e.dst WHERE e.src = x.id AND e.label = '.co_name'), 'code')
    || coalesce(' (' || (SELECT v.value FROM edges e JOIN objects v ON v.id = e.dst
    WHERE e.src = x.id AND e.label = '.co_filename') || ')', '')
  WHEN x.type IN ('method', 'classmethod', 'staticmethod') THEN (SELECT coalesce((SELECT v.value
    FROM edges e JOIN objects v ON v.id = e.dst WHERE e.src = f.dst AND e.label = '.__module__')
    || '.', '') || (SELECT name FROM leak_func_names WHERE id = f.dst)
    FROM edges f WHERE f.src = x.id AND f.label = '.__func__')
  ELSE (SELECT coalesce(nullif(nullif(t.module, ''), 'builtins') || '.', '')
    || coalesce((SELECT value FROM meta WHERE key = 'type.qualname.' || t.id), t.name)
    FROM types t WHERE t.type_object = x.id) END
FROM (SELECT o.id AS id, hs_type(o.id) AS type FROM objects o) x;
