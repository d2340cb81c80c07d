/*
 * leaks.c — the leak report's analysis (leaks.h): one SQL pass per leak pattern over the
 * snapshot's database, with the baselines' databases attached to follow containers over time.
 *
 * Containers are followed by address and type name: a dict, list or set keeps its address for
 * its whole life, so the same address with the same type in an earlier snapshot of the same
 * process is the same container (the matching `heapsnap diff` uses).  Thresholds keep the
 * report quiet on a clean program: a finding must retain a "large" size (min_bytes as the user
 * gave it, else 256 KiB or 1% of the heap, the larger), or grow in every interval between
 * snapshots by min_count entries.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "leaks.h"
#include "load.h"
#include "pyrepr.h"
#include "store.h"

const struct hs_leak_section hs_leak_sections[] = {
    {1, "finalizer-cycles", "cycles with finalizers",
     "Unreachable cycles holding objects whose type defines __del__/tp_finalize (or legacy "
     "tp_del), identical shapes counted together, wait for a full collection and run finalizers in "
     "arbitrary order; break the cycle "
     "(weakref, explicit close()) or move cleanup to a context manager or weakref.finalize."},
    {2, "unbounded-cache", "unbounded caches",
     "Dicts, lists and sets held by module globals, class attributes, functools.lru_cache "
     "wrappers or the local variables of running frames that retain the "
     "most memory (and, against baselines, keep growing); bound them (functools.lru_cache("
     "maxsize=N), an LRU dict, a TTL) or key them weakly."},
    {3, "global-accumulation", "global accumulation",
     "Module-level containers that grew in every interval between snapshots, in entries or in "
     "retained bytes: something appends and nothing removes; trim them, use "
     "collections.deque(maxlen=N), or stop keeping history."},
    {4, "closure-retention", "closures and bound methods",
     "Functions whose closure cells, and bound methods whose __self__, keep large objects alive "
     "(callbacks registered and never removed), judged by group: the closures of one code "
     "object, the bound methods of one function; unregister them, capture less, or use "
     "weakref.WeakMethod."},
    {5, "c-references", "references held by C code",
     "Objects whose refcount exceeds the references found in the heap: an extension took a "
     "reference it never released (a missing Py_DECREF) or C code holds them; find the "
     "extension call that creates them.  Objects whose type has no tp_traverse (numpy's "
     "ndarray: an object array's elements, a view's base) hold references that no capture "
     "sees, so what they hold is listed here too."},
    {6, "slots-candidates", "__slots__ candidates",
     "Classes with many instances that always have the same attributes: declaring __slots__ "
     "drops each instance's __dict__; bytes saved are measured from the instance and dict "
     "sizes."},
    {7, "weak-references", "weak references",
     "Containers of weak references: dead ones (referent gone) still held cost memory until "
     "removed; weak caches show what they keep reachable.  Prune dead weakrefs or use "
     "WeakValueDictionary/WeakSet, which remove them."},
    {8, "gc-state", "GC state",
     "Objects per collector generation, the generation counts and thresholds, and the "
     "permanent generation (gc.freeze()); a large permanent generation is never collected."},
};
const int hs_leak_nsections = sizeof(hs_leak_sections) / sizeof(hs_leak_sections[0]);

/* The types whose instances hold many entries: what a cache or an accumulation is made of. */
#define CONTAINER_TYPES                                                                            \
	"('dict', 'list', 'set', 'deque', 'OrderedDict', 'defaultdict', 'Counter', 'bytearray',   \
	 'SimpleQueue', 'Queue', 'array')"

/* The number of entries of container X in schema P: its labelled edges (dict values, list
 * items), or all of its edges when none is labelled (set elements). */
#define ENTRIES(P, X)                                                                              \
	"(SELECT CASE WHEN sum(substr(e.label, 1, 1) = '[') > 0"                                   \
	" THEN sum(substr(e.label, 1, 1) = '[') ELSE count(*) END"                                 \
	" FROM " P ".edges e WHERE e.src = " X ")"

/* The name of the free variable whose cell is item LABEL ("[2]") of closure tuple TUPLE of a
 * function with code CODE: the item of co_freevars (3.8-3.10), or of co_localsplusnames, whose
 * last len(__closure__) names are the free variables (3.11+); else LABEL. */
#define FREEVAR_NAME(CODE, TUPLE, LABEL)                                                           \
	"coalesce((SELECT v.value FROM edges fv JOIN edges ve ON ve.src = fv.dst"                  \
	" AND ve.label = " LABEL " JOIN objects v ON v.id = ve.dst"                                \
	" WHERE fv.src = " CODE " AND fv.label = '.co_freevars'),"                                 \
	" (SELECT v.value FROM edges ln JOIN edges ve ON ve.src = ln.dst"                          \
	" JOIN objects v ON v.id = ve.dst WHERE ln.src = " CODE                                    \
	" AND ln.label = '<co_localsplusnames>' AND ve.label = '[' ||"                             \
	" ((SELECT count(*) FROM edges n WHERE n.src = ln.dst)"                                    \
	" - (SELECT count(*) FROM edges n WHERE n.src = " TUPLE ")"                                \
	" + CAST(substr(" LABEL ", 2, length(" LABEL ") - 2) AS INTEGER)) || ']'), " LABEL ")"

