/*
 * first_answer.c — answers on a fresh snapshot before its database is written (first_answer.h):
 * the rows a command's SQL reads are picked from the snapshot and the analysis, put into a
 * partial database in memory (hs_store_partial) and the command's own SQL runs there, so the
 * output is the database's to the byte; the database is written after (hs_cli_first_answer).
 * top --by retained, path and show share that (first_partial); summary adds its own counts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "first_answer.h"
#include "load.h"
#include "rows.h"
#include "store.h"

/* The most rows `top` answers this way: a selection of more is no quicker than the database. */
enum { TOP_MAX = 10000 };

/* SQLite's order of `ORDER BY retained DESC, addr`: whether x comes before y. */
static bool before(const struct hs_snapshot *snap, const struct hs_analysis *a, uint32_t x,
                   uint32_t y)
{
	int64_t rx = (int64_t)a->retained[x], ry = (int64_t)a->retained[y];
	return rx != ry ? rx > ry : (int64_t)snap->addr[x] < (int64_t)snap->addr[y];
}

/* Moves heap[k] down the heap of n whose top is the object that comes last. */
static void sift_down(const struct hs_snapshot *snap, const struct hs_analysis *a, uint32_t *heap,
                      size_t n, size_t k)
{
	for (;;) {
		size_t last = k, l = 2 * k + 1, r = l + 1;
		if (l < n && before(snap, a, heap[last], heap[l]))
			last = l;
		if (r < n && before(snap, a, heap[last], heap[r]))
			last = r;
		if (last == k)
			return;
		uint32_t t = heap[k];
		heap[k] = heap[last];
		heap[last] = t;
		k = last;
	}
}

/* The n objects that come first in that order (fewer when the snapshot has fewer), in *len. */
static void select_top(const struct hs_snapshot *snap, const struct hs_analysis *a, uint32_t *heap,
                       size_t n, size_t *len)
{
	size_t k = 0;
	for (uint64_t i = 0; n && i < snap->nobjects; i++) {
		if (k < n) {
			heap[k++] = (uint32_t)i;
			if (k == n)
				for (size_t j = n / 2 + 1; j-- > 0;)
					sift_down(snap, a, heap, n, j);
		} else if (before(snap, a, (uint32_t)i, heap[0])) {
			heap[0] = (uint32_t)i;
			sift_down(snap, a, heap, n, 0);
		}
	}
	*len = k;
}

struct hs_error hs_first_declined = {HS_ERROR_OTHER, "the partial database cannot answer"};

/* A first answer through a partial database: pick chooses the objects (malloc'd into *objs,
 * *n of them), which the database holds with the objects and edges of their paths (and with
 * refs their references: hs_store_partial); work prints from it.  Either may return
 * &hs_first_declined (work before it prints anything). */
struct partial_answer {
	struct hs_error *(*pick)(void *arg, const struct hs_snapshot *snap,
	                         const struct hs_analysis *a, uint32_t **objs, size_t *n);
	struct hs_error *(*work)(void *arg, sqlite3 *db, const uint32_t *objs);
	void *arg;
	bool refs;
	int rc; /* the exit code, -1 when declined */
};

/* hs_cli_answer_fn of a partial_answer: an error of the answer is reported at once (the exit
 * code in rc), and the database is written all the same. */
static struct hs_error *answer_partial(void *arg, const struct hs_snapshot *snap,
                                       const struct hs_analysis *a)
{
	struct partial_answer *p = arg;
	uint32_t *objs = NULL;
	size_t n = 0;
	sqlite3 *db;
	struct hs_error *err = p->pick(p->arg, snap, a, &objs, &n);
	if (!err && (err = hs_store_partial(snap, a, objs, n, true, p->refs, &db)) == NULL) {
		err = p->work(p->arg, db, objs);
		sqlite3_close(db);
	}
	free(objs);
	p->rc = err == &hs_first_declined ? -1 : err ? hs_cli_fail(err) : HS_EXIT_OK;
	return NULL;
}

/* Answers p on the fresh snapshot at path: the exit code, or -1 when path is none or p
 * declined (the caller then goes through the database, written by then). */
static int first_partial(const char *path, struct partial_answer *p)
{
	bool answered;
	struct hs_error *err = hs_cli_first_answer(path, answer_partial, p, false, &answered);
	if (err)
		return hs_cli_fail(err);
	return answered ? p->rc : -1;
}

struct top_job {
	const struct hs_cmd_args *args;
	const char *sql;
};

