/*
 * store_query.c — the questions the commands ask of a database (store.h): SQLite's error named by
 * the database's file, SQL of queries/ run with bound numbers, an object by address, a named
 * query by name, the types whose references no capture sees, whether the load was streamed.
 * Printing rows is the CLI's (cli/rows.c).
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "store_sql.h"

struct hs_error *hs_store_error(sqlite3 *db, const char *what)
{
	const char *file = db ? sqlite3_db_filename(db, "main") : NULL;
	return hs_error_create(HS_ERROR_FORMAT, "%s: %s: %s", file && *file ? file : "database",
	                       what, db ? sqlite3_errmsg(db) : "out of memory");
}

struct hs_error *hs_store_exec(sqlite3 *db, const char *sql, const char *what, int nargs,
                               const long long *args)
{
	assert(sql && (nargs == 0 || args));
	while (*sql) {
		sqlite3_stmt *stmt;
		if (sqlite3_prepare_v2(db, sql, -1, &stmt, &sql) != SQLITE_OK)
			return hs_store_error(db, what);
		if (!stmt) /* whitespace or a comment */
			break;
		int nparams = sqlite3_bind_parameter_count(stmt);
		for (int i = 0; i < nargs && i < nparams; i++)
			sqlite3_bind_int64(stmt, i + 1, args[i]);
		int rc;
		while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
			continue;
		sqlite3_finalize(stmt);
		if (rc != SQLITE_DONE)
			return hs_store_error(db, what);
	}
	return NULL;
}

struct hs_error *hs_store_find(sqlite3 *db, const char *addr, long long *ret)
{
	uint64_t a;
	if (!hs_parse_u64(addr, true, &a))
		return hs_error_create(HS_ERROR_USAGE, "'%s' is not an address (0x hex or decimal)",
		                       addr);
	sqlite3_stmt *stmt;
	if (sqlite3_prepare_v2(db, "SELECT id FROM objects WHERE addr = ?", -1, &stmt, NULL) !=
	    SQLITE_OK)
		return hs_store_error(db, "find object");
	sqlite3_bind_int64(stmt, 1, (sqlite3_int64)a);
	int rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		*ret = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	if (rc == SQLITE_ROW)
		return NULL;
	const char *file = sqlite3_db_filename(db, "main");
	return hs_error_create(HS_ERROR_OTHER, "%s: no object at address 0x%llx", file,
	                       (unsigned long long)a);
}

const struct hs_named_query *hs_query_find(const char *name)
{
	for (size_t i = 0; i < hs_nqueries; i++)
		if (strcmp(hs_queries[i].name, name) == 0)
			return &hs_queries[i];
	return NULL;
}

struct hs_error *hs_store_untraversed(sqlite3 *db, char **ret)
{
	sqlite3_stmt *stmt;
	if (sqlite3_prepare_v2(db, hs_sql_store_untraversed, -1, &stmt, NULL) != SQLITE_OK)
		return hs_store_error(db, "find types without tp_traverse");
	*ret = NULL;
	if (sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_text(stmt, 0) &&
	    !(*ret = strdup((const char *)sqlite3_column_text(stmt, 0)))) {
		sqlite3_finalize(stmt);
		return &hs_error_nomem;
	}
	sqlite3_finalize(stmt);
	return NULL;
}

struct hs_error *hs_store_outside_note(sqlite3 *db, char **ret)
{
	char *types;
	struct hs_error *err = hs_store_untraversed(db, &types);
	if (err)
		return err;
	int n = types ? asprintf(ret,
	                         "held from outside the snapshot's graph: by C code, or by objects "
	                         "whose type has no tp_traverse, whose references no capture can "
	                         "see (here: %s)",
	                         types)
	              : asprintf(ret, "held from outside the snapshot's graph: by C code (no "
	                              "object here lacks tp_traverse)");
	free(types);
	return n < 0 ? &hs_error_nomem : NULL;
}

bool hs_store_streamed(sqlite3 *db)
{
	sqlite3_stmt *stmt;
	if (sqlite3_prepare_v2(db,
	                       "SELECT 1 FROM meta WHERE key = 'analysis' AND value <> 'complete'",
	                       -1, &stmt, NULL) != SQLITE_OK)
		return false;
	bool yes = sqlite3_step(stmt) == SQLITE_ROW;
	sqlite3_finalize(stmt);
	return yes;
}
