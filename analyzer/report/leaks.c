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
 *
 * The SQL is in queries/leaks/ (its README gives the order and the parameters), embedded as
 * hs_sql_leaks_NAME and run with its numbers bound (params.sql, snapshot.sql); C keeps what SQL
 * cannot do: the baselines' attachment and their rows (attach_baseline: schema names bind to
 * nothing), the meta lookups that compare a baseline with the snapshot, and hs_str_key.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "leaks.h"
#include "leaks_sql.h"
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

/* The number of entries of container X in schema P: its labelled edges (dict values, list
 * items), or all of its edges when none is labelled (set elements).  For the baselines; the
 * snapshot's own count is setup.sql's, the same expression over main. */
#define ENTRIES(P, X)                                                                              \
	"(SELECT CASE WHEN sum(substr(e.label, 1, 1) = '[') > 0"                                   \
	" THEN sum(substr(e.label, 1, 1) = '[') ELSE count(*) END"                                 \
	" FROM " P ".edges e WHERE e.src = " X ")"

/* The SQL of each section of hs_leak_sections, in order (queries/leaks/). */
static const char *const section_sql[] = {
    hs_sql_leaks_finalizer_cycles,  hs_sql_leaks_unbounded_cache, hs_sql_leaks_global_accumulation,
    hs_sql_leaks_closure_retention, hs_sql_leaks_c_references,    hs_sql_leaks_slots_candidates,
    hs_sql_leaks_weak_references,   hs_sql_leaks_gc_state,
};
_Static_assert(sizeof(section_sql) / sizeof(section_sql[0]) ==
                   sizeof(hs_leak_sections) / sizeof(hs_leak_sections[0]),
               "one SQL file per section");

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
	long long min_bytes = opts->min_bytes ? (long long)opts->min_bytes : 256 * 1024;
	long min_count = opts->min_count ? opts->min_count : 100;
	long limit = opts->limit ? opts->limit : 10;
	if (sqlite3_create_function_v2(db, "hs_str_key", 1,
	                               SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, NULL,
	                               sql_str_key, NULL, NULL, NULL) != SQLITE_OK)
		return hs_store_error(db, "leak report: hs_str_key");
	const long long params[] = {opts->min_bytes == 0, min_bytes, min_count, limit,
	                            opts->nbaselines};
	struct hs_error *err =
	    hs_store_exec(db, hs_sql_leaks_params, "leak report parameters", 5, params);
	if (!err)
		err = hs_store_exec(db, hs_sql_leaks_setup, "leak report: containers", 0, NULL);
	if (!err)
		err = hs_store_exec(db, hs_sql_leaks_names, "leak report: names", 0, NULL);
	struct baseline *bases = calloc((size_t)opts->nbaselines + 1, sizeof(*bases));
	if (!err && !bases)
		err = &hs_error_nomem;
	if (!err)
		err = open_baselines(db, opts, bases);
	for (int k = 0; !err && k < opts->nbaselines; k++)
		err = attach_baseline(db, k, &bases[k]);
	if (!err) {
		const long long k = opts->nbaselines;
		err = hs_store_exec(db, hs_sql_leaks_snapshot, "leak report: snapshots", 1, &k);
	}
	if (!err)
		err = hs_store_exec(db, hs_sql_leaks_trend, "leak report: trends", 0, NULL);
	if (!err)
		err = hs_store_exec(db, hs_sql_leaks_callables,
		                    "leak report: closures and bound methods", 0, NULL);
	for (int i = 0; !err && i < hs_leak_nsections; i++)
		err = hs_store_exec(db, section_sql[i], hs_leak_sections[i].title, 0, NULL);
	for (int k = 0; bases && k < opts->nbaselines; k++)
		free(bases[k].db_path);
	free(bases);
	return err;
}
