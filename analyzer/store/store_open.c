/*
 * store_open.c — opens a database of ours with SQLite's defensive settings: checks that it is
 * ours (application_id, user_version, meta.schema_version) and this user's, denies SQL that
 * could create files, registers the SQL functions, and says what kind of file it found
 * (enum hs_store_kind) so that the CLI's load pipeline (cli/load.c) decides what to rebuild.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

bool hs_store_is_sqlite(const char *path)
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
static struct hs_error *check_ours(sqlite3 *db, const char *path, enum hs_store_kind *kind)
{
	*kind = HS_STORE_FOREIGN;
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
	*kind = HS_STORE_STALE;
	if (version != HS_STORE_SCHEMA_VERSION)
		return hs_error_create(HS_ERROR_FORMAT,
		                       "%s: schema version %lld, this heapsnap reads %d (run "
		                       "'heapsnap load' again)",
		                       path, version, HS_STORE_SCHEMA_VERSION);
	*kind = HS_STORE_CURRENT;
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

struct hs_error *hs_store_open_kind(const char *path, bool read_only, sqlite3 **ret,
                                    enum hs_store_kind *kind)
{
	*kind = HS_STORE_FOREIGN;
	if (access(path, R_OK) != 0)
		return hs_error_errno(errno, path, "open");
	struct hs_error *err = check_owner(path);
	if (err)
		return err;
	if (!hs_store_is_sqlite(path))
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
	enum hs_store_kind kind;
	return hs_store_open_kind(path, read_only, ret, &kind);
}
