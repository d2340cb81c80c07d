/*
 * cmd_diff.c — `heapsnap diff OLD NEW`: what grew between two snapshots of one process.
 * Objects are matched by address and type name.  Three sections: per type, the count and bytes
 * gained or lost; the new objects (largest retained first); the matched containers that grew;
 * and a fourth when the snapshots have allocation sites: per site, the count, bytes and memory
 * gained or lost.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cmd_sql.h"
#include "commands.h"
#include "load.h"
#include "rows.h"
#include "store.h"

struct section {
	const char *name, *title, *sql;
	bool sites; /* printed by default only when either snapshot has allocation sites */
};

static const struct section sections[] = {
    {"types", "by type", hs_sql_cmd_diff_types, false},
    {"new", "new objects", hs_sql_cmd_diff_new, false},
    {"grown", "containers that grew", hs_sql_cmd_diff_grown, false},
    {"sites", "by allocation site", hs_sql_cmd_diff_sites, true},
};

/* Whether either snapshot of db has allocation sites. */
static bool has_sites(sqlite3 *db)
{
	sqlite3_stmt *stmt;
	if (sqlite3_prepare_v2(db,
	                       "SELECT EXISTS (SELECT 1 FROM main.sites)"
	                       " OR EXISTS (SELECT 1 FROM old.sites)",
	                       -1, &stmt, NULL) != SQLITE_OK)
		return false;
	bool yes = sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_int(stmt, 0);
	sqlite3_finalize(stmt);
	return yes;
}

/* Opens NEW and attaches OLD's database (both loaded on demand) as `old`. */
static struct hs_error *open_pair(const char *old_path, const char *new_path, sqlite3 **ret)
{
	sqlite3 *old, *db;
	struct hs_error *err = hs_cli_open(old_path, &old);
	if (err)
		return err;
	err = hs_cli_open(new_path, &db);
	if (!err) {
		err = hs_store_attach(db, sqlite3_db_filename(old, "main"), "old");
		if (err)
			sqlite3_close(db);
	}
	sqlite3_close(old);
	if (!err)
		*ret = db;
	return err;
}

int hs_cmd_diff(int argc, char **argv)
{
	static const char help[] =
	    "usage: heapsnap diff OLD NEW [--section types|new|grown|sites] [-n N] [--format F]\n\n"
	    "What grew from snapshot OLD to NEW (each a .hsnap or its .db), matching objects by\n"
	    "address and type: per type the count and bytes gained or lost (types); the objects\n"
	    "only NEW has, largest retained first (new); the objects in both whose references or\n"
	    "size grew (grown); per allocation site (file:line, when tracemalloc traced the\n"
	    "captures) the objects, bytes and memory gained or lost (sites).  Each section shows "
	    "N\n"
	    "rows (default 20).  The table format prints every section (sites only when a "
	    "snapshot\n"
	    "has sites) unless --section picks one; csv and json print one (default types).\n";
	struct hs_cmd_args a = {.format = HS_FORMAT_TABLE, .limit = 20};
	int rc = hs_cmd_parse(argc, argv, help, "ns", 2, 2, &a);
	if (rc >= 0)
		return rc;
	const struct section *only = NULL;
	if (a.section) {
		for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++)
			if (strcmp(a.section, sections[i].name) == 0)
				only = &sections[i];
		if (!only)
			return hs_cli_usage_error("diff",
			                          "--section is types, new, grown or sites");
	} else if (a.format != HS_FORMAT_TABLE) {
		only = &sections[0];
	}
	sqlite3 *db;
	struct hs_error *err = open_pair(a.pos[0], a.pos[1], &db);
	if (err)
		return hs_cli_fail(err);
	char limit[32];
	snprintf(limit, sizeof(limit), "%ld", a.limit);
	char *args[] = {limit};
	bool sites = only || has_sites(db);
	for (size_t i = 0; !err && i < sizeof(sections) / sizeof(sections[0]); i++) {
		if ((only && only != &sections[i]) || (sections[i].sites && !sites))
			continue;
		if (!only)
			printf("%s== %s ==\n", i ? "\n" : "", sections[i].title);
		err = hs_rows_run(db, sections[i].sql, 1, args, a.format, stdout);
	}
	sqlite3_close(db);
	return err ? hs_cli_fail(err) : HS_EXIT_OK;
}