static struct hs_error *pick_top(void *arg, const struct hs_snapshot *snap,
                                 const struct hs_analysis *a, uint32_t **objs, size_t *n)
{
	const struct top_job *job = arg;
	size_t limit = (size_t)job->args->limit;
	if (!(*objs = malloc((limit ? limit : 1) * sizeof(**objs))))
		return &hs_error_nomem;
	select_top(snap, a, *objs, limit, n);
	return NULL;
}

static struct hs_error *print_top(void *arg, sqlite3 *db, const uint32_t *objs)
{
	(void)objs;
	struct top_job *job = arg;
	char limit[32];
	snprintf(limit, sizeof(limit), "%ld", job->args->limit);
	char *args[] = {limit};
	return hs_rows_run(db, job->sql, 1, args, job->args->format, stdout);
}

int hs_first_top_retained(const struct hs_cmd_args *a, const char *sql)
{
	if (a->limit < 0 || a->limit > TOP_MAX)
		return -1;
	struct top_job job = {a, sql};
	struct partial_answer p = {pick_top, print_top, &job, false, -1};
	return first_partial(a->pos[0], &p);
}

struct object_job {
	const char *addr;
	hs_first_object_fn *work;
	void *arg;
};

/* The object at job->addr; declined when it is no address or no object's. */
static struct hs_error *pick_object(void *arg, const struct hs_snapshot *snap,
                                    const struct hs_analysis *a, uint32_t **objs, size_t *n)
{
	(void)a;
	struct object_job *job = arg;
	uint64_t addr;
	int64_t i;
	if (!hs_parse_u64(job->addr, true, &addr) || (i = hs_snapshot_find(snap, addr)) < 0)
		return &hs_first_declined;
	if (!(*objs = malloc(sizeof(**objs))))
		return &hs_error_nomem;
	**objs = (uint32_t)i;
	*n = 1;
	return NULL;
}

static struct hs_error *object_work(void *arg, sqlite3 *db, const uint32_t *objs)
{
	struct object_job *job = arg;
	return job->work(job->arg, db, objs[0]);
}

int hs_first_object(const char *path, const char *addr, bool refs, hs_first_object_fn *work,
                    void *arg)
{
	struct object_job job = {addr, work, arg};
	struct partial_answer p = {pick_object, object_work, &job, refs, -1};
	return first_partial(path, &p);
}

/* What summary_overview.sql counts over the objects, and the conservative ones. */
struct counts {
	int64_t gc_tracked, bytes, memory, garbage, garbage_bytes, unrooted;
	uint32_t *cons;
	size_t ncons;
	uint64_t *type_count; /* per type: objects, bytes */
	int64_t *type_bytes;
};

static struct hs_error *count_objects(const struct hs_snapshot *snap, const struct hs_analysis *a,
                                      struct counts *c)
{
	size_t cap = 0;
	c->type_count = calloc(snap->ntypes + 1, sizeof(*c->type_count));
	c->type_bytes = calloc(snap->ntypes + 1, sizeof(*c->type_bytes));
	if (!c->type_count || !c->type_bytes)
		return &hs_error_nomem;
	for (uint64_t i = 0; i < snap->nobjects; i++) {
		int64_t size = (int64_t)snap->size[i];
		c->gc_tracked += (snap->flags[i] & HS_OBJ_GC) != 0;
		c->bytes += size;
		if (snap->has_memory)
			c->memory += size + snap->memory_delta[i];
		if (a->unreachable[i]) {
			c->garbage++;
			c->garbage_bytes += size;
		}
		c->unrooted += a->depth[i] == HS_NONE;
		if (snap->type[i] < snap->ntypes) {
			c->type_count[snap->type[i]]++;
			c->type_bytes[snap->type[i]] += size;
		}
		if (!(snap->flags[i] & HS_OBJ_CONSERVATIVE_SCAN))
			continue;
		if (c->ncons == cap) {
			cap = cap ? 2 * cap : 64;
			uint32_t *cons = realloc(c->cons, cap * sizeof(*cons));
			if (!cons)
				return &hs_error_nomem;
			c->cons = cons;
		}
		c->cons[c->ncons++] = (uint32_t)i;
	}
	return NULL;
}

/* The name SQLite gives the database file db_path once written (its unix VFS makes it absolute
 * and resolves links): the resolved directory and the file name; malloc'd, NULL when out of
 * memory. */
