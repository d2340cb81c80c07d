/*
 * store.c — writes a snapshot and its analysis into the SQLite database of SCHEMA.md.
 *
 * The big tables (objects, edges, referrers) and their indexes are written as pages by
 * store_tables.c; the edge trees while hs_analyze runs (in a thread: they need no analysis),
 * the objects after it.  SQLite then opens the file and adds the small tables (meta, types,
 * weakrefs, roots), their indexes and ANALYZE's statistics in one transaction with
 * journal_mode=OFF.  All of it goes to a temporary next to db_path (so concurrent loads do not
 * collide), renamed into place at the end, so a half-written database is never seen.
 *
 * The streamed load (hs_store_stream, OUT-OF-CORE.md) goes through SQLite alone: prepared
 * multi-row INSERTs in rowid order, the referrers sorted by SQLite, the indexes after the data.
 *
 * hs_store_partial writes no file: an in-memory database with the small tables and a few rows
 * of the big ones (the objects a first answer lists, their paths, their references in and out),
 * the same INSERTs binding the same column values, so that a command's own SQL answers there
 * before the database is written.
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store.h"
#include "store_tables.h"

/* The small tables and their indexes (SCHEMA.md documents every column); the big ones are in
 * store_tables.c. */
static const char small_schema_sql[] =
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT);\n"
    "CREATE TABLE types(id INTEGER PRIMARY KEY, name TEXT, module TEXT, default_size INTEGER,\n"
    "  type_object INTEGER, finalizer INTEGER, heap INTEGER, gc INTEGER, flags INTEGER);\n"
    "CREATE TABLE weakrefs(ref INTEGER, referent INTEGER, callback INTEGER);\n"
    "CREATE TABLE roots(obj INTEGER, kind TEXT, name TEXT);\n"
    "CREATE TABLE sites(id INTEGER PRIMARY KEY, filename TEXT, lineno INTEGER);\n";
static const char small_index_sql[] = "CREATE INDEX weakrefs_ref ON weakrefs(ref);\n"
                                      "CREATE INDEX roots_obj ON roots(obj);\n";

/* Rows per multi-row INSERT: large enough to amortize the statement, small enough to stay far
 * below SQLITE_MAX_VARIABLE_NUMBER (32766 since 3.32). */
#define BATCH_ROWS 128

struct builder {
	sqlite3 *db;
	const char *path;      /* for messages */
	const char *path_snap; /* hs_store_stream's snapshot */
	const struct hs_snapshot *snap;
	const struct hs_analysis *a;
	hs_progress_fn *progress;
	void *progress_arg;
	uint32_t *nreferrers; /* strong edges into each object */
	/* hs_store_stream: */
	uint32_t *inrefs;   /* traverse and owned edges into each object (for ext_refs) */
	uint64_t bytes;     /* the objects' total size */
	const char *stream; /* NULL, or the meta note of a streamed load */
	uint32_t nsites;    /* hs_store_stream: the sites inserted so far */
};

static struct hs_error *db_error(struct builder *b, const char *what)
{
	return hs_error_create(HS_ERROR_IO, "%s: %s: %s", b->path, what, sqlite3_errmsg(b->db));
}