/* Closures and bound methods, judged by group: the functions that have a __closure__ and the
 * bound methods, reachable from a root, with grp the code object of the function (of the
 * method's __func__; the function itself when it has no code edge).  holder is what refers to
 * the objects a member may share with others of its group: the closure tuple (to its cells),
 * or the method (to its __self__).  top is 0 for a member dominated by another member of its
 * group within three steps (a closure whose cell holds another closure of the same code, as a
 * chain of wrappers makes), whose retained size the other's already counts.
 * leak_shared: what members of a group share and no one else holds (a cell of several
 * closures, the __self__ of several methods), counted once for the group.
 * leak_groups: per group (grp, kind) its members (n), their bytes (b), what it holds (held),
 * the member retaining the most (rep), and the object holding most members (holder, k of
 * them: their immediate dominator).  Every aggregate is computed here once, in joins. */
static const char callables_sql[] =
    "DROP TABLE IF EXISTS temp.leak_callables;"
    "CREATE TEMP TABLE leak_callables AS"
    " SELECT 'closure' AS kind, f.id AS id, f.id AS func, c.dst AS holder, f.size AS size,"
    "  f.retained AS retained, f.idom AS idom, coalesce((SELECT k.dst FROM edges k"
    "  WHERE k.src = f.id AND k.label = '.__code__'), f.id) AS grp, 1 AS top"
    " FROM objects f JOIN edges c ON c.src = f.id AND c.label = '.__closure__'"
    " WHERE f.type_id IN (SELECT id FROM types WHERE name = 'function')"
    "  AND f.idom IS NOT NULL AND NOT f.unreachable"
    " UNION ALL"
    " SELECT 'method', m.id, fe.dst, m.id, m.size, m.retained, m.idom,"
    "  coalesce((SELECT k.dst FROM edges k WHERE k.src = fe.dst AND k.label = '.__code__'),"
    "  fe.dst), 1"
    " FROM objects m JOIN edges fe ON fe.src = m.id AND fe.label = '.__func__'"
    " WHERE m.type_id IN (SELECT id FROM types WHERE name = 'method')"
    "  AND m.idom IS NOT NULL AND NOT m.unreachable;"
    "CREATE INDEX temp.leak_callables_id ON leak_callables(id);"
    "CREATE INDEX temp.leak_callables_holder ON leak_callables(holder, grp);"
    "UPDATE leak_callables AS x SET top = 0 WHERE EXISTS (SELECT 1 FROM objects a"
    " LEFT JOIN objects b ON b.id = a.idom"
    " JOIN leak_callables o ON o.id IN (a.id, a.idom, b.idom) AND o.grp = x.grp"
    "  AND o.id <> x.id WHERE a.id = x.idom);"
    "DROP TABLE IF EXISTS temp.leak_shared;"
    "CREATE TEMP TABLE leak_shared AS SELECT DISTINCT c.grp AS grp, c.kind AS kind,"
    " e.dst AS obj"
    " FROM leak_callables c CROSS JOIN edges e ON e.src = c.holder"
    "  AND (c.kind = 'closure' OR e.label = '.__self__')"
    " CROSS JOIN objects s ON s.id = e.dst AND s.idom IS NOT c.holder"
    " WHERE NOT EXISTS (SELECT 1 FROM referrers r WHERE r.dst = s.id AND NOT EXISTS"
    "  (SELECT 1 FROM leak_callables h WHERE h.holder = r.src AND h.grp = c.grp));"
    "DROP TABLE IF EXISTS temp.leak_groups;"
    "CREATE TEMP TABLE leak_groups AS"
    " WITH g AS (SELECT grp, kind, count(*) AS n, sum(size) AS b,"
    "  sum(CASE WHEN top THEN retained ELSE 0 END) AS held, max(retained) AS most, id AS rep"
    "  FROM leak_callables GROUP BY grp, kind),"
    " s AS (SELECT s.grp, s.kind, sum(o.retained) AS held FROM leak_shared s"
    "  JOIN objects o ON o.id = s.obj GROUP BY s.grp, s.kind),"
    " h AS (SELECT grp, kind, idom AS holder, max(k) AS k FROM (SELECT grp, kind, idom,"
    "  count(*) AS k FROM leak_callables GROUP BY grp, kind, idom) GROUP BY grp, kind)"
    " SELECT g.grp, g.kind, g.n, g.b, g.held + coalesce(s.held, 0) AS held, g.rep, h.holder,"
    "  h.k FROM g LEFT JOIN s ON s.grp = g.grp AND s.kind = g.kind"
    "  LEFT JOIN h ON h.grp = g.grp AND h.kind = g.kind;";

