/*
 * load.c — the load pipeline of every database command (load.h): read a .hsnap, run the graph
 * analyses while the store writes the edge tables, write the rest; reuse SNAP.db while it was
 * built from this very snapshot; or, for a first answer on a fresh snapshot, the same with the
 * answer printed before the store starts (hs_cli_first_answer).  Loads over a second show their
 * phase and percent on a terminal's stderr.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "load.h"
#include "store.h"

/* Progress on stderr: only on a terminal, only once the load has taken a second. */
struct progress {
	bool tty, shown;
	struct timespec start;
	const char *phase;
	int percent;
};

static void progress_cb(void *arg, const char *phase, double fraction)
{
	struct progress *p = arg;
	if (!p->tty)
		return;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	double elapsed = (double)(now.tv_sec - p->start.tv_sec) +
	                 1e-9 * (double)(now.tv_nsec - p->start.tv_nsec);
	int percent = (int)(fraction * 100.0);
	if (elapsed < 1.0 || (p->phase == phase && p->percent == percent))
		return;
	p->phase = phase;
	p->percent = percent;
	p->shown = true;
	fprintf(stderr, "\rheapsnap: loading: %-12s %3d%%", phase, percent);
}

static bool allow_salvage;

void hs_cli_allow_salvage(bool yes)
{
	allow_salvage = yes;
}

struct hs_error *hs_cli_load(const char *snap_path, const char *db_path)
{
	struct progress p = {.tty = isatty(2) == 1};
	clock_gettime(CLOCK_MONOTONIC, &p.start);
	struct hs_snapshot *snap;
	struct hs_error *err = hs_snapshot_open(snap_path, allow_salvage, &snap);
	if (err && err->code == HS_ERROR_FORMAT && !allow_salvage) {
		struct hs_error *e = hs_error_create(
		    HS_ERROR_FORMAT, "%s (--salvage analyses what survives)", err->message);
		hs_error_destroy(err);
		return e;
	}
	if (err)
		return err;
	if (snap->salvage_warning)
		fprintf(stderr, "heapsnap: warning: %s\n", snap->salvage_warning);
	/* The edge tables are written while the analysis runs, and their labels freed then. */
	struct hs_store_writer *w;
	err = hs_store_begin(snap, db_path, true, &w);
	struct hs_analysis *a;
	if (!err && (err = hs_analyze(snap, progress_cb, &p, &a)) != NULL)
		hs_store_abort(w);
	else if (!err) {
		err = hs_store_finish(w, a, progress_cb, &p);
		hs_analysis_destroy(a);
	}
	hs_snapshot_destroy(snap);
	if (p.shown)
		fputs("\r\033[K", stderr);
	return err;
}

/* Clears the progress line once something else is to be printed. */
static void progress_clear(struct progress *p)
{
	if (p->shown)
		fputs("\r\033[K", stderr);
	p->shown = false;
}

/* The snapshot at path when it has no database yet and opens cleanly, else NULL. */
static struct hs_snapshot *fresh_snapshot(const char *path, const char *db_path)
{
	struct stat st;
	struct hs_snapshot *snap = NULL;
	if (allow_salvage || hs_store_is_sqlite(path) || access(path, R_OK) != 0 ||
	    lstat(db_path, &st) == 0 || errno != ENOENT)
		return NULL;
	struct hs_error *err = hs_snapshot_open(path, false, &snap);
	if (err) {
		hs_error_destroy(err);
		return NULL;
	}
	return snap;
}

/* What the answer needs, and when it is called (hs_cli_first_answer); w, the store's writer,
 * started once the answer is printed. */
struct first_answer {
	struct progress *p;
	struct hs_snapshot *snap;
	const char *db_path;
	hs_cli_answer_fn *answer;
	void *arg;
	struct hs_store_writer *w;
};

/* hs_early_fn: the answer, then the store starts writing the edge tables beside the rest of
 * the analysis (as hs_cli_load does from the start). */
static struct hs_error *call_answer(void *arg, const struct hs_analysis *a)
{
	struct first_answer *f = arg;
	progress_clear(f->p);
	struct hs_error *err = f->answer(f->arg, f->snap, a);
	fflush(stdout);
	if (!err)
		err = hs_store_begin(f->snap, f->db_path, true, &f->w);
	return err;
}

struct hs_error *hs_cli_first_answer(const char *path, hs_cli_answer_fn *answer, void *arg,
                                     bool early, bool *answered)
{
	*answered = false;
	char *db_path = hs_store_db_path(path);
	if (!db_path)
		return &hs_error_nomem;
	struct progress p = {.tty = isatty(2) == 1};
	clock_gettime(CLOCK_MONOTONIC, &p.start);
	struct hs_snapshot *snap = fresh_snapshot(path, db_path);
	if (!snap) {
		free(db_path);
		return NULL;
	}
	*answered = true;
	struct first_answer f = {&p, snap, db_path, answer, arg, NULL};
	struct hs_analysis *a;
	struct hs_error *err = hs_analyze_early(snap, progress_cb, &p, call_answer, &f,
	                                        early ? HS_EARLY_DEPTH : HS_EARLY_DOMINATORS, &a);
	if (err && f.w)
		hs_store_abort(f.w);
	else if (!err) {
		err = hs_store_finish(f.w, a, progress_cb, &p);
		hs_analysis_destroy(a);
	}
	hs_snapshot_destroy(snap);
	progress_clear(&p);
	free(db_path);
	return err;
}

