/*
 * sqlfuncs.c — the SQL functions of every heapsnap database connection: hs_deep_size(id),
 * hs_path(id) and hs_type(id) (DESIGN.md).  Built twice: into the heapsnap CLI, and with
 * HS_SQLITE_EXTENSION as the loadable extension libheapsnap_sqlite for the sqlite3 shell
 * (`.load BUILD/analyzer/libheapsnap_sqlite`).
 *
 * hs_path and hs_type read the database itself (the parent_edge and depth columns the store
 * wrote); hs_deep_size walks the snapshot, which is opened on first use from meta('snapshot'),
 * or from the database's directory when the pair was moved together.
 */
#ifdef HS_SQLITE_EXTENSION
#include <sqlite3ext.h>
SQLITE_EXTENSION_INIT1
#endif

#include <libgen.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"

struct funcs {
	sqlite3 *db;
	/* hs_deep_size's snapshot, opened on first use; open_error is kept to repeat it. */
	struct hs_snapshot *snap;
	char *open_error;
	/* hs_type's cache: type_of[id] and the type names, read once lookups reach 256. */
	unsigned lookups;
	uint32_t *type_of;
	sqlite3_int64 nobjects;
	char **type_names;
	uint32_t ntypes;
};

/* Drops hs_type's cache (after a failed load, so that no half-filled one is used). */
static void forget_types(struct funcs *f)
{
	free(f->type_of);
	for (uint32_t i = 0; f->type_names && i < f->ntypes; i++)
		free(f->type_names[i]);
	free(f->type_names);
	f->type_of = NULL;
	f->type_names = NULL;
	f->nobjects = 0;
	f->ntypes = 0;
}

static void funcs_destroy(void *arg)
{
	struct funcs *f = arg;
	hs_snapshot_destroy(f->snap);
	sqlite3_free(f->open_error);
	forget_types(f);
	free(f);
}

/* The text of a one-value query, or NULL (caller sqlite3_free()s). */
static char *query_text(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *stmt;
	char *text = NULL;
	if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) != SQLITE_OK)
		return NULL;
	if (sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_text(stmt, 0))
		text = sqlite3_mprintf("%s", sqlite3_column_text(stmt, 0));
	sqlite3_finalize(stmt);
	return text;
}

/* Opens the snapshot file at path if it is the one the database was built from: a regular file,
 * reached without following a symbolic link (the database, not the user, chose the name), with
 * the identity recorded in meta. */
static struct hs_error *open_if_same(const char *path, const char *identity,
                                     struct hs_snapshot **ret)
{
	char id[HS_STORE_IDENTITY_LEN];
	struct hs_error *err = hs_store_identity(path, false, id);
	if (err)
		return err;
	if (strcmp(id, identity) != 0)
		return hs_error_create(HS_ERROR_FORMAT,
		                       "%s: not the snapshot the database was built from (identity "
		                       "%s, recorded %s)",
		                       path, id, identity);
	return hs_snapshot_open(path, false, ret);
}

/* Opens the snapshot named in meta, or the file of that name next to the database when the pair
 * was moved together, checking it is the one the database was built from. */
static struct hs_error *open_snapshot(struct funcs *f)
{
	char *path = query_text(f->db, "SELECT value FROM meta WHERE key = 'snapshot'");
	char *identity =
	    query_text(f->db, "SELECT value FROM meta WHERE key = 'snapshot_identity'");
	const char *db_file = sqlite3_db_filename(f->db, "main");
	struct hs_error *err = NULL;
	if (!path || !identity) {
		err = hs_error_create(HS_ERROR_FORMAT, "%s: meta has no snapshot",
		                      db_file ? db_file : "database");
		goto out;
	}
	err = open_if_same(path, identity, &f->snap);
	if (err && db_file && *db_file) {
		char *dbc = strdup(db_file), *snc = strdup(path), *alt = NULL;
		if (dbc && snc && asprintf(&alt, "%s/%s", dirname(dbc), basename(snc)) >= 0) {
			if (strcmp(alt, path) != 0) {
				struct hs_error *err2 = open_if_same(alt, identity, &f->snap);
				hs_error_destroy(err2 ? err2 : err);
				err = err2 ? err : NULL;
			}
			free(alt);
		}
		free(dbc);
		free(snc);
	}
out:
	sqlite3_free(path);
	sqlite3_free(identity);
	return err;
}

static void result_error(sqlite3_context *ctx, struct hs_error *err)
{
	sqlite3_result_error(ctx, err->message, -1);
	hs_error_destroy(err);
}

/* The object id argument, or false (with the result set to NULL) when it is NULL. */
static bool id_arg(sqlite3_value **argv, sqlite3_int64 *ret)
{
	if (sqlite3_value_type(argv[0]) == SQLITE_NULL)
		return false;
	*ret = sqlite3_value_int64(argv[0]);
	return true;
}

