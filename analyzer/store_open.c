/*
 * store_open.c — how commands get a database: open one of ours with SQLite's defensive settings,
 * or load a .hsnap (read, analyze, store) into SNAP.db next to it and reuse that while it is newer
 * than the snapshot.  Loads over a second show their phase and percent on a terminal's stderr.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store.h"

char *hs_store_db_path(const char *snap_path)
{
	size_t n = strlen(snap_path);
	char *db;
	if (n > 6 && strcmp(snap_path + n - 6, ".hsnap") == 0) {
		if (asprintf(&db, "%.*s.db", (int)(n - 6), snap_path) < 0)
			return NULL;
	} else if (asprintf(&db, "%s.db", snap_path) < 0) {
		return NULL;
	}
	return db;
}

/* True when path starts with SQLite's file header. */
static bool is_sqlite_file(const char *path)
{
	static const char magic[16] = "SQLite format 3";
	char buf[16];
	FILE *f = fopen(path, "rb");
	if (!f)
		return false;
	bool yes = fread(buf, 1, 16, f) == 16 && memcmp(buf, magic, 16) == 0;
	fclose(f);
	return yes;
}

/* What lies at a database path: nothing, a file that is not ours (or not this user's), ours with
 * another schema version, or ours and current. */
enum db_kind { DB_MISSING, DB_FOREIGN, DB_STALE, DB_CURRENT };

/* One integer a query returns, or fallback. */
static long long query_int(sqlite3 *db, const char *sql, long long fallback)
{
	sqlite3_stmt *stmt;
	long long v = fallback;
	if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) != SQLITE_OK)
		return fallback;
	if (sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_type(stmt, 0) != SQLITE_NULL)
		v = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	return v;
}

/* Checks that db is one of ours and of this schema version: application_id, user_version and
 * meta.schema_version as SCHEMA.md says.  *kind says which, also when an error is returned. */
static struct hs_error *check_ours(sqlite3 *db, const char *path, enum db_kind *kind)
{
	*kind = DB_FOREIGN;
	long long app = query_int(db, "PRAGMA application_id", 0);
	if (app != HS_STORE_APPLICATION_ID)
		return hs_error_create(HS_ERROR_FORMAT,
		                       "%s: offset 68: not a heapsnap database (application_id "
		                       "0x%llx, expected 0x%x)",
		                       path, (unsigned long long)app, HS_STORE_APPLICATION_ID);
	long long user_version = query_int(db, "PRAGMA user_version", -1);
	long long version =
	    query_int(db, "SELECT value FROM meta WHERE key = 'schema_version'", -1);
	if (user_version != version)
		return hs_error_create(HS_ERROR_FORMAT,
		                       "%s: offset 60: user_version %lld but meta.schema_version "
		                       "%lld: the database was altered",
		                       path, user_version, version);
	*kind = DB_STALE;
	if (version != HS_STORE_SCHEMA_VERSION)
		return hs_error_create(HS_ERROR_FORMAT,
		                       "%s: schema version %lld, this heapsnap reads %d (run "
		                       "'heapsnap load' again)",
		                       path, version, HS_STORE_SCHEMA_VERSION);
	*kind = DB_CURRENT;
	return NULL;
}

/* A database another user can write is one they could have tampered with: only this user's. */
static struct hs_error *check_owner(const char *path)
{
	struct stat st;
	if (stat(path, &st) != 0)
		return hs_error_errno(errno, path, "stat");
	if (st.st_uid != geteuid())
		return hs_error_create(
		    HS_ERROR_IO,
		    "%s: owned by uid %u, not by you (uid %u): refusing a database "
		    "another user could have written (copy it, or load the "
		    "snapshot again)",
		    path, (unsigned)st.st_uid, (unsigned)geteuid());
	if (st.st_mode & S_IWOTH)
		return hs_error_create(
		    HS_ERROR_IO,
		    "%s: writable by every user: refusing it (chmod o-w, or load "
		    "the snapshot again)",
		    path);
	return NULL;
}

/* The authorizer of every connection heapsnap reads.  SQL, the user's or a tampered schema's,
 * may not create files (ATTACH; VACUUM INTO attaches its target) nor call fts3_tokenizer, whose
 * two-argument form calls through a pointer the SQL chooses and whose one-argument form reveals
 * a code address. */