/* Whether db was built from the snapshot file at snap_path (meta.snapshot_identity). */
static bool built_from(sqlite3 *db, const char *snap_path)
{
	char id[HS_STORE_IDENTITY_LEN];
	struct hs_error *err = hs_store_identity(snap_path, true, id);
	if (err) {
		hs_error_destroy(err);
		return false;
	}
	sqlite3_stmt *stmt;
	bool same = false;
	if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = 'snapshot_identity'", -1,
	                       &stmt, NULL) != SQLITE_OK)
		return false;
	if (sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_text(stmt, 0))
		same = strcmp((const char *)sqlite3_column_text(stmt, 0), id) == 0;
	sqlite3_finalize(stmt);
	return same;
}

/* A meta value of db, malloc'd; NULL when absent or NULL. */
static char *meta_value(sqlite3 *db, const char *key)
{
	sqlite3_stmt *stmt;
	char *v = NULL;
	if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = ?1", -1, &stmt, NULL) !=
	    SQLITE_OK)
		return NULL;
	sqlite3_bind_text(stmt, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_text(stmt, 0))
		v = strdup((const char *)sqlite3_column_text(stmt, 0));
	sqlite3_finalize(stmt);
	return v;
}

/* Says on stderr, and on every table, what db's results lack: a salvage's losses, a streamed
 * load's analyses.  Fails only when out of memory. */
static struct hs_error *note_partial(sqlite3 *db)
{
	char *salvage = meta_value(db, "salvage_warning"), *analysis = meta_value(db, "analysis");
	char *note = NULL;
	struct hs_error *err = NULL;
	bool streamed = analysis && strcmp(analysis, "complete") != 0;
	if (salvage || streamed) {
		if (asprintf(&note, "%s%s%s%s", salvage ? "salvaged from a damaged snapshot: " : "",
		             salvage ? salvage : "", salvage && streamed ? "; " : "",
		             !streamed                                ? ""
		             : strncmp(analysis, "partial: ", 9) == 0 ? analysis + 9
		                                                      : analysis) < 0) {
			note = NULL;
			err = &hs_error_nomem;
		}
	}
	if (note) {
		fprintf(stderr, "heapsnap: warning: partial results: %s%s\n", note,
		        streamed ? " (plain `heapsnap load SNAP`, without --stream, computes them)"
		                 : "");
		err = hs_table_set_partial(note);
	}
	free(note);
	free(salvage);
	free(analysis);
	return err;
}

/* Whether db holds a salvage's partial results. */
static bool is_salvaged(sqlite3 *db)
{
	char *v = meta_value(db, "salvage_warning");
	bool yes = v != NULL;
	free(v);
	return yes;
}

struct hs_error *hs_cli_open(const char *path, sqlite3 **ret)
{
	if (hs_store_is_sqlite(path)) {
		struct hs_error *err = hs_store_open_db(path, true, ret);
		if (!err && (err = note_partial(*ret)) != NULL)
			sqlite3_close(*ret);
		return err;
	}
	if (access(path, R_OK) != 0)
		return hs_error_errno(errno, path, "open");
	char *db_path = hs_store_db_path(path);
	if (!db_path)
		return &hs_error_nomem;
	/* The database next to the snapshot is reused only when it was built from this very file
	 * (and is no salvage, unless salvage is allowed); a stale one (older schema, or another
	 * snapshot's) is rebuilt; a foreign one (not ours, or another user's) is never replaced. */
	enum hs_store_kind kind = HS_STORE_MISSING;
	sqlite3 *db = NULL;
	struct hs_error *err = NULL;
	if (access(db_path, F_OK) == 0)
		err = hs_store_open_kind(db_path, true, &db, &kind);
	if (err && kind == HS_STORE_FOREIGN) {
		struct hs_error *why = err;
		err = hs_error_create(why->code,
		                      "%s; refusing to replace it with the database of %s "
		                      "(use 'heapsnap load %s -o DB')",
		                      why->message, path, path);
		hs_error_destroy(why);
		free(db_path);
		return err;
	}
	hs_error_destroy(err);
	err = NULL;
	if (db && built_from(db, path) && (allow_salvage || !is_salvaged(db))) {
		*ret = db;
	} else {
		sqlite3_close(db);
		err = hs_cli_load(path, db_path);
		if (!err)
			err = hs_store_open_db(db_path, true, ret);
	}
	if (!err && (err = note_partial(*ret)) != NULL)
		sqlite3_close(*ret);
	free(db_path);
	return err;
}