static struct hs_error *exec(struct builder *b, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(b->db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return NULL;
	struct hs_error *err =
	    hs_error_create(HS_ERROR_IO, "%s: %s", b->path, msg ? msg : sqlite3_errmsg(b->db));
	sqlite3_free(msg);
	return err;
}

/* Prepares "INSERT INTO t VALUES (?,..),(?,..)..." with rows rows of t's columns. */
static struct hs_error *prepare_insert(struct builder *b, const struct hs_store_table *t, int rows,
                                       sqlite3_stmt **ret)
{
	int ncols = t->ncolumns;
	sqlite3_str *s = sqlite3_str_new(b->db);
	sqlite3_str_appendf(s, "INSERT INTO %s VALUES ", t->name);
	for (int r = 0; r < rows; r++) {
		sqlite3_str_appendall(s, r ? ",(" : "(");
		for (int c = 0; c < ncols; c++)
			sqlite3_str_appendall(s, c ? ",?" : "?");
		sqlite3_str_appendchar(s, 1, ')');
	}
	char *sql = sqlite3_str_finish(s);
	if (!sql)
		return &hs_error_nomem;
	int rc = sqlite3_prepare_v3(b->db, sql, -1, SQLITE_PREPARE_PERSISTENT, ret, NULL);
	sqlite3_free(sql);
	return rc == SQLITE_OK ? NULL : db_error(b, "prepare insert");
}

static struct hs_error *step_reset(struct builder *b, sqlite3_stmt *stmt)
{
	int rc = sqlite3_step(stmt);
	sqlite3_reset(stmt);
	return rc == SQLITE_DONE ? NULL : db_error(b, "insert");
}

static void bind_u64(sqlite3_stmt *stmt, int col, uint64_t v)
{
	/* SQLite integers are signed 64-bit; values above INT64_MAX keep their bits. */
	sqlite3_bind_int64(stmt, col, (sqlite3_int64)v);
}

static void report(struct builder *b, const char *phase, uint64_t done, uint64_t total)
{
	if (b->progress)
		b->progress(b->progress_arg, phase, total ? (double)done / (double)total : 1.0);
}

/* Runs sql (one statement with ? parameters) once per row that fill() binds. */
static struct hs_error *insert_small(struct builder *b, const char *sql, uint64_t n,
                                     void (*fill)(struct builder *, sqlite3_stmt *, uint64_t))
{
	sqlite3_stmt *stmt;
	if (sqlite3_prepare_v2(b->db, sql, -1, &stmt, NULL) != SQLITE_OK)
		return db_error(b, "prepare");
	struct hs_error *err = NULL;
	for (uint64_t i = 0; !err && i < n; i++) {
		fill(b, stmt, i);
		err = step_reset(b, stmt);
	}
	sqlite3_finalize(stmt);
	return err;
}

static void bind_string(struct builder *b, sqlite3_stmt *stmt, int p, uint32_t id)
{
	const struct hs_string *s = &b->snap->strings[id];
	sqlite3_bind_text(stmt, p, s->s, (int)s->len, SQLITE_STATIC);
}

static void fill_type(struct builder *b, sqlite3_stmt *stmt, uint64_t i)
{
	const struct hs_type *t = &b->snap->types[i];
	sqlite3_bind_int64(stmt, 1, (sqlite3_int64)i);
	bind_string(b, stmt, 2, t->name);
	bind_string(b, stmt, 3, t->module);
	bind_u64(stmt, 4, t->default_size);
	if (t->type_object)
		bind_u64(stmt, 5, t->type_object - 1);
	else
		sqlite3_bind_null(stmt, 5);
	sqlite3_bind_int(stmt, 6, t->flags & HS_TYPE_HAS_FINALIZER ? 1 : 0);
	sqlite3_bind_int(stmt, 7, t->flags & HS_TYPE_HEAP ? 1 : 0);
	sqlite3_bind_int(stmt, 8, t->flags & HS_TYPE_GC ? 1 : 0);
	sqlite3_bind_int64(stmt, 9, t->flags);
}

static void fill_weak(struct builder *b, sqlite3_stmt *stmt, uint64_t i)
{
	const struct hs_weak *w = &b->snap->weak[i];
	bind_u64(stmt, 1, w->ref);
	if (w->referent_plus1)
		bind_u64(stmt, 2, w->referent_plus1 - 1);
	else
		sqlite3_bind_null(stmt, 2);
	if (w->callback_plus1)
		bind_u64(stmt, 3, w->callback_plus1 - 1);
	else
		sqlite3_bind_null(stmt, 3);
}

static void fill_root(struct builder *b, sqlite3_stmt *stmt, uint64_t i)
{
	const struct hs_root *r = &b->snap->roots[i];
	bind_u64(stmt, 1, r->obj);
	bind_string(b, stmt, 2, r->kind);
	bind_string(b, stmt, 3, r->name);
}

/* Site i + b->nsites (a stream inserts each run's new sites). */
static void fill_site(struct builder *b, sqlite3_stmt *stmt, uint64_t i)
{
	const struct hs_site *site = &b->snap->sites[b->nsites + i];
	sqlite3_bind_int64(stmt, 1, (sqlite3_int64)(b->nsites + i));
	bind_string(b, stmt, 2, site->file);
	sqlite3_bind_int64(stmt, 3, site->line);
}

/* The snapshot's own meta go in under their keys unless heapsnap's keys already took them. */
static void fill_snapshot_meta(struct builder *b, sqlite3_stmt *stmt, uint64_t i)
{
	const struct hs_string *kv = &b->snap->meta[2 * i];
	sqlite3_bind_text(stmt, 1, kv[0].s, (int)kv[0].len, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, kv[1].s, (int)kv[1].len, SQLITE_STATIC);
}

static struct hs_error *insert_meta(struct builder *b)
{
	const struct hs_snapshot *snap = b->snap;
	char *abs = realpath(snap->path, NULL);
	char identity[HS_STORE_IDENTITY_LEN];
	struct hs_error *err = hs_store_identity(snap->path, true, identity);
	if (err) {
		free(abs);
		return err;
	}
	uint64_t bytes = b->bytes;
	if (!b->stream)
		for (uint64_t i = 0; i < snap->nobjects; i++)
			bytes += snap->size[i];
	char *sql = sqlite3_mprintf(
	    "INSERT INTO meta VALUES ('schema_version', '%d'), ('application', 'heapsnap'),"
	    "('created_by', 'heapsnap %s'), ('snapshot', %Q), ('snapshot_size', '%llu'),"
	    "('snapshot_identity', %Q), ('producer', %Q), ('runtime', %Q), ('runtime_version', "
	    "%Q), ('pointer_size', '%u'),"
	    "('pid', '%u'), ('time_ns', '%llu'), ('method', '%d'), ('objects', '%llu'),"
	    "('edges', '%llu'), ('bytes', '%llu'), ('salvage_warning', %Q), ('analysis', %Q);"
	    "PRAGMA user_version = %d; PRAGMA application_id = %d;",
	    HS_STORE_SCHEMA_VERSION, HS_VERSION, abs ? abs : snap->path,
	    (unsigned long long)snap->file_size, identity, snap->header.producer,
	    snap->header.runtime, snap->header.runtime_version, snap->header.pointer_size,
	    snap->header.pid, (unsigned long long)snap->header.time_ns, (int)snap->header.method,
	    (unsigned long long)snap->nobjects, (unsigned long long)snap->nedges,
	    (unsigned long long)bytes, snap->salvage_warning, b->stream ? b->stream : "complete",
	    HS_STORE_SCHEMA_VERSION, HS_STORE_APPLICATION_ID);
	free(abs);
	if (!sql)
		return &hs_error_nomem;
	err = exec(b, sql);
	sqlite3_free(sql);
	if (!err)
		err = insert_small(b, "INSERT OR IGNORE INTO meta VALUES (?, ?)", snap->nmeta,
		                   fill_snapshot_meta);
	return err;
}

/* The small tables' rows but meta's. */
static struct hs_error *insert_small_tables(struct builder *b)
{
	struct hs_error *err = insert_small(b, "INSERT INTO types VALUES (?,?,?,?,?,?,?,?,?)",
	                                    b->snap->ntypes, fill_type);
	if (!err)
		err = insert_small(b, "INSERT INTO weakrefs VALUES (?,?,?)", b->snap->nweak,
		                   fill_weak);
	if (!err)
		err =
		    insert_small(b, "INSERT INTO roots VALUES (?,?,?)", b->snap->nroots, fill_root);
	if (!err)
		err =
		    insert_small(b, "INSERT INTO sites VALUES (?,?,?)", b->snap->nsites, fill_site);
	return err;
}

/* The body of a database whose big tables store_tables.c wrote: SQLite adds the rest. */
static struct hs_error *build_small(struct builder *b)
{
	struct hs_error *err = exec(b, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;"
	                               "PRAGMA locking_mode=EXCLUSIVE; BEGIN;");
	if (!err)
		err = exec(b, small_schema_sql);
	if (!err)
		err = insert_meta(b);
	if (!err)
		err = insert_small_tables(b);
	if (!err)
		err = exec(b, small_index_sql);
	if (!err)
		err = exec(b, "COMMIT; PRAGMA analysis_limit=1000; ANALYZE;");
	return err;
}

/* Creates a fresh temporary next to db_path (hs_out_open: O_EXCL, random name, mode 0600: the
 * database holds what the snapshot holds, value previews), into *tmp (malloc'd) and *fd. */
static struct hs_error *create_tmp(const char *db_path, char **tmp, int *fd)
{
	struct hs_out o;
	struct hs_error *err = hs_out_open(db_path, &o);
	if (err)
		return err;
	*fd = o.fd;
	*tmp = o.tmp;
	free(o.path);
	return NULL;
}

/* Runs body(b) with SQLite on the file tmp (unless err is already set), then renames it to
 * db_path, or removes it on any error.  Frees tmp. */
static struct hs_error *finish_db(struct builder *b, char *tmp, const char *db_path,
                                  struct hs_error *(*body)(struct builder *), struct hs_error *err)
{
	if (!err && sqlite3_open_v2(tmp, &b->db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
		err = db_error(b, "open");
	/* Not SQLITE_DBCONFIG_DEFENSIVE here: it turns journal_mode=OFF into a no-op, and this
	 * connection only ever sees the file it is creating. */
	if (!err)
		err = body(b);
	if (b->db && sqlite3_close(b->db) != SQLITE_OK && !err)
		err = db_error(b, "close");
	b->db = NULL;
	if (!err && rename(tmp, db_path) != 0)
		err = hs_error_errno(errno, db_path, "rename into place");
	if (err)
		unlink(tmp);
	free(tmp);
	return err;
}

/* Runs body(b) on a new, empty database at a temporary next to db_path and renames it into place
 * when it succeeds. */
static struct hs_error *create_db(struct builder *b, const char *db_path,
                                  struct hs_error *(*body)(struct builder *))
{
	char *tmp;
	int fd;
	struct hs_error *err = create_tmp(db_path, &tmp, &fd);
	if (err)
		return err;
	close(fd);
	return finish_db(b, tmp, db_path, body, NULL);
}

struct hs_store_writer {
	struct builder b;
	char *tmp;
	int fd;
	struct hs_btree_file file;
	uint32_t *ends; /* hs_store_tables_referrers' ends of each object's referrers */
	struct hs_snapshot *drop_labels; /* the snapshot whose labels go once written, or NULL */
	pthread_t thread;
	bool threaded;
	struct hs_error *edges_err;
};

static void *write_edges(void *arg)
{
	struct hs_store_writer *w = arg;
	w->edges_err = hs_store_tables_edges(&w->file, w->b.snap);
	if (w->drop_labels)
		hs_snapshot_drop_edge_labels(w->drop_labels);
	if (!w->edges_err)
		w->edges_err = hs_store_tables_referrers(&w->file, w->b.snap, w->ends);
	return NULL;
}

struct hs_error *hs_store_begin(struct hs_snapshot *snap, const char *db_path, bool drop_labels,
                                struct hs_store_writer **ret)
{
	struct hs_store_writer *w = calloc(1, sizeof(*w));
	if (!w)
		return &hs_error_nomem;
	w->b = (struct builder){.path = db_path, .snap = snap};
	w->drop_labels = drop_labels ? snap : NULL;
	w->ends = calloc(snap->nobjects ? snap->nobjects : 1, sizeof(uint32_t));
	struct hs_error *err = w->ends ? create_tmp(db_path, &w->tmp, &w->fd) : &hs_error_nomem;
	if (!err) {
		err = hs_btree_file_create(&w->file, w->fd, w->tmp);
		if (err) {
			close(w->fd);
			unlink(w->tmp);
			free(w->tmp);
		}
	}
	if (err) {
		free(w->ends);
		free(w);
		return err;
	}
	/* Where no thread can be started, hs_store_finish writes the edges itself. */
	w->threaded = pthread_create(&w->thread, NULL, write_edges, w) == 0;
	*ret = w;
	return NULL;
}

/* Waits for the edge trees; returns their error. */
static struct hs_error *join_edges(struct hs_store_writer *w)
{
	if (w->threaded)
		pthread_join(w->thread, NULL);
	else
		write_edges(w);
	w->threaded = false;
	return w->edges_err;
}

static void writer_free(struct hs_store_writer *w)
{
	free(w->ends);
	free(w);
}

void hs_store_abort(struct hs_store_writer *w)
{
	hs_error_destroy(join_edges(w));
	hs_btree_file_discard(&w->file);
	close(w->fd);
	unlink(w->tmp);
	free(w->tmp);
	writer_free(w);
}

struct hs_error *hs_store_finish(struct hs_store_writer *w, const struct hs_analysis *a,
                                 hs_progress_fn *progress, void *progress_arg)
{
	struct builder *b = &w->b;
	b->a = a;
	b->progress = progress;
	b->progress_arg = progress_arg;
	/* Phases: waiting for the edge trees (usually written by the end of the analysis), the
	 * object trees, then SQLite's part. */
	report(b, "edges", 0, 1);
	struct hs_error *err = join_edges(w);
	report(b, "objects", 0, 1);
	if (!err)
		err =
		    hs_store_tables_objects(&w->file, b->snap, a, w->ends, progress, progress_arg);
	report(b, "indexes", 0, 1);
	if (err)
		hs_btree_file_discard(&w->file);
	else
		err = hs_btree_file_finish(&w->file);
	if (close(w->fd) != 0 && !err)
		err = hs_error_errno(errno, w->tmp, "close");
	err = finish_db(b, w->tmp, b->path, build_small, err);
	report(b, "indexes", 1, 1);
	writer_free(w);
	return err;
}

struct hs_error *hs_store_build(struct hs_snapshot *snap, const struct hs_analysis *a,
                                const char *db_path, hs_progress_fn *progress, void *progress_arg)
{
	struct hs_store_writer *w;
	struct hs_error *err = hs_store_begin(snap, db_path, false, &w);
	return err ? err : hs_store_finish(w, a, progress, progress_arg);
}

/* The streamed load (OUT-OF-CORE.md).  Pass 1 counts each object's incoming edges (8 bytes per
 * object: the only memory that grows with the heap besides SQLite's bounded cache); pass 2
 * inserts each run's objects and edges as it is decoded. */
static struct hs_error *count_run(void *arg, const struct hs_snapshot *snap,
                                  const struct hs_run *run)
{
	struct builder *b = arg;
	if (run->first == 0) {
		b->nreferrers = calloc(snap->nobjects, sizeof(uint32_t));
		b->inrefs = calloc(snap->nobjects, sizeof(uint32_t));
		if (!b->nreferrers || !b->inrefs)
			return &hs_error_nomem;
	}
	uint64_t nedges = snap->edge_start[run->n] - run->first_edge;
	for (uint64_t i = 0; i < run->n; i++)
		b->bytes += snap->size[i];
	for (uint64_t e = 0; e < nedges; e++) {
		b->nreferrers[snap->edge_dst[e]]++;
		if (snap->edge_kind[e] != HS_EDGE_CONSERVATIVE)
			b->inrefs[snap->edge_dst[e]]++;
	}
	return NULL;
}

/* Binds src's row of t to stmt's parameters from p on (the rowid column too). */
static struct hs_error *bind_row(sqlite3_stmt *stmt, int p, const struct hs_store_table *t,
                                 struct hs_row_src *src)
{
	for (int c = 0; c < t->ncolumns; c++) {
		struct hs_value v;
		t->columns[c].get(src, &v);
		if (v.kind == HS_VALUE_INT)
			sqlite3_bind_int64(stmt, p + c, v.i);
		else if (v.kind == HS_VALUE_TEXT)
			sqlite3_bind_text(stmt, p + c, v.s, (int)v.len,
			                  v.transient ? SQLITE_TRANSIENT : SQLITE_STATIC);
		else
			sqlite3_bind_null(stmt, p + c);
		hs_row_src_release(src);
	}
	if (src->nomem) {
		src->nomem = false;
		return &hs_error_nomem;
	}
	return NULL;
}

/* Object run->first + i of a streamed run: its ext_refs estimated from the edges counted in. */
static struct hs_error *bind_streamed_object(struct builder *b, sqlite3_stmt *stmt, int p,
                                             struct hs_row_src *src, uint64_t first, uint64_t i)
{
	const struct hs_snapshot *snap = src->snap;
	src->i = i;
	src->id = first + i;
	src->nreferrers = b->nreferrers[src->id];
	src->ext_refs = (int64_t)(snap->refcnt[i] > INT64_MAX ? INT64_MAX : snap->refcnt[i]) -
	                b->inrefs[src->id];
	if (snap->flags[i] & HS_OBJ_IMMORTAL)
		src->ext_refs = 0;
	return bind_row(stmt, p, &hs_store_objects, src);
}

struct stream_state {
	struct builder *b;
	sqlite3_stmt *objects, *object; /* BATCH_ROWS rows, one row */
	sqlite3_stmt *edges, *edge;
};

/* Inserts one run: whole batches, then the run's last rows one by one (a run's arrays live
 * only during its call, so no batch spans two runs). */
static struct hs_error *insert_streamed_run(void *arg, const struct hs_snapshot *snap,
                                            const struct hs_run *run)
{
	struct stream_state *st = arg;
	struct builder *b = st->b;
	struct hs_error *err = NULL;
	if (run->first == 0) {
		/* The small sections are decoded by now: meta, types, weak links and roots. */
		b->snap = snap;
		err = insert_meta(b);
		if (!err)
			err = insert_small(b, "INSERT INTO types VALUES (?,?,?,?,?,?,?,?,?)",
			                   snap->ntypes, fill_type);
		if (!err)
			err = insert_small(b, "INSERT INTO weakrefs VALUES (?,?,?)", snap->nweak,
			                   fill_weak);
		if (!err)
			err = insert_small(b, "INSERT INTO roots VALUES (?,?,?)", snap->nroots,
			                   fill_root);
	}
	if (!err && snap->nsites > b->nsites) {
		err = insert_small(b, "INSERT INTO sites VALUES (?,?,?)", snap->nsites - b->nsites,
		                   fill_site);
		b->nsites = snap->nsites;
	}
	struct hs_row_src src = {.snap = snap, .stream = true};
	for (uint64_t i = 0; !err && i < run->n;) {
		int rows = run->n - i >= BATCH_ROWS ? BATCH_ROWS : 1;
		sqlite3_stmt *stmt = rows == 1 ? st->object : st->objects;
		for (int r = 0; !err && r < rows; r++, i++)
			err = bind_streamed_object(b, stmt, 1 + r * hs_store_objects.ncolumns, &src,
			                           run->first, i);
		if (!err)
			err = step_reset(b, stmt);
	}
	uint64_t end = snap->edge_start[run->n];
	for (uint64_t i = 0, e = run->first_edge; !err && e < end;) {
		int rows = end - e >= BATCH_ROWS ? BATCH_ROWS : 1;
		sqlite3_stmt *stmt = rows == 1 ? st->edge : st->edges;
		for (int r = 0; !err && r < rows; r++, e++) {
			while (snap->edge_start[i + 1] <= e)
				i++;
			src.i = i;
			src.id = run->first + i;
			src.k = e - run->first_edge;
			src.e = e;
			err =
			    bind_row(stmt, 1 + r * hs_store_edges.ncolumns, &hs_store_edges, &src);
		}
		if (!err)
			err = step_reset(b, stmt);
	}
	report(b, "objects", run->first + run->n, snap->nobjects);
	return err;
}

static const char *const big_indexes[] = {hs_sql_objects_addr, hs_sql_objects_retained,
                                          hs_sql_objects_garbage, hs_sql_edges_src};

/* Creates table t as its columns describe it. */
static struct hs_error *exec_create(struct builder *b, const struct hs_store_table *t)
{
	char *sql = hs_store_table_sql(t);
	struct hs_error *err = sql ? exec(b, sql) : &hs_error_nomem;
	free(sql);
	return err;
}

/* The body of hs_store_stream's database (create_db). */
static struct hs_error *build_streamed(struct builder *b)
{
	/* A bounded page cache, temporary files for the referrers sort, and no sorter threads: each
	 * would add a malloc arena of 64 MiB of address space, which a `ulimit -v` counts. */
	struct hs_error *err = exec(b, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;"
	                               "PRAGMA locking_mode=EXCLUSIVE; PRAGMA temp_store=FILE;"
	                               "PRAGMA cache_size=-32768; PRAGMA threads=0; BEGIN;");
	if (!err)
		err = exec_create(b, &hs_store_objects);
	if (!err)
		err = exec_create(b, &hs_store_edges);
	if (!err)
		err = exec(b, hs_sql_referrers);
	if (!err)
		err = exec(b, small_schema_sql);
	struct stream_state st = {b, NULL, NULL, NULL, NULL};
	if (!err)
		err = prepare_insert(b, &hs_store_objects, BATCH_ROWS, &st.objects);
	if (!err)
		err = prepare_insert(b, &hs_store_objects, 1, &st.object);
	if (!err)
		err = prepare_insert(b, &hs_store_edges, BATCH_ROWS, &st.edges);
	if (!err)
		err = prepare_insert(b, &hs_store_edges, 1, &st.edge);
	if (!err)
		err = hs_snapshot_stream(b->path_snap, insert_streamed_run, &st);
	sqlite3_finalize(st.objects);
	sqlite3_finalize(st.object);
	sqlite3_finalize(st.edges);
	sqlite3_finalize(st.edge);
	if (!err && !b->snap)
		err = hs_error_create(HS_ERROR_FORMAT, "%s: no objects: load it without --stream",
		                      b->path_snap);
	/* SQLite sorts the referrers by destination in bounded memory (temporary files). */
	if (!err) {
		report(b, "referrers", 0, 1);
		err =
		    exec(b, "INSERT INTO referrers SELECT dst, id, src FROM edges ORDER BY dst, id;"
		            "UPDATE objects SET is_root = 1 WHERE id IN (SELECT obj FROM roots);");
	}
	if (!err) {
		report(b, "indexes", 0, 1);
		for (size_t i = 0; !err && i < sizeof(big_indexes) / sizeof(*big_indexes); i++)
			err = exec(b, big_indexes[i]);
	}
	if (!err)
		err = exec(b, small_index_sql);
	if (!err)
		err = exec(b, "COMMIT; PRAGMA analysis_limit=1000; ANALYZE;");
	report(b, "indexes", 1, 1);
	return err;
}

struct hs_error *hs_store_stream(const char *snap_path, const char *db_path,
                                 hs_progress_fn *progress, void *progress_arg)
{
	struct builder b = {.path = db_path,
	                    .path_snap = snap_path,
	                    .progress = progress,
	                    .progress_arg = progress_arg,
	                    .stream = "partial: streamed load (heapsnap load --stream): no value "
	                              "previews, dict-key and attribute labels, GC garbage, SCCs, "
	                              "dominators, retained sizes, depths or paths"};
	struct hs_error *err = hs_snapshot_stream(snap_path, count_run, &b);
	if (!err)
		err = create_db(&b, db_path, build_streamed);
	free(b.nreferrers);
	free(b.inrefs);
	return err;
}

/* hs_store_partial's rows: the objects asked for and, with paths, the objects and edges on the
 * path of each (what hs_path reads), with refs their edges in and out, the objects at the other
 * ends and the edges in as referrers rows; each object once (edges are made unique after). */
struct partial_rows {
	uint32_t *objs;
	uint64_t *edges, *refs;
	size_t nobjs, nedges, nrefs, ocap, ecap, rcap;
};

/* Makes room for one more of *n items of size bytes in *arr; false when out of memory. */
static bool partial_room(void *arr, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return true;
	size_t c = *cap ? 2 * *cap : 64;
	void *p = realloc(*(void **)arr, c * size);
	if (!p)
		return false;
	*(void **)arr = p;
	*cap = c;
	return true;
}

/* Adds object x unless seen (a bitmap) has it; returns false when it had it or out of memory. */
static bool partial_add(struct partial_rows *r, uint8_t *seen, uint32_t x, bool *nomem)
{
	if (seen[x / 8] & (1u << (x % 8)))
		return false;
	if (!partial_room(&r->objs, &r->ocap, r->nobjs, sizeof(*r->objs))) {
		*nomem = true;
		return false;
	}
	seen[x / 8] |= (uint8_t)(1u << (x % 8));
	r->objs[r->nobjs++] = x;
	return true;
}

static void partial_edge(struct partial_rows *r, uint64_t e, bool *nomem)
{
	if (partial_room(&r->edges, &r->ecap, r->nedges, sizeof(*r->edges)))
		r->edges[r->nedges++] = e;
	else
		*nomem = true;
}

/* Object x's edges out and in, the objects at their other ends, and its referrers rows. */
static void partial_refs(const struct hs_snapshot *snap, struct partial_rows *r, uint8_t *seen,
                         uint32_t x, bool *nomem)
{
	for (uint64_t e = snap->edge_start[x]; e < snap->edge_start[x + 1] && !*nomem; e++) {
		partial_edge(r, e, nomem);
		partial_add(r, seen, snap->edge_dst[e], nomem);
	}
	for (uint64_t e = 0; e < snap->nedges && !*nomem; e++) {
		if (snap->edge_dst[e] != x)
			continue;
		if (!partial_room(&r->refs, &r->rcap, r->nrefs, sizeof(*r->refs))) {
			*nomem = true;
			break;
		}
		r->refs[r->nrefs++] = e;
		partial_edge(r, e, nomem);
		partial_add(r, seen, hs_graph_edge_source(snap, e), nomem);
	}
}

static int cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
	return (a > b) - (a < b);
}

/* Sorts r's edges and drops the repeated ones (an edge in that is also an edge out or a path's
 * edge). */
static void partial_unique_edges(struct partial_rows *r)
{
	if (!r->nedges)
		return;
	qsort(r->edges, r->nedges, sizeof(*r->edges), cmp_u64);
	size_t k = 1;
	for (size_t i = 1; i < r->nedges; i++)
		if (r->edges[i] != r->edges[k - 1])
			r->edges[k++] = r->edges[i];
	r->nedges = k;
}

static struct hs_error *partial_collect(const struct hs_snapshot *snap, const struct hs_analysis *a,
                                        const uint32_t *objs, size_t n, bool paths, bool refs,
                                        struct partial_rows *ret)
{
	uint8_t *seen = calloc(snap->nobjects / 8 + 1, 1);
	if (!seen)
		return &hs_error_nomem;
	bool nomem = false;
	for (size_t i = 0; i < n && !nomem; i++) {
		uint32_t x = objs[i];
		if (!partial_add(ret, seen, x, &nomem) || !paths)
			continue;
		/* Up the breadth-first tree until an object already in (a root's parent_edge is
		 * none); depth bounds the walk.  Each object added brings its parent edge. */
		for (uint32_t d = a->depth[x]; d != HS_NONE && d > 0 && !nomem; d--) {
			uint64_t e = a->parent_edge[x];
			if (e == UINT64_MAX)
				break;
			partial_edge(ret, e, &nomem);
			x = hs_graph_edge_source(snap, e);
			if (!partial_add(ret, seen, x, &nomem))
				break;
		}
	}
	for (size_t i = 0; refs && i < n && !nomem; i++)
		partial_refs(snap, ret, seen, objs[i], &nomem);
	free(seen);
	partial_unique_edges(ret);
	return nomem ? &hs_error_nomem : NULL;
}

/* Inserts the rows of t that src gives for each of n indexes (objs or edges). */
static struct hs_error *partial_insert(struct builder *b, const struct hs_store_table *t,
                                       const uint32_t *objs, const uint64_t *edges, size_t n)
{
	sqlite3_stmt *stmt;
	struct hs_error *err = prepare_insert(b, t, 1, &stmt);
	struct hs_row_src src = {.snap = b->snap, .a = b->a};
	for (size_t r = 0; !err && r < n; r++) {
		if (objs) {
			src.i = src.id = objs[r];
		} else {
			src.k = src.e = edges[r];
			src.i = src.id = hs_graph_edge_source(b->snap, edges[r]);
		}
		err = bind_row(stmt, 1, t, &src);
		if (!err)
			err = step_reset(b, stmt);
	}
	sqlite3_finalize(stmt);
	return err;
}

/* The referrers rows of the edges refs[0 .. n). */
static struct hs_error *partial_referrers(struct builder *b, const uint64_t *refs, size_t n)
{
	sqlite3_stmt *stmt = NULL;
	struct hs_error *err = exec(b, hs_sql_referrers);
	if (!err && sqlite3_prepare_v2(b->db, "INSERT INTO referrers VALUES (?,?,?)", -1, &stmt,
	                               NULL) != SQLITE_OK)
		err = db_error(b, "prepare insert");
	for (size_t r = 0; !err && r < n; r++) {
		bind_u64(stmt, 1, b->snap->edge_dst[refs[r]]);
		bind_u64(stmt, 2, refs[r]);
		bind_u64(stmt, 3, hs_graph_edge_source(b->snap, refs[r]));
		err = step_reset(b, stmt);
	}
	sqlite3_finalize(stmt);
	return err;
}

static struct hs_error *build_partial(struct builder *b, const struct partial_rows *rows, bool refs)
{
	struct hs_error *err = exec(b, "BEGIN;");
	if (!err)
		err = exec_create(b, &hs_store_objects);
	if (!err)
		err = exec_create(b, &hs_store_edges);
	if (!err)
		err = exec(b, small_schema_sql);
	if (!err)
		err = insert_small_tables(b);
	if (!err)
		err = partial_insert(b, &hs_store_objects, rows->objs, NULL, rows->nobjs);
	if (!err)
		err = partial_insert(b, &hs_store_edges, NULL, rows->edges, rows->nedges);
	if (!err && refs)
		err = partial_referrers(b, rows->refs, rows->nrefs);
	if (!err)
		err = exec(b, small_index_sql);
	if (!err)
		err = exec(b, "COMMIT;");
	return err;
}

struct hs_error *hs_store_partial(const struct hs_snapshot *snap, const struct hs_analysis *a,
                                  const uint32_t *objs, size_t n, bool paths, bool refs,
                                  sqlite3 **ret)
{
	assert(a->depth && a->parent_edge && a->retained);
	struct partial_rows rows = {0};
	struct hs_error *err = partial_collect(snap, a, objs, n, paths, refs, &rows);
	struct builder b = {.path = snap->path, .snap = snap, .a = a};
	if (!err && sqlite3_open_v2(":memory:", &b.db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
		err = b.db ? db_error(&b, "open") : &hs_error_nomem;
	if (!err)
		err = build_partial(&b, &rows, refs);
	if (!err && hs_sqlfuncs_register(b.db) != SQLITE_OK)
		err = db_error(&b, "functions");
	free(rows.objs);
	free(rows.edges);
	free(rows.refs);
	if (err) {
		sqlite3_close(b.db);
		return err;
	}
	*ret = b.db;
	return NULL;
}