/* hs_deep_size(id), or with memory hs_deep_memory(id) (NULL when the snapshot gives none). */
static void deep_value(sqlite3_context *ctx, sqlite3_value **argv, bool memory)
{
	struct funcs *f = sqlite3_user_data(ctx);
	sqlite3_int64 id;
	if (!id_arg(argv, &id))
		return sqlite3_result_null(ctx);
	if (!f->snap && !f->open_error) {
		struct hs_error *err = open_snapshot(f);
		if (err) {
			f->open_error = sqlite3_mprintf("hs_deep_size: %s", err->message);
			hs_error_destroy(err);
		}
	}
	if (!f->snap)
		return sqlite3_result_error(ctx, f->open_error, -1);
	if (id < 0 || (uint64_t)id >= f->snap->nobjects || (memory && !f->snap->has_memory))
		return sqlite3_result_null(ctx);
	uint64_t v;
	struct hs_error *err = memory ? hs_deep_memory(f->snap, (uint64_t)id, &v)
	                              : hs_deep_size(f->snap, (uint64_t)id, &v);
	if (err)
		return result_error(ctx, err);
	sqlite3_result_int64(ctx, (sqlite3_int64)v);
}

static void sql_deep_size(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	deep_value(ctx, argv, false);
}

static void sql_deep_memory(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	deep_value(ctx, argv, true);
}

static struct hs_error *load_types(struct funcs *f)
{
	sqlite3_stmt *stmt;
	struct hs_error *err = NULL;
	char *n = query_text(f->db, "SELECT (SELECT coalesce(max(id), -1) + 1 FROM objects) || ' ' "
	                            "|| (SELECT coalesce(max(id), -1) + 1 FROM types)");
	if (!n)
		return hs_error_create(HS_ERROR_FORMAT, "hs_type: %s", sqlite3_errmsg(f->db));
	long long nobj = 0, ntypes = 0;
	sscanf(n, "%lld %lld", &nobj, &ntypes);
	sqlite3_free(n);
	/* Ids are indexes: a database whose largest id is far past its row count was altered. */
	long long rows = 0, trows = 0;
	n = query_text(f->db, "SELECT (SELECT count(*) FROM objects) || ' ' || "
	                      "(SELECT count(*) FROM types)");
	if (n)
		sscanf(n, "%lld %lld", &rows, &trows);
	sqlite3_free(n);
	if (nobj < 0 || nobj > rows || ntypes < 0 || ntypes > trows ||
	    (uint64_t)ntypes >= UINT32_MAX)
		return hs_error_create(HS_ERROR_FORMAT,
		                       "%s: objects or types ids are not 0..count-1: the database "
		                       "was altered",
		                       sqlite3_db_filename(f->db, "main"));
	f->type_of = calloc(nobj ? (size_t)nobj : 1, sizeof(uint32_t));
	f->type_names = calloc(ntypes ? (size_t)ntypes : 1, sizeof(char *));
	if (!f->type_of || !f->type_names)
		return &hs_error_nomem;
	f->nobjects = (sqlite3_int64)nobj;
	f->ntypes = (uint32_t)ntypes;
	for (long long i = 0; i < nobj; i++)
		f->type_of[i] = UINT32_MAX;
	if (sqlite3_prepare_v2(f->db, "SELECT id, type_id FROM objects", -1, &stmt, NULL) !=
	    SQLITE_OK)
		return hs_error_create(HS_ERROR_FORMAT, "hs_type: %s", sqlite3_errmsg(f->db));
	while (!err && sqlite3_step(stmt) == SQLITE_ROW) {
		sqlite3_int64 id = sqlite3_column_int64(stmt, 0);
		sqlite3_int64 type = sqlite3_column_int64(stmt, 1);
		if (id < 0 || id >= f->nobjects)
			err = hs_error_create(HS_ERROR_FORMAT,
			                      "%s: objects.id %lld is not in 0..%lld: the database "
			                      "was altered",
			                      sqlite3_db_filename(f->db, "main"), (long long)id,
			                      (long long)f->nobjects - 1);
		else
			f->type_of[id] = type >= 0 && type < ntypes ? (uint32_t)type : UINT32_MAX;
	}
	sqlite3_finalize(stmt);
	if (err)
		return err;
	if (sqlite3_prepare_v2(f->db, "SELECT id, name FROM types", -1, &stmt, NULL) != SQLITE_OK)
		return hs_error_create(HS_ERROR_FORMAT, "hs_type: %s", sqlite3_errmsg(f->db));
	while (!err && sqlite3_step(stmt) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(stmt, 1);
		sqlite3_int64 id = sqlite3_column_int64(stmt, 0);
		if (name && id >= 0 && id < ntypes && !f->type_names[id] &&
		    !(f->type_names[id] = strdup(name)))
			err = &hs_error_nomem;
	}
	sqlite3_finalize(stmt);
	return err;
}