static const char setup_sql[] =
    "DROP TABLE IF EXISTS temp.leak_findings;"
    "CREATE TEMP TABLE leak_findings(section INTEGER, pattern TEXT, subject TEXT, objects INTEGER,"
    " bytes INTEGER, retained INTEGER, trend TEXT, obj INTEGER, path TEXT, detail TEXT);"
    "DROP TABLE IF EXISTS temp.leak_snapshots;"
    "CREATE TEMP TABLE leak_snapshots(k INTEGER PRIMARY KEY, name TEXT, time_ns INTEGER,"
    " objects INTEGER, bytes INTEGER);"
    "DROP TABLE IF EXISTS temp.leak_series;"
    "CREATE TEMP TABLE leak_series(id INTEGER, k INTEGER, entries INTEGER, retained INTEGER);"
    "DROP TABLE IF EXISTS temp.leak_containers;"
    /* Namespaces: module __dict__s and heap classes' __dict__s; the containers are their
     * values, and the values in the __dict__ (or inline attributes) of module-level instances
     * of heap types ("app.cache" where app = App()). */
    "DROP TABLE IF EXISTS temp.leak_spaces;"
    "CREATE TEMP TABLE leak_spaces AS"
    " SELECT d.dst AS dict, coalesce((SELECT v.value FROM edges n JOIN objects v ON v.id = n.dst"
    "   WHERE n.src = d.dst AND n.label = '[''__name__'']'), printf('<module 0x%x>', m.addr))"
    "   AS owner, 'module' AS kind"
    " FROM objects m JOIN types mt ON mt.id = m.type_id AND mt.name = 'module'"
    " JOIN edges d ON d.src = m.id AND d.label = '.__dict__';"
    "INSERT INTO leak_spaces SELECT d.dst, v.value, 'class'"
    " FROM (SELECT src FROM edges WHERE label = '.__mro__') k"
    " JOIN edges q ON q.src = k.src AND q.label = '.__qualname__' JOIN objects v ON v.id = q.dst"
    " JOIN edges d ON d.src = k.src AND d.label = '.__dict__';"
    "DROP TABLE IF EXISTS temp.leak_named;"
    "CREATE TEMP TABLE leak_named AS SELECT s.owner, s.kind,"
    " hs_str_key(g.label) AS name, g.dst AS id"
    " FROM leak_spaces s JOIN edges g ON g.src = s.dict AND hs_str_key(g.label) IS NOT NULL;"
    "INSERT INTO leak_named SELECT g.owner || '.' || g.name, 'instance',"
    " CASE WHEN substr(a.label, 1, 10) = '.__dict__[' THEN hs_str_key(substr(a.label, 10))"
    " ELSE substr(a.label, 2) END, a.dst"
    " FROM leak_named g CROSS JOIN objects i ON i.id = g.id AND g.kind = 'module'"
    " CROSS JOIN types it ON it.id = i.type_id AND it.heap"
    " CROSS JOIN edges a ON a.src = i.id AND a.label LIKE '.%'"
    "  AND a.label NOT IN ('.__dict__', '.__class__');"
    "INSERT INTO leak_named SELECT g.owner || '.' || g.name, 'instance',"
    " hs_str_key(a.label), a.dst"
    " FROM leak_named g CROSS JOIN objects i ON i.id = g.id AND g.kind = 'module'"
    " CROSS JOIN types it ON it.id = i.type_id AND it.heap"
    " CROSS JOIN edges d ON d.src = i.id AND d.label = '.__dict__'"
    " CROSS JOIN edges a ON a.src = d.dst AND hs_str_key(a.label) IS NOT NULL;"
    /* The cache dict of each functools.lru_cache wrapper named so far (its largest dict
     * referent: the wrapper also refers to its __dict__), under the wrapper's name. */
    "INSERT INTO leak_named SELECT g.owner, g.kind, g.name || ' (lru_cache)',"
    " (SELECT d.dst FROM edges d CROSS JOIN objects x ON x.id = d.dst"
    "  CROSS JOIN types xt ON xt.id = x.type_id AND xt.name = 'dict'"
    "  WHERE d.src = g.id AND d.label IS NULL ORDER BY x.retained DESC LIMIT 1)"
    " FROM leak_named g CROSS JOIN objects w ON w.id = g.id"
    " CROSS JOIN types wt ON wt.id = w.type_id AND wt.name = '_lru_cache_wrapper';"
    /* The local variables of running frames (roots named '<thread ...: f (file:line) local
     * x>'), named by the root. */
    "INSERT INTO leak_named SELECT r.name, 'frame', NULL, r.obj FROM roots r"
    " WHERE r.kind = 'frame' AND r.name LIKE '% local %';"
    /* 3.8-3.10: a frame object is the root and its locals are its unlabelled referents. */
    "INSERT INTO leak_named SELECT substr(r.name, 1, length(r.name) - 1) || ' local>', 'frame',"
    " NULL, e.dst FROM roots r CROSS JOIN objects f ON f.id = r.obj"
    " CROSS JOIN types ft ON ft.id = f.type_id AND ft.name = 'frame'"
    " CROSS JOIN edges e ON e.src = r.obj AND e.label IS NULL WHERE r.kind = 'frame';"
    "CREATE TEMP TABLE leak_containers AS "
    "SELECT n.id AS id,"
    " min(CASE WHEN n.kind = 'frame' THEN n.owner ELSE n.owner || '.' || n.name END) AS subject,"
    " min(n.kind) AS kind,"
    " t.name AS type"
    " FROM leak_named n CROSS JOIN objects c ON c.id = n.id"
    " CROSS JOIN types t ON t.id = c.type_id"
    " WHERE t.name IN " CONTAINER_TYPES " GROUP BY n.id;"
    "CREATE INDEX temp.leak_containers_id ON leak_containers(id);"
    "INSERT INTO leak_series SELECT c.id, (SELECT nbase FROM leak_params), " ENTRIES(
        "main", "c.id") ", o.retained FROM leak_containers c CROSS JOIN objects o ON o.id = c.id;";

/* Per container: snapshots it is in, intervals in which its entries (flat) and its retained size
 * (rflat) did not grow, first and last entries and retained sizes, and the series as text
 * ("2000 > 4000 > 6000"). */