static int authorize(void *arg, int action, const char *a1, const char *a2, const char *schema,
                     const char *trigger)
{
	(void)arg, (void)a1, (void)schema, (void)trigger;
	if (action == SQLITE_ATTACH)
		return SQLITE_DENY;
	if (action == SQLITE_FUNCTION && a2 && sqlite3_stricmp(a2, "fts3_tokenizer") == 0)
		return SQLITE_DENY;
	return SQLITE_OK;
}

struct hs_error *hs_store_attach(sqlite3 *db, const char *path, const char *schema)
{
	char *sql = sqlite3_mprintf("ATTACH %Q AS %s", path, schema);
	if (!sql)
		return &hs_error_nomem;
	sqlite3_set_authorizer(db, NULL, NULL);
	struct hs_error *err = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		err = hs_error_create(HS_ERROR_FORMAT, "%s: attach: %s", path, sqlite3_errmsg(db));
	sqlite3_set_authorizer(db, authorize, NULL);
	sqlite3_free(sql);
	return err;
}

/* hs_store_open_db, also saying what kind of database path holds when it fails. */
static struct hs_error *open_db(const char *path, bool read_only, sqlite3 **ret, enum db_kind *kind)
{
	*kind = DB_FOREIGN;
	if (access(path, R_OK) != 0)
		return hs_error_errno(errno, path, "open");
	struct hs_error *err = check_owner(path);
	if (err)
		return err;
	if (!is_sqlite_file(path))
		return hs_error_create(HS_ERROR_FORMAT, "%s: offset 0: not a SQLite database",
		                       path);
	sqlite3 *db;
	int flags = read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
	if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK) {
		err = hs_store_error(db, "open");
		sqlite3_close(db);
		return err;
	}
	sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	sqlite3_db_config(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
	sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_FTS3_TOKENIZER, 0, NULL);
	sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, NULL);
	sqlite3_set_authorizer(db, authorize, NULL);
	err = check_ours(db, path, kind);
	if (!err && hs_sqlfuncs_register(db) != SQLITE_OK)
		err = hs_store_error(db, "register SQL functions");
	if (err) {
		sqlite3_close(db);
		return err;
	}
	*ret = db;
	return NULL;
}

struct hs_error *hs_store_open_db(const char *path, bool read_only, sqlite3 **ret)
{
	enum db_kind kind;
	return open_db(path, read_only, ret, &kind);
}

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

void hs_store_allow_salvage(bool yes)
{
	allow_salvage = yes;
}

struct hs_error *hs_store_load(const char *snap_path, const char *db_path)
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
 * load's analyses. */
static void note_partial(sqlite3 *db)
{
	char *salvage = meta_value(db, "salvage_warning"), *analysis = meta_value(db, "analysis");
	char *note = NULL;
	bool streamed = analysis && strcmp(analysis, "complete") != 0;
	if (salvage || streamed) {
		if (asprintf(&note, "%s%s%s%s", salvage ? "salvaged from a damaged snapshot: " : "",
		             salvage ? salvage : "", salvage && streamed ? "; " : "",
		             !streamed                                ? ""
		             : strncmp(analysis, "partial: ", 9) == 0 ? analysis + 9
		                                                      : analysis) < 0)
			note = NULL;
	}
	if (note) {
		fprintf(stderr, "heapsnap: warning: partial results: %s%s\n", note,
		        streamed ? " (plain `heapsnap load SNAP`, without --stream, computes them)"
		                 : "");
		hs_table_set_partial(note);
	}
	free(note);
	free(salvage);
	free(analysis);
}

/* True when db (at path) was built by a salvage. */
/* Whether db holds a salvage's partial results. */
static bool is_salvaged(sqlite3 *db)
{
	char *v = meta_value(db, "salvage_warning");
	bool yes = v != NULL;
	free(v);
	return yes;
}

struct hs_error *hs_store_open(const char *path, sqlite3 **ret)
{
	if (is_sqlite_file(path)) {
		struct hs_error *err = hs_store_open_db(path, true, ret);
		if (!err)
			note_partial(*ret);
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
	enum db_kind kind = DB_MISSING;
	sqlite3 *db = NULL;
	struct hs_error *err = NULL;
	if (access(db_path, F_OK) == 0)
		err = open_db(db_path, true, &db, &kind);
	if (err && kind == DB_FOREIGN) {
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
		err = hs_store_load(path, db_path);
		if (!err)
			err = hs_store_open_db(db_path, true, ret);
	}
	if (!err)
		note_partial(*ret);
	free(db_path);
	return err;
}