static void sql_type(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	struct funcs *f = sqlite3_user_data(ctx);
	sqlite3_int64 id;
	if (!id_arg(argv, &id))
		return sqlite3_result_null(ctx);
	if (!f->type_of && f->lookups < 256) {
		/* Few calls look the type up; many (a scan) read every object's type once. */
		f->lookups++;
		sqlite3_stmt *stmt;
		if (sqlite3_prepare_v2(
		        f->db,
		        "SELECT t.name FROM objects o JOIN types t ON t.id = o.type_id"
		        " WHERE o.id = ?",
		        -1, &stmt, NULL) != SQLITE_OK)
			return sqlite3_result_error(ctx, sqlite3_errmsg(f->db), -1);
		sqlite3_bind_int64(stmt, 1, id);
		if (sqlite3_step(stmt) == SQLITE_ROW)
			sqlite3_result_value(ctx, sqlite3_column_value(stmt, 0));
		else
			sqlite3_result_null(ctx);
		sqlite3_finalize(stmt);
		return;
	}
	if (!f->type_of) {
		struct hs_error *err = load_types(f);
		if (err) {
			forget_types(f);
			return result_error(ctx, err);
		}
	}
	if (id < 0 || id >= f->nobjects || f->type_of[id] >= f->ntypes)
		return sqlite3_result_null(ctx);
	const char *name = f->type_names[f->type_of[id]];
	sqlite3_result_text(ctx, name ? name : "", -1, SQLITE_TRANSIENT);
}

static void sql_path(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	struct funcs *f = sqlite3_user_data(ctx);
	sqlite3_int64 id;
	char *text;
	if (!id_arg(argv, &id))
		return sqlite3_result_null(ctx);
	struct hs_error *err = hs_store_path(f->db, id, &text);
	if (err)
		return result_error(ctx, err);
	if (!text)
		return sqlite3_result_null(ctx);
	sqlite3_result_text(ctx, text, -1, free);
}

/* One step up the path: the object's depth, parent edge and address. */
struct path_step {
	bool found, reached; /* the object exists; some root reaches it */
	sqlite3_int64 depth, parent_edge, addr;
};

static struct hs_error *path_step(sqlite3 *db, sqlite3_stmt *obj, sqlite3_int64 id,
                                  struct path_step *ret)
{
	sqlite3_bind_int64(obj, 1, id);
	int rc = sqlite3_step(obj);
	*ret = (struct path_step){.found = rc == SQLITE_ROW};
	if (rc == SQLITE_ROW) {
		ret->reached = sqlite3_column_type(obj, 0) != SQLITE_NULL;
		ret->depth = sqlite3_column_int64(obj, 0);
		ret->parent_edge =
		    sqlite3_column_type(obj, 1) == SQLITE_NULL ? -1 : sqlite3_column_int64(obj, 1);
		ret->addr = sqlite3_column_int64(obj, 2);
	}
	sqlite3_reset(obj);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return hs_error_create(HS_ERROR_FORMAT, "hs_path: %s", sqlite3_errmsg(db));
	return NULL;
}

/* Prepends text to *path (an sqlite3_str built back to front would need a copy anyway). */
static bool prepend(char **path, const char *text)
{
	char *s;
	if (asprintf(&s, "%s%s", text, *path ? *path : "") < 0)
		return false;
	free(*path);
	*path = s;
	return true;
}

/* True when db runs no statement and no transaction: each statement stepped alone would then
 * take and drop the file lock itself (two fcntl and an fstat per step). */
static bool idle(sqlite3 *db)
{
	for (sqlite3_stmt *s = sqlite3_next_stmt(db, NULL); s; s = sqlite3_next_stmt(db, s))
		if (sqlite3_stmt_busy(s))
			return false;
	return sqlite3_get_autocommit(db);
}