static const char trend_sql[] =
    "DROP TABLE IF EXISTS temp.leak_trend;"
    "CREATE TEMP TABLE leak_trend AS "
    "WITH s AS (SELECT id, k, entries, retained,"
    "  lag(entries) OVER w AS pe, lag(retained) OVER w AS pr, first_value(entries) OVER w AS e0,"
    "  first_value(retained) OVER w AS r0"
    "  FROM leak_series WINDOW w AS (PARTITION BY id ORDER BY k)),"
    " txt AS (SELECT id, group_concat(entries, ' > ') AS e, group_concat(retained, ' > ') AS r"
    "  FROM (SELECT * FROM leak_series ORDER BY id, k) GROUP BY id)"
    "SELECT s.id AS id, count(*) AS nsnap, sum(pe IS NOT NULL AND entries <= pe) AS flat,"
    " sum(pr IS NOT NULL AND retained <= pr) AS rflat,"
    " max(e0) AS e0, max(r0) AS r0,"
    " max(CASE WHEN k = (SELECT nbase FROM leak_params) THEN entries END) AS e1,"
    " max(CASE WHEN k = (SELECT nbase FROM leak_params) THEN retained END) AS r1,"
    " 'entries ' || txt.e || '; retained ' || txt.r AS text"
    " FROM s JOIN txt ON txt.id = s.id GROUP BY s.id;"
    "CREATE INDEX temp.leak_trend_id ON leak_trend(id);";

/* Growing: present in every snapshot, and its entries grew in every interval by min_count in
 * all (GROWING_ENTRIES), or its retained size grew in every interval by a large size (min_bytes)
 * in all (GROWING_BYTES): a dict of 60 more entries holding 15 MB more grows. */
#define GROWING_ENTRIES "(tr.flat = 0 AND tr.e1 - tr.e0 >= p.cnt)"
#define GROWING_BYTES "(tr.rflat = 0 AND tr.r1 - tr.r0 >= p.big)"
#define GROWING                                                                                    \
	"(tr.nsnap = p.nbase + 1 AND p.nbase > 0 AND (" GROWING_ENTRIES " OR " GROWING_BYTES "))"