static char *full_db_path(const char *db_path)
{
	const char *slash = strrchr(db_path, '/');
	char *dir =
	    slash ? strndup(db_path, (size_t)(slash - db_path + (slash == db_path))) : strdup(".");
	char *real = dir ? realpath(dir, NULL) : NULL, *full = NULL;
	if (real && asprintf(&full, "%s%s%s", real, strcmp(real, "/") ? "/" : "",
	                     slash ? slash + 1 : db_path) < 0)
		full = NULL;
	free(dir);
	free(real);
	return full;
}

static const char first_tables_sql[] =
    "CREATE TEMP TABLE first_counts(snapshot TEXT, database TEXT, producer TEXT, runtime TEXT,"
    " runtime_version TEXT, objects INTEGER, gc_tracked INTEGER, bytes INTEGER, memory INTEGER,"
    " edges INTEGER, garbage INTEGER, garbage_bytes INTEGER, unrooted INTEGER,"
    " conservative INTEGER);"
    "CREATE TEMP TABLE first_types(type_id INTEGER PRIMARY KEY, count INTEGER, bytes INTEGER);";

static struct hs_error *insert_counts(sqlite3 *db, const char *path, const struct hs_snapshot *snap,
                                      const struct counts *c)
{
	sqlite3_stmt *stmt;
	if (sqlite3_prepare_v2(db, "INSERT INTO first_counts VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
	                       -1, &stmt, NULL) != SQLITE_OK)
		return hs_store_error(db, "summary");
	char *db_path = hs_store_db_path(path);
	char *full = db_path ? full_db_path(db_path) : NULL, *abs = realpath(snap->path, NULL);
	const char *text[] = {abs ? abs : snap->path, full, snap->header.producer,
	                      snap->header.runtime, snap->header.runtime_version};
	for (int k = 0; k < 5; k++)
		sqlite3_bind_text(stmt, k + 1, text[k], -1, SQLITE_TRANSIENT);
	int64_t ints[] = {(int64_t)snap->nobjects, c->gc_tracked, c->bytes,         c->memory,
	                  (int64_t)snap->nedges,   c->garbage,    c->garbage_bytes, c->unrooted,
	                  (int64_t)c->ncons};
	for (int k = 0; k < 9; k++)
		sqlite3_bind_int64(stmt, k + 6, ints[k]);
	if (!snap->has_memory || !snap->nobjects)
		sqlite3_bind_null(stmt, 9);
	int rc = full ? sqlite3_step(stmt) : SQLITE_NOMEM;
	sqlite3_finalize(stmt);
	free(db_path);
	free(full);
	free(abs);
	if (rc == SQLITE_NOMEM)
		return &hs_error_nomem;
	return rc == SQLITE_DONE ? NULL : hs_store_error(db, "summary");
}

static struct hs_error *insert_types(sqlite3 *db, const struct hs_snapshot *snap,
                                     const struct counts *c)
{
	sqlite3_stmt *stmt;
	if (sqlite3_prepare_v2(db, "INSERT INTO first_types VALUES (?,?,?)", -1, &stmt, NULL) !=
	    SQLITE_OK)
		return hs_store_error(db, "summary");
	int rc = SQLITE_DONE;
	for (uint32_t t = 0; rc == SQLITE_DONE && t < snap->ntypes; t++) {
		if (!c->type_count[t])
			continue;
		sqlite3_bind_int64(stmt, 1, t);
		sqlite3_bind_int64(stmt, 2, (int64_t)c->type_count[t]);
		sqlite3_bind_int64(stmt, 3, c->type_bytes[t]);
		rc = sqlite3_step(stmt);
		sqlite3_reset(stmt);
	}
	sqlite3_finalize(stmt);
	return rc == SQLITE_DONE ? NULL : hs_store_error(db, "summary");
}

struct hs_error *hs_first_summary_db(const char *path, const struct hs_snapshot *snap,
                                     const struct hs_analysis *a, sqlite3 **ret, char total[32])
{
	struct counts c = {0};
	sqlite3 *db = NULL;
	struct hs_error *err = count_objects(snap, a, &c);
	if (!err)
		err = hs_store_partial(snap, a, c.cons, c.ncons, false, false, &db);
	if (!err && sqlite3_exec(db, first_tables_sql, NULL, NULL, NULL) != SQLITE_OK)
		err = hs_store_error(db, "summary");
	if (!err)
		err = insert_counts(db, path, snap, &c);
	if (!err)
		err = insert_types(db, snap, &c);
	free(c.cons);
	free(c.type_count);
	free(c.type_bytes);
	if (err) {
		sqlite3_close(db);
		return err;
	}
	snprintf(total, 32, "%lld", (long long)c.bytes);
	*ret = db;
	return NULL;
}