struct hs_error *hs_store_path(sqlite3 *db, long long id, char **ret)
{
	sqlite3_stmt *obj = NULL, *edge = NULL, *root = NULL;
	struct hs_error *err = NULL;
	char *path = NULL;
	/* One read transaction for the whole walk, unless the caller is inside one already. */
	bool txn = idle(db) && sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK;
	if (sqlite3_prepare_v2(db, "SELECT depth, parent_edge, addr FROM objects WHERE id = ?", -1,
	                       &obj, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db,
	                       "SELECT e.src, e.label, o.addr, t.name FROM edges e "
	                       "JOIN objects o ON o.id = e.dst JOIN types t ON t.id = o.type_id "
	                       "WHERE e.id = ?",
	                       -1, &edge, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(
	        db,
	        "SELECT name, (SELECT t.name FROM objects o JOIN types t ON t.id = o.type_id WHERE "
	        "o.id = obj) FROM roots WHERE obj = ?1 UNION ALL SELECT NULL, t.name FROM objects "
	        "o JOIN types t ON t.id = o.type_id WHERE o.id = ?1",
	        -1, &root, NULL) != SQLITE_OK) {
		err = hs_error_create(HS_ERROR_FORMAT, "hs_path: %s", sqlite3_errmsg(db));
		goto out;
	}
	struct path_step step;
	sqlite3_int64 cur = id;
	err = path_step(db, obj, cur, &step);
	if (err || !step.found || !step.reached)
		goto out;
	/* Each step goes one closer to a root: the parent's depth is one less, which bounds the
	 * walk even if the data lies (a loop would need a depth to repeat). */
	for (sqlite3_int64 want = step.depth; !err && step.depth > 0; want--) {
		if (step.depth != want || step.parent_edge < 0) {
			err = hs_error_create(HS_ERROR_FORMAT,
			                      "hs_path: object 0x%llx: parent chain does not reach "
			                      "a root",
			                      (unsigned long long)step.addr);
			goto out;
		}
		sqlite3_bind_int64(edge, 1, step.parent_edge);
		if (sqlite3_step(edge) != SQLITE_ROW) {
			err = hs_error_create(HS_ERROR_FORMAT, "hs_path: edge %lld is missing",
			                      (long long)step.parent_edge);
			goto out;
		}
		sqlite3_int64 src = sqlite3_column_int64(edge, 0);
		const char *label = (const char *)sqlite3_column_text(edge, 1);
		char *anon = NULL;
		if ((!label || !*label) &&
		    asprintf(&anon, "-><%s at 0x%llx>", sqlite3_column_text(edge, 3),
		             (unsigned long long)sqlite3_column_int64(edge, 2)) < 0)
			anon = NULL;
		if (!prepend(&path, anon ? anon : label ? label : ""))
			err = &hs_error_nomem;
		free(anon);
		sqlite3_reset(edge);
		cur = src;
		if (!err)
			err = path_step(db, obj, cur, &step);
	}
	if (err)
		goto out;
	/* cur is the root: its name starts the path. */
	sqlite3_bind_int64(root, 1, cur);
	const char *name =
	    sqlite3_step(root) == SQLITE_ROW ? (const char *)sqlite3_column_text(root, 0) : NULL;
	char *anon = NULL;
	if ((!name || !*name) && asprintf(&anon, "<%s at 0x%llx>", sqlite3_column_text(root, 1),
	                                  (unsigned long long)step.addr) < 0)
		anon = NULL;
	if (!prepend(&path, anon ? anon : name ? name : ""))
		err = &hs_error_nomem;
	free(anon);
out:
	sqlite3_finalize(obj);
	sqlite3_finalize(edge);
	sqlite3_finalize(root);
	if (txn)
		sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	if (err) {
		free(path);
		return err;
	}
	*ret = path;
	return NULL;
}

int hs_sqlfuncs_register(sqlite3 *db)
{
	struct funcs *f = calloc(1, sizeof(*f));
	if (!f)
		return SQLITE_NOMEM;
	f->db = db;
	int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC;
	int rc = sqlite3_create_function_v2(db, "hs_deep_size", 1, flags, f, sql_deep_size, NULL,
	                                    NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_create_function_v2(db, "hs_deep_memory", 1, flags, f, sql_deep_memory,
		                                NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_create_function_v2(db, "hs_path", 1, flags, f, sql_path, NULL, NULL,
		                                NULL);
	/* The last registration owns f: SQLite calls funcs_destroy when the connection closes
	 * (or at once if the registration fails). */
	if (rc == SQLITE_OK)
		rc = sqlite3_create_function_v2(db, "hs_type", 1, flags, f, sql_type, NULL, NULL,
		                                funcs_destroy);
	else
		funcs_destroy(f);
	return rc;
}

#ifdef HS_SQLITE_EXTENSION
/* The entry point SQLite derives from the file name libheapsnap_sqlite.so. */
__attribute__((visibility("default"))) int
sqlite3_heapsnapsqlite_init(sqlite3 *db, char **errmsg, const sqlite3_api_routines *api)
{
	SQLITE_EXTENSION_INIT2(api);
	int rc = hs_sqlfuncs_register(db);
	if (rc != SQLITE_OK)
		*errmsg = sqlite3_mprintf("heapsnap: cannot register SQL functions: %s",
		                          sqlite3_errstr(rc));
	return rc;
}
#endif