/* clang-format off */
static const char *const section_sql[] = {
    /* 1. Garbage components with a finalizer, grouped by the finalizer's type and the
     * component's shape (its types and counts: identical cycles are one row with their count).
     * A component of one object is no cycle: it refers to itself (a self-reference), or is
     * held only by garbage; an instance and its own __dict__ refer to each other only when the
     * instance refers to itself through its attributes. */
    "INSERT INTO leak_findings "
    "WITH g AS (SELECT o.scc AS scc, t.name AS type, t.finalizer AS fin, count(*) AS n,"
    "  sum(o.size) AS b, min(o.id) AS rep"
    "  FROM objects o JOIN types t ON t.id = o.type_id WHERE o.unreachable"
    "  GROUP BY o.scc, o.type_id),"
    " c AS (SELECT scc, sum(n) AS n, sum(b) AS b, min(rep) AS rep,"
    "  group_concat(type || ' x' || n, ', ') AS shape"
    "  FROM (SELECT * FROM g ORDER BY scc, n DESC, type) GROUP BY scc HAVING sum(fin) > 0),"
    " k AS (SELECT c.*, CASE WHEN c.n = 1 THEN CASE WHEN EXISTS (SELECT 1 FROM edges e"
    "   WHERE e.src = c.rep AND e.dst = c.rep) THEN 'self' ELSE 'held' END"
    "  WHEN c.n = 2 AND EXISTS (SELECT 1 FROM objects a JOIN edges e ON e.src = a.id"
    "   AND e.label = '.__dict__' JOIN objects d ON d.id = e.dst AND d.unreachable"
    "   AND d.scc = a.scc WHERE a.unreachable AND a.scc = c.scc) THEN 'self-dict'"
    "  ELSE 'cycle' END AS kind FROM c)"
    "SELECT 1, 'finalizer-cycles', g.type, sum(k.n), sum(k.b), sum(k.b), NULL, min(g.rep), NULL,"
    " CASE k.kind WHEN 'cycle' THEN printf('%d unreachable cycle%s of the same shape: {%s}',"
    "  count(*), CASE WHEN count(*) > 1 THEN 's' ELSE '' END, k.shape)"
    " WHEN 'held' THEN printf('%d unreachable %s object%s in no cycle, held only by garbage',"
    "  count(*), g.type, CASE WHEN count(*) > 1 THEN 's' ELSE '' END)"
    " ELSE printf('%d unreachable %s object%s referring only to %s%s (a self-reference,'"
    "  || ' no cycle of several objects): {%s}', count(*), g.type,"
    "  CASE WHEN count(*) > 1 THEN 's' ELSE '' END,"
    "  CASE WHEN count(*) > 1 THEN 'themselves' ELSE 'itself' END,"
    "  CASE k.kind WHEN 'self-dict' THEN ' through their __dict__' ELSE '' END, k.shape) END"
    " FROM g JOIN k ON k.scc = g.scc WHERE g.fin GROUP BY g.type, k.kind, k.shape"
    " ORDER BY sum(k.b) DESC, g.type, k.shape LIMIT (SELECT lim FROM leak_params);",

    /* 2. Large (or, against baselines, growing) containers of module globals and class
     * attributes. */
    "INSERT INTO leak_findings "
    "SELECT 2, 'unbounded-cache', c.subject, coalesce(tr.e1, 0), o.size, o.retained,"
    " CASE WHEN p.nbase > 0 THEN tr.text END, o.id, hs_path(o.id),"
    " printf('%s of %d entries retaining %d bytes', c.type, coalesce(tr.e1, 0), o.retained) ||"
    " CASE WHEN " GROWING " THEN printf('; grew by %d entries and %d bytes per snapshot',"
    "  (tr.e1 - tr.e0) / p.nbase, (tr.r1 - tr.r0) / p.nbase) ELSE '' END"
    " FROM leak_containers c JOIN objects o ON o.id = c.id LEFT JOIN leak_trend tr ON tr.id = c.id"
    " JOIN leak_params p"
    " WHERE o.retained >= p.big OR (" GROWING " AND c.type NOT IN ('list', 'deque', 'bytearray'))"
    " ORDER BY o.retained DESC, c.subject LIMIT (SELECT lim FROM leak_params);",

    /* 3. Module-level containers that grew in every interval, in entries or in retained
     * bytes (GROWING), the most bytes first. */
    "INSERT INTO leak_findings "
    "SELECT 3, 'global-accumulation', c.subject, tr.e1, o.size, o.retained, tr.text, o.id,"
    " hs_path(o.id),"
    " printf('%s grew in each of %d intervals in %s: +%d entries (%d per snapshot),'"
    "  || ' +%d bytes retained (%d per snapshot)', c.type, p.nbase,"
    "  CASE WHEN NOT " GROWING_BYTES " THEN 'entries'"
    "  WHEN NOT " GROWING_ENTRIES " THEN 'retained bytes' ELSE 'entries and retained bytes' END,"
    "  tr.e1 - tr.e0, (tr.e1 - tr.e0) / p.nbase, tr.r1 - tr.r0, (tr.r1 - tr.r0) / p.nbase)"
    " FROM leak_containers c JOIN objects o ON o.id = c.id JOIN leak_trend tr ON tr.id = c.id"
    " JOIN leak_params p WHERE c.kind IN ('module', 'instance') AND " GROWING
    " ORDER BY tr.r1 - tr.r0 DESC, tr.e1 - tr.e0 DESC, c.subject"
    " LIMIT (SELECT lim FROM leak_params);",

    /* 4. Groups of closures and of bound methods (leak_groups) that hold a large size:
     * per group its count, bytes, what it holds, a representative (the member retaining the
     * most), the variable of the largest cell or the type of __self__, and the object most
     * of its members are held by (their immediate dominator). */
    "INSERT INTO leak_findings "
    "WITH f AS (SELECT g.*, coalesce((SELECT v.value FROM edges e JOIN objects v ON v.id = e.dst"
    "   WHERE e.src = g.grp AND e.label = '.co_qualname'),"
    "   (SELECT " HS_LEAK_FUNC_NAME("c.func") " FROM leak_callables c WHERE c.id = g.rep)) AS name,"
    "  (SELECT v.value FROM edges e JOIN objects v ON v.id = e.dst WHERE e.src = g.grp"
    "   AND e.label = '.co_filename') AS file"
    "  FROM leak_groups g JOIN leak_params p WHERE g.held >= p.big)"
    "SELECT 4, 'closure-retention', f.name, f.n, f.b, f.held, NULL, f.rep, hs_path(f.rep),"
    " printf('%d %s%s of %s%s %s %d bytes', f.n,"
    "  CASE f.kind WHEN 'closure' THEN 'closure' ELSE 'bound method' END,"
    "  CASE WHEN f.n > 1 THEN 's' ELSE '' END, f.name, coalesce(' (' || f.file || ')', ''),"
    "  CASE WHEN f.n > 1 THEN 'hold' ELSE 'holds' END, f.held) ||"
    " CASE WHEN f.kind = 'closure' THEN coalesce((SELECT"
    "   printf('; %sclosure cell %s holds a %s retaining %d bytes',"
    "   CASE WHEN f.n > 1 THEN 'the largest''s ' ELSE '' END,"
    "   " FREEVAR_NAME("f.grp", "ce.dst", "t.label") ", hs_type(x.dst), cell.retained)"
    "  FROM edges ce JOIN edges t ON t.src = ce.dst JOIN objects cell ON cell.id = t.dst"
    "  JOIN edges x ON x.src = cell.id WHERE ce.src = f.rep AND ce.label = '.__closure__'"
    "  ORDER BY cell.retained DESC LIMIT 1), '')"
    " ELSE coalesce((SELECT printf('; %s __self__ (a %s) retaining %d bytes',"
    "   CASE WHEN f.n > 1 THEN 'each keeps its' ELSE 'it keeps its' END, hs_type(x.dst),"
    "   o.retained) FROM edges x JOIN objects o ON o.id = x.dst"
    "  WHERE x.src = f.rep AND x.label = '.__self__'), '') END ||"
    " CASE WHEN f.n > 1 AND f.holder IS NOT NULL THEN printf('; %s held by %s',"
    "  CASE WHEN f.k = f.n THEN 'all' ELSE f.k || ' of them' END,"
    "  coalesce(hs_path(f.holder), hs_type(f.holder))) ELSE '' END"
    " FROM f ORDER BY f.held DESC, f.rep LIMIT (SELECT lim FROM leak_params);",

    /* 5. Instances of classes and plain containers that nothing in the heap refers to but whose
     * refcount says something holds them, grouped by type.  Objects that the heap does refer to
     * and C code holds as well (the links of functools.lru_cache's C list) are left out: that
     * is normal for C types and would drown the leaks.  Objects with astronomically high
     * counts are statically allocated or deep-frozen (3.11), and the roots the capture named
     * (frames, modules) are explained. */
    "INSERT INTO leak_findings "
    "SELECT 5, 'c-references', t.name, count(*), sum(o.size), sum(o.retained), NULL, min(o.id),"
    " hs_path(min(o.id)),"
    " printf('%d %s objects that nothing in the heap refers to hold %d references'"
    "  || ' (refcount leaks, C code, or objects without tp_traverse holding them)',"
    "  count(*), t.name, sum(o.ext_refs))"
    " FROM objects o JOIN types t ON t.id = o.type_id JOIN leak_params p"
    " WHERE o.ext_refs > 0 AND NOT o.immortal AND o.refcnt < 100000000"
    "  AND NOT o.unreachable AND o.nreferrers = 0"
    "  AND (t.heap OR t.name IN " CONTAINER_TYPES ")"
    "  AND NOT EXISTS (SELECT 1 FROM roots r WHERE r.obj = o.id)"
    "  AND o.id NOT IN (SELECT type_object FROM types WHERE type_object IS NOT NULL)"
    " GROUP BY o.type_id HAVING count(*) >= p.cnt OR sum(o.retained) >= p.big"
    " ORDER BY sum(o.retained) DESC, t.name LIMIT (SELECT lim FROM leak_params);",

    /* 6. Classes with many instances whose attribute sets are all alike.  Each aggregate is
     * computed once, in a join: the share of the commonest attribute set per class was a
     * correlated subquery over every instance, run once per class (O(classes x instances):
     * 73 s for 355k objects). */
    "INSERT INTO leak_findings "
    "WITH cls AS (SELECT o.type_id AS tid FROM objects o JOIN types t ON t.id = o.type_id"
    "  AND t.heap GROUP BY o.type_id HAVING count(*) >= (SELECT cnt FROM leak_params) * 10),"
    " inst AS (SELECT o.id, o.type_id AS tid, o.size, o.memory,"
    "  (SELECT d.dst FROM edges d WHERE d.src = o.id AND d.label = '.__dict__') AS dict"
    "  FROM objects o JOIN cls ON cls.tid = o.type_id),"
    " attrs AS (SELECT i.id, i.tid, i.size + coalesce(dobj.size, 0) AS bytes,"
    "  i.memory + coalesce(dobj.memory, 0) AS memory, dobj.id IS NULL AS inline,"
    "  (SELECT group_concat(l, ',') FROM (SELECT coalesce(hs_str_key(a.label),"
    "   substr(a.label, 2)) AS l FROM edges a"
    "   WHERE (a.src = i.dict AND hs_str_key(a.label) IS NOT NULL)"
    "   OR (a.src = i.id AND a.label LIKE '.%' AND a.label NOT IN ('.__dict__', '.__class__'))"
    "   ORDER BY l)) AS aset,"
    "  (SELECT count(*) FROM edges a WHERE (a.src = i.dict AND hs_str_key(a.label) IS NOT NULL)"
    "   OR (a.src = i.id AND a.label LIKE '.%' AND a.label NOT IN ('.__dict__', '.__class__')))"
    "   AS nattr"
    "  FROM inst i LEFT JOIN objects dobj ON dobj.id = i.dict),"
    " common AS (SELECT tid, max(n) AS common FROM"
    "  (SELECT tid, count(*) AS n FROM attrs GROUP BY tid, aset) GROUP BY tid),"
    /* In memory (objects.memory) when the capture gave it: an instance with its dict or its
     * attribute values, against a slotted one (object header, GC header and a pointer an
     * attribute, rounded as pymalloc rounds it); else by getsizeof, guessing 8 bytes an
     * attribute for values kept outside a dict. */
    " per0 AS (SELECT a.tid, count(*) AS n, max(a.nattr) AS nattr, min(a.id) AS rep,"
    "  count(a.memory) = count(*) AS in_memory,"
    "  CASE WHEN count(a.memory) = count(*) THEN sum(a.memory)"
    "  ELSE sum(a.bytes + a.inline * 8 * a.nattr) END AS bytes FROM attrs a GROUP BY a.tid),"
    " per AS (SELECT *, n * CASE WHEN in_memory THEN (32 + 8 * nattr + 15) / 16 * 16"
    "  ELSE 32 + 8 * nattr END AS slotted FROM per0)"
    "SELECT 6, 'slots-candidates', t.name, per.n, per.bytes,"
    " per.bytes - per.slotted, NULL, per.rep, hs_path(per.rep),"
    " printf('%d instances, %d%% with the same %d attributes: %d bytes now, %d with '"
    "  || '__slots__ (saves %d%s)', per.n, 100 * cm.common / per.n, per.nattr, per.bytes,"
    "  per.slotted, per.bytes - per.slotted,"
    "  CASE WHEN per.in_memory THEN ', in memory' ELSE ', by sys.getsizeof' END)"
    " FROM per JOIN common cm ON cm.tid = per.tid JOIN types t ON t.id = per.tid"
    " WHERE cm.common * 10 >= per.n * 9 AND per.bytes > per.slotted"
    " ORDER BY per.bytes - per.slotted DESC LIMIT (SELECT lim FROM leak_params);",

    /* 7. Holders of many weak references (dead ones, and weak caches), leaving out the
     * interpreter's own weak references to classes (subclass lists, ABC registries). */
    "INSERT INTO leak_findings "
    "WITH w AS (SELECT e.src AS holder, w.ref, w.referent, hs_type(w.referent) AS rtype"
    "  FROM weakrefs w JOIN referrers e ON e.dst = w.ref"
    "  WHERE w.referent IS NULL OR w.referent NOT IN"
    "   (SELECT src FROM edges WHERE label = '.__mro__')),"
    " h AS (SELECT holder, count(*) AS n, sum(referent IS NULL) AS dead FROM w GROUP BY holder"
    "  HAVING n >= 10),"
    " rt AS (SELECT holder, group_concat(rtype || ' x' || k, ', ') AS types FROM"
    "  (SELECT holder, rtype, count(*) AS k FROM w WHERE rtype IS NOT NULL"
    "   GROUP BY holder, rtype ORDER BY k DESC) GROUP BY holder)"
    "SELECT 7, 'weak-references', coalesce(hs_path(h.holder), hs_type(h.holder)), h.n, o.size,"
    " o.retained, NULL, h.holder, hs_path(h.holder),"
    " CASE WHEN h.dead > 0 THEN printf('%d dead weak references still held', h.dead) ||"
    "  CASE WHEN h.n > h.dead THEN printf('; %d live', h.n - h.dead) ELSE '' END"
    "  ELSE printf('weak cache of %d live references', h.n) END ||"
    " coalesce(' to ' || rt.types, '')"
    " FROM h JOIN objects o ON o.id = h.holder LEFT JOIN rt ON rt.holder = h.holder"
    " ORDER BY h.dead DESC, h.n DESC LIMIT (SELECT lim FROM leak_params);",

    /* 8. Objects per generation, and the collector's counts and thresholds. */
    "INSERT INTO leak_findings "
    "SELECT 8, 'gc-state', CASE WHEN generation = 3 THEN 'permanent generation'"
    " ELSE 'generation ' || generation END, count(*), sum(size), NULL, NULL, NULL, NULL,"
    " CASE WHEN generation < 3 THEN 'count ' || coalesce((SELECT value FROM meta"
    "  WHERE key = 'gc.count'), '?') || ', thresholds ' || coalesce((SELECT value FROM meta"
    "  WHERE key = 'gc.threshold'), '?') || ' (generations 0,1,2)'"
    "  ELSE 'in the permanent generation (where gc.freeze() moves objects, and 3.12+ keeps"
    " some of its own startup objects): never collected' END ||"
    " printf('; %d unreachable', sum(unreachable))"
    " FROM objects WHERE generation IS NOT NULL GROUP BY generation ORDER BY generation;",
};
/* clang-format on */

/* hs_str_key(label): the str a dict-key label spells (['users'], ["it's"], ['a\tb'] give users,
 * it's, a<TAB>b: the label is [ and ] around a literal as repr() writes it), else NULL (an int
 * key, an attribute, a <str at 0x...> of a snapshot without values). */
static void sql_str_key(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	const char *label = (const char *)sqlite3_value_text(argv[0]);
	size_t n = (size_t)sqlite3_value_bytes(argv[0]);
	if (!label || n < 4 || label[0] != '[' || label[n - 1] != ']')
		return;
	char *value = malloc(n);
	struct hs_textbuf o = {value, n, 0};
	if (!value) {
		sqlite3_result_error_nomem(ctx);
		return;
	}
	if (hs_py_str_unrepr(&o, label + 1, n - 2))
		sqlite3_result_text(ctx, value, (int)o.len, free);
	else
		free(value);
}

/* Executes sql on db; an error names what was being computed. */
static struct hs_error *exec(sqlite3 *db, const char *sql, const char *what)
{
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return hs_store_error(db, what);
	return NULL;
}

/* A baseline: its database file and capture time, for ordering. */
struct baseline {
	char *db_path;
	long long time_ns;
	const char *name;
};

static int baseline_cmp(const void *a, const void *b)
{
	const struct baseline *x = a, *y = b;
	return (x->time_ns > y->time_ns) - (x->time_ns < y->time_ns);
}

/* The meta value of key in db, or "" (owned by the caller). */
static char *meta_value(sqlite3 *db, const char *key)
{
	sqlite3_stmt *stmt;
	const unsigned char *v = NULL;
	char *ret = NULL;
	if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = ?1", -1, &stmt, NULL) ==
	    SQLITE_OK) {
		sqlite3_bind_text(stmt, 1, key, -1, SQLITE_STATIC);
		if (sqlite3_step(stmt) == SQLITE_ROW)
			v = sqlite3_column_text(stmt, 0);
		ret = strdup(v ? (const char *)v : "");
		sqlite3_finalize(stmt);
	}
	return ret;
}

/* Why baseline b (database bdb) is no earlier snapshot of the process snapshot db shows, or
 * NULL: another process (pid, when both know it), another Python, the same capture, or a capture
 * not before it.  Returns a message for sqlite3_free, or NULL. */
static char *baseline_mismatch(sqlite3 *db, sqlite3 *bdb)
{
	static const char *const keys[] = {"pid", "runtime_version", "time_ns",
	                                   "snapshot_identity"};
	char *v[2][4] = {{NULL}};
	char *why = NULL;
	for (int k = 0; k < 4; k++) {
		v[0][k] = meta_value(db, keys[k]);
		v[1][k] = meta_value(bdb, keys[k]);
	}
	bool ok = true;
	for (int k = 0; k < 4; k++)
		ok = ok && v[0][k] && v[1][k];
	if (!ok)
		why = sqlite3_mprintf("out of memory");
	else if (strcmp(v[0][0], v[1][0]) && strcmp(v[0][0], "0") && strcmp(v[1][0], "0"))
		why = sqlite3_mprintf("captured from process %s, the snapshot from process %s",
		                      v[1][0], v[0][0]);
	else if (strcmp(v[0][1], v[1][1]))
		why = sqlite3_mprintf("captured from Python %s, the snapshot from Python %s",
		                      v[1][1], v[0][1]);
	else if (!strcmp(v[0][3], v[1][3]))
		why = sqlite3_mprintf("it is the snapshot itself");
	else if (strtoll(v[1][2], NULL, 10) >= strtoll(v[0][2], NULL, 10))
		why = sqlite3_mprintf("captured at or after the snapshot, not before it");
	for (int k = 0; k < 4; k++) {
		free(v[0][k]);
		free(v[1][k]);
	}
	return why;
}

/* Opens (building on demand) the database of each baseline, checks that it is an earlier
 * snapshot of the same process (or warns, with force), and reads its capture time. */
static struct hs_error *open_baselines(sqlite3 *db, const struct hs_leaks_options *opts,
                                       struct baseline *ret)
{
	for (int i = 0; i < opts->nbaselines; i++) {
		sqlite3 *b;
		struct hs_error *err = hs_cli_open(opts->baselines[i], &b);
		if (err)
			return err;
		ret[i].name = opts->baselines[i];
		ret[i].db_path = strdup(sqlite3_db_filename(b, "main"));
		char *why = baseline_mismatch(db, b), *t = meta_value(b, "time_ns");
		ret[i].time_ns = t ? strtoll(t, NULL, 10) : 0;
		free(t);
		sqlite3_close(b);
		if (why && !opts->force)
			err = hs_error_create(HS_ERROR_USAGE,
			                      "%s: not an earlier snapshot of the same process: %s "
			                      "(--force compares it anyway)",
			                      opts->baselines[i], why);
		else if (why)
			fprintf(stderr,
			        "heapsnap leaks: warning: %s: %s; compared anyway (--force)\n",
			        opts->baselines[i], why);
		sqlite3_free(why);
		if (err)
			return err;
		if (!ret[i].db_path)
			return &hs_error_nomem;
	}
	qsort(ret, (size_t)opts->nbaselines, sizeof(*ret), baseline_cmp);
	return NULL;
}

/* Attaches baseline k as bK and adds its row to leak_snapshots and its containers' entries to
 * leak_series. */
static struct hs_error *attach_baseline(sqlite3 *db, int k, const struct baseline *b)
{
	char schema[16];
	snprintf(schema, sizeof(schema), "b%d", k);
	struct hs_error *err = hs_store_attach(db, b->db_path, schema);
	if (err)
		return err;
	char *sql = sqlite3_mprintf(
	    "INSERT INTO leak_snapshots SELECT %d, %Q, %lld, count(*), sum(size) FROM b%d.objects;"
	    "INSERT INTO leak_series SELECT c.id, %d, " ENTRIES(
	        "b%d",
	        "q.id") ", q.retained"
	                " FROM leak_containers c CROSS JOIN objects o ON o.id = c.id"
	                " CROSS JOIN b%d.objects q ON q.addr = o.addr JOIN b%d.types qt ON qt.id "
	                "= q.type_id"
	                " WHERE qt.name = c.type;",
	    k, b->name, b->time_ns, k, k, k, k, k);
	if (!sql)
		return &hs_error_nomem;
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		err = hs_error_create(HS_ERROR_FORMAT, "%s: baseline: %s", b->name,
		                      sqlite3_errmsg(db));
	sqlite3_free(sql);
	return err;
}

struct hs_error *hs_leaks_run(sqlite3 *db, const struct hs_leaks_options *opts)
{
	/* The user's --min-bytes is the floor as given; by default the floor is 256 KiB or 1% of
	 * the heap, the larger (a big heap has more "large" objects that are not leaks). */
	unsigned long long min_bytes = opts->min_bytes ? opts->min_bytes : 256 * 1024;
	int heap_share = opts->min_bytes == 0;
	long min_count = opts->min_count ? opts->min_count : 100;
	long limit = opts->limit ? opts->limit : 10;
	if (sqlite3_create_function_v2(db, "hs_str_key", 1,
	                               SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, NULL,
	                               sql_str_key, NULL, NULL, NULL) != SQLITE_OK)
		return hs_store_error(db, "leak report: hs_str_key");
	char *params =
	    sqlite3_mprintf("DROP TABLE IF EXISTS temp.leak_params;"
	                    "CREATE TEMP TABLE leak_params AS SELECT"
	                    " CASE WHEN %d AND coalesce(sum(size), 0) / 100 > %llu"
	                    " THEN sum(size) / 100 ELSE %llu END AS big,"
	                    " %ld AS cnt, %ld AS lim, %d AS nbase FROM objects;",
	                    heap_share, min_bytes, min_bytes, min_count, limit, opts->nbaselines);
	if (!params)
		return &hs_error_nomem;
	struct hs_error *err = exec(db, params, "leak report parameters");
	sqlite3_free(params);
	if (!err)
		err = exec(db, setup_sql, "leak report: containers");
	struct baseline *bases = calloc((size_t)opts->nbaselines + 1, sizeof(*bases));
	if (!err && !bases)
		err = &hs_error_nomem;
	if (!err)
		err = open_baselines(db, opts, bases);
	for (int k = 0; !err && k < opts->nbaselines; k++)
		err = attach_baseline(db, k, &bases[k]);
	if (!err) {
		char *sql = sqlite3_mprintf(
		    "INSERT INTO leak_snapshots SELECT %d, (SELECT value FROM meta WHERE key ="
		    " 'snapshot'), (SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'time_ns'),"
		    " count(*), sum(size) FROM objects;",
		    opts->nbaselines);
		err = sql ? exec(db, sql, "leak report: snapshots") : &hs_error_nomem;
		sqlite3_free(sql);
	}
	if (!err)
		err = exec(db, trend_sql, "leak report: trends");
	if (!err)
		err = exec(db, callables_sql, "leak report: closures and bound methods");
	for (int i = 0; !err && i < hs_leak_nsections; i++)
		err = exec(db, section_sql[i], hs_leak_sections[i].title);
	for (int k = 0; bases && k < opts->nbaselines; k++)
		free(bases[k].db_path);
	free(bases);
	return err;
}
